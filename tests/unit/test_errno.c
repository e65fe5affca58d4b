/* lib/errno.c: dv_strerror. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>

#include <dimvisor/errno.h>

static void names_every_code(void **state)
{
	assert_string_equal(dv_strerror(DV_EPERM), "EPERM");
	assert_string_equal(dv_strerror(DV_ENOENT), "ENOENT");
	assert_string_equal(dv_strerror(DV_EIO), "EIO");
	assert_string_equal(dv_strerror(DV_E2BIG), "E2BIG");
	assert_string_equal(dv_strerror(DV_ENOMEM), "ENOMEM");
	assert_string_equal(dv_strerror(DV_EFAULT), "EFAULT");
	assert_string_equal(dv_strerror(DV_EBUSY), "EBUSY");
	assert_string_equal(dv_strerror(DV_EEXIST), "EEXIST");
	assert_string_equal(dv_strerror(DV_EINVAL), "EINVAL");
	assert_string_equal(dv_strerror(DV_ERANGE), "ERANGE");
	assert_string_equal(dv_strerror(DV_ENOSYS), "ENOSYS");
	assert_string_equal(dv_strerror(DV_ENOTSUP), "ENOTSUP");
}

static void negative_codes_as_returned(void **state)
{
	assert_string_equal(dv_strerror(-DV_EINVAL), "EINVAL");
	assert_string_equal(dv_strerror(-DV_ENOTSUP), "ENOTSUP");
}

static void unknown_codes(void **state)
{
	assert_string_equal(dv_strerror(0), "E?");
	assert_string_equal(dv_strerror(3), "E?");
	assert_string_equal(dv_strerror(96), "E?");
	assert_string_equal(dv_strerror(-1000), "E?");
	assert_string_equal(dv_strerror(INT_MAX), "E?");
	assert_string_equal(dv_strerror(INT_MIN), "E?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_every_code),
		cmocka_unit_test(negative_codes_as_returned),
		cmocka_unit_test(unknown_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
