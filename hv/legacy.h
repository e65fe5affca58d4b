/* The PC's legacy interrupt hardware as the guest sees it: the 8259A pair
 * (hv/vpic.c) and the 8254 timer with port 0x61 (hv/vpit.c), wired as on a
 * PC: PIT channel 0 on IRQ0, the PICs' INTR to the local APIC's LINT0
 * (delivered when LINT0 is ExtINT and unmasked, or the APIC is globally
 * disabled, SDM Vol. 3A 11.4.3 and 11.5.1). */
#ifndef HV_LEGACY_H
#define HV_LEGACY_H

#include "hv/vcpu.h"
#include "hv/vpic.h"
#include "hv/vpit.h"

/* tsc_hz: the TSC's measured rate, which the PIT's clock is converted at. */
void legacy_init(u64 tsc_hz);

/* Port handlers (hv/io.c): 0x20-0x21, 0xa0-0xa1, 0x40-0x43, 0x61. */
u32 legacy_in(struct vcpu *v, u16 port, unsigned size);
void legacy_out(struct vcpu *v, u16 port, unsigned size, u32 value);

/* Bring the PIT up to the guest TSC now: its IRQ0 edges reach the PICs. */
void legacy_advance(u64 now);
/* The vector the PICs present and the APIC lets through to the vCPU, or -1. */
int legacy_pending(const struct vcpu *v);
/* The vCPU takes it. */
u8 legacy_ack(void);
/* The guest TSC of the next IRQ0 that could reach the vCPU, or 0. */
u64 legacy_next_event(const struct vcpu *v);

/* For the report: vectors the PICs handed to the vCPU, IRQ0 edges of the PIT. */
void legacy_stats(u64 *pic_interrupts, u64 *pit_irq0s);

#endif
