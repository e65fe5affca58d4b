/* hv/cpuid.c: the guest's CPUID view. A flag whose MSRs, instructions or CR4
 * bit the guest would not get is hidden; flags that follow the guest's state
 * follow it; the rules (hv/cpu_rules.h) refuse what the view does not
 * advertise. The host is Bochs 2.7's corei7_skylake_x (cpu/cpudb), with a
 * few later features added where a test needs them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/cpuid.h"

#define F(n) (1u << (n))

struct leaf {
	u32 leaf, sub;
	struct cpuid_regs r;
};

/* Bochs 2.7 corei7_skylake_x, the leaves the tests look at. */
static const struct leaf skx[] = {
	{0, 0, {0x16, 0x756e6547, 0x6c65746e, 0x49656e69}},
	/* ECX: SSE3 PCLMULQDQ DTES64 MONITOR DS-CPL VMX EST TM2 SSSE3 FMA CX16 xTPR
	 * PDCM PCID SSE4.1 SSE4.2 x2APIC MOVBE POPCNT TSC-deadline AES XSAVE AVX
	 * F16C RDRAND; EDX: every flag but PSN, 10, 20, 30 (APIC, HTT included) */
	{1, 0, {0x50654, 0x10800, 0x77faf3bf, 0xbfebfbff}},
	{6, 0, {0x75, 0x2, 0x9, 0}},
	/* EBX: FSGSBASE TSC_ADJUST BMI1 AVX2 FDP SMEP BMI2 ERMS INVPCID FCS/FDS
	 * AVX512F/DQ RDSEED ADX SMAP CLFLUSHOPT CLWB AVX512CD/BW/VL */
	{7, 0, {0, 0xd19f27eb, 0, 0}},
	{0xa, 0, {0x07300404, 0, 0, 0x603}},
	{0xd, 0, {0xe7, 0x340, 0x340, 0}},
	{0xd, 1, {0xf, 0x340, 0x100, 0}},
	{0xd, 2, {0x100, 0x240, 0, 0}},
	{0x80000000, 0, {0x80000008, 0, 0, 0}},
	{0x80000001, 0, {0, 0, 0x121, 0x2c100800}},
	{0x80000008, 0, {0x3028, 0, 0, 0}},
};

/* A later CPU: PKU, UMIP, LA57, CET, WAITPKG, MPX, SPEC_CTRL and friends,
 * XSAVE with MPX, PKRU and supervisor components (PT, CET). */
static const struct leaf later[] = {
	{0, 0, {0x1b, 0, 0, 0}},
	{1, 0, {0x806c1, 0, 0x77faf3bf, 0xbfebfbff}},
	{7,
	 0,
	 {0, 0xd19f67eb | F(2) | F(25), F(2) | F(3) | F(5) | F(7) | F(16) | F(22) | F(31),
	  F(10) | F(20) | F(26) | F(27) | F(29) | F(31)}},
	{0xd, 0, {0x2ff, 0xa88, 0xa88, 0}},
	{0xd, 1, {0xf, 0xa88, 0x1900, 0}},
	{0xd, 3, {0x40, 0x3c0, 0, 0}},
	{0xd, 8, {0x48, 0, 1, 0}},
	{0xd, 9, {0x8, 0xa80, 0, 0}},
	{0x80000000, 0, {0x80000008, 0, 0, 0}},
	{0x80000001, 0, {0, 0, 0x121, 0x2c100800}},
	{0x80000008, 0, {0x3927, 0, 0, 0}},
};

static const struct leaf *host_table;
static unsigned host_len;

static struct cpuid_regs fake_host(u32 leaf, u32 sub)
{
	for (unsigned i = 0; i < host_len; i++)
		if (host_table[i].leaf == leaf && host_table[i].sub == sub)
			return host_table[i].r;
	return (struct cpuid_regs){0, 0, 0, 0};
}

#define USE_HOST(t) (host_table = (t), host_len = sizeof(t) / sizeof((t)[0]))

/* Bochs's CR4_FIXED1 for these models: everything CPUID says, LA57 aside
 * (Bochs 2.7 has no 5-level paging); VMXE included. */
