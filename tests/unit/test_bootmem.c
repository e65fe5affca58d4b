/* hv/bootmem.c: the boot-time allocator that places the pmm metadata and the
 * identity-map tables, and decides what the pmm may be given as free. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/bootmem.h"
#include <dimvisor/errno.h>

static struct bootmem bm;

/* Two usable ranges: [1 MiB, 8 MiB) and [16 MiB, 32 MiB); allocations below 4 GiB. */
static void setup_two_ranges(void)
{
	struct boot_mmap_entry usable[] = {
		{.base = 0x100000, .len = 0x700000, .type = 1},
		{.base = 0x1000000, .len = 0x1000000, .type = 1},
	};
	bootmem_init(&bm, usable, 2, 0x100000000ULL);
}

static void test_alloc_is_lowest_fit_and_skips_busy(void **state)
{
	(void)state;
	setup_two_ranges();
	assert_int_equal(bootmem_mark_busy(&bm, 0x100000, 0x2a000, "image"), 0);
	assert_int_equal(bootmem_alloc(&bm, 0x1000, 0x1000, "t"), 0x12a000);
	assert_int_equal(bootmem_alloc(&bm, 0x1000, 0x1000, "t"), 0x12b000);
}

static void test_alloc_respects_alignment(void **state)
{
	(void)state;
	setup_two_ranges();
	assert_int_equal(bootmem_alloc(&bm, 0x1000, 0x200000, "a"), 0x200000);
}

static void test_alloc_moves_to_next_range_when_too_big(void **state)
{
	(void)state;
	setup_two_ranges();
	/* 8 MiB does not fit in the 7 MiB first range. */
	assert_int_equal(bootmem_alloc(&bm, 0x800000, 0x1000, "big"), 0x1000000);
}

static void test_alloc_fails_cleanly_when_nothing_fits(void **state)
{
	(void)state;
	setup_two_ranges();
	assert_int_equal(bootmem_alloc(&bm, 0x2000000, 0x1000, "huge"), BOOTMEM_NONE);
	assert_int_equal(bm.nbusy, 0);
}

static void test_alloc_honours_limit(void **state)
{
	(void)state;
	struct boot_mmap_entry usable[] = {{.base = 0x100000, .len = 0x10000000, .type = 1}};
	bootmem_init(&bm, usable, 1, 0x200000);
	assert_int_equal(bootmem_alloc(&bm, 0x100000, 0x1000, "x"), 0x100000);
	assert_int_equal(bootmem_alloc(&bm, 0x1000, 0x1000, "x"), BOOTMEM_NONE);
}

static void test_busy_rounds_outward_and_merges_same_purpose(void **state)
{
	(void)state;
	setup_two_ranges();
	assert_int_equal(bootmem_mark_busy(&bm, 0x100010, 0x10, "s"), 0);
	assert_int_equal(bm.busy[0].base, 0x100000);
	assert_int_equal(bm.busy[0].end, 0x101000);
	bootmem_alloc(&bm, 0x1000, 0x1000, "tables");
	bootmem_alloc(&bm, 0x1000, 0x1000, "tables");
	assert_int_equal(bm.nbusy, 2);
	assert_int_equal(bm.busy[1].base, 0x101000);
	assert_int_equal(bm.busy[1].end, 0x103000);
}

static void test_busy_list_full_is_an_error(void **state)
{
	(void)state;
	setup_two_ranges();
	for (unsigned i = 0; i < BOOTMEM_MAX_BUSY; i++)
		assert_int_equal(bootmem_mark_busy(&bm, 0x200000 + i * 0x2000ULL, 0x1000, "x"), 0);
	assert_int_equal(bootmem_mark_busy(&bm, 0x900000, 0x1000, "x"), -DV_E2BIG);
}

struct collected {
	u64 base[16], len[16];
	unsigned n;
};

static void collect(void *ctx, u64 base, u64 len)
{
	struct collected *c = ctx;
	c->base[c->n] = base;
	c->len[c->n] = len;
	c->n++;
}

static void test_free_ranges_are_usable_minus_busy(void **state)
{
	(void)state;
	struct collected c = {.n = 0};

	setup_two_ranges();
	/* Marked out of order; one busy range spans the gap between the usable ones. */
	bootmem_mark_busy(&bm, 0x1800000, 0x1000, "module");
	bootmem_mark_busy(&bm, 0x0, 0x100000, "first MiB");
	bootmem_mark_busy(&bm, 0x300000, 0x100000, "image");
	bootmem_mark_busy(&bm, 0x700000, 0x1000000, "spans the gap");
	bootmem_for_each_free(&bm, collect, &c);
	/* Free: [1M,3M) [4M,7M) [23M,24M) [24M+4K,32M). */
	assert_int_equal(c.n, 4);
	assert_int_equal(c.base[0], 0x100000);
	assert_int_equal(c.len[0], 0x200000);
	assert_int_equal(c.base[1], 0x400000);
	assert_int_equal(c.len[1], 0x300000);
	assert_int_equal(c.base[2], 0x1700000);
	assert_int_equal(c.len[2], 0x100000);
	assert_int_equal(c.base[3], 0x1801000);
	assert_int_equal(c.len[3], 0x7ff000);
}

static void test_free_ranges_with_nothing_busy_are_the_usable_ranges(void **state)
{
	(void)state;
	struct collected c = {.n = 0};

	setup_two_ranges();
	bootmem_for_each_free(&bm, collect, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.base[0], 0x100000);
	assert_int_equal(c.len[0], 0x700000);
	assert_int_equal(c.base[1], 0x1000000);
	assert_int_equal(c.len[1], 0x1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_is_lowest_fit_and_skips_busy),
		cmocka_unit_test(test_alloc_respects_alignment),
		cmocka_unit_test(test_alloc_moves_to_next_range_when_too_big),
		cmocka_unit_test(test_alloc_fails_cleanly_when_nothing_fits),
		cmocka_unit_test(test_alloc_honours_limit),
		cmocka_unit_test(test_busy_rounds_outward_and_merges_same_purpose),
		cmocka_unit_test(test_busy_list_full_is_an_error),
		cmocka_unit_test(test_free_ranges_are_usable_minus_busy),
		cmocka_unit_test(test_free_ranges_with_nothing_busy_are_the_usable_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
