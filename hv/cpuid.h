/* The CPUID a guest sees: the host's answers, with what dimvisor does not
 * offer hidden and its own hypervisor leaves added (hv/cpuid_kern.c). */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include "hv/vcpu.h"

/* A CPUID exit: answer as the guest's CPU, and complete the instruction. */
void cpuid_handle_exit(struct vcpu *v);

#endif
