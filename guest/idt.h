/* The guest's IDT: a CPU exception prints a decoded dump and ends the guest
 * with GUEST_EXIT_EXCEPTION, unless it hit an instruction allowed to fault
 * (guest/fixup.h); vector USER_RETURN_VECTOR is the way back from ring 3
 * (guest/usermode.h). Interrupts stay disabled throughout. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <dimvisor/types.h>

/* Registers as guest/isr.asm saves them; keep the two in sync. */
struct trap_frame {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A 6.14.2) */
};

/* Fill and load the IDT. Needs gdt_init() first (IST stacks, selectors). */
void idt_init(void);

/* A test that provokes exceptions no .fixup row covers (a #DB trap after an
 * instruction, a #BP): while a hook is set for a vector, its exceptions go to
 * the hook, which sees the frame and may edit it (RIP, RFLAGS), and the guest
 * resumes from the frame. NULL removes the hook. */
typedef void (*trap_hook)(struct trap_frame *f);
void trap_set_hook(unsigned vector, trap_hook hook);

/* Called by guest/isr.asm for vectors 0..31. Returns only when the faulting
 * instruction has a fixup (guest/fixup.h), with the frame edited to resume
 * there, or a hook (trap_set_hook); any other exception is dumped and ends
 * the guest. */
void trap_dispatch(struct trap_frame *f);

#endif
