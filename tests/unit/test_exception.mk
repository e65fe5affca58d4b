test_exception_SRCS := arch/x86_64/exception.c
