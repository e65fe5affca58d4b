test_vlapic_SRCS := hv/vlapic.c lib/string.c
