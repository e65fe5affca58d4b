test_model_cost_SRCS := mm/model/cost.c mm/model/cost_host.c
