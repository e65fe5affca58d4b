test_printf_SRCS := lib/printf.c lib/string.c
