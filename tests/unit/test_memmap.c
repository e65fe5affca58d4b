/* Unit tests for hv/memmap.c: normalisation (sorting, overlap resolution,
 * merging, empty and wrapping entries, E2BIG), usable ranges and top of RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/memmap.h"
#include <dimvisor/errno.h>

#define AVAIL BOOT_MEM_AVAILABLE
#define RESV  BOOT_MEM_RESERVED
#define ACPI  BOOT_MEM_ACPI
#define NVS   BOOT_MEM_NVS
#define BAD   BOOT_MEM_BAD

static struct boot_mmap_entry out[64];

static void assert_entry(const struct boot_mmap_entry *e, u64 base, u64 len, u32 type)
{
	if (e->base != base || e->len != len || e->type != type)
		fail_msg("got {0x%llx, 0x%llx, %u}, expected {0x%llx, 0x%llx, %u}",
			 (unsigned long long)e->base, (unsigned long long)e->len, e->type,
			 (unsigned long long)base, (unsigned long long)len, type);
}

static int normalize(const struct boot_mmap_entry *in, unsigned n)
{
	return memmap_normalize(in, n, out, ARRAY_SIZE(out));
}

static void test_empty_map_gives_nothing(void **state)
{
	assert_int_equal(memmap_normalize(NULL, 0, out, ARRAY_SIZE(out)), 0);
}

static void test_single_entry_passes_through(void **state)
{
	const struct boot_mmap_entry in[] = {{0x100000, 0x7ee0000, AVAIL}};

	assert_int_equal(normalize(in, 1), 1);
	assert_entry(&out[0], 0x100000, 0x7ee0000, AVAIL);
}

static void test_unsorted_entries_are_sorted(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x100000, 0x100000, AVAIL},
		{0x0, 0x9fc00, AVAIL},
		{0xf0000, 0x10000, RESV},
	};

	assert_int_equal(normalize(in, 3), 3);
	assert_entry(&out[0], 0x0, 0x9fc00, AVAIL);
	assert_entry(&out[1], 0xf0000, 0x10000, RESV);
	assert_entry(&out[2], 0x100000, 0x100000, AVAIL);
}

static void test_adjacent_same_type_merged(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x200000, 0x100000, AVAIL},
		{0x100000, 0x100000, AVAIL},
		{0x300000, 0x1000, AVAIL},
	};

	assert_int_equal(normalize(in, 3), 1);
	assert_entry(&out[0], 0x100000, 0x201000, AVAIL);
}

static void test_adjacent_different_types_kept_apart(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x9fc00, AVAIL},
		{0x9fc00, 0x400, RESV},
	};

	assert_int_equal(normalize(in, 2), 2);
	assert_entry(&out[0], 0x0, 0x9fc00, AVAIL);
	assert_entry(&out[1], 0x9fc00, 0x400, RESV);
}

static void test_gap_is_not_merged_over(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x1000, AVAIL},
		{0x2000, 0x1000, AVAIL},
	};

	assert_int_equal(normalize(in, 2), 2);
	assert_entry(&out[0], 0x0, 0x1000, AVAIL);
	assert_entry(&out[1], 0x2000, 0x1000, AVAIL);
}

static void test_overlapping_same_type_merged(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x1000, 0x3000, RESV},
		{0x2000, 0x5000, RESV},
	};

	assert_int_equal(normalize(in, 2), 1);
	assert_entry(&out[0], 0x1000, 0x6000, RESV);
}

static void test_reserved_inside_available_splits_it(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x10000, AVAIL},
		{0x4000, 0x2000, RESV},
	};

	assert_int_equal(normalize(in, 2), 3);
	assert_entry(&out[0], 0x0, 0x4000, AVAIL);
	assert_entry(&out[1], 0x4000, 0x2000, RESV);
	assert_entry(&out[2], 0x6000, 0xa000, AVAIL);
}

static void test_reserved_wins_over_available_either_order(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x8000, 0x8000, RESV},
		{0x0, 0xc000, AVAIL},
	};

	assert_int_equal(normalize(in, 2), 2);
	assert_entry(&out[0], 0x0, 0x8000, AVAIL);
	assert_entry(&out[1], 0x8000, 0x8000, RESV);
}

static void test_higher_type_wins_between_non_available(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x4000, RESV},
		{0x2000, 0x4000, NVS},
		{0x3000, 0x1000, ACPI},
	};

	assert_int_equal(normalize(in, 3), 2);
	assert_entry(&out[0], 0x0, 0x2000, RESV);
	assert_entry(&out[1], 0x2000, 0x4000, NVS);
}

static void test_bad_memory_wins_over_everything(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x10000, AVAIL},
		{0x0, 0x10000, NVS},
		{0x1000, 0x1000, BAD},
	};

	assert_int_equal(normalize(in, 3), 3);
	assert_entry(&out[0], 0x0, 0x1000, NVS);
	assert_entry(&out[1], 0x1000, 0x1000, BAD);
	assert_entry(&out[2], 0x2000, 0xe000, NVS);
}

static void test_unknown_types_beat_available(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x3000, AVAIL},
		{0x0, 0x1000, 0},
		{0x2000, 0x1000, 7},
	};

	assert_int_equal(normalize(in, 3), 3);
	assert_entry(&out[0], 0x0, 0x1000, 0);
	assert_entry(&out[1], 0x1000, 0x1000, AVAIL);
	assert_entry(&out[2], 0x2000, 0x1000, 7);
}

static void test_zero_length_entries_dropped(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x5000, 0, RESV},
		{0x0, 0x10000, AVAIL},
		{0x20000, 0, AVAIL},
	};

	assert_int_equal(normalize(in, 3), 1);
	assert_entry(&out[0], 0x0, 0x10000, AVAIL);
}

static void test_only_zero_length_entries_give_nothing(void **state)
{
	const struct boot_mmap_entry in[] = {{0x5000, 0, RESV}, {0, 0, AVAIL}};

	assert_int_equal(normalize(in, 2), 0);
}

static void test_wrapping_entry_clipped(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0xffffffffffff0000ULL, 0x20000, RESV},
		{0x1000, UINT64_MAX, AVAIL},
	};

	assert_int_equal(normalize(in, 2), 2);
	assert_entry(&out[0], 0x1000, 0xfffffffffffef000ULL, AVAIL);
	assert_entry(&out[1], 0xffffffffffff0000ULL, 0xffff, RESV);
}

static void test_e2big_when_output_too_small(void **state)
{
	const struct boot_mmap_entry in[] = {
		{0x0, 0x1000, AVAIL},
		{0x2000, 0x1000, AVAIL},
		{0x4000, 0x1000, AVAIL},
	};

	assert_int_equal(memmap_normalize(in, 3, out, 2), -DV_E2BIG);
	assert_int_equal(memmap_normalize(in, 3, out, 3), 3);
}

static void test_e2big_counts_after_merging(void **state)
{
	/* Four entries, but they merge into one range: room for one is enough. */
	const struct boot_mmap_entry in[] = {
		{0x0, 0x1000, AVAIL},
		{0x1000, 0x1000, AVAIL},
		{0x800, 0x1000, AVAIL},
		{0x2000, 0x1000, AVAIL},
	};

	assert_int_equal(memmap_normalize(in, 4, out, 1), 1);
	assert_entry(&out[0], 0x0, 0x3000, AVAIL);
}

