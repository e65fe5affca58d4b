test_ept_SRCS := mm/ept.c mm/extent.c mm/pagetable.c
