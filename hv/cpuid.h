/* The CPUID a guest sees: the host's answers made consistent with what
 * dimvisor offers. A flag that promises an MSR, an instruction or a CR4 bit
 * the guest would not get is cleared, so that a kernel never takes a #GP or
 * #UD the hardware would not give it; flags that follow the guest's own state
 * (OSXSAVE, OSPKE, IA32_MISC_ENABLE) follow it. The view is pure (hv/cpuid.c,
 * unit-tested); hv/cpuid_kern.c answers the guest's CPUID exits with it and
 * derives the rules its writes are checked against (hv/cpu_rules.h). */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include "arch/x86_64/cpu.h"
#include "hv/cpu_rules.h"
#include "hv/vcpu.h"

/* What the guest's answers depend on besides the host's. */
struct cpuid_guest_state {
	u64 cr4;	 /* the guest's CR4: OSXSAVE and OSPKE mirror it */
	u64 misc_enable; /* IA32_MISC_ENABLE: CPUID maxval limit, MONITOR, XD disable */
	u64 cr4_allowed; /* CR4 bits the hardware lets a guest hold (VMX: CR4_FIXED1):
			  * a feature whose CR4 bit is not among them is hidden */
};

/* The host's CPUID, or a table of one in the unit tests. */
typedef struct cpuid_regs (*cpuid_source)(u32 leaf, u32 sub);

/* Turn the host's answer *r for (leaf, sub) into the guest's. Not for the
 * hypervisor range 0x40000000-0x400000ff (hv/cpuid_kern.c answers it). */
void cpuid_guest_adjust(u32 leaf, u32 sub, struct cpuid_regs *r, const struct cpuid_guest_state *s);

/* The guest's answer for (leaf, sub) through host; zero past the host's
 * highest basic or extended leaf. */
struct cpuid_regs cpuid_guest_query(cpuid_source host, u32 leaf, u32 sub,
				    const struct cpuid_guest_state *s);

/* The rules the guest's writes are checked against, from its view: what its
 * CPUID does not advertise is refused. */
void cpuid_guest_caps(cpuid_source host, const struct cpuid_guest_state *s,
		      struct cpu_rules_caps *caps);

/* --- the vCPU's (hv/cpuid_kern.c) */

/* A CPUID exit: answer as the guest's CPU, and complete the instruction. */
void cpuid_handle_exit(struct vcpu *v);

/* The guest's answer for (leaf, sub), as a CPUID in the guest would get it. */
struct cpuid_regs cpuid_guest(const struct vcpu *v, u32 leaf, u32 sub);

/* Recompute v->rules from the guest's view: at start and after a change of
 * state the view depends on (IA32_MISC_ENABLE). */
void cpuid_update_rules(struct vcpu *v);

#endif
