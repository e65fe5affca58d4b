/* The local APIC of the CPU dimvisor runs on (xAPIC or x2APIC). */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <dimvisor/types.h>

/* Send this CPU an NMI (used by selftest=nmi). False when the local APIC is
 * disabled in IA32_APIC_BASE. */
bool lapic_send_self_nmi(void);

#endif
