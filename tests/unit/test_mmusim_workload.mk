test_mmusim_workload_SRCS := tools/mmusim/workload.c tools/mmusim/wl_gups.c tools/mmusim/wl_bfs.c \
                             tools/mmusim/wl_cg.c tools/mmusim/wl_kvs.c tools/mmusim/wl_chase.c \
                             tools/mmusim/wl_stream.c tools/mmusim/kron.c lib/fp/zipf.c lib/fp/fp_math.c
