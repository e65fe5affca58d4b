#include "hv/cpu_rules.h"

#define MSR_EFER	   0xc0000080u
#define MSR_PAT		   0x277u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_LSTAR	   0xc0000082u
#define MSR_CSTAR	   0xc0000083u
#define MSR_SYSENTER_ESP   0x175u
#define MSR_SYSENTER_EIP   0x176u
#define MSR_DEBUGCTL	   0x1d9u
#define MSR_TSC_AUX	   0xc0000103u
#define MSR_MTRR_DEF_TYPE  0x2ffu

#define CPUID_EXT_SYSCALL   (1u << 11) /* CPUID.80000001H:EDX */
#define CPUID_EXT_NX	    (1u << 20)
#define CPUID_EXT_LM	    (1u << 29)
#define CPUID_7_EBX_RTM	    (1u << 11)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_1_ECX_EST	    (1u << 7)
#define CPUID_1_ECX_XTPR    (1u << 14)
#define CPUID_1_EDX_DS	    (1u << 21)
#define CR4_ALWAYS	    0x7ffULL /* VME..OSXMMEXCPT: every x86-64 CPU has them */

/* CR4 bits and the CPUID flag that says the CPU has each. SDM Vol. 3A 2.5. */
static const struct {
	u8 cr4_bit, leaf; /* leaf 1, or 7 (subleaf 0) */
	enum cpuid_reg reg;
	u32 mask;
} cr4_features[] = {
	{11, 7, CPUID_ECX, 1u << 2},  /* UMIP */
	{12, 7, CPUID_ECX, 1u << 16}, /* LA57 */
	{13, 1, CPUID_ECX, 1u << 5},  /* VMXE */
	{14, 1, CPUID_ECX, 1u << 6},  /* SMXE */
	{16, 7, CPUID_EBX, 1u << 0},  /* FSGSBASE */
	{17, 1, CPUID_ECX, 1u << 17}, /* PCIDE */
	{18, 1, CPUID_ECX, 1u << 26}, /* OSXSAVE */
	{19, 7, CPUID_ECX, 1u << 23}, /* KL (Key Locker) */
	{20, 7, CPUID_EBX, 1u << 7},  /* SMEP */
	{21, 7, CPUID_EBX, 1u << 20}, /* SMAP */
	{22, 7, CPUID_ECX, 1u << 3},  /* PKE */
	{23, 7, CPUID_ECX, 1u << 7},  /* CET */
	{24, 7, CPUID_ECX, 1u << 31}, /* PKS */
	{25, 7, CPUID_EDX, 1u << 5},  /* UINTR */
};

bool cr4_bit_feature(unsigned bit, u32 *leaf, enum cpuid_reg *reg, u32 *mask)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		if (cr4_features[i].cr4_bit != bit)
			continue;
		*leaf = cr4_features[i].leaf;
		*reg = cr4_features[i].reg;
		*mask = cr4_features[i].mask;
		return true;
	}
	return false;
}

static u64 cr4_implemented(const struct cpu_rules_cpuid *c)
{
	u64 bits = CR4_ALWAYS;

	for (unsigned i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		struct cpuid_regs r = cr4_features[i].leaf == 1 ? c->leaf1 : c->leaf7;

		if (*cpuid_reg(&r, cr4_features[i].reg) & cr4_features[i].mask)
			bits |= 1ULL << cr4_features[i].cr4_bit;
	}
	return bits;
}

/* SDM Vol. 4 Table 2-2: each writable bit exists when the feature it
 * controls does (the CPUID maxval limit when there are leaves past 2). */
static void misc_enable_caps(const struct cpu_rules_cpuid *c, struct cpu_rules_caps *caps)
{
	caps->misc_enable_writable = MISC_ENABLE_FAST_STRINGS;
	if (c->leaf1.ecx & CPUID_1_ECX_EST)
		caps->misc_enable_writable |= MISC_ENABLE_EST;
	if (c->leaf1.ecx & CPUID_1_ECX_MONITOR)
		caps->misc_enable_writable |= MISC_ENABLE_MONITOR;
	if (c->leaf0.eax > 2)
		caps->misc_enable_writable |= MISC_ENABLE_LIMIT_CPUID;
	if (c->leaf1.ecx & CPUID_1_ECX_XTPR)
		caps->misc_enable_writable |= MISC_ENABLE_XTPR_DISABLE;
	if (c->ext1.edx & CPUID_EXT_NX)
		caps->misc_enable_writable |= MISC_ENABLE_XD_DISABLE;
	caps->misc_enable_read_only = 0;
	if (c->pmu.eax & 0xff) /* an architectural PMU version */
		caps->misc_enable_read_only |= MISC_ENABLE_PERF_MON;
	if (!(c->leaf1.edx & CPUID_1_EDX_DS))
		caps->misc_enable_read_only |= MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
}

