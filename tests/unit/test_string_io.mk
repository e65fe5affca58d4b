test_string_io_SRCS := hv/string_io.c hv/cpu_rules.c
