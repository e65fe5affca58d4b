test_errno_SRCS := lib/errno.c
