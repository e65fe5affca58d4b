/* hv/vlapic.c: the guest's local APIC model, driven with a made-up TSC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vlapic.h"

#define MAXPHY 46

static struct vlapic apic;

static int setup(void **state)
{
	(void)state;
	vlapic_reset(&apic, true);
	return 0;
}

static void enable_software(struct vlapic *a)
{
	vlapic_mmio_write(a, APIC_SVR, SVR_ENABLED | 0xff, 0);
}

static void to_x2apic(struct vlapic *a)
{
	assert_null(vlapic_set_base(a, VLAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD, MAXPHY,
				    true));
}

static void power_up_state(void **state)
{
	u64 gpa;

	(void)state;
	assert_true(vlapic_mmio_page(&apic, &gpa));
	assert_int_equal(gpa, 0xfee00000ULL);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_VERSION, 0), 0x00050014);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_SVR, 0), 0xff);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_DFR, 0), 0xffffffffu);
	for (u32 off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
		assert_int_equal(vlapic_mmio_read(&apic, off, 0), LVT_MASKED);
	/* software-disabled: a self-IPI is not accepted */
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x40, 0);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
}

static void self_ipi_priority_and_eoi(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x41, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x92, 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0x92);
	vlapic_accept(&apic, 0x92);
	/* 0x41's class (4) is below the in-service one (9): it waits */
	assert_int_equal(vlapic_ppr(&apic), 0x90);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_ISR + 0x40, 0), 1u << (0x92 - 0x80));
	vlapic_mmio_write(&apic, APIC_EOI, 0, 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0x41);
	/* TPR masks a class and below */
	vlapic_mmio_write(&apic, APIC_TPR, 0x40, 0);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vlapic_cr8_write(&apic, 3);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_TPR, 0), 0x30);
	assert_int_equal(vlapic_cr8_read(&apic), 3);
	assert_int_equal(vlapic_pending_vector(&apic), 0x41);
}

static void illegal_vectors_set_esr(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x05, 0);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	/* the ESR shows errors only after a write latches them */
	assert_int_equal(vlapic_mmio_read(&apic, APIC_ESR, 0), 0);
	vlapic_mmio_write(&apic, APIC_ESR, 0, 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_ESR, 0), ESR_SEND_ILLEGAL_VECTOR);
	vlapic_mmio_write(&apic, APIC_ESR, 0, 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_ESR, 0), 0);
	/* an unmasked error LVT delivers its vector */
	vlapic_mmio_write(&apic, APIC_LVT_ERROR, 0xe0, 0);
	vlapic_raise(&apic, 3);
	assert_int_equal(vlapic_pending_vector(&apic), 0xe0);
}

static void nmi_and_init_to_self(void **state)
{
	(void)state;
	/* NMI by physical destination ID 0; the self shorthand takes only fixed */
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | (4u << 8), 0);
	assert_false(vlapic_take_nmi(&apic));
	vlapic_mmio_write(&apic, APIC_ICR_HI, 0, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (4u << 8) | (1u << 14), 0);
	assert_true(vlapic_take_nmi(&apic));
	assert_false(vlapic_take_nmi(&apic));
	/* to another APIC ID: no one there */
	vlapic_mmio_write(&apic, APIC_ICR_HI, 5u << 24, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (4u << 8) | (1u << 14), 0);
	assert_false(vlapic_take_nmi(&apic));
	/* INIT level de-assert is ignored, assert is taken */
	vlapic_mmio_write(&apic, APIC_ICR_HI, 0, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (5u << 8) | (1u << 15), 0);
	assert_false(vlapic_take_init(&apic));
	vlapic_mmio_write(&apic, APIC_ICR_LO, (5u << 8) | (1u << 14), 0);
	assert_true(vlapic_take_init(&apic));
	/* all-excluding-self reaches no one */
	vlapic_mmio_write(&apic, APIC_ICR_LO, (3u << 18) | (4u << 8), 0);
	assert_false(vlapic_take_nmi(&apic));
}

static void one_shot_timer(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_TIMER_DIVIDE, 0xb, 0); /* divide by 1 */
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, 0x50, 0);
	vlapic_mmio_write(&apic, APIC_TIMER_INITIAL, 1000, 100);
	assert_int_equal(vlapic_next_event(&apic), 1100);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_TIMER_CURRENT, 600), 500);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vlapic_advance(&apic, 1100);
	assert_int_equal(vlapic_pending_vector(&apic), 0x50);
	assert_int_equal(vlapic_next_event(&apic), 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_TIMER_CURRENT, 5000), 0);
	/* divide by 16: 1000 counts take 16000 ticks */
	vlapic_mmio_write(&apic, APIC_TIMER_DIVIDE, 0x3, 6000);
	vlapic_mmio_write(&apic, APIC_TIMER_INITIAL, 1000, 6000);
	assert_int_equal(vlapic_next_event(&apic), 22000);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_TIMER_CURRENT, 6000 + 1600), 900);
	/* writing 0 stops it */
	vlapic_mmio_write(&apic, APIC_TIMER_INITIAL, 0, 7000);
	assert_int_equal(vlapic_next_event(&apic), 0);
}

