/* Unit tests for the guest-physical extent map (mm/extent.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/extent.h"

#define CAP 8

struct fx {
	struct extent slots[CAP];
	struct extent_map m;
};

static void fx_init(struct fx *f)
{
	memset(f, 0x5a, sizeof(*f)); /* the map must not read slots it has not written */
	extent_map_init(&f->m, f->slots, CAP);
}

static int add(struct fx *f, u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	struct extent x = {.gpa = gpa, .hpa = hpa, .len = len, .kind = kind};

	return extent_add(&f->m, &x);
}

static void expect_extent(const struct extent *x, u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	assert_non_null(x);
	assert_int_equal(x->gpa, gpa);
	assert_int_equal(x->hpa, hpa);
	assert_int_equal(x->len, len);
	assert_int_equal(x->kind, kind);
}

/* --- add ------------------------------------------------------------------------------ */

static void test_add_keeps_gpa_order(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 4 * GiB, 0x10000000, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 0, 0x40000000, 1 * GiB, EXTENT_SEGMENT), 0);
	assert_int_equal(add(&f, 2 * GiB, 0x80000000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(extent_count(&f.m), 3);
	expect_extent(&f.m.e[0], 0, 0x40000000, 1 * GiB, EXTENT_SEGMENT);
	expect_extent(&f.m.e[1], 2 * GiB, 0x80000000, 2 * MiB, EXTENT_RAM);
	expect_extent(&f.m.e[2], 4 * GiB, 0x10000000, 1 * GiB, EXTENT_RAM);
}

static void test_add_refuses_overlap(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 1 * MiB, 0x100000, 1 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 0x1ff000, 0x900000, PAGE_SIZE, EXTENT_HOLE), -DV_EEXIST);
	assert_int_equal(add(&f, 0, 0x900000, 0x101000, EXTENT_RAM), -DV_EEXIST);
	assert_int_equal(add(&f, 0, 0x900000, 4 * MiB, EXTENT_RAM), -DV_EEXIST);
	assert_int_equal(add(&f, 1 * MiB, 0x100000, 1 * MiB, EXTENT_RAM), -DV_EEXIST);
	assert_int_equal(extent_count(&f.m), 1);
	expect_extent(&f.m.e[0], 1 * MiB, 0x100000, 1 * MiB, EXTENT_RAM);
}

