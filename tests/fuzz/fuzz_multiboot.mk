fuzz_multiboot_SRCS := hv/multiboot.c
