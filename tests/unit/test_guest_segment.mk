test_guest_segment_SRCS := hv/guest_segment.c hv/cpu_rules.c mm/model/walk.c mm/model/pwc.c lib/string.c
