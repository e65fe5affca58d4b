/* Exception fixup for instructions the hypervisor runs with values a guest
 * chose (WRMSR to a passed-through MSR, XSETBV). Each such instruction is
 * listed in the .fixup_table section with the address to resume at; when it
 * faults in the host, trap_dispatch resumes there instead of taking the
 * fatal dump, and the wrapper returns the vector. So a check the exit
 * handlers miss becomes a fault injected into the guest and a console line,
 * never a host crash. */
#ifndef ARCH_X86_64_FIXUP_H
#define ARCH_X86_64_FIXUP_H

#include <dimvisor/types.h>

struct fixup_entry {
	u64 insn;   /* address of the instruction that may fault */
	u64 resume; /* where execution continues if it does */
};

/* The last fault a fixup absorbed: what the wrapper reports. */
struct fixup_fault {
	u64 rip;
	u64 vector, error_code;
};

struct trap_frame;

/* Called by trap_dispatch: if tf->rip is a listed instruction, record the
 * fault, point tf->rip at its resume address and return true. */
bool fixup_apply(struct trap_frame *tf);
/* The fault most recently absorbed; valid right after a wrapper failed. */
const struct fixup_fault *fixup_last_fault(void);
/* How many faults fixups have absorbed since boot (for the report). */
u64 fixup_count(void);

/* Records the instruction at local label 1 with resume label %l[faulted]. */
#define FIXUP_ENTRY(label)                                                                         \
	".pushsection .fixup_table, \"a\"\n\t.balign 8\n\t.quad 1b, %l[" label "]\n\t.popsection"

/* WRMSR that cannot crash the host: 0, or the vector it raised (13: #GP). */
static inline int wrmsr_safe(u32 msr, u64 v)
{
	__asm__ goto("1: wrmsr\n\t" FIXUP_ENTRY("faulted")
		     :
		     : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
		     : "memory"
		     : faulted);
	return 0;
faulted:
	return (int)fixup_last_fault()->vector;
}

/* XSETBV that cannot crash the host: 0, or the vector it raised (#GP, #UD). */
static inline int xsetbv_safe(u32 index, u64 v)
{
	__asm__ goto("1: xsetbv\n\t" FIXUP_ENTRY("faulted")
		     :
		     : "c"(index), "a"((u32)v), "d"((u32)(v >> 32))
		     : "memory"
		     : faulted);
	return 0;
faulted:
	return (int)fixup_last_fault()->vector;
}

#endif
