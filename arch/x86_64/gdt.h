/* The GDT and TSS are built by boot/entry.asm; C only owns the TSS contents
 * (interrupt stacks). Selectors are fixed and shared with the VMCS host state. */
#ifndef ARCH_X86_64_GDT_H
#define ARCH_X86_64_GDT_H

#include "arch/x86_64/desc.h"

#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_TSS	      0x18

/* IST slot used for #DF, #NMI and #MC so they run on a known-good stack. */
#define IST_CRITICAL 1

extern struct tss64 boot_tss;

/* Give the TSS its interrupt stacks. Call before idt_init. */
void tss_init(void);

#endif
