test_compact_SRCS := mm/compact.c
