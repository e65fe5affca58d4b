fuzz_loader_SRCS := hv/loader.c hv/multiboot.c lib/printf.c lib/string.c lib/errno.c
