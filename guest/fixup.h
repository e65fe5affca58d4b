/* Instructions that may fault on purpose. Each has a row in the .fixup table
 * {RIP of the instruction, RIP to resume at}; when a ring-0 exception hits a
 * listed RIP, trap_dispatch resumes at the second address with RAX = the
 * vector and RDX = the error code instead of ending the guest. A test uses
 * this to check that an exception is raised (e.g. dimvisor injects #GP for an
 * MSR it does not allow) and raised on the right instruction. */
#ifndef GUEST_FIXUP_H
#define GUEST_FIXUP_H

#include <dimvisor/types.h>

struct fixup {
	u64 fault_rip, resume_rip;
};

/* RDMSR msr into *value. Returns 0, or the vector of the exception it raised
 * with *error = its error code (guest/msr.asm). */
u64 msr_read_safe(u32 msr, u64 *value, u64 *error);

/* WRMSR value into msr. Returns 0, or the vector and *error as above. */
u64 msr_write_safe(u32 msr, u64 value, u64 *error);

/* MOV to CR8 (guest/cr8.asm). Returns 0, or the vector and *error as above. */
u64 cr8_write_safe(u64 value, u64 *error);

#endif
