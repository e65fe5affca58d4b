test_model_walk_SRCS := mm/model/walk.c mm/model/pwc.c
