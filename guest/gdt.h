/* The guest's GDT and TSS: kernel and user segments for long mode, and a TSS
 * whose RSP0 is the stack used when ring 3 traps into ring 0. */
#ifndef GUEST_GDT_H
#define GUEST_GDT_H

#include <dimvisor/types.h>

/* Kernel selectors equal those of the boot GDT in guest/entry.asm. */
#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_USER_DS   0x18
#define GDT_USER_CS   0x20
#define GDT_TSS	      0x28
#define GDT_RPL_USER  3

/* IST slot (1..7) of #DF, NMI and #MC: they get a stack of their own. */
#define GDT_IST_CRITICAL 1

/* Install the GDT, reload every segment register and load the TSS. */
void gdt_init(void);

#endif
