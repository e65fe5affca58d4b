/* The guest's two 8259A interrupt controllers, master (ports 0x20-0x21) and
 * slave (0xa0-0xa1) on the master's IR2, as a PC has them: the ICW
 * sequence, masks, fully nested priorities, EOI, IRR/ISR reads, auto-EOI.
 * Pure logic, unit-tested. Intel 8259A datasheet (order no. 231468). */
#ifndef HV_VPIC_H
#define HV_VPIC_H

#include <dimvisor/types.h>

struct vpic_chip {
	u8 irr, isr, imr;
	u8 base;     /* ICW2: the vector of IR0 */
	u8 icw_step; /* 0: operating; 1..3: expecting ICW2, ICW3, ICW4 */
	bool icw4, single, auto_eoi, read_isr;
};

struct vpic {
	struct vpic_chip chip[2]; /* master, slave */
	u64 interrupts;		  /* vectors handed to the CPU */
};

#define VPIC_CASCADE_IRQ 2

/* As a PC's firmware leaves them (the BIOS's vectors 0x08 and 0x70), every
 * IRQ masked until the kernel initializes them. */
void vpic_reset(struct vpic *p);
/* An access to port 0x20, 0x21, 0xa0 or 0xa1. */
u8 vpic_read(struct vpic *p, u16 port);
void vpic_write(struct vpic *p, u16 port, u8 value);
/* An edge on IRQ line irq (0..15). */
void vpic_raise(struct vpic *p, unsigned irq);
/* The vector the PICs present to the CPU, or -1 when INTR is low. */
int vpic_pending(const struct vpic *p);
/* The CPU takes it (INTA): the IRR bit moves to the ISR (not with auto-EOI). */
u8 vpic_ack(struct vpic *p);

#endif