void cpu_rules_caps_from_cpuid(const struct cpu_rules_cpuid *c,
			       const struct cpu_rules_cpuid *unlimited, struct cpu_rules_caps *caps)
{
	caps->linear_bits = (c->widths.eax >> 8) & 0xff;
	if (caps->linear_bits != 57)
		caps->linear_bits = 48;
	caps->maxphyaddr = c->widths.eax & 0xff;
	if (caps->maxphyaddr < 36 || caps->maxphyaddr > 52)
		caps->maxphyaddr = 36; /* SDM: 36 when the leaf is absent */
	caps->cr4_writable = cr4_implemented(c);
	caps->xcr0_supported = ((u64)c->xsave.edx << 32) | c->xsave.eax;
	caps->efer_writable = EFER_BIT_LMA;
	if (c->ext1.edx & CPUID_EXT_SYSCALL)
		caps->efer_writable |= EFER_BIT_SCE;
	if (c->ext1.edx & CPUID_EXT_LM)
		caps->efer_writable |= EFER_BIT_LME;
	if (c->ext1.edx & CPUID_EXT_NX)
		caps->efer_writable |= EFER_BIT_NXE;
	caps->debugctl_writable = DEBUGCTL_LBR | DEBUGCTL_BTF;
	if (c->leaf7.ebx & CPUID_7_EBX_RTM)
		caps->debugctl_writable |= DEBUGCTL_RTM_DEBUG;
	misc_enable_caps(unlimited, caps);
}

u64 misc_enable_at_reset(const struct cpu_rules_caps *caps)
{
	return MISC_ENABLE_FAST_STRINGS | (caps->misc_enable_writable & MISC_ENABLE_MONITOR) |
	       caps->misc_enable_read_only;
}

cpu_rule_verdict misc_enable_write_check(u64 old, u64 value, u64 efer,
					 const struct cpu_rules_caps *caps, u64 *stored)
{
	if (value & ~(caps->misc_enable_writable | MISC_ENABLE_READ_ONLY))
		return "sets a reserved IA32_MISC_ENABLE bit";
	if ((value & MISC_ENABLE_XD_DISABLE) && !(old & MISC_ENABLE_XD_DISABLE) &&
	    (efer & EFER_BIT_NXE))
		return "sets XD Bit Disable while EFER.NXE is set";
	*stored = (value & caps->misc_enable_writable) | caps->misc_enable_read_only;
	return NULL;
}

/* Memory types an MTRR may hold without WC: UC, WT, WP, WB. SDM Vol. 3A
 * Table 12-8. */
static bool mtrr_type_valid(u64 type)
{
	return type == 0 || type == 4 || type == 5 || type == 6;
}

static cpu_rule_verdict mtrr_def_type_check(u64 value)
{
	if (value & ~(MTRR_DEF_TYPE_TYPE | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E))
		return "sets a reserved IA32_MTRR_DEF_TYPE bit";
	if (value & MTRR_DEF_TYPE_FE)
		return "enables fixed-range MTRRs, which MTRRCAP says do not exist";
	if (!mtrr_type_valid(value & MTRR_DEF_TYPE_TYPE))
		return "holds a memory type MTRRs do not have here";
	return NULL;
}

bool is_canonical(u64 value, unsigned bits)
{
	/* Bits 63..bits-1 all equal: sign-extend from bit bits-1 and compare. */
	unsigned shift = 64 - bits;
	return (u64)((s64)(value << shift) >> shift) == value;
}