static void test_qemu_like_map(void **state)
{
	/* The shape QEMU's BIOS reports for 128 MiB, with a duplicate entry. */
	const struct boot_mmap_entry in[] = {
		{0x0, 0x9fc00, AVAIL},	      {0x9fc00, 0x400, RESV},
		{0xf0000, 0x10000, RESV},     {0x100000, 0x7ee0000, AVAIL},
		{0x7fe0000, 0x20000, RESV},   {0xfffc0000, 0x40000, RESV},
		{0x100000, 0x7ee0000, AVAIL},
	};

	assert_int_equal(normalize(in, ARRAY_SIZE(in)), 6);
	assert_entry(&out[0], 0x0, 0x9fc00, AVAIL);
	assert_entry(&out[1], 0x9fc00, 0x400, RESV);
	assert_entry(&out[2], 0xf0000, 0x10000, RESV);
	assert_entry(&out[3], 0x100000, 0x7ee0000, AVAIL);
	assert_entry(&out[4], 0x7fe0000, 0x20000, RESV);
	assert_entry(&out[5], 0xfffc0000, 0x40000, RESV);
}

/* Random small maps against a per-page reference: the output must be sorted,
 * disjoint, merged, and say for every page what the winning input type is. */
static u32 rng_state = 12345;

static u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define REF_PAGES 64

