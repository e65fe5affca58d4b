test_extent_SRCS := mm/extent.c
