/* lib/log.c: the log= levels decide what kinfo and kdebug print. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/log.h"

static char out[256];
static size_t outlen;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n && outlen + 1 < sizeof(out); i++)
		out[outlen++] = s[i];
	out[outlen] = '\0';
}

static int setup(void **state)
{
	(void)state;
	outlen = 0;
	out[0] = '\0';
	console_set_sink(capture, NULL);
	log_set_level(LOG_LEVEL_INFO);
	return 0;
}

static void info_is_the_default_and_hides_debug(void **state)
{
	(void)state;
	kinfo("a%d ", 1);
	kdebug("b%d ", 2);
	assert_string_equal(out, "a1 ");
}

static void quiet_hides_info_and_debug_but_not_kprintf(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_QUIET);
	kinfo("info ");
	kdebug("debug ");
	kprintf("error");
	assert_string_equal(out, "error");
	assert_false(log_enabled(LOG_LEVEL_INFO));
}

static void debug_shows_everything(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_DEBUG);
	kinfo("i ");
	kdebug("d");
	assert_string_equal(out, "i d");
	assert_true(log_enabled(LOG_LEVEL_INFO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(info_is_the_default_and_hides_debug, setup),
		cmocka_unit_test_setup(quiet_hides_info_and_debug_but_not_kprintf, setup),
		cmocka_unit_test_setup(debug_shows_everything, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