static int ref_rank(u32 type)
{
	return type == AVAIL ? 1 : (int)type + 2; /* 0 = no entry */
}

static void test_random_maps_match_page_reference(void **state)
{
	for (int iter = 0; iter < 3000; iter++) {
		struct boot_mmap_entry in[12];
		int ref[REF_PAGES] = {0};
		unsigned n = 1 + rng() % ARRAY_SIZE(in);
		int count;

		for (unsigned i = 0; i < n; i++) {
			u64 first = rng() % REF_PAGES, pages = rng() % (REF_PAGES - first + 1);

			in[i] = (struct boot_mmap_entry){first * 0x1000, pages * 0x1000,
							 1 + rng() % 5};
			for (u64 p = first; p < first + pages; p++)
				if (ref_rank(in[i].type) > ref[p])
					ref[p] = ref_rank(in[i].type);
		}
		count = normalize(in, n);
		assert_true(count >= 0);
		for (int i = 0; i < count; i++) {
			assert_true(out[i].len > 0);
			if (i > 0) {
				u64 prev_end = out[i - 1].base + out[i - 1].len;

				assert_true(prev_end <= out[i].base);
				assert_false(prev_end == out[i].base &&
					     out[i - 1].type == out[i].type);
			}
		}
		for (int p = 0; p < REF_PAGES; p++) {
			int got = 0;

			for (int i = 0; i < count; i++)
				if (out[i].base <= p * 0x1000ULL &&
				    p * 0x1000ULL < out[i].base + out[i].len)
					got = ref_rank(out[i].type);
			assert_int_equal(got, ref[p]);
		}
	}
}

static void test_usable_shrinks_inward_to_pages(void **state)
{
	const struct boot_mmap_entry norm[] = {
		{0x1234, 0x4444, AVAIL}, /* [0x1234, 0x5678) -> [0x2000, 0x5000) */
	};

	assert_int_equal(memmap_usable(norm, 1, out, ARRAY_SIZE(out)), 1);
	assert_entry(&out[0], 0x2000, 0x3000, AVAIL);
}

static void test_usable_drops_sub_page_and_non_available(void **state)
{
	const struct boot_mmap_entry norm[] = {
		{0x0, 0x9fc00, AVAIL},	    {0x9fc00, 0x400, RESV},
		{0xf0000, 0x10000, RESV},   {0x100800, 0xf00, AVAIL}, /* no whole page inside */
		{0x200000, 0x100000, ACPI}, {0x300000, 0x100000, AVAIL},
	};

	assert_int_equal(memmap_usable(norm, ARRAY_SIZE(norm), out, ARRAY_SIZE(out)), 2);
	assert_entry(&out[0], 0x0, 0x9f000, AVAIL);
	assert_entry(&out[1], 0x300000, 0x100000, AVAIL);
}

