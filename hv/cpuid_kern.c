#include "hv/cpuid.h"
#include "arch/x86_64/cpu.h"
#include "hv/hypercall.h"
#include <dimvisor/hypercall.h>

#define CPUID1_ECX_VMX	      (1u << 5)
#define CPUIDX_ECX_SVM	      (1u << 2) /* CPUID.80000001H:ECX, AMD APM Vol. 3 E.4.2 */
#define CPUID1_ECX_OSXSAVE    (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

/* The host's answers, with hardware virtualization (VMX, SVM) hidden and
 * dimvisor's leaves added. */
void cpuid_handle_exit(struct vcpu *v)
{
	u32 leaf = (u32)v->regs.rax, sub = (u32)v->regs.rcx;
	struct cpuid_regs r = {0, 0, 0, 0};

	if (leaf == DV_CPUID_SIGNATURE_LEAF) {
		r = (struct cpuid_regs){DV_CPUID_MAX_LEAF, DV_CPUID_SIG_EBX, DV_CPUID_SIG_ECX,
					DV_CPUID_SIG_EDX};
	} else if (leaf == DV_CPUID_FEATURES_LEAF) {
		r.eax = hypercall_features();
		r.ebx = DV_ABI_VERSION;
	} else if (leaf >= 0x40000000u && leaf < 0x40000100u) {
		/* other hypervisor leaves: all zero */
	} else {
		r = cpuid(leaf, sub);
		if (leaf == 1) {
			r.ecx &= ~CPUID1_ECX_VMX;
			r.ecx |= CPUID1_ECX_HYPERVISOR;
			/* OSXSAVE mirrors the guest's CR4, not the host's. */
			r.ecx &= ~CPUID1_ECX_OSXSAVE;
			if (vcpu_get(v, VCPU_CR4) & CR4_OSXSAVE)
				r.ecx |= CPUID1_ECX_OSXSAVE;
		} else if (leaf == 0x80000001u) {
			r.ecx &= ~CPUIDX_ECX_SVM;
		}
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
}
