#include "arch/x86_64/cpu.h"
#include "hv/cpu_rules.h"

#define CPUID_EXT_SYSCALL (1u << 11) /* CPUID.80000001H:EDX */
#define CPUID_EXT_NX	  (1u << 20)
#define CPUID_EXT_LM	  (1u << 29)

/* CR4 bits and the CPUID feature that says the CPU has each. SDM Vol. 3A 2.5. */
struct cr4_feature {
	u32 cr4_bit;
	u32 leaf; /* 1: CPUID.1; 7: CPUID.(7,0) */
	char reg; /* 'b', 'c' or 'd' */
	u32 mask;
};

static const struct cr4_feature cr4_features[] = {
	{11, 7, 'c', 1u << 2},	/* UMIP */
	{12, 7, 'c', 1u << 16}, /* LA57 */
	{13, 1, 'c', 1u << 5},	/* VMXE (refused to the guest elsewhere) */
	{14, 1, 'c', 1u << 6},	/* SMXE */
	{16, 7, 'b', 1u << 0},	/* FSGSBASE */
	{17, 1, 'c', 1u << 17}, /* PCIDE */
	{18, 1, 'c', 1u << 26}, /* OSXSAVE */
	{20, 7, 'b', 1u << 7},	/* SMEP */
	{21, 7, 'b', 1u << 20}, /* SMAP */
	{22, 7, 'c', 1u << 3},	/* PKE */
	{23, 7, 'c', 1u << 7},	/* CET */
	{24, 7, 'c', 1u << 31}, /* PKS */
};

static u64 cr4_implemented(u32 max_basic)
{
	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs l7 = max_basic >= 7 ? cpuid(7, 0) : (struct cpuid_regs){0, 0, 0, 0};
	u64 bits = 0x7ff; /* VME..OSXMMEXCPT: every x86-64 CPU has them */

	for (unsigned i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		const struct cr4_feature *f = &cr4_features[i];
		const struct cpuid_regs *r = f->leaf == 1 ? &l1 : &l7;
		u32 reg = f->reg == 'b' ? r->ebx : f->reg == 'c' ? r->ecx : r->edx;
		if (reg & f->mask)
			bits |= 1ULL << f->cr4_bit;
	}
	return bits;
}

void cpu_rules_caps_probe(struct cpu_rules_caps *caps)
{
	u32 max_basic = cpuid(0, 0).eax, max_ext = cpuid(0x80000000u, 0).eax;
	struct cpuid_regs none = {0, 0, 0, 0};
	struct cpuid_regs ext = max_ext >= 0x80000001u ? cpuid(0x80000001u, 0) : none;
	struct cpuid_regs xs = max_basic >= 0xd ? cpuid(0xd, 0) : none;
	struct cpuid_regs widths = max_ext >= 0x80000008u ? cpuid(0x80000008u, 0) : none;

	caps->linear_bits = (widths.eax >> 8) & 0xff;
	caps->maxphyaddr = widths.eax & 0xff;
	if (caps->maxphyaddr < 36 || caps->maxphyaddr > 52)
		caps->maxphyaddr = 36; /* SDM: 36 when the leaf is absent */
	caps->cr4_writable = cr4_implemented(max_basic);
	if (caps->linear_bits != 57)
		caps->linear_bits = 48;
	caps->xcr0_supported = ((u64)xs.edx << 32) | xs.eax;
	caps->efer_writable = EFER_BIT_LMA;
	if (ext.edx & CPUID_EXT_SYSCALL)
		caps->efer_writable |= EFER_BIT_SCE;
	if (ext.edx & CPUID_EXT_LM)
		caps->efer_writable |= EFER_BIT_LME;
	if (ext.edx & CPUID_EXT_NX)
		caps->efer_writable |= EFER_BIT_NXE;
}
