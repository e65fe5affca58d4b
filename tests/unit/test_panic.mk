test_panic_SRCS := lib/panic.c lib/printf.c lib/string.c
