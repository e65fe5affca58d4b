/* Unit tests for ballooning on the extent map (mm/balloon.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/balloon.h"

#define CAP 16
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

struct fx {
	struct extent slots[CAP], before[CAP], backup[CAP], removed[CAP];
	struct extent_map m;
	unsigned nbefore;
	u64 scratch[DV_BALLOON_MAX];
	struct balloon_bad bad;
};

static struct fx fx;

static void add(u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	struct extent x = {.gpa = gpa, .hpa = hpa, .len = len, .kind = kind};

	assert_int_equal(extent_add(&fx.m, &x), 0);
}

/* 16 MiB of RAM at gPA 0 backed at hPA 256 MiB. */
static int setup(void **state)
{
	(void)state;
	memset(&fx, 0x5a, sizeof(fx));
	extent_map_init(&fx.m, fx.slots, CAP);
	add(0, 256 * MiB, 16 * MiB, EXTENT_RAM);
	return 0;
}

static void remember(void)
{
	memcpy(fx.before, fx.slots, sizeof(fx.slots));
	fx.nbefore = fx.m.n;
}

static void assert_unchanged(void)
{
	assert_int_equal(fx.m.n, fx.nbefore);
	assert_memory_equal(fx.slots, fx.before, fx.nbefore * sizeof(struct extent));
}

static void expect_extent(unsigned i, u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	assert_true(i < fx.m.n);
	assert_int_equal(fx.m.e[i].gpa, gpa);
	assert_int_equal(fx.m.e[i].hpa, hpa);
	assert_int_equal(fx.m.e[i].len, len);
	assert_int_equal(fx.m.e[i].kind, kind);
}

static int check_inflate(const u64 *pfn, unsigned n)
{
	return balloon_check_inflate(&fx.m, pfn, n, fx.scratch, &fx.bad);
}

static int inflate(const u64 *pfn, unsigned n)
{
	int err = check_inflate(pfn, n);

	return err ? err : balloon_inflate_map(&fx.m, pfn, n, fx.removed, NULL, 0, fx.backup);
}

static void good_list_is_accepted_and_ballooned(void **state)
{
	const u64 pfn[] = {5, 3, 4096 - 1};

	(void)state;
	assert_int_equal(inflate(pfn, 3), 0);
	/* RAM [0,3) B[3] RAM[4] B[5] RAM[6,4095) B[4095] */
	assert_int_equal(fx.m.n, 6);
	expect_extent(0, 0, 256 * MiB, 3 * PAGE_SIZE, EXTENT_RAM);
	expect_extent(1, 3 * PAGE_SIZE, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON);
	expect_extent(2, 4 * PAGE_SIZE, 256 * MiB + 4 * PAGE_SIZE, PAGE_SIZE, EXTENT_RAM);
	expect_extent(5, 16 * MiB - PAGE_SIZE, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON);
	/* what backed each page, in list order */
	assert_int_equal(fx.removed[0].hpa, 256 * MiB + 5 * PAGE_SIZE);
	assert_int_equal(fx.removed[1].hpa, 256 * MiB + 3 * PAGE_SIZE);
	assert_int_equal(fx.removed[2].hpa, 256 * MiB + 16 * MiB - PAGE_SIZE);
	assert_int_equal(fx.removed[2].kind, EXTENT_RAM);
	assert_int_equal(extent_bytes(&fx.m, EXTENT_GUEST_MEMORY), 16 * MiB - 3 * PAGE_SIZE);
}

static void adjacent_ballooned_pages_merge(void **state)
{
	const u64 pfn[] = {11, 10, 12};

	(void)state;
	assert_int_equal(inflate(pfn, 3), 0);
	assert_int_equal(fx.m.n, 3);
	expect_extent(1, 10 * PAGE_SIZE, EXTENT_NO_HPA, 3 * PAGE_SIZE, EXTENT_BALLOON);
}

