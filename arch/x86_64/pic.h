/* The legacy 8259 PICs of the machine dimvisor runs on. */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

/* Mask every line of both PICs. The guest sees an emulated PIC (hv/io.c) and
 * external interrupts do not cause VM exits, so a real PIC left as the BIOS
 * programmed it would deliver its timer (IRQ 0, at the BIOS's vector 8) into
 * the guest's IDT the moment the guest enabled interrupts. */
void pic_mask_all(void);

#endif
