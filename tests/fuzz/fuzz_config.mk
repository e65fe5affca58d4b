fuzz_config_SRCS := hv/config.c lib/parse.c lib/printf.c lib/string.c
