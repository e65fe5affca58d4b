/* mm/model/cost*.c: Table IV of PAPER.md evaluated by hand for given F and
 * M_n, the fractions from miss counts, and the per-reference model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <cmocka.h>

#include "mm/model/cost.h"

/* cmocka's float assertion works in single precision: compare doubles here. */
static void check_near(double got, double want, int line)
{
	if (fabs(got - want) > 1e-9 * fmax(1.0, fabs(want))) {
		print_error("line %d: got %.12g, want %.12g\n", line, got, want);
		fail();
	}
}
#define assert_near(got, want) check_near((got), (want), __LINE__)

/* C_n = 40, C_v = 200, Delta_VD = 10, Delta_GD = 5, M_n = 1000. */
static const struct cost_linear_params P = {40, 200, 10, 5};

static void native_and_base(void **state)
{
	struct cost_fractions f = {.m_n = 1000};

	/* C_n * M_n = 40 * 1000 */
	assert_near(cost_linear_cycles(&P, COST_NATIVE, &f), 40000);
	/* C_v * M_n = 200 * 1000 */
	assert_near(cost_linear_cycles(&P, COST_BASE_VIRT, &f), 200000);
}

static void direct_segment(void **state)
{
	struct cost_fractions f = {.m_n = 1000, .f_ds = 0.75};

	/* C_n (1 - F_DS) M_n = 40 * 0.25 * 1000 */
	assert_near(cost_linear_cycles(&P, COST_DIRECT_SEGMENT, &f), 10000);
}

static void dual_direct(void **state)
{
	struct cost_fractions f = {.m_n = 1000, .f_dd = 0.5, .f_vd = 0.2, .f_gd = 0.1};

	/* [(40+10) 0.2 + (40+5) 0.1 + 200 (1 - 0.1 - 0.2 - 0.5)] 1000
	 * = [10 + 4.5 + 40] 1000 = 54500 */
	assert_near(cost_linear_cycles(&P, COST_DUAL_DIRECT, &f), 54500);
}

static void vmm_direct(void **state)
{
	struct cost_fractions f = {.m_n = 1000, .f_vd = 0.6};

	/* [(40+10) 0.6 + 200 (1 - 0.6)] 1000 = [30 + 80] 1000 = 110000 */
	assert_near(cost_linear_cycles(&P, COST_VMM_DIRECT, &f), 110000);
}

static void guest_direct(void **state)
{
	struct cost_fractions f = {.m_n = 1000, .f_gd = 0.3};

	/* [(40+5) 0.3 + 200 (1 - 0.3)] 1000 = [13.5 + 140] 1000 = 153500 */
	assert_near(cost_linear_cycles(&P, COST_GUEST_DIRECT, &f), 153500);
}

/* 1000 misses: 500 in both segments, 200 in the VMM segment only, 100 in
 * the guest segment only, 200 in neither. */
static const struct cost_miss_counts C = {
	.m_n = 1000, .guest_only = 100, .vmm_only = 200, .both = 500};

static void fractions_per_design(void **state)
{
	struct cost_fractions f;

	cost_fractions_of(&C, COST_DUAL_DIRECT, &f);
	assert_near(f.m_n, 1000);
	assert_near(f.f_dd, 0.5);
	assert_near(f.f_vd, 0.2);
	assert_near(f.f_gd, 0.1);
	/* Without a guest segment, "both" misses count as VMM-only. */
	cost_fractions_of(&C, COST_VMM_DIRECT, &f);
	assert_near(f.f_vd, 0.7);
	assert_near(f.f_gd, 0);
	cost_fractions_of(&C, COST_GUEST_DIRECT, &f);
	assert_near(f.f_gd, 0.6);
	cost_fractions_of(&C, COST_DIRECT_SEGMENT, &f);
	assert_near(f.f_ds, 0.6);
}

