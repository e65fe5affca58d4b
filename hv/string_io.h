/* String I/O: INS and OUTS, with or without REP, executed for the guest as
 * the CPU executes them (SDM Vol. 2A INS/INSB/INSW/INSD, Vol. 2B
 * OUTS/OUTSB/OUTSW/OUTSD and REP). The engine is pure: guest paging, guest
 * RAM and the port devices come through callbacks, so a hosted unit test
 * reaches every case; string_io_handle_exit (hv/string_io_kern.c) plugs in
 * the vCPU, hv/gva.c and the devices of hv/io.c. */
#ifndef HV_STRING_IO_H
#define HV_STRING_IO_H

#include "hv/vcpu.h"

/* Iterations per exit at most. A longer REP leaves RIP on the instruction
 * with the registers advanced, and the CPU executes it again for the rest:
 * what the CPU itself does between iterations, so it can take interrupts. */
#define STRING_IO_BATCH 256

/* One INS or OUTS and the guest state it depends on. */
struct sio_insn {
	u16 port;
	u8 size;		 /* element: 1, 2 or 4 bytes */
	u8 addr_size;		 /* 2, 4 or 8: SI/ESI/RSI, DI/EDI/RDI, CX/ECX/RCX */
	bool in, rep;		 /* INS (else OUTS); a REP prefix */
	enum vcpu_sreg sreg;	 /* the operand's segment: OUTS DS or override, INS ES */
	struct vcpu_segment seg; /* its hidden part */
	bool mode64;		 /* 64-bit mode: no limits, a base for FS and GS only */
	bool protected_mode;	 /* CR0.PE: segment types are checked, errors pushed */
	bool user;		 /* CPL 3: the page walk checks a user access */
	unsigned linear_bits;	 /* canonical width in 64-bit mode: 48 or 57 */
};

/* The registers the instruction reads and updates. */
struct sio_regs {
	u64 rcx, rsi, rdi, rflags;
};

struct sio_ops {
	/* Linear to guest-physical for a data access: 0; -DV_EFAULT with the
	 * #PF error code in *pf_error; another error for no page fault. */
	int (*translate)(void *ctx, u64 la, bool write, bool user, u64 *gpa, u32 *pf_error);
	/* Host address of the 4 KiB page of guest RAM at page-aligned gpa, or
	 * NULL when that is not guest RAM. */
	u8 *(*ram_page)(void *ctx, u64 gpa);
	u32 (*port_in)(void *ctx, u16 port, unsigned size);
	/* false when the write ended the guest's run (debug-exit, shutdown) */
	bool (*port_out)(void *ctx, u16 port, unsigned size, u32 value);
	void *ctx;
};

enum sio_outcome {
	SIO_DONE,    /* the instruction completed: advance RIP */
	SIO_AGAIN,   /* a batch done, iterations left: RIP stays, the CPU repeats it */
	SIO_FAULT,   /* inject the exception in the result; RIP stays */
	SIO_NOT_RAM, /* the operand is not guest RAM: what an EPT violation gets */
	SIO_STOPPED, /* a device ended the run */
};

struct sio_result {
	enum sio_outcome outcome;
	u64 iterations; /* elements transferred */
	/* SIO_FAULT */
	u8 vector; /* #PF, #GP or #SS */
	bool has_error;
	u32 error_code;
	u64 cr2; /* #PF: the linear address that faulted */
	/* SIO_NOT_RAM: where */
	u64 la, gpa;
};

/* Execute insn on regs: up to max_iterations elements (REP: the count in
 * CX/ECX/RCX; 0 does nothing), each read from or written to the segment's
 * memory at rSI/rDI through the guest's paging, advancing rSI/rDI by the
 * element size (backwards with RFLAGS.DF) and decrementing the count, both
 * within the address size. A fault leaves the registers as the elements
 * done so far left them, as the CPU does. RFLAGS.RF is set while iterations
 * remain, as an interrupt between iterations would push it, and cleared when
 * the instruction completes (SDM Vol. 3B 18.3.1.1). */
void sio_execute(const struct sio_insn *insn, struct sio_regs *regs, const struct sio_ops *ops,
		 unsigned max_iterations, struct sio_result *res);

/* For a CPU that does not report the operand (VMX: IA32_VMX_BASIC bit 54
 * clear): the address size and segment from the instruction's prefixes
 * (0x67 address size, 0x26 0x2e 0x36 0x3e 0x64 0x65 segment; SDM Vol. 2A
 * 2.1.1; in 64-bit mode only FS and GS overrides count, Vol. 1 3.3.7.1);
 * INS (0x6c, 0x6d) always uses ES. bytes: the instruction from its first
 * byte. false when no INS/OUTS opcode (0x6c-0x6f) follows the prefixes
 * within 15 bytes. */
bool sio_decode_prefixes(const u8 *bytes, unsigned n, bool mode64, bool cs_big, u8 *addr_size,
			 enum vcpu_sreg *sreg);

/* The exit handler: a decoded string I/O exit of v, executed. */
void string_io_handle_exit(struct vcpu *v);

#endif
