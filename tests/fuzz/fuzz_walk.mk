fuzz_walk_SRCS := mm/model/walk.c mm/model/pwc.c
