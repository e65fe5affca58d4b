test_segment_SRCS := mm/segment.c mm/pmm.c mm/extent.c mm/model/escape.c lib/string.c