static void cycles_from_counts(void **state)
{
	/* VMM Direct, F_VD = 0.7: [(50) 0.7 + 200 0.3] 1000 = 95000 */
	assert_near(cost_linear_cycles_of(&P, COST_VMM_DIRECT, &C), 95000);
	/* Guest Direct, F_GD = 0.6: [45 0.6 + 200 0.4] 1000 = 107000 */
	assert_near(cost_linear_cycles_of(&P, COST_GUEST_DIRECT, &C), 107000);
	/* Dual Direct: [50 0.2 + 45 0.1 + 200 0.2] 1000 = 54500 */
	assert_near(cost_linear_cycles_of(&P, COST_DUAL_DIRECT, &C), 54500);
}

static void no_misses_cost_nothing(void **state)
{
	struct cost_miss_counts none = {0};

	assert_near(cost_linear_cycles_of(&P, COST_DUAL_DIRECT, &none), 0);
	assert_near(cost_ratio(5, 0), 0);
	assert_near(cost_ratio(3, 4), 0.75);
}

static void default_parameters(void **state)
{
	struct cost_linear_params p;
	struct cost_ref_params r;

	cost_ref_params_default(&r);
	assert_int_equal(r.cycles_per_ref, 12);
	assert_int_equal(r.cycles_per_add, 1);
	cost_linear_params_default(&p);
	/* 4 refs * 12, 24 refs * 12, 5 adds * 1, 1 add * 1 */
	assert_near(p.c_n, 48);
	assert_near(p.c_v, 288);
	assert_near(p.delta_vd, 5);
	assert_near(p.delta_gd, 1);
	/* 2M + 2M: 3 refs, 15 refs, 4 adds, 1 add */
	cost_linear_params_from_refs(&p, &r, 3, 3);
	assert_near(p.c_n, 36);
	assert_near(p.c_v, 180);
	assert_near(p.delta_vd, 4);
	assert_near(p.delta_gd, 1);
}

static void per_reference_model(void **state)
{
	struct cost_ref_params r = {12, 1};

	assert_int_equal(cost_ref_cycles(&r, 24, 0), 288);
	assert_int_equal(cost_ref_cycles(&r, 4, 5), 53);
	assert_int_equal(cost_ref_cycles(&r, 0, 2), 2);
}

/* The integer Table IV the hypervisor uses equals the floating-point one. */
static void integer_model_equals_linear(void **state)
{
	const struct cost_miss_counts counts[] = {{1000, 100, 200, 500},
						  {0, 0, 0, 0},
						  {7, 7, 0, 0},
						  {12345, 0, 12000, 0},
						  {99999, 333, 4444, 55555}};
	struct cost_ref_params r;
	struct cost_linear_params p;
	struct cost_linear_int pi;

	(void)state;
	cost_ref_params_default(&r);
	for (unsigned lv = 2; lv <= 4; lv++) {
		cost_linear_params_from_refs(&p, &r, lv, lv);
		cost_linear_int_from_refs(&pi, &r, lv, lv);
		assert_near((double)pi.c_n, p.c_n);
		assert_near((double)pi.c_v, p.c_v);
		assert_near((double)pi.delta_vd, p.delta_vd);
		assert_near((double)pi.delta_gd, p.delta_gd);
		for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			for (int d = 0; d < COST_DESIGNS; d++)
				assert_near(
					(double)cost_linear_int_cycles(&pi, (enum cost_design)d,
								       &counts[i]),
					cost_linear_cycles_of(&p, (enum cost_design)d, &counts[i]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(native_and_base),
		cmocka_unit_test(direct_segment),
		cmocka_unit_test(dual_direct),
		cmocka_unit_test(vmm_direct),
		cmocka_unit_test(guest_direct),
		cmocka_unit_test(fractions_per_design),
		cmocka_unit_test(cycles_from_counts),
		cmocka_unit_test(no_misses_cost_nothing),
		cmocka_unit_test(default_parameters),
		cmocka_unit_test(per_reference_model),
		cmocka_unit_test(integer_model_equals_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
