/* The guest's general registers that hardware does not keep for us across a
 * VM exit (VMX keeps RSP and RIP in the VMCS; SVM keeps RAX too). Saved and
 * restored by the entry stub; layout shared with arch/x86_64/vmx_entry.asm:
 * keep in sync. */
#ifndef ARCH_X86_64_REGS_H
#define ARCH_X86_64_REGS_H

#include <dimvisor/types.h>

struct guest_regs {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 cr2;
};

#endif
