/* lib/fp/fp_math.c against the C library: log, exp and pow within a few
 * units in the last place (pow: its exp(y log x) loses log2|y log x| bits). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "lib/fp/fp_math.h"

static double rel(double got, double want)
{
	return want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
}

static void log_matches(void **state)
{
	(void)state;
	for (double x = 1e-310; x < 1e308; x *= 1.9)
		assert_true(rel(fp_log(x), log(x)) < 4e-16 || fabs(fp_log(x) - log(x)) < 4e-16);
	assert_true(fp_log(1.0) == 0.0);
	assert_true(rel(fp_log(2.0), M_LN2) < 2e-16);
}

static void exp_matches(void **state)
{
	(void)state;
	for (double x = -745; x < 709; x += 0.731)
		assert_true(rel(fp_exp(x), exp(x)) < 4e-16 || exp(x) < 1e-300);
	assert_true(fp_exp(0.0) == 1.0);
	assert_true(fp_exp(-800) == 0.0);
	assert_true(isinf(fp_exp(710)));
}

static void pow_matches(void **state)
{
	(void)state;
	for (double x = 1e-3; x < 1e6; x *= 1.37)
		for (double y = -3; y <= 100; y += 0.77) {
			double want = pow(x, y);

			/* exp(z) turns an absolute error of z's last bit into a
			 * relative one: |y log x| ulps at most, plus a few */
			if (want > 1e-300 && !isinf(want))
				assert_true(rel(fp_pow(x, y), want) <
					    (fabs(y * log(x)) + 4) * 2.3e-16);
		}
	/* what the Zipf sampling asks: x^100 for x just below 1, i^-0.99 */
	assert_true(rel(fp_pow(0.97, 100), pow(0.97, 100)) < 1e-14);
	assert_true(rel(fp_pow(1e6, -0.99), pow(1e6, -0.99)) < 1e-14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_matches),
		cmocka_unit_test(exp_matches),
		cmocka_unit_test(pow_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
