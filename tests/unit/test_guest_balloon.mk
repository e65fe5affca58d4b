test_guest_balloon_SRCS := guest/balloon.c
