/* Facts about the CPU exception vectors, shared by the hypervisor and the
 * guest kernel: their names for crash reports, and how each is delivered
 * (class, error code), which the hypervisor needs to inject one as the CPU
 * would. SDM Vol. 3A Table 6-1 and 6.13. */
#ifndef ARCH_X86_64_EXCEPTION_H
#define ARCH_X86_64_EXCEPTION_H

#include <dimvisor/types.h>

#define EXCEPTION_VECTORS 32

/* How an exception reports the instruction it happened on. SDM Vol. 3A 6.5. */
enum exception_class {
	EXCEPTION_FAULT,	 /* before the instruction: it can be restarted */
	EXCEPTION_TRAP,		 /* after the instruction */
	EXCEPTION_FAULT_OR_TRAP, /* #DB: by its cause (instruction breakpoint: fault) */
	EXCEPTION_ABORT,	 /* #DF, #MC: no reliable restart point */
	EXCEPTION_INTERRUPT,	 /* NMI */
	EXCEPTION_RESERVED,	 /* no exception has this vector on Intel CPUs */
};

/* "#PF page fault" for vector 14; "reserved" for unnamed vectors and past 31. */
const char *exception_name(unsigned vector);

/* The class of vector; EXCEPTION_RESERVED past 31 and for unused vectors. */
enum exception_class exception_class(unsigned vector);

/* The exception pushes an error code in protected and long mode (#DF, #TS,
 * #NP, #SS, #GP, #PF, #AC, #CP); never in real mode. SDM Vol. 3A 6.13. */
bool exception_has_error_code(unsigned vector);

/* The RFLAGS image the CPU pushes for it has RF set: every fault but #DB
 * (an instruction breakpoint must not re-trigger, other faults may be
 * restarted past a breakpoint). SDM Vol. 3A 18.3.1.1. */
bool exception_sets_rf(unsigned vector);

#endif