static void test_add_refuses_bad_extents(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0, 0, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, 0x800, 0, PAGE_SIZE, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, 0, 0x800, PAGE_SIZE, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, 0, 0, 0x1800, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, 1ULL << 48, 0, PAGE_SIZE, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, (1ULL << 48) - PAGE_SIZE, 0, 2 * PAGE_SIZE, EXTENT_RAM),
			 -DV_EINVAL);
	assert_int_equal(add(&f, 0, 0, PAGE_SIZE, EXTENT_NKINDS), -DV_EINVAL);
	assert_int_equal(add(&f, 0, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(add(&f, 0, 0x1000, PAGE_SIZE, EXTENT_BALLOON), -DV_EINVAL);
	assert_int_equal(add(&f, 0, ~0xfffULL, 2 * PAGE_SIZE, EXTENT_RAM), -DV_EINVAL);
	assert_int_equal(extent_count(&f.m), 0);
	assert_int_equal(add(&f, 0, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON), 0);
}

static void test_add_merges_a_continuation(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x400000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 4 * MiB, 0x800000, 2 * MiB, EXTENT_RAM), 0);
	/* fills the gap, adjacent in gPA and hPA on both sides: one extent */
	assert_int_equal(add(&f, 2 * MiB, 0x600000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(extent_count(&f.m), 1);
	expect_extent(&f.m.e[0], 0, 0x400000, 6 * MiB, EXTENT_RAM);
	/* below, continuing the extent: it grows downward */
	fx_init(&f);
	assert_int_equal(add(&f, 2 * MiB, 0x600000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 0, 0x400000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(extent_count(&f.m), 1);
	expect_extent(&f.m.e[0], 0, 0x400000, 4 * MiB, EXTENT_RAM);
}

static void test_add_does_not_merge_other_hpa_or_kind(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x400000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 2 * MiB, 0x200000, 2 * MiB, EXTENT_RAM), 0);	  /* hPA below */
	assert_int_equal(add(&f, 4 * MiB, 0x400000, 2 * MiB, EXTENT_SEGMENT), 0); /* kind */
	assert_int_equal(extent_count(&f.m), 3);
}

static void test_add_to_a_full_map_is_e2big(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	for (u64 i = 0; i < CAP; i++)
		assert_int_equal(
			add(&f, i * 2 * PAGE_SIZE, i * 2 * PAGE_SIZE, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 1 * GiB, 0, PAGE_SIZE, EXTENT_RAM), -DV_E2BIG);
	/* a continuation needs no slot */
	assert_int_equal(add(&f, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(extent_count(&f.m), CAP - 1);
}

/* --- split ---------------------------------------------------------------------------- */

static void test_split_cuts_an_extent_in_two(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 1 * GiB, 5 * GiB, 1 * GiB, EXTENT_SEGMENT), 0);
	assert_int_equal(extent_split(&f.m, 1 * GiB + 0x123000), 0);
	assert_int_equal(extent_count(&f.m), 2);
	expect_extent(&f.m.e[0], 1 * GiB, 5 * GiB, 0x123000, EXTENT_SEGMENT);
	expect_extent(&f.m.e[1], 1 * GiB + 0x123000, 5 * GiB + 0x123000, 1 * GiB - 0x123000,
		      EXTENT_SEGMENT);
}

static void test_split_at_a_start_is_a_noop(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 1 * GiB, 5 * GiB, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(extent_split(&f.m, 1 * GiB), 0);
	assert_int_equal(extent_count(&f.m), 1);
}

static void test_split_errors(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 1 * GiB, 5 * GiB, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(extent_split(&f.m, 1 * GiB + 0x800), -DV_EINVAL);
	assert_int_equal(extent_split(&f.m, 2 * GiB), -DV_ENOENT); /* the end is outside */
	assert_int_equal(extent_split(&f.m, 0), -DV_ENOENT);
	for (u64 i = 1; i < CAP; i++)
		assert_int_equal(add(&f, 4 * GiB + i * 2 * PAGE_SIZE, 0, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(extent_split(&f.m, 1 * GiB + PAGE_SIZE), -DV_E2BIG);
	expect_extent(&f.m.e[0], 1 * GiB, 5 * GiB, 1 * GiB, EXTENT_RAM);
}

/* --- remove --------------------------------------------------------------------------- */

static void test_remove_a_hole_from_the_middle(void **state)
{
	struct fx f;
	struct extent out[2];
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 1 * GiB, 1 * GiB, EXTENT_SEGMENT), 0);
	assert_int_equal(extent_remove(&f.m, 0x7000, PAGE_SIZE, out, 2), 1);
	expect_extent(&out[0], 0x7000, 1 * GiB + 0x7000, PAGE_SIZE, EXTENT_SEGMENT);
	assert_int_equal(extent_count(&f.m), 2);
	expect_extent(&f.m.e[0], 0, 1 * GiB, 0x7000, EXTENT_SEGMENT);
	expect_extent(&f.m.e[1], 0x8000, 1 * GiB + 0x8000, 1 * GiB - 0x8000, EXTENT_SEGMENT);
	/* the escaped page comes back as a hole backed elsewhere */
	assert_int_equal(add(&f, 0x7000, 0x3000000, PAGE_SIZE, EXTENT_HOLE), 0);
	assert_int_equal(extent_count(&f.m), 3);
	expect_extent(extent_lookup(&f.m, 0x7abc), 0x7000, 0x3000000, PAGE_SIZE, EXTENT_HOLE);
}

static void test_remove_across_extents_and_gaps(void **state)
{
	struct fx f;
	struct extent out[4];
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x100000, 4 * PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 8 * PAGE_SIZE, 0x200000, 4 * PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 16 * PAGE_SIZE, 0x300000, 4 * PAGE_SIZE, EXTENT_RAM), 0);
	/* [2, 18) pages: the tail of the first, all of the second, the head of the third */
	assert_int_equal(extent_remove(&f.m, 2 * PAGE_SIZE, 16 * PAGE_SIZE, out, 4), 3);
	expect_extent(&out[0], 2 * PAGE_SIZE, 0x102000, 2 * PAGE_SIZE, EXTENT_RAM);
	expect_extent(&out[1], 8 * PAGE_SIZE, 0x200000, 4 * PAGE_SIZE, EXTENT_RAM);
	expect_extent(&out[2], 16 * PAGE_SIZE, 0x300000, 2 * PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(extent_count(&f.m), 2);
	expect_extent(&f.m.e[0], 0, 0x100000, 2 * PAGE_SIZE, EXTENT_RAM);
	expect_extent(&f.m.e[1], 18 * PAGE_SIZE, 0x302000, 2 * PAGE_SIZE, EXTENT_RAM);
}