static void expect_refused(const u64 *pfn, unsigned n, int err, unsigned index, const char *why)
{
	remember();
	assert_int_equal(check_inflate(pfn, n), err);
	assert_int_equal(fx.bad.index, index);
	assert_string_equal(fx.bad.why, why);
	assert_unchanged();
}

static void page_outside_ram_is_refused(void **state)
{
	const u64 pfn[] = {1, 4096}; /* the first page past RAM */

	(void)state;
	expect_refused(pfn, 2, -DV_EINVAL, 1, "not guest memory");
}

static void page_past_gpa_limit_is_refused(void **state)
{
	const u64 pfn[] = {EXTENT_GPA_LIMIT >> PAGE_SHIFT, ~0ULL};

	(void)state;
	expect_refused(pfn, 2, -DV_EINVAL, 0, "past the guest-physical limit");
	expect_refused(pfn + 1, 1, -DV_EINVAL, 0, "past the guest-physical limit");
}

static void page_ballooned_already_is_refused(void **state)
{
	const u64 first[] = {7}, again[] = {6, 7};

	(void)state;
	assert_int_equal(inflate(first, 1), 0);
	expect_refused(again, 2, -DV_EINVAL, 1, "ballooned already");
}

static void duplicate_names_the_later_entry(void **state)
{
	const u64 pfn[] = {9, 4, 8, 4, 9};

	(void)state;
	expect_refused(pfn, 5, -DV_EINVAL, 3, "listed twice");
}

static void count_zero_and_too_long_are_refused(void **state)
{
	const u64 pfn[] = {1};

	(void)state;
	expect_refused(pfn, 0, -DV_EINVAL, 0, "the list must have 1..DV_BALLOON_MAX entries");
	expect_refused(pfn, DV_BALLOON_MAX + 1, -DV_EINVAL, 0,
		       "the list must have 1..DV_BALLOON_MAX entries");
}

static void vmm_segment_pages_are_busy(void **state)
{
	const u64 seg[] = {4096 + 1}, hole[] = {4096 + 32};

	(void)state;
	add(16 * MiB, 512 * MiB, 32 * PAGE_SIZE, EXTENT_SEGMENT);
	add(16 * MiB + 32 * PAGE_SIZE, 768 * MiB, PAGE_SIZE, EXTENT_HOLE);
	expect_refused(seg, 1, -DV_EBUSY, 0, "inside the VMM segment");
	expect_refused(hole, 1, -DV_EBUSY, 0, "inside the VMM segment");
}

static void hotadded_pages_can_be_ballooned(void **state)
{
	const u64 pfn[] = {(4 * GiB >> PAGE_SHIFT) + 1};

	(void)state;
	add(4 * GiB, 1 * GiB, 2 * MiB, EXTENT_HOTADD);
	assert_int_equal(inflate(pfn, 1), 0);
	assert_int_equal(fx.removed[0].hpa, 1 * GiB + PAGE_SIZE);
	assert_int_equal(fx.removed[0].kind, EXTENT_HOTADD);
}

static void full_map_changes_nothing(void **state)
{
	u64 pfn[CAP];

	(void)state;
	/* every other page: each one splits off two extents; the map fills */
	for (unsigned i = 0; i < CAP; i++)
		pfn[i] = 1 + 2 * i;
	assert_int_equal(check_inflate(pfn, CAP), 0);
	remember();
	assert_int_equal(balloon_inflate_map(&fx.m, pfn, CAP, fx.removed, NULL, 0, fx.backup),
			 -DV_E2BIG);
	assert_unchanged();
}

static void hotadd_goes_above_4g_on_a_gib_boundary(void **state)
{
	u64 gpa = 0;

	(void)state;
	assert_int_equal(balloon_plan_hotadd(&fx.m, 64 * MiB, EXTENT_GPA_LIMIT, &gpa), 0);
	assert_int_equal(gpa, 4 * GiB);
}

