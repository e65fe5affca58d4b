/* mm/model/escape.c (the Bloom escape filter) and mm/model/segment.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "mm/model/escape.h"
#include "mm/model/segment.h"

static struct escape_filter *filter(u32 bits, u32 hashes)
{
	struct escape_filter *e = malloc(sizeof(*e));

	assert_int_equal(escape_init(e, bits, hashes), 0);
	return e;
}

static void empty_filter_flags_nothing(void **state)
{
	struct escape_filter *e = filter(ESCAPE_DEFAULT_BITS, ESCAPE_DEFAULT_HASHES);

	for (u64 p = 0; p < 1000; p++)
		assert_false(escape_may_contain(e, p << 12));
	assert_true(escape_empty(e));
	free(e);
}

static void escaped_pages_are_always_flagged(void **state)
{
	struct escape_filter *e = filter(ESCAPE_DEFAULT_BITS, ESCAPE_DEFAULT_HASHES);

	/* A Bloom filter has no false negatives, whatever the page and offset. */
	for (u64 i = 0; i < 40; i++)
		assert_int_equal(escape_add(e, 0x100000000ULL + i * 0x7000 + (i & 0xfff)), 0);
	for (u64 i = 0; i < 40; i++) {
		for (u64 off = 0; off < 4096; off += 1000) {
			u64 a = 0x100000000ULL + i * 0x7000 + off;

			assert_true(escape_may_contain(e, a));
			assert_true(escape_contains(e, a));
		}
	}
	free(e);
}

static void exact_list_tells_false_positives_apart(void **state)
{
	struct escape_filter *e = filter(8, 1);
	unsigned fp = 0;

	assert_int_equal(escape_add(e, 0x5000), 0);
	/* One page set 1 bit of 8: about 1 page in 8 is flagged. */
	for (u64 p = 0; p < 800; p++) {
		u64 a = p << 12;

		if (escape_may_contain(e, a) && !escape_contains(e, a))
			fp++;
		assert_int_equal(escape_contains(e, a), a == 0x5000);
	}
	assert_in_range(fp, 50, 150);
	free(e);
}

/* 20 pages in the default filter (256 bits, 4 hashes): the classic estimate
 * (1 - e^(-kn/m))^k = (1 - e^(-80/256))^4 ~ 0.0052. Loose bounds. */
static void false_positive_rate_is_near_the_estimate(void **state)
{
	struct escape_filter *e = filter(256, 4);
	unsigned fp = 0;

	for (u64 i = 0; i < 20; i++)
		assert_int_equal(escape_add(e, (0x200000ULL + i * 37) << 12), 0);
	for (u64 p = 0; p < 100000; p++)
		if (escape_may_contain(e, p << 12))
			fp++;
	assert_in_range(fp, 150, 1500);
	free(e);
}

static void adding_twice_and_clearing(void **state)
{
	struct escape_filter *e = filter(64, 2);

	assert_int_equal(escape_add(e, 0x3000), 0);
	assert_int_equal(escape_add(e, 0x3fff), 0); /* same page */
	assert_int_equal(e->npages, 1);
	escape_clear(e);
	assert_false(escape_may_contain(e, 0x3000));
	assert_false(escape_contains(e, 0x3000));
	free(e);
}

static void any_in_a_range(void **state)
{
	struct escape_filter *e = filter(64, 2);

	assert_int_equal(escape_add(e, 0x203000), 0);
	assert_true(escape_any_in(e, 0x200000, 0x400000));
	assert_true(escape_any_in(e, 0x203000, 0x204000));
	assert_false(escape_any_in(e, 0x204000, 0x400000));
	assert_false(escape_any_in(e, 0x200000, 0x203000));
	assert_false(escape_any_in(e, 0x203000, 0x203000));
	free(e);
}

static void full_list_and_bad_sizes_are_refused(void **state)
{
	struct escape_filter *e = filter(64, 2);

	for (u64 i = 0; i < ESCAPE_MAX_PAGES; i++)
		assert_int_equal(escape_add(e, i << 12), 0);
	assert_int_equal(escape_add(e, 0x7ffff000ULL), -DV_E2BIG);
	assert_int_equal(escape_add(e, 0x5000), 0); /* already there */
	assert_int_equal(escape_init(e, 0, 4), -DV_EINVAL);
	assert_int_equal(escape_init(e, ESCAPE_MAX_BITS + 1, 4), -DV_EINVAL);
	assert_int_equal(escape_init(e, 256, 0), -DV_EINVAL);
	assert_int_equal(escape_init(e, 256, ESCAPE_MAX_HASHES + 1), -DV_EINVAL);
	free(e);
}

/* ---- segments ----------------------------------------------------------- */

static void segment_contains_base_but_not_limit(void **state)
{
	struct segment s = {0x1000, 0x3000, 0x10000};
	struct segment off = {0x5000, 0x5000, 0};

	assert_false(segment_contains(&s, 0xfff));
	assert_true(segment_contains(&s, 0x1000));
	assert_true(segment_contains(&s, 0x2fff));
	assert_false(segment_contains(&s, 0x3000));
	/* BASE = LIMIT disables the segment. */
	assert_false(segment_enabled(&off));
	assert_false(segment_contains(&off, 0x5000));
}

static void segment_check_wants_order_and_alignment(void **state)
{
	struct segment ok = {0x1000, 0x3000, 0x10000};
	struct segment rev = {0x3000, 0x1000, 0};
	struct segment odd = {0x1000, 0x3000, 0x10};

	assert_int_equal(segment_check(&ok), 0);
	assert_int_equal(segment_check(&rev), -DV_EINVAL);
	assert_int_equal(segment_check(&odd), -DV_EINVAL);
}

static void segment_span_is_the_largest_contained_aligned_block(void **state)
{
	/* [1 GiB, 3 GiB) + 1 GiB: 1 GiB blocks fit. */
	struct segment a = {0x40000000ULL, 0xc0000000ULL, 0x40000000ULL};
	/* Same range, offset only 2 MiB aligned: 2 MiB blocks. */
	struct segment b = {0x40000000ULL, 0xc0000000ULL, 0x200000ULL};
	/* [2.5 GiB, 4 GiB): the 1 GiB block at 2 GiB sticks out. */
	struct segment c = {0xa0000000ULL, 0x100000000ULL, 0};
	/* Offset 4 KiB aligned only. */
	struct segment d = {0x40000000ULL, 0xc0000000ULL, 0x1000};

	assert_int_equal(segment_span_shift(&a, 0x50000000ULL, 30), 30);
	assert_int_equal(segment_span_shift(&a, 0x50000000ULL, 21), 21); /* capped */
	assert_int_equal(segment_span_shift(&b, 0x50000000ULL, 30), 21);
	assert_int_equal(segment_span_shift(&c, 0xa0000000ULL, 30), 21);
	assert_int_equal(segment_span_shift(&c, 0xc0000000ULL, 30), 30);
	assert_int_equal(segment_span_shift(&d, 0x50000000ULL, 30), 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_filter_flags_nothing),
		cmocka_unit_test(escaped_pages_are_always_flagged),
		cmocka_unit_test(exact_list_tells_false_positives_apart),
		cmocka_unit_test(false_positive_rate_is_near_the_estimate),
		cmocka_unit_test(adding_twice_and_clearing),
		cmocka_unit_test(any_in_a_range),
		cmocka_unit_test(full_list_and_bad_sizes_are_refused),
		cmocka_unit_test(segment_contains_base_but_not_limit),
		cmocka_unit_test(segment_check_wants_order_and_alignment),
		cmocka_unit_test(segment_span_is_the_largest_contained_aligned_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