static void test_remove_of_nothing_is_zero(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x100000, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(extent_remove(&f.m, 1 * GiB, 1 * GiB, NULL, 0), 0);
	assert_int_equal(extent_remove(&f.m, 0, 0, NULL, 0), 0);
	assert_int_equal(extent_count(&f.m), 1);
}

static void test_remove_errors_change_nothing(void **state)
{
	struct fx f;
	struct extent out[1];
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x100000, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 2 * PAGE_SIZE, 0x300000, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(extent_remove(&f.m, 0x800, PAGE_SIZE, out, 1), -DV_EINVAL);
	assert_int_equal(extent_remove(&f.m, 0, 0x800, out, 1), -DV_EINVAL);
	assert_int_equal(extent_remove(&f.m, 0, 3 * PAGE_SIZE, out, 1), -DV_E2BIG);
	assert_int_equal(extent_count(&f.m), 2);
	/* a middle cut in a full map has no slot for the upper part */
	fx_init(&f);
	for (u64 i = 0; i < CAP; i++)
		assert_int_equal(add(&f, i * 8 * PAGE_SIZE, 0, 4 * PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(extent_remove(&f.m, PAGE_SIZE, PAGE_SIZE, out, 1), -DV_E2BIG);
	expect_extent(&f.m.e[0], 0, 0, 4 * PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(extent_count(&f.m), CAP);
}

/* --- queries -------------------------------------------------------------------------- */

static void test_lookup_and_translate(void **state)
{
	struct fx f;
	u64 hpa = 0;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x10000000, 3 * GiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 4 * GiB, 0x20000000, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 6 * GiB, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON), 0);
	expect_extent(extent_lookup(&f.m, 3 * GiB - 1), 0, 0x10000000, 3 * GiB, EXTENT_RAM);
	assert_null(extent_lookup(&f.m, 3 * GiB));
	assert_int_equal(extent_translate(&f.m, 4 * GiB + 0x1234, &hpa), 0);
	assert_int_equal(hpa, 0x20001234);
	assert_int_equal(extent_translate(&f.m, 3 * GiB + 5, &hpa), -DV_ENOENT);
	assert_int_equal(extent_translate(&f.m, 6 * GiB, &hpa), -DV_ENOENT); /* no host memory */
}

static void test_next_iterates_in_gpa_order(void **state)
{
	struct fx f;
	const struct extent *x;
	u64 seen[4];
	unsigned n = 0;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 4 * GiB, 0, PAGE_SIZE, EXTENT_HOTADD), 0);
	assert_int_equal(add(&f, 0, 0, PAGE_SIZE, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 1 * GiB, 0x5000, PAGE_SIZE, EXTENT_RAM), 0);
	for (x = extent_next(&f.m, 0); x; x = extent_next(&f.m, x->gpa + x->len))
		seen[n++] = x->gpa;
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0);
	assert_int_equal(seen[1], 1 * GiB);
	assert_int_equal(seen[2], 4 * GiB);
	/* from inside an extent: that extent */
	assert_int_equal(extent_next(&f.m, 1 * GiB + 5)->gpa, 1 * GiB);
	assert_null(extent_next(&f.m, 4 * GiB + PAGE_SIZE));
}

static void test_covers_needs_every_byte_of_the_right_kinds(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x100000, 2 * PAGE_SIZE, EXTENT_SEGMENT), 0);
	assert_int_equal(add(&f, 2 * PAGE_SIZE, 0x900000, PAGE_SIZE, EXTENT_HOLE), 0);
	assert_int_equal(add(&f, 3 * PAGE_SIZE, 0x103000, PAGE_SIZE, EXTENT_SEGMENT), 0);
	assert_int_equal(add(&f, 5 * PAGE_SIZE, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON), 0);
	assert_true(extent_covers(&f.m, 0x10, 4 * PAGE_SIZE - 0x10, EXTENT_GUEST_MEMORY));
	assert_false(extent_covers(&f.m, 0, 4 * PAGE_SIZE,
				   EXTENT_KIND_BIT(EXTENT_SEGMENT)));		  /* the hole */
	assert_false(extent_covers(&f.m, 0, 5 * PAGE_SIZE, EXTENT_GUEST_MEMORY)); /* gap */
	assert_false(extent_covers(&f.m, 5 * PAGE_SIZE, 1, EXTENT_GUEST_MEMORY)); /* balloon */
	assert_true(extent_covers(&f.m, 5 * PAGE_SIZE, 1, EXTENT_ALL_KINDS));
	assert_false(extent_covers(&f.m, 0, 0, EXTENT_ALL_KINDS));
	assert_false(extent_covers(&f.m, 1, ~0ULL, EXTENT_ALL_KINDS)); /* wraps */
}

