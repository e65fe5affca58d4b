test_guest_bootinfo_hotplug_SRCS := guest/bootinfo_hotplug.c