#define SKX_CR4_FIXED1	 0x3727ffULL
#define LATER_CR4_FIXED1 (0x3727ffULL | (1 << 11) | (1 << 22) | (1 << 23))
#define RESET_MISC	 (MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_MONITOR)

static struct cpuid_guest_state state(u64 cr4_fixed1)
{
	return (struct cpuid_guest_state){
		.cr4 = 0, .misc_enable = RESET_MISC, .cr4_allowed = cr4_fixed1};
}

static struct cpuid_regs q(u32 leaf, u32 sub, const struct cpuid_guest_state *s)
{
	return cpuid_guest_query(fake_host, leaf, sub, s);
}

/* Leaf 0xA zero, PDCM, DTES64, DS-CPL and DS clear: no PMU and no debug
 * store, so IA32_PERF_CAPABILITIES, the counters and IA32_DS_AREA, which
 * dimvisor does not offer, are not promised either. */
static void pmu_and_debug_store_hidden(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);
	struct cpuid_regs pmu = q(0xa, 0, &s), l1 = q(1, 0, &s);

	assert_int_equal(pmu.eax, 0);
	assert_int_equal(pmu.ebx, 0);
	assert_int_equal(pmu.ecx, 0);
	assert_int_equal(pmu.edx, 0);
	assert_int_equal(l1.ecx & (F(15) | F(2) | F(4)), 0); /* PDCM, DTES64, DS-CPL */
	assert_int_equal(l1.edx & F(21), 0);		     /* DS */
}

static void leaf1_hides_what_has_no_msr_and_keeps_the_rest(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);
	struct cpuid_regs l1 = q(1, 0, &s);

	/* VMX, EST, TM2, SMX, DCA gone; the hypervisor bit set */
	assert_int_equal(l1.ecx & (F(5) | F(6) | F(7) | F(8) | F(18)), 0);
	assert_true(l1.ecx & F(31));
	/* MCA, ACPI, TM, PBE gone */
	assert_int_equal(l1.edx & (F(14) | F(22) | F(29) | F(31)), 0);
	/* kept: SSE3, MONITOR, PCID, x2APIC, TSC-deadline, XSAVE, AVX; FPU, MCE,
	 * APIC, SEP, MTRR, PAT, FXSR */
	assert_int_equal(l1.ecx & (F(0) | F(3) | F(17) | F(21) | F(24) | F(26) | F(28)),
			 F(0) | F(3) | F(17) | F(21) | F(24) | F(26) | F(28));
	assert_int_equal(l1.edx & (F(0) | F(7) | F(9) | F(11) | F(12) | F(16) | F(24)),
			 F(0) | F(7) | F(9) | F(11) | F(12) | F(16) | F(24));
	assert_int_equal(l1.eax, 0x50654);
}

static void osxsave_and_ospke_follow_the_guests_cr4(void **state_)
{
	(void)state_;
	USE_HOST(later);
	struct cpuid_guest_state s = state(LATER_CR4_FIXED1);

	assert_int_equal(q(1, 0, &s).ecx & F(27), 0);
	assert_int_equal(q(7, 0, &s).ecx & F(4), 0);
	s.cr4 = (1ULL << 18) | (1ULL << 22); /* OSXSAVE, PKE */
	assert_true(q(1, 0, &s).ecx & F(27));
	assert_true(q(7, 0, &s).ecx & F(4));
	assert_true(q(7, 0, &s).ecx & F(3)); /* PKU itself stays */
}

static void misc_enable_limits_maxval_hides_nx_and_monitor(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);

	assert_int_equal(q(0, 0, &s).eax, 0x16);
	assert_true(q(0x80000001, 0, &s).edx & F(20));
	assert_true(q(1, 0, &s).ecx & F(3));
	s.misc_enable |= MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XD_DISABLE;
	s.misc_enable &= ~MISC_ENABLE_MONITOR;
	assert_int_equal(q(0, 0, &s).eax, 2);
	assert_int_equal(q(0, 0, &s).ebx, 0x756e6547); /* the vendor stays */
	assert_int_equal(q(0x80000001, 0, &s).edx & F(20), 0);
	assert_int_equal(q(1, 0, &s).ecx & F(3), 0);
}

