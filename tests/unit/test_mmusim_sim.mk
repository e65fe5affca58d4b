test_mmusim_sim_SRCS := tools/mmusim/sim.c tools/mmusim/layout.c tools/mmusim/arena.c \
                        tools/mmusim/config.c mm/pagetable.c lib/errno.c \
                        mm/model/model.c mm/model/walk.c mm/model/tlb.c mm/model/pwc.c \
                        mm/model/segment.c mm/model/escape.c mm/model/cost.c \
                        mm/model/cost_host.c