static void test_usable_near_top_of_address_space(void **state)
{
	const struct boot_mmap_entry norm[] = {
		{0xffffffffffffe000ULL, 0x1fff, AVAIL}, /* ends at 2^64 - 1 */
		{0xfffffffffffff800ULL, 0x7ff, AVAIL},	/* rounding up would wrap */
	};

	assert_int_equal(memmap_usable(norm, 1, out, ARRAY_SIZE(out)), 1);
	assert_entry(&out[0], 0xffffffffffffe000ULL, 0x1000, AVAIL);
	assert_int_equal(memmap_usable(norm + 1, 1, out, ARRAY_SIZE(out)), 0);
}

static void test_usable_reports_count_beyond_max(void **state)
{
	const struct boot_mmap_entry norm[] = {
		{0x0, 0x1000, AVAIL},
		{0x2000, 0x1000, AVAIL},
		{0x4000, 0x1000, AVAIL},
	};
	struct boot_mmap_entry small[2] = {{0}};

	assert_int_equal(memmap_usable(norm, 3, small, 2), 3);
	assert_entry(&small[0], 0x0, 0x1000, AVAIL);
	assert_entry(&small[1], 0x2000, 0x1000, AVAIL);
}

static void test_top_of_ram_ignores_reserved_above(void **state)
{
	const struct boot_mmap_entry map[] = {
		{0x100000, 0x7ee0000, AVAIL},
		{0x0, 0x9fc00, AVAIL},
		{0xfffc0000, 0x40000, RESV},
	};

	assert_true(memmap_top_of_ram(map, ARRAY_SIZE(map)) == 0x7fe0000ULL);
}

static void test_top_of_ram_above_4g(void **state)
{
	const struct boot_mmap_entry map[] = {
		{0x0, 0x9fc00, AVAIL},
		{0x100000000ULL, 0x40000000ULL, AVAIL},
		{0x200000000ULL, 0, AVAIL}, /* empty: ignored */
	};

	assert_true(memmap_top_of_ram(map, ARRAY_SIZE(map)) == 0x140000000ULL);
}

static void test_top_of_ram_zero_without_available(void **state)
{
	const struct boot_mmap_entry map[] = {{0x0, 0x1000, RESV}};

	assert_true(memmap_top_of_ram(map, 1) == 0);
	assert_true(memmap_top_of_ram(NULL, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_map_gives_nothing),
		cmocka_unit_test(test_single_entry_passes_through),
		cmocka_unit_test(test_unsorted_entries_are_sorted),
		cmocka_unit_test(test_adjacent_same_type_merged),
		cmocka_unit_test(test_adjacent_different_types_kept_apart),
		cmocka_unit_test(test_gap_is_not_merged_over),
		cmocka_unit_test(test_overlapping_same_type_merged),
		cmocka_unit_test(test_reserved_inside_available_splits_it),
		cmocka_unit_test(test_reserved_wins_over_available_either_order),
		cmocka_unit_test(test_higher_type_wins_between_non_available),
		cmocka_unit_test(test_bad_memory_wins_over_everything),
		cmocka_unit_test(test_unknown_types_beat_available),
		cmocka_unit_test(test_zero_length_entries_dropped),
		cmocka_unit_test(test_only_zero_length_entries_give_nothing),
		cmocka_unit_test(test_wrapping_entry_clipped),
		cmocka_unit_test(test_e2big_when_output_too_small),
		cmocka_unit_test(test_e2big_counts_after_merging),
		cmocka_unit_test(test_qemu_like_map),
		cmocka_unit_test(test_random_maps_match_page_reference),
		cmocka_unit_test(test_usable_shrinks_inward_to_pages),
		cmocka_unit_test(test_usable_drops_sub_page_and_non_available),
		cmocka_unit_test(test_usable_near_top_of_address_space),
		cmocka_unit_test(test_usable_reports_count_beyond_max),
		cmocka_unit_test(test_top_of_ram_ignores_reserved_above),
		cmocka_unit_test(test_top_of_ram_above_4g),
		cmocka_unit_test(test_top_of_ram_zero_without_available),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
