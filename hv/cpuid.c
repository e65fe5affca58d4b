/* The guest's CPUID view (hv/cpuid.h): pure, over the host's answers.
 * docs/guest-platform.md lists what is hidden and why, as the tables below. */
#include "hv/cpuid.h"

#define ANY_SUB	 0xffffffffu
#define EXT_BASE 0x80000000u
#define F(n)	 (1u << (n))

/* Flags cleared whatever the guest does, each with what it promises that
 * dimvisor does not offer: MSRs not on the allow list (hv/msr.c), or
 * instructions and state the VM-execution controls do not give the guest. */
static const struct {
	u32 leaf, sub;
	enum cpuid_reg reg;
	u32 bits;
} hidden[] = {
	/* DTES64 (2), DS-CPL (4): the debug store, IA32_DS_AREA. VMX (5): not
	 * offered. SMX (6): GETSEC exits. EST (7): IA32_PERF_CTL/STATUS. TM2 (8):
	 * thermal MSRs. PDCM (15): IA32_PERF_CAPABILITIES. DCA (18):
	 * IA32_PLATFORM_DCA_CAP. */
	{1, ANY_SUB, CPUID_ECX, F(2) | F(4) | F(5) | F(6) | F(7) | F(8) | F(15) | F(18)},
	/* MCA (14): IA32_MCG_* and the banks (MCE, #MC and CR4.MCE, stays). DS
	 * (21): IA32_DS_AREA. ACPI (22): IA32_CLOCK_MODULATION, thermal MSRs. TM
	 * (29): IA32_THERM_*. PBE (31): a pin enabled through MISC_ENABLE. */
	{1, ANY_SUB, CPUID_EDX, F(14) | F(21) | F(22) | F(29) | F(31)},
	/* SGX (2), RDT monitoring (12) and allocation (15): their MSRs and leaves
	 * 0x12, 0xF, 0x10. MPX (14): IA32_BNDCFGS. Processor trace (25): RTIT
	 * MSRs, leaf 0x14. */
	{7, 0, CPUID_EBX, F(2) | F(12) | F(14) | F(15) | F(25)},
	/* WAITPKG (5): IA32_UMWAIT_CONTROL, and #UD without its VMX control. CET
	 * shadow stacks (7): IA32_*_SSP, S_CET, U_CET. TME (13): IA32_TME_*. Key
	 * Locker (23): leaf 0x19, LOADIWKEY exits. ENQCMD (29): IA32_PASID. SGX
	 * launch control (30). PKS (31): IA32_PKRS. */
	{7, 0, CPUID_ECX, F(5) | F(7) | F(13) | F(23) | F(29) | F(30) | F(31)},
	/* UINTR (5): its MSRs. SRBDS control (9): IA32_MCU_OPT_CTRL. TSX force
	 * abort (13): its MSR. PCONFIG (18), architectural LBRs (19): leaves 0x1B,
	 * 0x1C. CET IBT (20). IBRS/IBPB (26), STIBP (27), L1D flush (28),
	 * IA32_ARCH_CAPABILITIES (29), IA32_CORE_CAPABILITIES (30), SSBD (31):
	 * IA32_SPEC_CTRL, PRED_CMD, FLUSH_CMD and the capability MSRs. */
	{7, 0, CPUID_EDX,
	 F(5) | F(9) | F(13) | F(18) | F(19) | F(20) | F(26) | F(27) | F(28) | F(29) | F(30) |
		 F(31)},
	/* FRED (17), HRESET (22): IA32_HRESET_ENABLE, LAM (26): CR3/CR4 bits. */
	{7, 1, CPUID_EAX, F(17) | F(22) | F(26)},
	/* Controls of IA32_SPEC_CTRL (PSFD, IPRED, RRSBA, BHI, ...). */
	{7, 2, CPUID_EDX, ~0u},
	/* XSAVES (3): IA32_XSS, and #UD without its VMX control. XFD (4): IA32_XFD. */
	{0xd, 1, CPUID_EAX, F(3) | F(4)},
	/* ... so no supervisor state components either. */
	{0xd, 1, CPUID_ECX, ~0u},
	{0xd, 1, CPUID_EDX, ~0u},
	/* SVM (2): not offered. */
	{EXT_BASE + 1, ANY_SUB, CPUID_ECX, F(2)},
};