/* A feature whose CR4 bit VMX does not let the guest hold would be dropped
 * from the real CR4 while the guest believes it on: hidden instead. */
static void features_without_their_cr4_bit_are_hidden(void **state_)
{
	(void)state_;
	USE_HOST(later);
	struct cpuid_guest_state s = state(LATER_CR4_FIXED1 & ~(1ULL << 22)); /* no PKE */
	struct cpuid_regs l7 = q(7, 0, &s);

	assert_int_equal(l7.ecx & F(16), 0);		    /* LA57: bit 12 is not in CR4_FIXED1 */
	assert_int_equal(l7.ecx & F(3), 0);		    /* PKU: no PKE */
	assert_true(l7.ecx & F(2));			    /* UMIP: allowed, kept */
	assert_int_equal(q(0x80000008, 0, &s).eax, 0x3027); /* 48-bit linear, 39-bit physical */
	assert_int_equal(q(0xd, 0, &s).eax & XCR0_PKRU, 0);
	assert_int_equal(q(0xd, 9, &s).eax, 0);
}

static void later_features_with_msrs_are_hidden(void **state_)
{
	(void)state_;
	USE_HOST(later);
	struct cpuid_guest_state s = state(LATER_CR4_FIXED1);
	struct cpuid_regs l7 = q(7, 0, &s);

	assert_int_equal(l7.ebx & (F(2) | F(14) | F(25)), 0); /* SGX, MPX, PT */
	assert_int_equal(l7.ecx & (F(5) | F(7) | F(31)), 0);  /* WAITPKG, CET, PKS */
	assert_int_equal(l7.edx & (F(20) | F(26) | F(27) | F(29) | F(31)),
			 0);	     /* CET, SPEC_CTRL... */
	assert_true(l7.edx & F(10)); /* MD_CLEAR: VERW only */
	assert_true(l7.ebx & F(1));  /* TSC_ADJUST: virtualized */
	assert_true(l7.ecx & F(22)); /* RDPID: TSC_AUX is offered */
}

/* XSAVES and its supervisor components, and MPX's user components, hidden;
 * AVX's and AVX-512's kept. */
static void xsave_components(void **state_)
{
	(void)state_;
	USE_HOST(later);
	struct cpuid_guest_state s = state(LATER_CR4_FIXED1);
	struct cpuid_regs sub1 = q(0xd, 1, &s);

	assert_int_equal(q(0xd, 0, &s).eax, 0x2e7); /* 0x2ff without BNDREGS, BNDCSR */
	assert_int_equal(sub1.eax, 0x7);	    /* XSAVEOPT, XSAVEC, XGETBV(1); not XSAVES */
	assert_int_equal(sub1.ecx, 0);
	assert_int_equal(sub1.edx, 0);
	assert_int_equal(q(0xd, 3, &s).eax, 0); /* BNDREGS */
	assert_int_equal(q(0xd, 8, &s).eax, 0); /* PT: supervisor */
	assert_int_equal(q(0xd, 9, &s).eax, 8); /* PKRU kept with PKE allowed */
	USE_HOST(skx);
	assert_int_equal(q(0xd, 2, &s).eax, 0x100); /* AVX */
}

static void thermal_leaf_keeps_only_arat(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);
	struct cpuid_regs l6 = q(6, 0, &s);

	assert_int_equal(l6.eax, F(2));
	assert_int_equal(l6.ebx, 0);
	assert_int_equal(l6.ecx, 0); /* no APERF/MPERF, no energy-performance bias */
	assert_int_equal(l6.edx, 0);
}

static void leaves_past_the_highest_are_zero(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);

	assert_int_equal(q(0x17, 0, &s).eax, 0);
	assert_int_equal(q(0x80000009, 0, &s).eax, 0);
}

/* The rules follow the view: CR4 bits of hidden features (VMX, CET) are
 * refused, EFER.NXE with XD disabled, XCR0 MPX components. */
