test_vpic_SRCS := hv/vpic.c hv/vpit.c lib/string.c
