fuzz_trace_SRCS := tools/mmusim/trace.c tools/mmusim/trace_lackey.c tools/mmusim/trace_qtrace.c tools/mmusim/reader.c
