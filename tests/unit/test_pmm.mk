test_pmm_SRCS := mm/pmm.c
