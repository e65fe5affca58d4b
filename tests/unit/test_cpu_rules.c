/* The architectural checks on values a guest writes into XCR0 and MSRs
 * (hv/cpu_rules.c): every value here is refused or accepted by a real CPU as
 * the SDM says; the hypervisor must agree, or it crashes (before the fixup)
 * or lets a guest hold a state the hardware never would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/cpu_rules.h"

/* A Skylake-X: x87..AVX, MPX, AVX-512, PKRU (0x2ff); SYSCALL, LM, NX; 48-bit. */
static const struct cpu_rules_caps skx = {
	.linear_bits = 48,
	.xcr0_supported = 0x2ff,
	.efer_writable = EFER_BIT_SCE | EFER_BIT_LME | EFER_BIT_LMA | EFER_BIT_NXE,
	.cr4_writable = 0x7ff | (1 << 13) | (1 << 16) | (1 << 17) | (1 << 18) | (1 << 20) |
			(1 << 21) | (1 << 22), /* no LA57, no UMIP, no CET */
	.maxphyaddr = 46,
	.debugctl_writable = DEBUGCTL_LBR | DEBUGCTL_BTF,
};

/* A CPU with AVX but no MPX or AVX-512 (Sandy Bridge: 0x7). */
static const struct cpu_rules_caps snb = {
	.linear_bits = 48,
	.xcr0_supported = 0x7,
	.efer_writable = EFER_BIT_SCE | EFER_BIT_LME | EFER_BIT_LMA | EFER_BIT_NXE,
};

#define MSR_EFER	   0xc0000080u
#define MSR_PAT		   0x277u
#define MSR_LSTAR	   0xc0000082u
#define MSR_CSTAR	   0xc0000083u
#define MSR_SFMASK	   0xc0000084u
#define MSR_STAR	   0xc0000081u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_SYSENTER_EIP   0x176u

static void xsetbv_accepts_valid_combinations(void **state)
{
	(void)state;
	assert_null(xsetbv_check(0, 0x1, &skx));   /* x87 alone */
	assert_null(xsetbv_check(0, 0x3, &skx));   /* x87 + SSE */
	assert_null(xsetbv_check(0, 0x7, &skx));   /* + AVX */
	assert_null(xsetbv_check(0, 0x1f, &skx));  /* + both MPX components */
	assert_null(xsetbv_check(0, 0xe7, &skx));  /* + all of AVX-512 */
	assert_null(xsetbv_check(0, 0x2ff, &skx)); /* everything supported */
	assert_null(xsetbv_check(0, 0x7, &snb));
}

/* The two values the hardening issue found crashing the host. */
static void xsetbv_refuses_partial_avx512(void **state)
{
	(void)state;
	assert_non_null(xsetbv_check(0, 0x27, &skx)); /* opmask without ZMM_Hi256, Hi16_ZMM */
	assert_non_null(xsetbv_check(0, 0xe3, &skx)); /* AVX-512 without AVX */
	assert_non_null(xsetbv_check(0, 0x67, &skx)); /* bits 6:5 only */
	assert_non_null(xsetbv_check(0, 0xc7, &skx)); /* bits 7:6 only */
}

static void xsetbv_refuses_one_mpx_component(void **state)
{
	(void)state;
	assert_non_null(xsetbv_check(0, 0x0b, &skx)); /* BNDREGS alone */
	assert_non_null(xsetbv_check(0, 0x13, &skx)); /* BNDCSR alone */
}

static void xsetbv_refuses_x87_clear_and_avx_without_sse(void **state)
{
	(void)state;
	assert_non_null(xsetbv_check(0, 0x0, &skx));
	assert_non_null(xsetbv_check(0, 0x2, &skx));
	assert_non_null(xsetbv_check(0, 0x5, &skx));
}

