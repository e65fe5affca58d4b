test_fp_math_SRCS := lib/fp/fp_math.c
