test_string_SRCS := lib/string.c