static void rules_follow_the_view(void **state_)
{
	(void)state_;
	USE_HOST(later);
	struct cpuid_guest_state s = state(LATER_CR4_FIXED1);
	struct cpu_rules_caps caps;

	cpuid_guest_caps(fake_host, &s, &caps);
	assert_int_equal(caps.cr4_writable, 0x7ffULL | (1 << 11) | (1 << 16) | (1 << 17) |
						    (1 << 18) | (1 << 20) | (1 << 21) | (1 << 22));
	assert_int_equal(caps.linear_bits, 48);
	assert_int_equal(caps.maxphyaddr, 39);
	assert_int_equal(caps.xcr0_supported, 0x2e7);
	assert_int_equal(caps.debugctl_writable, DEBUGCTL_LBR | DEBUGCTL_BTF);
	assert_int_equal(caps.efer_writable,
			 EFER_BIT_SCE | EFER_BIT_LME | EFER_BIT_LMA | EFER_BIT_NXE);
	s.misc_enable |= MISC_ENABLE_XD_DISABLE;
	cpuid_guest_caps(fake_host, &s, &caps);
	assert_int_equal(caps.efer_writable, EFER_BIT_SCE | EFER_BIT_LME | EFER_BIT_LMA);
}

/* IA32_MISC_ENABLE's bits follow the features they control, even when the
 * MSR itself hides them (MONITOR off, NX disabled): it can turn them on again.
 * EST is hidden, so its bit is not offered; no PMU and no debug store, so the
 * read-only bits say "PMU unavailable", "BTS and PEBS unavailable". */
static void misc_enable_bits_follow_the_view(void **state_)
{
	(void)state_;
	USE_HOST(skx);
	struct cpuid_guest_state s = state(SKX_CR4_FIXED1);
	struct cpu_rules_caps caps;
	const u64 writable = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_MONITOR |
			     MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XTPR_DISABLE |
			     MISC_ENABLE_XD_DISABLE;

	cpuid_guest_caps(fake_host, &s, &caps);
	assert_int_equal(caps.misc_enable_writable, writable);
	assert_int_equal(caps.misc_enable_read_only,
			 MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL);
	s.misc_enable = MISC_ENABLE_XD_DISABLE | MISC_ENABLE_LIMIT_CPUID;
	cpuid_guest_caps(fake_host, &s, &caps);
	assert_int_equal(caps.misc_enable_writable, writable);
}

static void cr4_bits_and_their_flags(void **state_)
{
	(void)state_;
	u32 leaf, mask;
	enum cpuid_reg reg;

	assert_true(cr4_bit_feature(22, &leaf, &reg, &mask)); /* PKE: CPUID.7:ECX[3] */
	assert_int_equal(leaf, 7);
	assert_int_equal(reg, CPUID_ECX);
	assert_int_equal(mask, F(3));
	assert_true(cr4_bit_feature(13, &leaf, &reg, &mask)); /* VMXE: CPUID.1:ECX[5] */
	assert_int_equal(leaf, 1);
	assert_int_equal(mask, F(5));
	assert_false(cr4_bit_feature(5, &leaf, &reg, &mask));  /* PAE: every CPU */
	assert_false(cr4_bit_feature(15, &leaf, &reg, &mask)); /* reserved */
	assert_false(cr4_bit_feature(31, &leaf, &reg, &mask));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pmu_and_debug_store_hidden),
		cmocka_unit_test(leaf1_hides_what_has_no_msr_and_keeps_the_rest),
		cmocka_unit_test(osxsave_and_ospke_follow_the_guests_cr4),
		cmocka_unit_test(misc_enable_limits_maxval_hides_nx_and_monitor),
		cmocka_unit_test(features_without_their_cr4_bit_are_hidden),
		cmocka_unit_test(later_features_with_msrs_are_hidden),
		cmocka_unit_test(xsave_components),
		cmocka_unit_test(thermal_leaf_keeps_only_arat),
		cmocka_unit_test(leaves_past_the_highest_are_zero),
		cmocka_unit_test(rules_follow_the_view),
		cmocka_unit_test(misc_enable_bits_follow_the_view),
		cmocka_unit_test(cr4_bits_and_their_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
