test_balloon_SRCS := mm/balloon.c mm/extent.c
