test_legacy_walk_SRCS := hv/legacy_walk.c