static void xsetbv_refuses_unsupported_components_and_registers(void **state)
{
	(void)state;
	assert_non_null(xsetbv_check(0, 0xe7, &snb)); /* AVX-512 on a CPU without it */
	assert_non_null(xsetbv_check(0, 0x8000000000000003ULL, &skx)); /* bit 63 */
	assert_non_null(xsetbv_check(0, 0x3 | (1ULL << 9), &snb));     /* PKRU not on snb */
	assert_non_null(xsetbv_check(1, 0x3, &skx));		       /* XCR1 */
	assert_non_null(xsetbv_check(0xffffffffu, 0x3, &skx));
}

static void xsetbv_refuses_half_of_amx(void **state)
{
	const struct cpu_rules_caps amx = {.linear_bits = 48, .xcr0_supported = 0x602e7};

	(void)state;
	assert_null(xsetbv_check(0, 0x600e7, &amx));
	assert_non_null(xsetbv_check(0, 0x200e7, &amx)); /* XTILECFG alone */
	assert_non_null(xsetbv_check(0, 0x400e7, &amx)); /* XTILEDATA alone */
}

static void canonical_addresses_at_48_and_57_bits(void **state)
{
	(void)state;
	assert_true(is_canonical(0, 48));
	assert_true(is_canonical(0x00007fffffffffffULL, 48));
	assert_true(is_canonical(0xffff800000000000ULL, 48));
	assert_false(is_canonical(0x0000800000000000ULL, 48));
	assert_false(is_canonical(0xfffe800000000000ULL, 48));
	assert_false(is_canonical(0x8000000000000000ULL, 48));
	assert_true(is_canonical(0x0000800000000000ULL, 57));
	assert_true(is_canonical(0xff00000000000000ULL, 57));
	assert_false(is_canonical(0x0100000000000000ULL, 57));
}

static void address_msrs_refuse_non_canonical_values(void **state)
{
	(void)state;
	assert_non_null(msr_write_check(MSR_LSTAR, 0x0000800000000000ULL, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_CSTAR, 0x8000000000000000ULL, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_KERNEL_GS_BASE, 0x1234567800000000ULL, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_FS_BASE, 0x0000800000000000ULL, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_SYSENTER_EIP, 0x0000800000000000ULL, 0, false, &skx));
	assert_null(msr_write_check(MSR_LSTAR, 0xffffffff81000000ULL, 0, false, &skx));
	assert_null(msr_write_check(MSR_KERNEL_GS_BASE, 0x00007fffffffffffULL, 0, false, &skx));
}

static void pat_refuses_reserved_memory_types(void **state)
{
	(void)state;
	assert_true(pat_valid(0x0007040600070406ULL)); /* the power-on value */
	assert_true(pat_valid(0x0705040601000706ULL));
	assert_false(pat_valid(0x0007040600070402ULL)); /* type 2 */
	assert_false(pat_valid(0x0307040600070406ULL)); /* type 3 in the top byte */
	assert_false(pat_valid(0x0007040600070408ULL)); /* 8: beyond the types */
	assert_false(pat_valid(0x00070406000704f6ULL)); /* reserved bits 7:3 of an entry */
	assert_non_null(msr_write_check(MSR_PAT, 0x0202020202020202ULL, 0, false, &skx));
	assert_null(msr_write_check(MSR_PAT, 0x0007040600070406ULL, 0, false, &skx));
}

static void efer_refuses_reserved_bits_and_lme_changes_under_paging(void **state)
{
	const struct cpu_rules_caps no_nx = {.linear_bits = 48,
					     .xcr0_supported = 0x3,
					     .efer_writable =
						     EFER_BIT_SCE | EFER_BIT_LME | EFER_BIT_LMA};
	const u64 long_mode = EFER_BIT_LME | EFER_BIT_LMA;

	(void)state;
	assert_non_null(msr_write_check(MSR_EFER, 1ULL << 1, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_EFER, 1ULL << 12, 0, false, &skx)); /* AMD's SVME */
	assert_non_null(msr_write_check(MSR_EFER, 1ULL << 63, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_EFER, EFER_BIT_NXE, 0, false, &no_nx));
	assert_null(msr_write_check(MSR_EFER, EFER_BIT_NXE | EFER_BIT_SCE, 0, false, &skx));
	/* LME may change with paging off, not with it on. */
	assert_null(msr_write_check(MSR_EFER, EFER_BIT_LME, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_EFER, EFER_BIT_LME, 0, true, &skx));
	assert_non_null(msr_write_check(MSR_EFER, 0, long_mode, true, &skx));
	assert_null(msr_write_check(MSR_EFER, long_mode | EFER_BIT_NXE, long_mode, true, &skx));
	/* LMA in the written value is ignored, not refused. */
	assert_null(msr_write_check(MSR_EFER, EFER_BIT_LMA, 0, false, &skx));
}

