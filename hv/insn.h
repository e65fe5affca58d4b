/* Just enough of the x86 instruction decoder to emulate an access to a
 * device page (the local APIC's): the MOV forms compilers and kernels use
 * for memory-mapped registers. The exit says which guest-physical address
 * was touched; this says how wide the access was, which way, and which
 * register or immediate it moved, and how long the instruction is.
 * SDM Vol. 2A chapter 2 (instruction format), Vol. 2B MOV, MOVZX, MOVSX. */
#ifndef HV_INSN_H
#define HV_INSN_H

#include <dimvisor/types.h>

#define INSN_MAX_LEN 15

enum insn_op {
	INSN_LOAD,	/* register <- memory */
	INSN_STORE,	/* memory <- register */
	INSN_STORE_IMM, /* memory <- immediate */
};

struct insn_mem {
	enum insn_op op;
	unsigned len;	    /* bytes of the instruction */
	unsigned size;	    /* bytes of memory accessed: 1, 2, 4 or 8 */
	unsigned reg;	    /* the register operand, in the SDM's encoding order (RAX = 0 .. R15) */
	bool high_byte;	    /* reg 4..7 without REX name AH, CH, DH, BH */
	unsigned dest_size; /* LOAD: bytes written to reg (wider than size for MOVZX/MOVSX) */
	bool sign_extend;   /* LOAD: MOVSX */
	u64 imm;	    /* STORE_IMM: the value stored (sign-extended to size) */
};

/* Decode the instruction in bytes[0..avail) executed in 64-bit mode (long)
 * or 32-bit protected mode. 0, or -DV_ENOTSUP for anything but a MOV-class
 * access to memory (and -DV_EINVAL for a truncated instruction). */
int insn_decode_mem(const u8 *bytes, unsigned avail, bool long_mode, struct insn_mem *out);

/* A load's value as the instruction writes it to its register: the size
 * bytes read, zero- or sign-extended (MOVZX, MOVSX) to dest_size bytes. */
u64 insn_load_value(const struct insn_mem *m, u64 loaded);

#endif
