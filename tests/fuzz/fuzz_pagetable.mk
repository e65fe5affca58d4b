fuzz_pagetable_SRCS := mm/pagetable.c
