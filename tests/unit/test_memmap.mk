test_memmap_SRCS := hv/memmap.c