static void hotadd_goes_above_high_ram(void **state)
{
	u64 gpa = 0;

	(void)state;
	add(4 * GiB, 1 * GiB, 256 * MiB + PAGE_SIZE, EXTENT_RAM); /* RAM above the gap */
	assert_int_equal(balloon_plan_hotadd(&fx.m, 8 * PAGE_SIZE, EXTENT_GPA_LIMIT, &gpa), 0);
	assert_int_equal(gpa, 5 * GiB);
}

static void hotadd_past_the_limit_is_refused(void **state)
{
	u64 gpa = 0;

	(void)state;
	add(EXTENT_GPA_LIMIT - GiB, 1 * GiB, PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(balloon_plan_hotadd(&fx.m, PAGE_SIZE, EXTENT_GPA_LIMIT, &gpa), -DV_ERANGE);
	assert_int_equal(balloon_plan_hotadd(&fx.m, 0, EXTENT_GPA_LIMIT, &gpa), -DV_ERANGE);
}

static void hotadd_past_a_lower_limit_is_refused(void **state)
{
	u64 gpa = 0;

	(void)state;
	assert_int_equal(balloon_plan_hotadd(&fx.m, GiB, 5 * GiB, &gpa), 0);
	assert_int_equal(gpa, 4 * GiB);
	assert_int_equal(balloon_plan_hotadd(&fx.m, GiB + PAGE_SIZE, 5 * GiB, &gpa), -DV_ERANGE);
	add(4 * GiB, 1 * GiB, PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(balloon_plan_hotadd(&fx.m, PAGE_SIZE, 5 * GiB, &gpa), -DV_ERANGE);
}

static void readd_continues_high_ram(void **state)
{
	u64 gpa = 0;

	(void)state;
	add(4 * GiB, 1 * GiB, 256 * MiB + PAGE_SIZE, EXTENT_RAM); /* RAM above the gap */
	assert_int_equal(balloon_plan_readd(&fx.m, 8 * PAGE_SIZE, EXTENT_GPA_LIMIT, &gpa), 0);
	assert_int_equal(gpa, 4 * GiB + 256 * MiB + PAGE_SIZE); /* no alignment: adjacent */
}

static void readd_without_high_ram_starts_at_4g(void **state)
{
	u64 gpa = 0;

	(void)state;
	assert_int_equal(balloon_plan_readd(&fx.m, 64 * MiB, EXTENT_GPA_LIMIT, &gpa), 0);
	assert_int_equal(gpa, 4 * GiB);
}

static void readd_past_the_limit_is_refused(void **state)
{
	u64 gpa = 0;

	(void)state;
	add(4 * GiB, 1 * GiB, GiB - PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(balloon_plan_readd(&fx.m, PAGE_SIZE, 5 * GiB, &gpa), 0);
	assert_int_equal(gpa, 5 * GiB - PAGE_SIZE);
	assert_int_equal(balloon_plan_readd(&fx.m, 2 * PAGE_SIZE, 5 * GiB, &gpa), -DV_ERANGE);
	assert_int_equal(balloon_plan_readd(&fx.m, 0, 5 * GiB, &gpa), -DV_ERANGE);
}

/* Unplugged pages leave the map: no ballooned piece, no memory-map entry;
 * what backed them goes to removed[], and the re-added range continues the
 * RAM above 4 GiB as one piece of the memory map's RAM and hot-added kinds. */
static void unplug_removes_pages_and_readds_adjacent(void **state)
{
	const u64 pfn[] = {4094, 4095, 4093};
	const struct extent hot[] = {{4 * GiB + 64 * MiB, 2 * GiB, 3 * PAGE_SIZE, EXTENT_HOTADD}};
	static struct dv_memory_map mm;
	u64 gpa = 0;

	(void)state;
	add(4 * GiB, 1 * GiB, 64 * MiB, EXTENT_RAM);
	assert_int_equal(balloon_plan_readd(&fx.m, 3 * PAGE_SIZE, EXTENT_GPA_LIMIT, &gpa), 0);
	assert_int_equal(gpa, hot[0].gpa);
	assert_int_equal(check_inflate(pfn, 3), 0);
	assert_int_equal(balloon_unplug_map(&fx.m, pfn, 3, fx.removed, hot, 1, fx.backup), 0);
	assert_int_equal(fx.m.n, 3);
	expect_extent(0, 0, 256 * MiB, 16 * MiB - 3 * PAGE_SIZE, EXTENT_RAM);
	expect_extent(2, 4 * GiB + 64 * MiB, 2 * GiB, 3 * PAGE_SIZE, EXTENT_HOTADD);
	assert_int_equal(fx.removed[0].hpa, 256 * MiB + 4094 * PAGE_SIZE);
	assert_int_equal(fx.removed[2].hpa, 256 * MiB + 4093 * PAGE_SIZE);
	assert_int_equal(extent_bytes(&fx.m, EXTENT_KIND_BIT(EXTENT_BALLOON)), 0);
	assert_int_equal(extent_bytes(&fx.m, EXTENT_GUEST_MEMORY), 16 * MiB + 64 * MiB);
	assert_null(extent_lookup(&fx.m, 4095 * PAGE_SIZE));
	balloon_memory_map(&fx.m, 0, &mm);
	assert_int_equal(mm.total, 3);
	assert_int_equal(mm.e[0].len, 16 * MiB - 3 * PAGE_SIZE);
	assert_int_equal(mm.e[1].gpa, 4 * GiB);
	assert_int_equal(mm.e[1].kind, DV_MEM_RAM);
	assert_int_equal(mm.e[2].gpa, 4 * GiB + 64 * MiB);
	assert_int_equal(mm.e[2].kind, DV_MEM_HOTADDED);
	/* gone for good: nothing to deflate */
	assert_int_equal(balloon_check_deflate(&fx.m, pfn, 1, fx.scratch, &fx.bad), -DV_EINVAL);
	assert_string_equal(fx.bad.why, "not guest memory");
}

static void unplug_on_a_full_map_changes_nothing(void **state)
{
	u64 pfn[CAP];

	(void)state;
	for (unsigned i = 0; i < CAP; i++)
		pfn[i] = 2 * i + 1; /* each splits the RAM extent */
	remember();
	assert_int_equal(check_inflate(pfn, CAP), 0);
	assert_int_equal(balloon_unplug_map(&fx.m, pfn, CAP, fx.removed, NULL, 0, fx.backup),
			 -DV_E2BIG);
	assert_unchanged();
}

static void inflate_with_hotadd_adds_the_range(void **state)
{
	const u64 pfn[] = {2, 3};
	const struct extent hot[] = {
		{4 * GiB, 2 * GiB, PAGE_SIZE, EXTENT_HOTADD},
		{4 * GiB + PAGE_SIZE, 2 * GiB + PAGE_SIZE, PAGE_SIZE, EXTENT_HOTADD}};

	(void)state;
	assert_int_equal(check_inflate(pfn, 2), 0);
	assert_int_equal(balloon_inflate_map(&fx.m, pfn, 2, fx.removed, hot, 2, fx.backup), 0);
	assert_int_equal(fx.m.n, 4);
	expect_extent(3, 4 * GiB, 2 * GiB, 2 * PAGE_SIZE, EXTENT_HOTADD); /* merged */
	assert_int_equal(extent_bytes(&fx.m, EXTENT_GUEST_MEMORY), 16 * MiB);
}

static void bad_hotadd_extent_undoes_the_balloon(void **state)
{
	const u64 pfn[] = {2};
	const struct extent hot[] = {{8 * MiB, 2 * GiB, PAGE_SIZE, EXTENT_HOTADD}}; /* over RAM */

	(void)state;
	remember();
	assert_int_equal(balloon_inflate_map(&fx.m, pfn, 1, fx.removed, hot, 1, fx.backup),
			 -DV_EEXIST);
	assert_unchanged();
}

static void deflate_backs_pages_again(void **state)
{
	const u64 pfn[] = {3, 4, 5}, back[] = {4, 3}, hpa[] = {2 * GiB, 2 * GiB + PAGE_SIZE};

	(void)state;
	assert_int_equal(inflate(pfn, 3), 0);
	assert_int_equal(balloon_check_deflate(&fx.m, back, 2, fx.scratch, &fx.bad), 0);
	assert_int_equal(balloon_deflate_map(&fx.m, back, 2, hpa, EXTENT_RAM, fx.backup), 0);
	/* RAM[0,3) RAM[3]@2G+4K RAM[4]@2G B[5] RAM[6..] */
	expect_extent(1, 3 * PAGE_SIZE, 2 * GiB + PAGE_SIZE, PAGE_SIZE, EXTENT_RAM);
	expect_extent(2, 4 * PAGE_SIZE, 2 * GiB, PAGE_SIZE, EXTENT_RAM);
	expect_extent(3, 5 * PAGE_SIZE, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON);
	assert_int_equal(extent_bytes(&fx.m, EXTENT_GUEST_MEMORY), 16 * MiB - PAGE_SIZE);
}

static void deflate_of_unballooned_or_twice_listed_is_refused(void **state)
{
	const u64 pfn[] = {3}, bad1[] = {3, 4}, bad2[] = {3, 3};

	(void)state;
	assert_int_equal(inflate(pfn, 1), 0);
	remember();
	assert_int_equal(balloon_check_deflate(&fx.m, bad1, 2, fx.scratch, &fx.bad), -DV_EINVAL);
	assert_int_equal(fx.bad.index, 1);
	assert_string_equal(fx.bad.why, "not ballooned");
	assert_int_equal(balloon_check_deflate(&fx.m, bad2, 2, fx.scratch, &fx.bad), -DV_EINVAL);
	assert_int_equal(fx.bad.index, 1);
	assert_string_equal(fx.bad.why, "listed twice");
	assert_unchanged();
}

static void memory_map_merges_by_guest_kind(void **state)
{
	const u64 pfn[] = {4, 5};
	const struct extent hot[] = {{4 * GiB, 2 * GiB, 2 * PAGE_SIZE, EXTENT_HOTADD}};
	static struct dv_memory_map mm;

	(void)state;
	add(16 * MiB, 512 * MiB, 32 * PAGE_SIZE, EXTENT_SEGMENT); /* counts as RAM */
	assert_int_equal(check_inflate(pfn, 2), 0);
	assert_int_equal(balloon_inflate_map(&fx.m, pfn, 2, fx.removed, hot, 1, fx.backup), 0);
	balloon_memory_map(&fx.m, 0, &mm);
	assert_int_equal(mm.n, 4);
	assert_int_equal(mm.total, 4);
	assert_int_equal(mm.e[0].gpa, 0);
	assert_int_equal(mm.e[0].len, 4 * PAGE_SIZE);
	assert_int_equal(mm.e[0].kind, DV_MEM_RAM);
	assert_int_equal(mm.e[1].gpa, 4 * PAGE_SIZE);
	assert_int_equal(mm.e[1].len, 2 * PAGE_SIZE);
	assert_int_equal(mm.e[1].kind, DV_MEM_BALLOONED);
	assert_int_equal(mm.e[2].gpa, 6 * PAGE_SIZE);
	assert_int_equal(mm.e[2].len, 16 * MiB + 32 * PAGE_SIZE - 6 * PAGE_SIZE);
	assert_int_equal(mm.e[2].kind, DV_MEM_RAM);
	assert_int_equal(mm.e[3].gpa, 4 * GiB);
	assert_int_equal(mm.e[3].kind, DV_MEM_HOTADDED);
}

static void memory_map_counts_what_it_cannot_list(void **state)
{
	static struct extent many[2 * DV_MEMORY_MAP_MAX + 2];
	static struct dv_memory_map mm;
	struct extent_map m;

	(void)state;
	extent_map_init(&m, many, 2 * DV_MEMORY_MAP_MAX + 2);
	for (unsigned i = 0; i < 2 * DV_MEMORY_MAP_MAX + 1; i++) {
		struct extent x = {.gpa = (u64)i * PAGE_SIZE,
				   .hpa = i % 2 ? EXTENT_NO_HPA : GiB + (u64)i * PAGE_SIZE,
				   .len = PAGE_SIZE,
				   .kind = i % 2 ? EXTENT_BALLOON : EXTENT_RAM};

		assert_int_equal(extent_add(&m, &x), 0);
	}
	balloon_memory_map(&m, 0, &mm);
	assert_int_equal(mm.n, DV_MEMORY_MAP_MAX);
	assert_int_equal(mm.total, 2 * DV_MEMORY_MAP_MAX + 1);
	/* the rest, asked for from the end of the last piece listed */
	balloon_memory_map(&m, DV_MEMORY_MAP_MAX * PAGE_SIZE, &mm);
	assert_int_equal(mm.n, DV_MEMORY_MAP_MAX);
	assert_int_equal(mm.total, DV_MEMORY_MAP_MAX + 1);
	assert_int_equal(mm.e[0].gpa, DV_MEMORY_MAP_MAX * PAGE_SIZE);
	assert_int_equal(mm.e[0].kind, DV_MEM_RAM); /* piece 64 is even: RAM */
}

static void memory_map_from_inside_a_merged_piece(void **state)
{
	const u64 pfn[] = {8};
	static struct dv_memory_map mm;

	(void)state;
	add(16 * MiB, 2 * GiB, 4 * PAGE_SIZE, EXTENT_RAM); /* merges with RAM below in the map */
	assert_int_equal(inflate(pfn, 1), 0);
	balloon_memory_map(&fx.m, 10 * PAGE_SIZE, &mm);
	assert_int_equal(mm.total, 1);
	assert_int_equal(mm.e[0].gpa, 9 * PAGE_SIZE);
	assert_int_equal(mm.e[0].len, 16 * MiB + 4 * PAGE_SIZE - 9 * PAGE_SIZE);
	balloon_memory_map(&fx.m, 9 * PAGE_SIZE, &mm); /* the page before ends at from */
	assert_int_equal(mm.total, 1);
	balloon_memory_map(&fx.m, 32 * MiB, &mm);
	assert_int_equal(mm.total, 0);
	assert_int_equal(mm.n, 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(good_list_is_accepted_and_ballooned),
		T(adjacent_ballooned_pages_merge),
		T(page_outside_ram_is_refused),
		T(page_past_gpa_limit_is_refused),
		T(page_ballooned_already_is_refused),
		T(duplicate_names_the_later_entry),
		T(count_zero_and_too_long_are_refused),
		T(vmm_segment_pages_are_busy),
		T(hotadded_pages_can_be_ballooned),
		T(full_map_changes_nothing),
		T(hotadd_goes_above_4g_on_a_gib_boundary),
		T(hotadd_goes_above_high_ram),
		T(hotadd_past_the_limit_is_refused),
		T(hotadd_past_a_lower_limit_is_refused),
		T(readd_continues_high_ram),
		T(readd_without_high_ram_starts_at_4g),
		T(readd_past_the_limit_is_refused),
		T(unplug_removes_pages_and_readds_adjacent),
		T(unplug_on_a_full_map_changes_nothing),
		T(inflate_with_hotadd_adds_the_range),
		T(bad_hotadd_extent_undoes_the_balloon),
		T(deflate_backs_pages_again),
		T(deflate_of_unballooned_or_twice_listed_is_refused),
		T(memory_map_merges_by_guest_kind),
		T(memory_map_counts_what_it_cannot_list),
		T(memory_map_from_inside_a_merged_piece),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
