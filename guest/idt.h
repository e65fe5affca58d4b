/* The guest's IDT: a CPU exception prints a decoded dump and ends the guest
 * with GUEST_EXIT_EXCEPTION, unless it hit an instruction allowed to fault
 * (guest/fixup.h) or a test installed a handler for its vector; vector
 * USER_RETURN_VECTOR is the way back from ring 3 (guest/usermode.h).
 * Interrupts are off except while a test that installed handlers waits for
 * them; an interrupt nobody handles is reported like an exception. */
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

/* Called by guest/isr.asm for vectors 0..31. Returns only when the faulting
 * instruction has a fixup (guest/fixup.h), with the frame edited to resume
 * there, or a handler (idt_set_handler); any other exception is dumped and ends
 * the guest. */
void trap_dispatch(struct trap_frame *f);

/* Route a vector (an interrupt, the NMI, #DB...) to fn instead of the dump;
 * NULL restores the dump. fn runs with interrupts off and may edit f. */
typedef void (*trap_handler)(struct trap_frame *f);
void idt_set_handler(unsigned vector, trap_handler fn);

#endif
