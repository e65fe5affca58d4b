/* The guest's CPUID exits, answered with its view (hv/cpuid.c) of this CPU,
 * and dimvisor's own leaves. */
#include "hv/cpuid.h"
#include "hv/hypercall.h"
#include <dimvisor/hypercall.h>

#define HV_LEAF_FIRST 0x40000000u
#define HV_LEAF_LAST  0x400000ffu

static struct cpuid_regs host_cpuid(u32 leaf, u32 sub)
{
	return cpuid(leaf, sub);
}

static struct cpuid_guest_state guest_state(const struct vcpu *v)
{
	return (struct cpuid_guest_state){.cr4 = vcpu_get(v, VCPU_CR4),
					  .misc_enable = v->misc_enable,
					  .cr4_allowed = v->cr4_hw_allowed};
}

/* 0x40000000: the highest hypervisor leaf and the signature "dimvisor";
 * 0x40000001: hypercall features and ABI version; the rest of the range: 0. */
static struct cpuid_regs hypervisor_leaf(u32 leaf)
{
	if (leaf == DV_CPUID_SIGNATURE_LEAF)
		return (struct cpuid_regs){DV_CPUID_MAX_LEAF, DV_CPUID_SIG_EBX, DV_CPUID_SIG_ECX,
					   DV_CPUID_SIG_EDX};
	if (leaf == DV_CPUID_FEATURES_LEAF)
		return (struct cpuid_regs){hypercall_features(), DV_ABI_VERSION, 0, 0};
	return (struct cpuid_regs){0, 0, 0, 0};
}

struct cpuid_regs cpuid_guest(const struct vcpu *v, u32 leaf, u32 sub)
{
	struct cpuid_guest_state s = guest_state(v);

	if (leaf >= HV_LEAF_FIRST && leaf <= HV_LEAF_LAST)
		return hypervisor_leaf(leaf);
	return cpuid_guest_query(host_cpuid, leaf, sub, &s);
}

void cpuid_update_rules(struct vcpu *v)
{
	struct cpuid_guest_state s = guest_state(v);

	cpuid_guest_caps(host_cpuid, &s, &v->rules);
}

void cpuid_handle_exit(struct vcpu *v)
{
	u32 leaf = (u32)v->regs.rax, sub = (u32)v->regs.rcx;
	struct cpuid_guest_state s = guest_state(v);
	struct cpuid_regs r;

	if (leaf >= HV_LEAF_FIRST && leaf <= HV_LEAF_LAST) {
		r = hypervisor_leaf(leaf);
	} else {
		/* As the CPU answers a leaf past the highest: the host's data. */
		r = cpuid(leaf, sub);
		cpuid_guest_adjust(leaf, sub, &r, &s);
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
}