static void efer_write_keeps_lma(void **state)
{
	(void)state;
	assert_int_equal(efer_after_write(EFER_BIT_LME | EFER_BIT_LMA, EFER_BIT_LME | EFER_BIT_NXE),
			 EFER_BIT_LME | EFER_BIT_LMA | EFER_BIT_NXE);
	assert_int_equal(efer_after_write(0, EFER_BIT_LMA | EFER_BIT_SCE), EFER_BIT_SCE);
}

static void msrs_without_rules_pass(void **state)
{
	(void)state;
	assert_null(msr_write_check(MSR_STAR, ~0ULL, 0, false, &skx));
	assert_null(msr_write_check(MSR_SFMASK, 0xffffffffULL, 0, false, &skx));
	assert_null(msr_write_check(0x12345678u, ~0ULL, 0, false, &skx));
}

#define LONG_CR0 (CR0_BIT_PG | CR0_BIT_PE | CR0_ET | CR0_NE)

/* 32-bit protected mode, paging off: where a multiboot guest starts. */
static const struct cr_context prot32 = {.cr0 = CR0_BIT_PE | CR0_ET};
/* 64-bit code on 4-level paging. */
static const struct cr_context long64 = {.cr0 = LONG_CR0,
					 .cr3 = 0x1000,
					 .cr4 = CR4_BIT_PAE,
					 .efer = EFER_BIT_LME | EFER_BIT_LMA,
					 .in_64bit_code = true};

static void cr0_refuses_what_the_cpu_refuses(void **state)
{
	struct cr_context compat = long64;
	struct cr_context lme_no_pae = {.cr0 = CR0_BIT_PE, .efer = EFER_BIT_LME};

	(void)state;
	compat.in_64bit_code = false;
	assert_non_null(cr0_write_check(CR0_BIT_PG | CR0_ET, &prot32));	    /* PG without PE */
	assert_non_null(cr0_write_check(CR0_BIT_NW | CR0_BIT_PE, &prot32)); /* NW without CD */
	assert_non_null(cr0_write_check(1ULL << 32 | CR0_BIT_PE, &prot32)); /* bits 63:32 */
	assert_non_null(cr0_write_check(CR0_BIT_PE | CR0_ET, &long64)); /* PG off in 64-bit code */
	assert_null(cr0_write_check(CR0_BIT_PE | CR0_ET, &compat)); /* allowed from compat mode */
	assert_non_null(cr0_write_check(CR0_BIT_PG | CR0_BIT_PE, &lme_no_pae)); /* IA-32e, no PAE */
	assert_null(cr0_write_check(CR0_BIT_CD | CR0_BIT_NW | CR0_BIT_PE, &prot32));
	assert_null(cr0_write_check(CR0_BIT_PG | CR0_BIT_PE | CR0_NE, &prot32));
	assert_null(cr0_write_check(LONG_CR0 | CR0_BIT_CD, &long64));
}