static void test_bytes_by_kind(void **state)
{
	struct fx f;
	(void)state;

	fx_init(&f);
	assert_int_equal(add(&f, 0, 0x100000, 3 * GiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 4 * GiB, 0x200000, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 5 * GiB, EXTENT_NO_HPA, 2 * MiB, EXTENT_BALLOON), 0);
	assert_int_equal(extent_bytes(&f.m, EXTENT_GUEST_MEMORY), 4 * GiB);
	assert_int_equal(extent_bytes(&f.m, EXTENT_ALL_KINDS), 4 * GiB + 2 * MiB);
	assert_int_equal(extent_bytes(&f.m, EXTENT_KIND_BIT(EXTENT_HOLE)), 0);
}

/* The VMM segment's run (hv/guestmem.c): contiguous extents of the kinds,
 * across kinds and host ranges; another kind or a gap ends a run; the lowest
 * of equals wins. */
static void test_longest_run(void **state)
{
	const unsigned kinds = EXTENT_GUEST_MEMORY | EXTENT_KIND_BIT(EXTENT_BALLOON);
	struct fx f;
	u64 gpa = 1;
	(void)state;

	fx_init(&f);
	assert_int_equal(extent_longest_run(&f.m, kinds, &gpa), 0);
	assert_int_equal(gpa, 0);
	assert_int_equal(add(&f, 0, 0x100000, 256 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 256 * MiB, EXTENT_NO_HPA, 2 * MiB, EXTENT_BALLOON), 0);
	assert_int_equal(add(&f, 258 * MiB, 0x40000000, 2 * MiB, EXTENT_RAM), 0);
	assert_int_equal(add(&f, 4 * GiB, 0x80000000, 260 * MiB, EXTENT_RAM), 0);
	/* a tie: 260 MiB at 0 (ballooned pages inside) and at 4 GiB */
	assert_int_equal(extent_longest_run(&f.m, kinds, &gpa), 260 * MiB);
	assert_int_equal(gpa, 0);
	/* without ballooned pages in the mask, the low run breaks */
	assert_int_equal(extent_longest_run(&f.m, EXTENT_GUEST_MEMORY, &gpa), 260 * MiB);
	assert_int_equal(gpa, 4 * GiB);
	/* re-added right above: the high run is longer, whatever backs it */
	assert_int_equal(add(&f, 4 * GiB + 260 * MiB, 0xc0000000, 4 * KiB, EXTENT_HOTADD), 0);
	assert_int_equal(extent_longest_run(&f.m, kinds, &gpa), 260 * MiB + 4 * KiB);
	assert_int_equal(gpa, 4 * GiB);
	/* a gap ends a run: 1 GiB at 8 GiB, apart from the rest */
	assert_int_equal(add(&f, 4 * GiB + 261 * MiB, 0xd0000000, 1 * GiB, EXTENT_RAM), 0);
	assert_int_equal(extent_longest_run(&f.m, kinds, &gpa), 1 * GiB);
	assert_int_equal(gpa, 4 * GiB + 261 * MiB);
	assert_int_equal(extent_longest_run(&f.m, EXTENT_KIND_BIT(EXTENT_HOLE), &gpa), 0);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(extent_kind_name(EXTENT_RAM), "RAM");
	assert_string_equal(extent_kind_name(EXTENT_HOLE), "escape hole");
	assert_string_equal(extent_kind_name(EXTENT_NKINDS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_keeps_gpa_order),
		cmocka_unit_test(test_add_refuses_overlap),
		cmocka_unit_test(test_add_refuses_bad_extents),
		cmocka_unit_test(test_add_merges_a_continuation),
		cmocka_unit_test(test_add_does_not_merge_other_hpa_or_kind),
		cmocka_unit_test(test_add_to_a_full_map_is_e2big),
		cmocka_unit_test(test_split_cuts_an_extent_in_two),
		cmocka_unit_test(test_split_at_a_start_is_a_noop),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_remove_a_hole_from_the_middle),
		cmocka_unit_test(test_remove_across_extents_and_gaps),
		cmocka_unit_test(test_remove_of_nothing_is_zero),
		cmocka_unit_test(test_remove_errors_change_nothing),
		cmocka_unit_test(test_lookup_and_translate),
		cmocka_unit_test(test_next_iterates_in_gpa_order),
		cmocka_unit_test(test_covers_needs_every_byte_of_the_right_kinds),
		cmocka_unit_test(test_bytes_by_kind),
		cmocka_unit_test(test_longest_run),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