/* Leaves that describe only what is hidden: all zero. */
static const u32 zeroed_leaves[] = {
	0xa,	    /* architectural performance monitoring: no PMU */
	0xf,  0x10, /* resource director technology */
	0x12,	    /* SGX */
	0x14,	    /* processor trace */
	0x19,	    /* Key Locker */
	0x1b, 0x1c, /* PCONFIG, architectural LBRs */
	0x20,	    /* HRESET */
	0x23,	    /* architectural performance monitoring, extended */
};

#define LEAF1_ECX_MONITOR    F(3)
#define LEAF1_ECX_XSAVE	     F(26)
#define LEAF1_ECX_OSXSAVE    F(27)
#define LEAF1_ECX_HYPERVISOR F(31) /* reserved for hypervisors to set */
#define LEAF6_EAX_ARAT	     F(2)  /* APIC timer always running: a software timer is */
#define LEAF7_ECX_PKU	     F(3)
#define LEAF7_ECX_OSPKE	     F(4)
#define LEAF7_ECX_LA57	     F(16)
#define EXT1_EDX_NX	     F(20)
#define CR4_OSXSAVE_BIT	     (1ULL << 18)
#define CR4_PKE_BIT	     (1ULL << 22)
#define CR4_LA57_BIT	     (1ULL << 12)
#define XCR0_MPX	     (XCR0_BNDREGS | XCR0_BNDCSR)
#define XSAVE_SUB_SUPERVISOR F(0) /* leaf 0xD subleaf i>1, ECX: an IA32_XSS component */

static bool is_zeroed(u32 leaf)
{
	for (unsigned i = 0; i < ARRAY_SIZE(zeroed_leaves); i++)
		if (zeroed_leaves[i] == leaf)
			return true;
	return false;
}

static void apply_hidden(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	for (unsigned i = 0; i < ARRAY_SIZE(hidden); i++)
		if (hidden[i].leaf == leaf && (hidden[i].sub == ANY_SUB || hidden[i].sub == sub))
			*cpuid_reg(r, hidden[i].reg) &= ~hidden[i].bits;
}

/* A feature whose CR4 bit the hardware does not let a guest hold would be
 * silently dropped from the real CR4: hide it (e.g. LA57, PKU, UMIP where
 * CR4_FIXED1 lacks them). */
static void hide_cr4_features(u32 leaf, u32 sub, struct cpuid_regs *r, u64 cr4_allowed)
{
	u32 fleaf, mask;
	enum cpuid_reg reg;

	if (leaf != 1 && !(leaf == 7 && sub == 0))
		return;
	for (unsigned bit = 0; bit < 64; bit++)
		if (!(cr4_allowed & (1ULL << bit)) && cr4_bit_feature(bit, &fleaf, &reg, &mask) &&
		    fleaf == leaf)
			*cpuid_reg(r, reg) &= ~mask;
}

/* XSAVE state components the guest cannot use: MPX's (MPX is hidden), PKRU
 * without PKE, and every supervisor one (XSAVES is hidden). */
static u64 xcr0_hidden(const struct cpuid_guest_state *s)
{
	return XCR0_MPX | ((s->cr4_allowed & CR4_PKE_BIT) ? 0 : XCR0_PKRU);
}

static void adjust_xsave(u32 sub, struct cpuid_regs *r, const struct cpuid_guest_state *s)
{
	u64 gone = xcr0_hidden(s);

	if (sub == 0) {
		r->eax &= ~(u32)gone;
		r->edx &= ~(u32)(gone >> 32);
	} else if (sub >= 2 && sub < 64 &&
		   (((gone >> sub) & 1) || (r->ecx & XSAVE_SUB_SUPERVISOR))) {
		*r = (struct cpuid_regs){0, 0, 0, 0};
	}
}

