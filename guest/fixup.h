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

/* MOV to CR8 (guest/cpu_safe.asm). Returns 0, or the vector and *error as above. */
u64 cr8_write_safe(u64 value, u64 *error);
/* The RFLAGS image the CPU pushed for the last exception a fixup resumed
 * from (its RF bit tells whether it was delivered as a fault). */
u64 fixup_last_rflags(void);

/* MOV value to CR4. Returns 0, or the vector and *error as above
 * (guest/cpu_safe.asm). */
u64 cr4_write_safe(u64 value, u64 *error);

/* VMXON of a zeroed region: with CR4.VMXE clear it raises #UD, on the bare CPU
 * and (injected) under dimvisor. Returns the vector, 0 if none. */
u64 vmxon_safe(u64 *error);

/* A load of the 8 bytes at addr into *value. Returns 0, or the vector. */
u64 load_safe(u64 addr, u64 *value, u64 *error);

/* MOV from DR4 into *value (DR6's alias unless CR4.DE). Returns 0, or the
 * vector (#UD with CR4.DE set). */
u64 dr4_read_safe(u64 *value, u64 *error);

#endif
