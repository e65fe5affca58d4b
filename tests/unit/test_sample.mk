test_sample_SRCS := hv/sample.c lib/string.c
