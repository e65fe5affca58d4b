test_model_escape_SRCS := mm/model/escape.c mm/model/segment.c
