test_cpuid_SRCS := hv/cpuid.c hv/cpu_rules.c
