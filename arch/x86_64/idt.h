/* Exception handling: every CPU exception in the hypervisor prints a decoded
 * dump (vector name, error code, RIP, RSP, CR2, CR3, registers) and stops the
 * machine with DV_EXIT_PANIC. */
#ifndef ARCH_X86_64_IDT_H
#define ARCH_X86_64_IDT_H

#include <dimvisor/types.h>

/* Layout pushed by arch/x86_64/isr.asm; keep the two in sync. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void idt_init(void);
void trap_dispatch(struct trap_frame *tf);
/* NMIs taken (and survived) while the hypervisor itself ran. */
u64 idt_host_nmi_count(void);

#endif
