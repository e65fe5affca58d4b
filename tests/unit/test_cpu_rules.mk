test_cpu_rules_SRCS := hv/cpu_rules.c
