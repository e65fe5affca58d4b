/* The guest's time-stamp counter: the host's plus the vCPU's offset
 * (VCPU_TSC_OFFSET), which the CPU adds for RDTSC and RDTSCP in the guest and
 * dimvisor for RDMSR; IA32_TSC_ADJUST moves with it as SDM Vol. 3B 18.17.3
 * says. */
#ifndef HV_TSC_H
#define HV_TSC_H

#include "hv/vcpu.h"

/* What RDTSC in the guest would return now. */
u64 tsc_guest_now(const struct vcpu *v);
/* WRMSR IA32_TIME_STAMP_COUNTER: the guest's TSC becomes value; its
 * IA32_TSC_ADJUST changes by as much. */
void tsc_guest_set(struct vcpu *v, u64 value);
/* WRMSR IA32_TSC_ADJUST: the guest's TSC changes by as much as it does. */
void tsc_guest_set_adjust(struct vcpu *v, u64 value);

#endif