static void periodic_timer_coalesces(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_TIMER_DIVIDE, 0xb, 0);
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, LVT_TIMER_PERIODIC | 0x60, 0);
	vlapic_mmio_write(&apic, APIC_TIMER_INITIAL, 100, 0);
	vlapic_advance(&apic, 350); /* three periods passed: one interrupt */
	assert_int_equal(apic.stats.timer_fires, 1);
	assert_int_equal(vlapic_next_event(&apic), 400);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_TIMER_CURRENT, 350), 50);
	vlapic_accept(&apic, 0x60);
	vlapic_mmio_write(&apic, APIC_EOI, 0, 360);
	vlapic_advance(&apic, 400);
	assert_int_equal(vlapic_pending_vector(&apic), 0x60);
	/* masked: counts, fires, raises nothing */
	vlapic_accept(&apic, 0x60);
	vlapic_mmio_write(&apic, APIC_EOI, 0, 410);
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, LVT_TIMER_PERIODIC | LVT_MASKED | 0x60, 410);
	vlapic_advance(&apic, 500);
	assert_int_equal(apic.stats.timer_fires, 3);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
}

static void tsc_deadline_timer(void **state)
{
	(void)state;
	enable_software(&apic);
	/* outside TSC-deadline mode the MSR reads 0 and ignores writes */
	vlapic_tsc_deadline_write(&apic, 5000, 0);
	assert_int_equal(vlapic_tsc_deadline_read(&apic), 0);
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, LVT_TIMER_DEADLINE | 0x70, 0);
	vlapic_tsc_deadline_write(&apic, 5000, 100);
	assert_int_equal(vlapic_tsc_deadline_read(&apic), 5000);
	assert_int_equal(vlapic_next_event(&apic), 5000);
	vlapic_advance(&apic, 4999);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vlapic_advance(&apic, 5000);
	assert_int_equal(vlapic_pending_vector(&apic), 0x70);
	assert_int_equal(vlapic_tsc_deadline_read(&apic), 0);
	/* a deadline in the past fires at once */
	vlapic_accept(&apic, 0x70);
	vlapic_mmio_write(&apic, APIC_EOI, 0, 6000);
	vlapic_tsc_deadline_write(&apic, 10, 6000);
	assert_int_equal(vlapic_pending_vector(&apic), 0x70);
	/* leaving the mode disarms */
	vlapic_tsc_deadline_write(&apic, 9000, 6000);
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, 0x70, 6000);
	assert_int_equal(vlapic_next_event(&apic), 0);
}

static void no_deadline_mode_without_cpuid(void **state)
{
	(void)state;
	vlapic_reset(&apic, false);
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_LVT_TIMER, LVT_TIMER_DEADLINE | 0x70, 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_LVT_TIMER, 0), 0x70);
}

static void base_msr_transitions(void **state)
{
	u64 gpa;

	(void)state;
	/* reserved bits, x2APIC not offered, invalid states */
	assert_non_null(
		vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE | APIC_BASE_EN | 1, MAXPHY, true));
	assert_non_null(vlapic_set_base(&apic, (1ULL << MAXPHY) | APIC_BASE_EN, MAXPHY, true));
	assert_non_null(vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD,
					MAXPHY, false));
	assert_non_null(vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE | APIC_BASE_EXTD, MAXPHY, true));
	to_x2apic(&apic);
	assert_false(vlapic_mmio_page(&apic, &gpa));
	/* x2APIC -> xAPIC directly is refused; through disabled it works */
	assert_non_null(vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE | APIC_BASE_EN, MAXPHY, true));
	assert_null(vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE, MAXPHY, true));
	assert_false(vlapic_enabled(&apic));
	/* disabled -> x2APIC directly is refused */
	assert_non_null(vlapic_set_base(&apic, VLAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD,
					MAXPHY, true));
	/* re-enabled: reset state, a new base */
	assert_null(vlapic_set_base(&apic, 0xfec00000ULL | APIC_BASE_EN, MAXPHY, true));
	assert_true(vlapic_mmio_page(&apic, &gpa));
	assert_int_equal(gpa, 0xfec00000ULL);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_SVR, 0), 0xff);
	assert_int_equal(apic.base & APIC_BASE_BSP, APIC_BASE_BSP);
}