static void cr4_refuses_what_the_cpu_refuses(void **state)
{
	struct cr_context pcid_in_cr3 = long64;

	(void)state;
	pcid_in_cr3.cr3 = 0x1005;
	assert_non_null(cr4_write_check(1ULL << 31, &prot32, &skx));	/* reserved everywhere */
	assert_non_null(cr4_write_check(CR4_BIT_LA57, &prot32, &skx));	/* not on this CPU */
	assert_non_null(cr4_write_check(0, &long64, &skx));		/* PAE off in IA-32e */
	assert_non_null(cr4_write_check(CR4_BIT_PCIDE, &prot32, &skx)); /* PCIDE outside IA-32e */
	assert_non_null(cr4_write_check(CR4_BIT_PAE | CR4_BIT_PCIDE, &pcid_in_cr3, &skx));
	assert_null(cr4_write_check(CR4_BIT_PAE | CR4_BIT_PCIDE, &long64, &skx));
	assert_null(cr4_write_check(CR4_BIT_PAE | (1 << 7) | (1 << 9) | (1 << 18), &long64, &skx));
	assert_null(cr4_write_check(0x7ff, &prot32, &skx));
}

static void cr3_in_long_mode_refuses_bits_above_maxphyaddr(void **state)
{
	struct cr_context pcid = long64;
	u64 stored = 0;

	(void)state;
	pcid.cr4 |= CR4_BIT_PCIDE;
	assert_non_null(cr3_write_check(1ULL << 46, &long64, &skx, &stored));
	assert_non_null(cr3_write_check(CR3_BIT_NOFLUSH | 0x2000, &long64, &skx, &stored));
	assert_null(cr3_write_check(CR3_BIT_NOFLUSH | 0x2003, &pcid, &skx, &stored));
	assert_int_equal(stored, 0x2003); /* the no-flush hint is not stored */
	assert_null(cr3_write_check((1ULL << 46) - 4096, &long64, &skx, &stored));
	assert_int_equal(stored, (1ULL << 46) - 4096);
	/* outside IA-32e mode the operand is 32 bits: nothing to refuse */
	assert_null(cr3_write_check(0xffffffff12345000ULL, &prot32, &skx, &stored));
	assert_int_equal(stored, 0x12345000);
}

#define MSR_DEBUGCTL 0x1d9u

/* IA32_DEBUGCTL: LBR and BTF are offered; the BTS, PEBS and counter controls
 * (the guest has none of them) and the reserved bits are refused. */
static void debugctl_keeps_lbr_btf_refuses_the_rest(void **state)
{
	(void)state;
	assert_null(msr_write_check(MSR_DEBUGCTL, 0, 0, false, &skx));
	assert_null(msr_write_check(MSR_DEBUGCTL, 0x3, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_DEBUGCTL, 1ULL << 2, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_DEBUGCTL, 1ULL << 7, 0, false, &skx));  /* BTS */
	assert_non_null(msr_write_check(MSR_DEBUGCTL, 1ULL << 12, 0, false, &skx)); /* freeze PMU */
	assert_non_null(msr_write_check(MSR_DEBUGCTL, 1ULL << 15, 0, false, &skx)); /* no RTM */
	assert_non_null(msr_write_check(MSR_DEBUGCTL, 1ULL << 63, 0, false, &skx));
}

#define MSR_TSC_AUX 0xc0000103u

/* IA32_TSC_AUX holds 32 bits; bits 63:32 are reserved. */
static void tsc_aux_takes_32_bits(void **state)
{
	(void)state;
	assert_null(msr_write_check(MSR_TSC_AUX, 0, 0, false, &skx));
	assert_null(msr_write_check(MSR_TSC_AUX, 0xffffffffULL, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_TSC_AUX, 1ULL << 32, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_TSC_AUX, 1ULL << 63, 0, false, &skx));
}

/* What Skylake-X under dimvisor offers in IA32_MISC_ENABLE: fast strings,
 * MONITOR, the CPUID maxval limit, xTPR, XD disable; no PMU, BTS, PEBS. */
static const struct cpu_rules_caps skx_misc = {
	.misc_enable_writable = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_MONITOR |
				MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XTPR_DISABLE |
				MISC_ENABLE_XD_DISABLE,
	.misc_enable_read_only = MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL,
};

