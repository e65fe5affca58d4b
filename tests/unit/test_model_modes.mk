test_model_modes_SRCS := mm/model/model.c mm/model/walk.c mm/model/tlb.c mm/model/pwc.c \
                         mm/model/segment.c mm/model/escape.c mm/model/cost.c
