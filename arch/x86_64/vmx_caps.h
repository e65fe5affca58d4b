/* VT-x capability discovery: what the CPU offers, read once at boot from CPUID
 * and the IA32_VMX_* MSRs (Intel SDM Vol. 3D, Appendix A), printed in the boot
 * report and consulted by every later VMX decision. */
#ifndef ARCH_X86_64_VMX_CAPS_H
#define ARCH_X86_64_VMX_CAPS_H

#include <dimvisor/types.h>

#include "arch/x86_64/cpuident.h"

struct vmx_caps {
	bool present;	     /* CPUID.1:ECX.VMX[bit 5] */
	bool usable;	     /* present and allowed by IA32_FEATURE_CONTROL */
	const char *why_not; /* reason when !usable */
	u64 feature_control; /* IA32_FEATURE_CONTROL as found */
	bool fc_was_locked;  /* already locked by firmware */
	u64 basic;	     /* IA32_VMX_BASIC */
	u32 revision_id;
	u32 vmcs_size;
	bool true_ctls;	    /* bit 55: TRUE_* control MSRs exist */
	bool ins_outs_info; /* bit 54: INS/OUTS exits report their operand */
	u64 pinbased, procbased, procbased2, exit_ctls, entry_ctls; /* allowed0 | allowed1 << 32 */
	u64 misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap; /* IA32_VMX_EPT_VPID_CAP, 0 when neither EPT nor VPID */
	bool has_secondary, ept, vpid, unrestricted_guest;
	bool ept_walk4, ept_wb, ept_2m, ept_1g, invept, invept_single, invept_all, ept_ad;
	bool invvpid;
};

/* Read VT-x state. Enables VMX in IA32_FEATURE_CONTROL only when the MSR is
 * unlocked (it arrives locked from most firmware, and from the Bochs BIOS). */
void vmx_probe(const struct cpu_ident *id, struct vmx_caps *caps);
void vmx_caps_print(const struct cpu_ident *id, const struct vmx_caps *caps);

#endif
