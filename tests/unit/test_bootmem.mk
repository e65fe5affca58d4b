test_bootmem_SRCS := hv/bootmem.c
