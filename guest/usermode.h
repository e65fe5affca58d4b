/* A minimal ring-3 round trip: run a few instructions of guest/user.asm in
 * ring 3 with chosen registers, and come back to ring 0 through INT
 * USER_RETURN_VECTOR (an interrupt gate with DPL 3). Used to check that
 * dimvisor refuses hypercalls from CPL 3. */
#ifndef GUEST_USERMODE_H
#define GUEST_USERMODE_H

#include <dimvisor/types.h>

#define USER_RETURN_VECTOR 0x80 /* guest/user.asm raises it; keep in sync */

/* Where the .user pages and the user stack are mapped (user-accessible), in a
 * PML4 slot of their own, away from the identity map. */
#define USER_CODE_VA  0x0000400000000000ULL
#define USER_STACK_VA (USER_CODE_VA + 0x100000ULL)

/* Registers ring 3 starts with (all others are zero). */
struct user_regs {
	u64 rax, rbx, rcx, rdx, rsi;
};

/* Entry points and data in the .user section (guest/user.asm). */
extern const u8 user_stub_vmcall[];		  /* VMCALL, then return RAX */
extern const u8 user_stub_read_cs[];		  /* return CS as ring 3 sees it */
extern const u8 user_marker[], user_marker_end[]; /* text ring 3 asks dimvisor to print */

/* Map the .user pages and a user stack. Needs paging_init(); call it before
 * usermode_run. Returns 0 or -DV_E*. */
int usermode_init(void);

/* Run stub (one of the above) in ring 3 with regs; returns the RAX it hands
 * back. An exception in ring 3 ends the guest through the exception dump. */
u64 usermode_run(const u8 *stub, const struct user_regs *regs);

/* The address ring 3 sees for sym, which lies in the .user section. */
u64 usermode_va(const void *sym);

/* The USER_RETURN_VECTOR handler (guest/user.asm): resumes usermode_run. */
void user_return(void);

#endif