static void x2apic_msrs(void **state)
{
	u64 v;

	(void)state;
	/* in xAPIC mode the MSRs fault */
	assert_non_null(vlapic_msr_read(&apic, 0x802, 0, &v));
	to_x2apic(&apic);
	assert_null(vlapic_msr_read(&apic, 0x802, 0, &v));
	assert_int_equal(v, 0);
	assert_null(vlapic_msr_read(&apic, 0x80d, 0, &v));
	assert_int_equal(v, 1); /* LDR: cluster 0, bit 0 */
	assert_null(vlapic_msr_write(&apic, 0x80f, SVR_ENABLED | 0xff, 0));
	/* read-only, write-only, absent, reserved */
	assert_non_null(vlapic_msr_write(&apic, 0x802, 1, 0));
	assert_non_null(vlapic_msr_read(&apic, 0x80b, 0, &v));
	assert_non_null(vlapic_msr_read(&apic, 0x80e, 0, &v)); /* DFR is gone */
	assert_non_null(vlapic_msr_read(&apic, 0x831, 0, &v)); /* so is ICR high */
	assert_non_null(vlapic_msr_write(&apic, 0x80b, 1, 0)); /* EOI must be 0 */
	assert_non_null(vlapic_msr_write(&apic, 0x808, 1ULL << 32, 0));
	assert_non_null(vlapic_msr_write(&apic, 0x83f, 0x100, 0));
	assert_non_null(vlapic_msr_write(&apic, 0x808, 0x100, 0));		 /* TPR */
	assert_non_null(vlapic_msr_write(&apic, 0x80f, SVR_ENABLED | 0x2ff, 0)); /* focus */
	/* SELF IPI and the 64-bit ICR */
	assert_null(vlapic_msr_write(&apic, 0x83f, 0x55, 0));
	assert_int_equal(vlapic_pending_vector(&apic), 0x55);
	assert_null(vlapic_msr_write(&apic, 0x830, (0ULL << 32) | (4u << 8) | (1u << 14), 0));
	assert_true(vlapic_take_nmi(&apic));
	assert_null(vlapic_msr_read(&apic, 0x830, 0, &v));
	assert_int_equal(v, (4u << 8) | (1u << 14));
	/* the timer through MSRs */
	assert_null(vlapic_msr_write(&apic, 0x83e, 0xb, 0));
	assert_null(vlapic_msr_write(&apic, 0x832, 0x66, 0));
	assert_null(vlapic_msr_write(&apic, 0x838, 50, 10));
	assert_null(vlapic_msr_read(&apic, 0x839, 20, &v));
	assert_int_equal(v, 40);
	assert_non_null(vlapic_msr_write(&apic, 0x839, 1, 0));
}

static void software_disable_masks_lvts(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_LVT_LINT0, 0x700, 0); /* ExtINT, unmasked */
	assert_int_equal(vlapic_mmio_read(&apic, APIC_LVT_LINT0, 0), 0x700);
	vlapic_mmio_write(&apic, APIC_SVR, 0xff, 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_LVT_LINT0, 0), 0x700 | LVT_MASKED);
	vlapic_mmio_write(&apic, APIC_LVT_LINT0, 0x700, 0);
	assert_int_equal(vlapic_mmio_read(&apic, APIC_LVT_LINT0, 0), 0x700 | LVT_MASKED);
}

static void logical_destinations(void **state)
{
	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_LDR, 0x02000000, 0); /* flat: bit 1 */
	vlapic_mmio_write(&apic, APIC_ICR_HI, 0x04000000, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 11) | 0x80, 0);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vlapic_mmio_write(&apic, APIC_ICR_HI, 0x06000000, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 11) | 0x80, 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0x80);
}

static void register_page_and_tpr_threshold(void **state)
{
	static u32 page[1024];

	(void)state;
	enable_software(&apic);
	vlapic_mmio_write(&apic, APIC_TPR, 0x50, 0);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x45, 0);
	vlapic_fill_page(&apic, page, 0);
	assert_int_equal(page[APIC_VERSION / 4], 0x00050014);
	assert_int_equal(page[APIC_TPR / 4], 0x50);
	assert_int_equal(page[APIC_SVR / 4], SVR_ENABLED | 0xff);
	assert_int_equal(page[(APIC_IRR + 0x20) / 4], 1u << 5);
	/* 0x45 waits behind TPR 0x50: lowering the TPR below class 4 must exit */
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	assert_int_equal(vlapic_tpr_threshold(&apic), 4);
	/* the CPU lowered the TPR in the page (MOV to CR8) */
	page[APIC_TPR / 4] = 0x10;
	vlapic_take_page_tpr(&apic, page);
	assert_int_equal(vlapic_pending_vector(&apic), 0x45);
	assert_int_equal(vlapic_tpr_threshold(&apic), 0);
	/* held back by the ISR, not the TPR: no threshold */
	vlapic_accept(&apic, 0x45);
	vlapic_mmio_write(&apic, APIC_ICR_LO, (1u << 18) | 0x41, 0);
	assert_int_equal(vlapic_tpr_threshold(&apic), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(power_up_state, setup),
		cmocka_unit_test_setup(self_ipi_priority_and_eoi, setup),
		cmocka_unit_test_setup(illegal_vectors_set_esr, setup),
		cmocka_unit_test_setup(nmi_and_init_to_self, setup),
		cmocka_unit_test_setup(one_shot_timer, setup),
		cmocka_unit_test_setup(periodic_timer_coalesces, setup),
		cmocka_unit_test_setup(tsc_deadline_timer, setup),
		cmocka_unit_test_setup(no_deadline_mode_without_cpuid, setup),
		cmocka_unit_test_setup(base_msr_transitions, setup),
		cmocka_unit_test_setup(x2apic_msrs, setup),
		cmocka_unit_test_setup(software_disable_masks_lvts, setup),
		cmocka_unit_test_setup(logical_destinations, setup),
		cmocka_unit_test_setup(register_page_and_tpr_threshold, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
