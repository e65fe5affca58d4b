test_insn_SRCS := hv/insn.c
