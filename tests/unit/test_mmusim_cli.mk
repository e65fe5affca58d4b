test_mmusim_cli_SRCS := tools/mmusim/cli.c tools/mmusim/units.c tools/mmusim/config.c \
                        tools/mmusim/sim.c tools/mmusim/layout.c tools/mmusim/arena.c \
                        tools/mmusim/workload.c tools/mmusim/wl_gups.c tools/mmusim/wl_bfs.c \
                        tools/mmusim/wl_cg.c tools/mmusim/wl_kvs.c tools/mmusim/wl_chase.c \
                        tools/mmusim/wl_stream.c tools/mmusim/kron.c lib/fp/zipf.c lib/fp/fp_math.c \
                        mm/pagetable.c lib/errno.c lib/parse.c \
                        mm/model/model.c mm/model/walk.c mm/model/tlb.c mm/model/pwc.c \
                        mm/model/segment.c mm/model/escape.c mm/model/cost.c \
                        mm/model/cost_host.c
