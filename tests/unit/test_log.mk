test_log_SRCS := lib/log.c lib/printf.c lib/string.c
