#include "arch/x86_64/vmx_caps.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_SMX (1u << 6)

/* IA32_FEATURE_CONTROL: SDM Vol. 3C 23.7. */
#define FC_LOCK		   (1ULL << 0)
#define FC_VMX_INSIDE_SMX  (1ULL << 1)
#define FC_VMX_OUTSIDE_SMX (1ULL << 2)

/* IA32_VMX_BASIC: SDM Vol. 3D A.1. */
#define BASIC_TRUE_CTLS	    (1ULL << 55)
#define BASIC_INS_OUTS_INFO (1ULL << 54) /* SDM Vol. 3D A.1 */
#define BASIC_MEMTYPE_SHIFT 50

/* Allowed-1 bits (upper 32 bits of the control MSRs). SDM Vol. 3C 25.6. */
#define PROC_ACTIVATE_SECONDARY (1ULL << 31)
#define PROC2_EPT		(1ULL << 1)
#define PROC2_VPID		(1ULL << 5)
#define PROC2_UNRESTRICTED	(1ULL << 7)

/* IA32_VMX_EPT_VPID_CAP: SDM Vol. 3D A.10. */
#define EPTCAP_WALK4	     (1ULL << 6)
#define EPTCAP_WB	     (1ULL << 14)
#define EPTCAP_2M	     (1ULL << 16)
#define EPTCAP_1G	     (1ULL << 17)
#define EPTCAP_INVEPT	     (1ULL << 20)
#define EPTCAP_AD	     (1ULL << 21)
#define EPTCAP_INVEPT_SINGLE (1ULL << 25)
#define EPTCAP_INVEPT_ALL    (1ULL << 26)
#define EPTCAP_INVVPID	     (1ULL << 32)

/* Make VMX usable outside SMX if firmware left the MSR unlocked. */
static bool feature_control_allows_vmx(struct vmx_caps *c)
{
	c->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	c->fc_was_locked = c->feature_control & FC_LOCK;
	if (!c->fc_was_locked) {
		c->feature_control |= FC_LOCK | FC_VMX_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, c->feature_control);
	}
	return c->feature_control & FC_VMX_OUTSIDE_SMX;
}

static void read_control_msrs(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision_id = c->basic & 0x7fffffff;
	c->vmcs_size = (c->basic >> 32) & 0x1fff;
	c->true_ctls = c->basic & BASIC_TRUE_CTLS;
	c->ins_outs_info = c->basic & BASIC_INS_OUTS_INFO;
	c->pinbased =
		rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					  : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit_ctls = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry_ctls =
		rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
}

static void read_secondary_and_ept(struct vmx_caps *c)
{
	c->has_secondary = c->procbased & (PROC_ACTIVATE_SECONDARY << 32);
	if (!c->has_secondary)
		return;
	c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	u64 allowed1 = c->procbased2 >> 32;
	c->ept = allowed1 & PROC2_EPT;
	c->vpid = allowed1 & PROC2_VPID;
	c->unrestricted_guest = allowed1 & PROC2_UNRESTRICTED;
	if (!c->ept && !c->vpid)
		return;
	u64 cap = c->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	c->ept_walk4 = cap & EPTCAP_WALK4;
	c->ept_wb = cap & EPTCAP_WB;
	c->ept_2m = cap & EPTCAP_2M;
	c->ept_1g = cap & EPTCAP_1G;
	c->invept = cap & EPTCAP_INVEPT;
	c->invept_single = cap & EPTCAP_INVEPT_SINGLE;
	c->invept_all = cap & EPTCAP_INVEPT_ALL;
	c->ept_ad = cap & EPTCAP_AD;
	c->invvpid = cap & EPTCAP_INVVPID;
}

void vmx_probe(const struct cpu_ident *id, struct vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->present = cpuid(1, 0).ecx & CPUID1_ECX_VMX;
	if (!c->present) {
		c->why_not = id->amd ? "AMD CPU without VMX (CPUID.1:ECX bit 5 clear); "
				       "dimvisor has no SVM backend yet"
				     : "CPU does not report VMX (CPUID.1:ECX bit 5 clear)";
		return;
	}
	if (!feature_control_allows_vmx(c)) {
		c->why_not = "VMX disabled by firmware (IA32_FEATURE_CONTROL locked "
			     "without 'VMX outside SMX'; enable VT-x in the BIOS setup)";
		return;
	}
	read_control_msrs(c);
	read_secondary_and_ept(c);
	c->usable = true;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

void vmx_caps_print(const struct cpu_ident *id, const struct vmx_caps *c)
{
	kprintf("cpu: %s family %u model %u stepping %u \"%s\"\n", id->vendor, id->family,
		id->model, id->stepping, id->brand);
	kprintf("vmx: present %s\n", yn(c->present));
	if (!c->present)
		return;
	kprintf("vmx: IA32_FEATURE_CONTROL 0x%lx (%s, VMX outside SMX %s)\n", c->feature_control,
		c->fc_was_locked ? "locked by firmware" : "was unlocked; locked by dimvisor",
		c->feature_control & FC_VMX_OUTSIDE_SMX ? "enabled" : "disabled");
	if (!c->usable)
		return;
	kprintf("vmx: basic 0x%lx: revision 0x%x, VMCS %u bytes, memory type %s, true controls "
		"%s\n",
		c->basic, c->revision_id, c->vmcs_size,
		((c->basic >> BASIC_MEMTYPE_SHIFT) & 0xf) == 6 ? "WB" : "UC", yn(c->true_ctls));
	kdebug("vmx: controls (allowed1:allowed0) pin %08lx:%08lx proc %08lx:%08lx\n",
	       c->pinbased >> 32, c->pinbased & 0xffffffff, c->procbased >> 32,
	       c->procbased & 0xffffffff);
	kdebug("vmx: controls (allowed1:allowed0) proc2 %08lx:%08lx exit %08lx:%08lx entry "
	       "%08lx:%08lx\n",
	       c->procbased2 >> 32, c->procbased2 & 0xffffffff, c->exit_ctls >> 32,
	       c->exit_ctls & 0xffffffff, c->entry_ctls >> 32, c->entry_ctls & 0xffffffff);
	kprintf("vmx: secondary controls %s, EPT %s, VPID %s, unrestricted guest %s\n",
		yn(c->has_secondary), yn(c->ept), yn(c->vpid), yn(c->unrestricted_guest));
	if (c->ept)
		kprintf("vmx: EPT cap 0x%lx: 4-level walk %s, WB %s, 2M pages %s, 1G pages %s, "
			"INVEPT %s (single-context %s, all-context %s), A/D %s\n",
			c->ept_vpid_cap, yn(c->ept_walk4), yn(c->ept_wb), yn(c->ept_2m),
			yn(c->ept_1g), yn(c->invept), yn(c->invept_single), yn(c->invept_all),
			yn(c->ept_ad));
	if (c->vpid)
		kprintf("vmx: INVVPID %s\n", yn(c->invvpid));
}
