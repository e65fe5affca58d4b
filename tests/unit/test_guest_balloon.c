/* Unit tests for the guest's balloon driver's choice of pages
 * (balloon_gather in guest/balloon.c): the scattered free pages first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/pte.h"
#include "guest/balloon.h"
#include "guest/paging.h"

/* balloon_adopt_segment's collaborators; never called here. */
int paging_map_in(u64 *root, u64 va, u64 pa, u64 size, u64 flags, unsigned max_level)
{
	(void)root, (void)va, (void)pa, (void)size, (void)flags, (void)max_level;
	fail();
	return 0;
}

u64 *paging_root(void)
{
	fail();
	return NULL;
}

#define BASE 0x100000ULL /* page 0x100 */

/* In use: the pages marked 'U' (page i of the range is character i). */
static bool used(u64 gpa, void *ctx)
{
	const char *map = ctx;

	return map[(gpa - BASE) >> PAGE_SHIFT] == 'U';
}

static unsigned gather(const char *map, u64 *out, unsigned want)
{
	return balloon_gather(BASE, BASE + strlen(map) * PAGE_SIZE, used, (void *)map, out, want);
}

static void scattered_pages_come_first(void **state)
{
	/* pages 1 and 3 are scattered; 5, 6, 7 a run */
	u64 out[8];

	(void)state;
	assert_int_equal(gather("U.U.U...", out, 8), 5);
	assert_int_equal(out[0], 0x101);
	assert_int_equal(out[1], 0x103);
	assert_int_equal(out[2], 0x105);
	assert_int_equal(out[3], 0x106);
	assert_int_equal(out[4], 0x107);
}

static void range_ends_count_as_used(void **state)
{
	/* page 0 and the last page have one used neighbour and the range's end */
	u64 out[4];

	(void)state;
	assert_int_equal(gather(".UU..U.", out, 4), 4);
	assert_int_equal(out[0], 0x100);
	assert_int_equal(out[1], 0x106);
	assert_int_equal(out[2], 0x103);
	assert_int_equal(out[3], 0x104);
}

static void want_limits_the_pages(void **state)
{
	u64 out[2] = {0, 0};

	(void)state;
	assert_int_equal(gather("U.U.U.U", out, 2), 2);
	assert_int_equal(out[0], 0x101);
	assert_int_equal(out[1], 0x103);
	assert_int_equal(gather("....", out, 0), 0);
}

static void nothing_free_gives_nothing(void **state)
{
	u64 out[4];

	(void)state;
	assert_int_equal(gather("UUUU", out, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scattered_pages_come_first),
		cmocka_unit_test(range_ends_count_as_used),
		cmocka_unit_test(want_limits_the_pages),
		cmocka_unit_test(nothing_free_gives_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
