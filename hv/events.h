/* The guest's events: what its virtual APIC (and the platform's NMIs) have
 * for it, delivered the way the CPU would take them, and HLT that waits for
 * the next one. Vendor-neutral: the backend injects (hv/vcpu.h). */
#ifndef HV_EVENTS_H
#define HV_EVENTS_H

#include "hv/vcpu.h"

/* Before every VM entry: bring the APIC's timer up to now; inject the NMI or
 * interrupt the guest can take now, or ask for an exit when it can; arm the
 * timer for the APIC's next expiry. An INIT the guest sent itself ends the
 * run (there is no firmware to reset into). */
void events_deliver(struct vcpu *v);

/* HLT: with interrupts off the guest could never resume and is stopped;
 * otherwise it waits for its next event, and is stopped when nothing could
 * ever wake it. */
void events_hlt(struct vcpu *v);

/* An NMI that arrived while the guest ran is the guest's: one CPU, one
 * guest, and the platform is the guest's. */
void events_host_nmi(struct vcpu *v);
/* A host interrupt in guest mode: dimvisor programs none; acknowledged,
 * reported, dropped. */
void events_host_interrupt(struct vcpu *v, u8 vector);

#endif
