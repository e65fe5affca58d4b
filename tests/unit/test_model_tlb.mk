test_model_tlb_SRCS := mm/model/tlb.c