/* Flags that follow the guest's CR4 and IA32_MISC_ENABLE, not the host's. */
static void follow_guest_state(u32 leaf, u32 sub, struct cpuid_regs *r,
			       const struct cpuid_guest_state *s)
{
	if (leaf == 0 && (s->misc_enable & MISC_ENABLE_LIMIT_CPUID) && r->eax > 2)
		r->eax = 2;
	if (leaf == 1) {
		r->ecx |= LEAF1_ECX_HYPERVISOR;
		r->ecx &= ~LEAF1_ECX_OSXSAVE;
		if ((r->ecx & LEAF1_ECX_XSAVE) && (s->cr4 & CR4_OSXSAVE_BIT))
			r->ecx |= LEAF1_ECX_OSXSAVE;
		if (!(s->misc_enable & MISC_ENABLE_MONITOR))
			r->ecx &= ~LEAF1_ECX_MONITOR;
	}
	if (leaf == 7 && sub == 0) {
		r->ecx &= ~LEAF7_ECX_OSPKE;
		if ((r->ecx & LEAF7_ECX_PKU) && (s->cr4 & CR4_PKE_BIT))
			r->ecx |= LEAF7_ECX_OSPKE;
	}
	if (leaf == EXT_BASE + 1 && (s->misc_enable & MISC_ENABLE_XD_DISABLE))
		r->edx &= ~EXT1_EDX_NX;
	/* Without LA57 the linear-address width is 48 bits. */
	if (leaf == EXT_BASE + 8 && !(s->cr4_allowed & CR4_LA57_BIT) &&
	    ((r->eax >> 8) & 0xff) == 57)
		r->eax = (r->eax & ~0xff00u) | (48u << 8);
}

void cpuid_guest_adjust(u32 leaf, u32 sub, struct cpuid_regs *r, const struct cpuid_guest_state *s)
{
	if (is_zeroed(leaf)) {
		*r = (struct cpuid_regs){0, 0, 0, 0};
		return;
	}
	if (leaf == 6)
		*r = (struct cpuid_regs){r->eax & LEAF6_EAX_ARAT, 0, 0, 0};
	if (leaf == 0xd)
		adjust_xsave(sub, r, s);
	apply_hidden(leaf, sub, r);
	hide_cr4_features(leaf, sub, r, s->cr4_allowed);
	follow_guest_state(leaf, sub, r, s);
}

struct cpuid_regs cpuid_guest_query(cpuid_source host, u32 leaf, u32 sub,
				    const struct cpuid_guest_state *s)
{
	struct cpuid_regs r = {0, 0, 0, 0};
	u32 base = leaf & EXT_BASE;

	if (leaf > host(base, 0).eax)
		return r;
	r = host(leaf, sub);
	cpuid_guest_adjust(leaf, sub, &r, s);
	return r;
}

static struct cpu_rules_cpuid rules_leaves(cpuid_source host, const struct cpuid_guest_state *s)
{
	return (struct cpu_rules_cpuid){
		.leaf0 = cpuid_guest_query(host, 0, 0, s),
		.leaf1 = cpuid_guest_query(host, 1, 0, s),
		.leaf7 = cpuid_guest_query(host, 7, 0, s),
		.pmu = cpuid_guest_query(host, 0xa, 0, s),
		.xsave = cpuid_guest_query(host, 0xd, 0, s),
		.ext1 = cpuid_guest_query(host, EXT_BASE + 1, 0, s),
		.widths = cpuid_guest_query(host, EXT_BASE + 8, 0, s),
	};
}

void cpuid_guest_caps(cpuid_source host, const struct cpuid_guest_state *s,
		      struct cpu_rules_caps *caps)
{
	struct cpuid_guest_state reset = *s;
	struct cpu_rules_cpuid c, unlimited;

	reset.misc_enable = MISC_ENABLE_MONITOR; /* no maxval limit, NX not disabled */
	c = rules_leaves(host, s);
	unlimited = rules_leaves(host, &reset);
	cpu_rules_caps_from_cpuid(&c, &unlimited, caps);
	caps->cr4_writable &= s->cr4_allowed; /* the view hides the rest already */
}
