/* The guest's local APIC at the exits that reach it: the xAPIC page
 * (accesses arrive as nested faults and are decoded and emulated), the
 * x2APIC and timer MSRs, IA32_APIC_BASE and CR8. The model is hv/vlapic.c. */
#ifndef HV_APIC_H
#define HV_APIC_H

#include "hv/vcpu.h"

#define MSR_APIC_BASE 0x1b

/* Power-up state, from what the guest's CPUID offers (x2APIC, TSC-deadline). */
void apic_init(struct vcpu *v);
/* The guest's TSC now: the APIC's time base. */
u64 apic_now(const struct vcpu *v);

/* Is gpa on the xAPIC page (enabled, xAPIC mode)? */
bool apic_mmio_owns(const struct vcpu *v, u64 gpa);
/* Emulate the access of the current nested fault on the xAPIC page. */
void apic_mmio(struct vcpu *v);

/* With the CPU's APIC virtualization (vcpu_apic_register_page): the
 * registers into the CPU's page before an entry, the TPR back after an exit;
 * an access the CPU did not serve (APIC_ACCESS: emulated like apic_mmio), a
 * write it made to its page (APIC_WRITE: the model takes it). */
void apic_before_entry(struct vcpu *v);
void apic_after_exit(struct vcpu *v);
void apic_access_exit(struct vcpu *v);
void apic_write_exit(struct vcpu *v);

/* RDMSR / WRMSR of the MSRs the APIC owns (rows of hv/msr.c's allow list):
 * IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8ff. NULL when done, or the
 * reason for the #GP the CPU raises. */
const char *apic_msr_read(struct vcpu *v, u32 msr, u64 *value);
const char *apic_msr_write(struct vcpu *v, u32 msr, u64 value);
/* CPUID offers TSC-deadline mode (and so IA32_TSC_DEADLINE). */
bool apic_has_tsc_deadline(const struct vcpu *v);

/* MOV from / to CR8 (64-bit mode): the TPR. Returns false for a value the
 * CPU refuses (reserved bits 63:4): the caller injects #GP. */
u64 apic_cr8_read(struct vcpu *v);
bool apic_cr8_write(struct vcpu *v, u64 value);

#endif
