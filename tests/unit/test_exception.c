/* arch/x86_64/exception.c: how each exception vector is delivered, which the
 * hypervisor follows when it injects one (RFLAGS.RF in the pushed image, the
 * error code). Expected values written out from SDM Vol. 3A Table 6-1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "arch/x86_64/exception.h"

static void faults_are_faults(void **state)
{
	(void)state;
	const unsigned faults[] = {0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21};

	for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		assert_int_equal(exception_class(faults[i]), EXCEPTION_FAULT);
}

static void traps_aborts_and_the_rest(void **state)
{
	(void)state;
	assert_int_equal(exception_class(1), EXCEPTION_FAULT_OR_TRAP); /* #DB */
	assert_int_equal(exception_class(2), EXCEPTION_INTERRUPT);     /* NMI */
	assert_int_equal(exception_class(3), EXCEPTION_TRAP);	       /* #BP */
	assert_int_equal(exception_class(4), EXCEPTION_TRAP);	       /* #OF */
	assert_int_equal(exception_class(8), EXCEPTION_ABORT);	       /* #DF */
	assert_int_equal(exception_class(18), EXCEPTION_ABORT);	       /* #MC */
	assert_int_equal(exception_class(15), EXCEPTION_RESERVED);
	assert_int_equal(exception_class(22), EXCEPTION_RESERVED);
	assert_int_equal(exception_class(29), EXCEPTION_RESERVED); /* AMD's #VC */
	assert_int_equal(exception_class(31), EXCEPTION_RESERVED);
	assert_int_equal(exception_class(32), EXCEPTION_RESERVED);
	assert_int_equal(exception_class(255), EXCEPTION_RESERVED);
}

/* The vectors whose deliver-error-code bit a VM entry insists on (SDM Vol.
 * 3C 27.2.1.3): any other vector with the bit set fails the entry. */
static void error_codes_exactly_for_the_eight(void **state)
{
	(void)state;
	const unsigned with[] = {8, 10, 11, 12, 13, 14, 17, 21};
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(with) / sizeof(with[0]); i++)
		assert_true(exception_has_error_code(with[i]));
	for (unsigned v = 0; v < 256; v++)
		n += exception_has_error_code(v);
	assert_int_equal(n, 8);
	assert_false(exception_has_error_code(1));
	assert_false(exception_has_error_code(6));
	assert_false(exception_has_error_code(18));
}

/* RF in the pushed image: every fault, but not #DB (whose instruction
 * breakpoint form must see RF clear), traps, aborts or NMI. */
static void rf_for_faults_only(void **state)
{
	(void)state;
	assert_true(exception_sets_rf(13)); /* #GP */
	assert_true(exception_sets_rf(6));  /* #UD */
	assert_true(exception_sets_rf(14)); /* #PF */
	assert_true(exception_sets_rf(0));  /* #DE */
	assert_false(exception_sets_rf(1)); /* #DB */
	assert_false(exception_sets_rf(2)); /* NMI */
	assert_false(exception_sets_rf(3)); /* #BP */
	assert_false(exception_sets_rf(4)); /* #OF */
	assert_false(exception_sets_rf(8)); /* #DF */
	assert_false(exception_sets_rf(18));
	assert_false(exception_sets_rf(15));
	assert_false(exception_sets_rf(40));
}

static void names_stay(void **state)
{
	(void)state;
	assert_string_equal(exception_name(13), "#GP general protection");
	assert_string_equal(exception_name(15), "reserved");
	assert_string_equal(exception_name(99), "reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(faults_are_faults),
		cmocka_unit_test(traps_aborts_and_the_rest),
		cmocka_unit_test(error_codes_exactly_for_the_eight),
		cmocka_unit_test(rf_for_faults_only),
		cmocka_unit_test(names_stay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
