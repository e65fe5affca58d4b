test_parse_SRCS := lib/parse.c