static void misc_enable_resets_and_keeps_writable_bits(void **state)
{
	(void)state;
	u64 stored = 0;

	assert_int_equal(misc_enable_at_reset(&skx_misc), 0x41801); /* bits 0, 11, 12, 18 */
	assert_null(misc_enable_write_check(0x41801, 0x41800, 0, &skx_misc, &stored));
	assert_int_equal(stored, 0x41800); /* fast strings off */
	assert_null(misc_enable_write_check(0x41801, 0x441801, 0, &skx_misc, &stored));
	assert_int_equal(stored, 0x441801); /* CPUID maxval limited */
	assert_null(misc_enable_write_check(0x41801, 0x400041801ULL, 0, &skx_misc, &stored));
	assert_int_equal(stored, 0x400041801ULL); /* XD disabled, NXE clear */
}

/* Read-only bits keep the values the platform gives them, whatever is
 * written; reserved bits are refused. */
static void misc_enable_read_only_and_reserved_bits(void **state)
{
	(void)state;
	u64 stored = 0;

	assert_null(misc_enable_write_check(0x41801, 0x40081, 0, &skx_misc, &stored));
	assert_int_equal(stored, 0x41801); /* PMU-available written, BTS/PEBS cleared: ignored */
	assert_non_null(misc_enable_write_check(0x41801, 0x41803, 0, &skx_misc, &stored));
	assert_non_null(misc_enable_write_check(0x41801, 0x41809, 0, &skx_misc, &stored));
	assert_non_null(misc_enable_write_check(0x41801, 0x51801, 0, &skx_misc, &stored)); /* EST */
	assert_non_null(
		misc_enable_write_check(0x41801, 0x8000000000041801ULL, 0, &skx_misc, &stored));
	/* XD disable under EFER.NXE: refused; already set, kept */
	assert_non_null(
		misc_enable_write_check(0x41801, 0x400041801ULL, EFER_BIT_NXE, &skx_misc, &stored));
	assert_null(misc_enable_write_check(0x400041801ULL, 0x400041801ULL, EFER_BIT_NXE, &skx_misc,
					    &stored));
}

#define MSR_MTRR_DEF_TYPE 0x2ffu

/* No fixed ranges and no write-combining in dimvisor's MTRRCAP: FE and type
 * WC refused with the reserved bits and types. */
static void mtrr_def_type_values(void **state)
{
	(void)state;
	assert_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0, 0, false, &skx));
	assert_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x806, 0, false, &skx));	    /* E, WB */
	assert_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x804, 0, false, &skx));	    /* E, WT */
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x801, 0, false, &skx)); /* WC */
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x802, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x807, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0xc06, 0, false, &skx)); /* FE */
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x1006, 0, false, &skx));
	assert_non_null(msr_write_check(MSR_MTRR_DEF_TYPE, 0x106, 0, false, &skx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debugctl_keeps_lbr_btf_refuses_the_rest),
		cmocka_unit_test(tsc_aux_takes_32_bits),
		cmocka_unit_test(misc_enable_resets_and_keeps_writable_bits),
		cmocka_unit_test(misc_enable_read_only_and_reserved_bits),
		cmocka_unit_test(mtrr_def_type_values),
		cmocka_unit_test(xsetbv_accepts_valid_combinations),
		cmocka_unit_test(xsetbv_refuses_partial_avx512),
		cmocka_unit_test(xsetbv_refuses_one_mpx_component),
		cmocka_unit_test(xsetbv_refuses_x87_clear_and_avx_without_sse),
		cmocka_unit_test(xsetbv_refuses_unsupported_components_and_registers),
		cmocka_unit_test(xsetbv_refuses_half_of_amx),
		cmocka_unit_test(canonical_addresses_at_48_and_57_bits),
		cmocka_unit_test(address_msrs_refuse_non_canonical_values),
		cmocka_unit_test(pat_refuses_reserved_memory_types),
		cmocka_unit_test(efer_refuses_reserved_bits_and_lme_changes_under_paging),
		cmocka_unit_test(efer_write_keeps_lma),
		cmocka_unit_test(msrs_without_rules_pass),
		cmocka_unit_test(cr0_refuses_what_the_cpu_refuses),
		cmocka_unit_test(cr4_refuses_what_the_cpu_refuses),
		cmocka_unit_test(cr3_in_long_mode_refuses_bits_above_maxphyaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
