/* cr4: MOV to CR4 of a bit the CPU's CPUID does not advertise (a reserved
 * bit, a feature flag that is clear: LA57, PKE without PKU, CET, VMXE under a
 * hypervisor that hides VMX, ...) raises #GP and leaves CR4 as it was; a bit
 * that is advertised is accepted and reads back. The same on the bare CPU and
 * under dimvisor, whose guest CPUID hides features the hardware has: such a
 * bit must be refused, not taken into the real CR4 (or silently dropped).
 * OSXSAVE and OSPKE in CPUID follow CR4.OSXSAVE and CR4.PKE. */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/tests.h"

#define VECTOR_GP  13
#define CR4_ALWAYS 0x7ffULL /* VME..OSXMMEXCPT: every x86-64 CPU has them */

/* CR4 bits and the CPUID flag that says the CPU has each: SDM Vol. 3A 2.5. */
static const struct {
	unsigned bit;
	u32 leaf; /* 1, or 7 subleaf 0 */
	enum cpuid_reg reg;
	u32 mask;
	const char *name;
} cr4_flags[] = {
	{11, 7, CPUID_ECX, 1u << 2, "UMIP"},	 {12, 7, CPUID_ECX, 1u << 16, "LA57"},
	{13, 1, CPUID_ECX, 1u << 5, "VMXE"},	 {14, 1, CPUID_ECX, 1u << 6, "SMXE"},
	{16, 7, CPUID_EBX, 1u << 0, "FSGSBASE"}, {17, 1, CPUID_ECX, 1u << 17, "PCIDE"},
	{18, 1, CPUID_ECX, 1u << 26, "OSXSAVE"}, {19, 7, CPUID_ECX, 1u << 23, "KL"},
	{20, 7, CPUID_EBX, 1u << 7, "SMEP"},	 {21, 7, CPUID_EBX, 1u << 20, "SMAP"},
	{22, 7, CPUID_ECX, 1u << 3, "PKE"},	 {23, 7, CPUID_ECX, 1u << 7, "CET"},
	{24, 7, CPUID_ECX, 1u << 31, "PKS"},	 {25, 7, CPUID_EDX, 1u << 5, "UINTR"},
};

/* Bits safe to turn on and off again in ring 0 of this kernel, and the
 * CPUID flag that mirrors the bit while it is set (OSXSAVE: CPUID.1:ECX[27];
 * OSPKE: CPUID.(7,0):ECX[4]), leaf 0 when none does. */
static const struct {
	unsigned bit;
	u32 mirror_leaf;
	enum cpuid_reg reg;
	u32 mirror;
} toggles[] = {
	{2, 0, CPUID_EAX, 0},	      /* TSD */
	{3, 0, CPUID_EAX, 0},	      /* DE */
	{8, 0, CPUID_EAX, 0},	      /* PCE */
	{11, 0, CPUID_EAX, 0},	      /* UMIP */
	{16, 0, CPUID_EAX, 0},	      /* FSGSBASE */
	{18, 1, CPUID_ECX, 1u << 27}, /* OSXSAVE */
	{22, 7, CPUID_ECX, 1u << 4},  /* PKE (PKRU is 0: no key restricts anything) */
};

/* The CPUID flag mirroring toggles[i] reads want; true when there is none. */
static bool mirror_reads(unsigned i, bool want)
{
	struct cpuid_regs r;

	if (!toggles[i].mirror_leaf)
		return true;
	r = cpuid(toggles[i].mirror_leaf, 0);
	return ((*cpuid_reg(&r, toggles[i].reg) & toggles[i].mirror) != 0) == want;
}

static u64 advertised_cr4_bits(void)
{
	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs l7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){0};
	u64 bits = CR4_ALWAYS;

	for (unsigned i = 0; i < ARRAY_SIZE(cr4_flags); i++) {
		struct cpuid_regs *r = cr4_flags[i].leaf == 1 ? &l1 : &l7;

		if (*cpuid_reg(r, cr4_flags[i].reg) & cr4_flags[i].mask)
			bits |= 1ULL << cr4_flags[i].bit;
	}
	return bits;
}

static const char *bit_name(unsigned bit)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cr4_flags); i++)
		if (cr4_flags[i].bit == bit)
			return cr4_flags[i].name;
	return "reserved";
}

/* Every bit that is not advertised: #GP, CR4 unchanged. */
static unsigned refuse_unadvertised(struct test *t, u64 advertised)
{
	u64 cr4 = read_cr4(), error = 0, vector;
	unsigned refused = 0;

	for (unsigned bit = 0; bit < 64; bit++) {
		if (advertised & (1ULL << bit))
			continue;
		vector = cr4_write_safe(cr4 | (1ULL << bit), &error);
		if (!test_check(t, vector == VECTOR_GP && error == 0,
				"CR4 bit %u (%s), not advertised: expected #GP(0), got vector "
				"%lu error 0x%lx",
				bit, bit_name(bit), vector, error))
			write_cr4(cr4);
		else
			refused++;
		test_check(t, read_cr4() == cr4, "CR4 bit %u (%s): CR4 is 0x%lx, was 0x%lx", bit,
			   bit_name(bit), read_cr4(), cr4);
	}
	return refused;
}

static unsigned accept_advertised(struct test *t, u64 advertised)
{
	u64 cr4 = read_cr4(), error = 0, vector;
	unsigned accepted = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(toggles); i++) {
		u64 bit = 1ULL << toggles[i].bit;

		if (!(advertised & bit) || (cr4 & bit))
			continue;
		vector = cr4_write_safe(cr4 | bit, &error);
		if (test_check(t, vector == 0 && (read_cr4() & bit),
			       "CR4 bit %u (advertised): vector %lu, CR4 reads 0x%lx",
			       toggles[i].bit, vector, read_cr4()))
			accepted++;
		test_check(t, mirror_reads(i, true),
			   "CR4 bit %u set: the CPUID flag that mirrors it reads clear",
			   toggles[i].bit);
		write_cr4(cr4);
		test_check(t, mirror_reads(i, false),
			   "CR4 bit %u clear again: the CPUID flag that mirrors it reads set",
			   toggles[i].bit);
	}
	return accepted;
}

void test_cr4(struct test *t)
{
	u64 advertised = advertised_cr4_bits();
	unsigned refused = refuse_unadvertised(t, advertised);
	unsigned accepted = accept_advertised(t, advertised);

	test_note(t, "CPUID advertises CR4 bits 0x%lx; %u others refused, %u toggled", advertised,
		  refused, accepted);
}
