/* The guest's MSRs (hv/msr.c): an allow list. Each MSR on it lives somewhere
 * (a vCPU register, the real MSR, a value the vCPU keeps in software, a model
 * elsewhere such as the local APIC's) and has the write checks of the SDM;
 * every other RDMSR or WRMSR gets #GP, as for an MSR the CPU does not have. */
#ifndef HV_MSR_H
#define HV_MSR_H

#include "hv/vcpu.h"

/* The MSRs the vCPU keeps in software at their reset values, and the rules
 * that follow from them (v->rules). Before the guest's first instruction. */
void msr_vcpu_reset(struct vcpu *v);

/* A RDMSR or WRMSR exit: complete it, or inject #GP where the CPU would. */
void msr_handle_exit(struct vcpu *v);

#endif