bool pat_valid(u64 value)
{
	for (unsigned i = 0; i < 8; i++) {
		u8 type = (u8)(value >> (8 * i));
		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* SDM Vol. 2D XSETBV ("Protected Mode Exceptions") and Vol. 1 13.3. */
cpu_rule_verdict xsetbv_check(u32 index, u64 value, const struct cpu_rules_caps *caps)
{
	if (index != 0)
		return "only XCR0 exists";
	if (value & ~caps->xcr0_supported)
		return "sets a state component this CPU does not support";
	if (!(value & XCR0_X87))
		return "clears bit 0 (x87 state must stay enabled)";
	if ((value & XCR0_AVX) && !(value & XCR0_SSE))
		return "sets AVX without SSE";
	if ((value & XCR0_MPX_ALL) && (value & XCR0_MPX_ALL) != XCR0_MPX_ALL)
		return "sets one of BNDREGS and BNDCSR without the other";
	if ((value & XCR0_AVX512_ALL) && (value & XCR0_AVX512_ALL) != XCR0_AVX512_ALL)
		return "sets some but not all of the AVX-512 components (bits 7:5)";
	if ((value & XCR0_AVX512_ALL) && !(value & XCR0_AVX))
		return "sets AVX-512 state without AVX";
	if ((value & XCR0_AMX_ALL) && (value & XCR0_AMX_ALL) != XCR0_AMX_ALL)
		return "sets one of XTILECFG and XTILEDATA without the other";
	return NULL;
}

u64 efer_after_write(u64 old_efer, u64 value)
{
	return (value & ~EFER_BIT_LMA) | (old_efer & EFER_BIT_LMA);
}

static cpu_rule_verdict efer_check(u64 value, u64 efer, bool paging,
				   const struct cpu_rules_caps *caps)
{
	if (value & ~caps->efer_writable)
		return "sets a reserved EFER bit";
	if (paging && ((value ^ efer) & EFER_BIT_LME))
		return "changes EFER.LME while paging is on";
	return NULL;
}

cpu_rule_verdict msr_write_check(u32 msr, u64 value, u64 efer, bool paging,
				 const struct cpu_rules_caps *caps)
{
	switch (msr) {
	case MSR_EFER:
		return efer_check(value, efer, paging, caps);
	case MSR_PAT:
		return pat_valid(value) ? NULL : "holds a reserved memory type";
	case MSR_MTRR_DEF_TYPE:
		return mtrr_def_type_check(value);
	case MSR_TSC_AUX: /* a 32-bit value in a 64-bit MSR. SDM Vol. 4 Table 2-2 */
		return value >> 32 ? "sets reserved bits 63:32" : NULL;
	case MSR_DEBUGCTL:
		return value & ~caps->debugctl_writable ? "sets a reserved IA32_DEBUGCTL bit"
							: NULL;
	/* Linear addresses: WRMSR checks them for canonical form. SDM Vol. 2B WRMSR. */
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		return is_canonical(value, caps->linear_bits) ? NULL : "is not a canonical address";
	}
	/* STAR and SFMASK: no value is refused on every CPU (Bochs keeps SFMASK's
	 * low half). They go to the real MSR; should this CPU refuse a value, the
	 * fixup turns its #GP into the guest's. */
	return NULL;
}

cpu_rule_verdict cr0_write_check(u64 value, const struct cr_context *ctx)
{
	bool lme = ctx->efer & EFER_BIT_LME;

	if (value >> 32)
		return "sets reserved bits 63:32";
	if ((value & CR0_BIT_PG) && !(value & CR0_BIT_PE))
		return "sets PG without PE";
	if ((value & CR0_BIT_NW) && !(value & CR0_BIT_CD))
		return "sets NW without CD";
	/* Leaving paging is allowed from compatibility mode, not from 64-bit code. */
	if (ctx->in_64bit_code && (ctx->cr0 & CR0_BIT_PG) && !(value & CR0_BIT_PG))
		return "clears PG in 64-bit mode";
	if (!(ctx->cr0 & CR0_BIT_PG) && (value & CR0_BIT_PG) && lme && !(ctx->cr4 & CR4_BIT_PAE))
		return "enters IA-32e mode (PG with EFER.LME) without CR4.PAE";
	return NULL;
}

cpu_rule_verdict cr4_write_check(u64 value, const struct cr_context *ctx,
				 const struct cpu_rules_caps *caps)
{
	bool long_mode = ctx->efer & EFER_BIT_LMA;

	if (value & ~caps->cr4_writable)
		return "sets a bit the guest's CPUID does not advertise";
	if (long_mode && !(value & CR4_BIT_PAE))
		return "clears PAE in IA-32e mode";
	if (long_mode && ((value ^ ctx->cr4) & CR4_BIT_LA57))
		return "changes LA57 in IA-32e mode";
	if ((value & CR4_BIT_PCIDE) && !(ctx->cr4 & CR4_BIT_PCIDE) &&
	    (!long_mode || (ctx->cr3 & 0xfff)))
		return "sets PCIDE outside IA-32e mode or with a non-zero PCID in CR3";
	return NULL;
}

cpu_rule_verdict cr3_write_check(u64 value, const struct cr_context *ctx,
				 const struct cpu_rules_caps *caps, u64 *stored)
{
	if (!(ctx->efer & EFER_BIT_LMA)) {
		*stored = value & 0xffffffffULL; /* a 32-bit operand outside IA-32e mode */
		return NULL;
	}
	if (ctx->cr4 & CR4_BIT_PCIDE)
		value &= ~CR3_BIT_NOFLUSH;
	if (value >> caps->maxphyaddr)
		return "sets bits above the physical-address width";
	*stored = value;
	return NULL;
}
