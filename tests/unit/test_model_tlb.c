/* mm/model/tlb.c: associativity, LRU order, page-size separation, flushes,
 * splintering and the presets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "mm/model/tlb.h"

#define B4K TLB_SIZE_BIT(TLB_4K)
#define B2M TLB_SIZE_BIT(TLB_2M)
#define B1G TLB_SIZE_BIT(TLB_1G)

/* A small TLB: L1 4K 8 entries 2-way (4 sets), 2M 4 entries 2-way, no 1G;
 * L2 4K 16 entries 4-way (4 sets). Pages 4 apart share an L1 set. */
static struct tlb *small_tlb(void)
{
	struct tlb_geometry g = {.l1 = {{8, 2, B4K}, {4, 2, B2M}}, .l2 = {{16, 4, B4K}}};
	struct tlb *t = malloc(sizeof(*t));

	assert_int_equal(tlb_init(t, &g), 0);
	return t;
}

static u64 page(unsigned n)
{
	return (u64)n << 12;
}

static bool l1_has(struct tlb *t, u64 va)
{
	struct tlb_hit h;

	return tlb_lookup_l1(t, va, &h);
}

static void fill4k(struct tlb *t, unsigned n)
{
	tlb_fill_l1(t, page(n), TLB_4K, 0x100000000ULL + page(n));
}

static void lookup_returns_what_was_filled(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_hit h;

	tlb_fill_l1(t, 0x5000, TLB_4K, 0xabc000 | 0x6);
	assert_true(tlb_lookup_l1(t, 0x5fff, &h));
	assert_int_equal(h.data, 0xabc000 | 0x6);
	assert_int_equal(h.size, TLB_4K);
	assert_false(tlb_lookup_l1(t, 0x6000, &h));
	free(t);
}

static void a_set_holds_as_many_pages_as_ways(void **state)
{
	struct tlb *t = small_tlb();

	/* Pages 0, 4, 8 map to set 0 of a 2-way array: the third evicts one. */
	fill4k(t, 0);
	fill4k(t, 4);
	assert_true(l1_has(t, page(0)) && l1_has(t, page(4)));
	fill4k(t, 8);
	assert_int_equal(l1_has(t, page(0)) + l1_has(t, page(4)) + l1_has(t, page(8)), 2);
	/* Other sets are untouched: pages 1, 2, 3 and 5 fit beside. */
	fill4k(t, 1);
	fill4k(t, 2);
	fill4k(t, 3);
	fill4k(t, 5);
	assert_true(l1_has(t, page(1)) && l1_has(t, page(2)) && l1_has(t, page(3)) &&
		    l1_has(t, page(5)));
	free(t);
}

static void lru_evicts_the_least_recently_used(void **state)
{
	struct tlb *t = small_tlb();

	fill4k(t, 0);
	fill4k(t, 4);
	assert_true(l1_has(t, page(0))); /* 0 becomes most recently used */
	fill4k(t, 8);			 /* evicts 4 */
	assert_false(l1_has(t, page(4)));
	assert_true(l1_has(t, page(0)));
	assert_true(l1_has(t, page(8))); /* looked up last: 0 is now the LRU */
	fill4k(t, 12);			 /* evicts 0 */
	assert_false(l1_has(t, page(0)));
	assert_true(l1_has(t, page(8)));
	assert_true(l1_has(t, page(12)));
	free(t);
}

static void lru_order_in_a_four_way_set(void **state)
{
	struct tlb_array_geometry g = {4, 4, B4K};
	struct tlb_array *a = malloc(sizeof(*a));

	assert_int_equal(tlb_array_init(a, &g), 0);
	for (unsigned n = 0; n < 4; n++)
		tlb_array_fill(a, page(n), TLB_4K, page(n));
	/* Use order now (oldest first): 0 1 2 3. Touch 1 and 0: 2 3 1 0. */
	assert_non_null(tlb_array_lookup(a, page(1), TLB_4K));
	assert_non_null(tlb_array_lookup(a, page(0), TLB_4K));
	tlb_array_fill(a, page(10), TLB_4K, 0); /* evicts 2 */
	assert_null(tlb_array_lookup(a, page(2), TLB_4K));
	tlb_array_fill(a, page(11), TLB_4K, 0); /* evicts 3 */
	assert_null(tlb_array_lookup(a, page(3), TLB_4K));
	tlb_array_fill(a, page(12), TLB_4K, 0); /* evicts 1 */
	assert_null(tlb_array_lookup(a, page(1), TLB_4K));
	assert_non_null(tlb_array_lookup(a, page(0), TLB_4K));
	free(a);
}

/* The stamps are renumbered before the clock wraps; LRU order survives. */
static void lru_order_survives_the_clock_wrapping(void **state)
{
	struct tlb_array_geometry g = {4, 4, B4K};
	struct tlb_array *a = malloc(sizeof(*a));

	assert_int_equal(tlb_array_init(a, &g), 0);
	a->clock = 0xfffffff0u;
	for (unsigned n = 0; n < 4; n++)
		tlb_array_fill(a, page(n), TLB_4K, page(n));
	for (unsigned i = 0; i < 40; i++) /* cross the wrap: order 0 2 3 1 */
		assert_non_null(tlb_array_lookup(a, page(1 + (i % 3)), TLB_4K));
	assert_non_null(tlb_array_lookup(a, page(1), TLB_4K));
	assert_true(a->clock < 100);
	tlb_array_fill(a, page(20), TLB_4K, 0); /* evicts 0, untouched since the fills */
	assert_null(tlb_array_lookup(a, page(0), TLB_4K));
	tlb_array_fill(a, page(21), TLB_4K, 0); /* then the oldest of 2, 3 */
	assert_non_null(tlb_array_lookup(a, page(1), TLB_4K));
	assert_non_null(tlb_array_lookup(a, page(20), TLB_4K));
	free(a);
}

static void refilling_a_present_page_does_not_duplicate_it(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_hit h;

	fill4k(t, 0);
	fill4k(t, 4);
	tlb_fill_l1(t, page(0), TLB_4K, 0x777000);
	/* Still room for 4: the refill replaced 0 in place. */
	assert_true(l1_has(t, page(4)));
	assert_true(tlb_lookup_l1(t, page(0), &h));
	assert_int_equal(h.data, 0x777000);
	free(t);
}

static void page_sizes_live_in_separate_arrays(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_hit h;

	tlb_fill_l1(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	/* Any address of the 2 MiB page hits, as a 2 MiB entry. */
	assert_true(tlb_lookup_l1(t, 0x401ff123ULL, &h));
	assert_int_equal(h.size, TLB_2M);
	assert_int_equal(h.data, 0x80000000ULL);
	/* Filling the 4 KiB array's set 0 many times leaves the 2 MiB entry. */
	for (unsigned n = 0; n < 64; n += 4)
		fill4k(t, n);
	assert_true(tlb_lookup_l1(t, 0x40000000ULL, &h));
	assert_int_equal(h.size, TLB_2M);
	/* A 2 MiB entry does not answer for the next 2 MiB page. */
	assert_false(tlb_lookup_l1(t, 0x40200000ULL, &h));
	free(t);
}

static void same_number_different_size_do_not_alias(void **state)
{
	struct tlb_geometry g = {.l1 = {{8, 8, B4K | B2M}}};
	struct tlb *t = malloc(sizeof(*t));
	struct tlb_hit h;

	/* One array for both sizes: 4 KiB page number 1 and 2 MiB page number
	 * 1 must stay two different entries. */
	assert_int_equal(tlb_init(t, &g), 0);
	tlb_fill_l1(t, 0x200000, TLB_2M, 0xa00000);
	assert_false(tlb_lookup_l1(t, 0x1000, &h));
	tlb_fill_l1(t, 0x1000, TLB_4K, 0xb000);
	assert_true(tlb_lookup_l1(t, 0x1000, &h));
	assert_int_equal(h.size, TLB_4K);
	assert_true(tlb_lookup_l1(t, 0x200000, &h));
	assert_int_equal(h.size, TLB_2M);
	free(t);
}

static void a_size_without_l1_array_is_splintered(void **state)
{
	struct tlb *t = small_tlb(); /* no 1 GiB L1 array */
	struct tlb_hit h;

	tlb_fill_l1(t, 0x40000000ULL + 0x345678, TLB_1G, 0x1c0000000ULL | 0x6);
	/* The 2 MiB sub-page holding the address is cached. */
	assert_true(tlb_lookup_l1(t, 0x40200000ULL, &h));
	assert_int_equal(h.size, TLB_2M);
	assert_int_equal(h.data, (0x1c0000000ULL + 0x200000) | 0x6);
	assert_false(tlb_lookup_l1(t, 0x40400000ULL, &h));
	free(t);
}

static void l2_holds_only_its_sizes(void **state)
{
	struct tlb *t = small_tlb(); /* L2 is 4 KiB only */
	struct tlb_hit h;

	tlb_fill_l2(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	assert_false(tlb_lookup_l2(t, 0x40000000ULL, &h));
	tlb_fill_l2(t, 0x3000, TLB_4K, 0x9000);
	assert_true(tlb_lookup_l2(t, 0x3000, &h));
	assert_int_equal(h.data, 0x9000);
	assert_false(tlb_lookup_l1(t, 0x3000, &h)); /* filling L2 leaves L1 alone */
	free(t);
}

static void flush_empties_everything(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_hit h;

	fill4k(t, 1);
	tlb_fill_l1(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	tlb_fill_l2(t, 0x3000, TLB_4K, 0x9000);
	tlb_flush(t);
	assert_false(tlb_lookup_l1(t, page(1), &h));
	assert_false(tlb_lookup_l1(t, 0x40000000ULL, &h));
	assert_false(tlb_lookup_l2(t, 0x3000, &h));
	free(t);
}

static void flush_va_drops_only_that_translation(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_hit h;

	fill4k(t, 0);
	fill4k(t, 4);
	tlb_fill_l2(t, page(0), TLB_4K, 0x9000);
	tlb_fill_l1(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	tlb_flush_va(t, page(0));
	assert_false(tlb_lookup_l1(t, page(0), &h));
	assert_false(tlb_lookup_l2(t, page(0), &h));
	assert_true(tlb_lookup_l1(t, page(4), &h));
	/* INVLPG of any address in a large page drops the large entry. */
	tlb_flush_va(t, 0x40123000ULL);
	assert_false(tlb_lookup_l1(t, 0x40000000ULL, &h));
	/* The freed way is reused before anything is evicted. */
	fill4k(t, 8);
	assert_true(tlb_lookup_l1(t, page(4), &h));
	free(t);
}

static void sandybridge_preset_is_the_papers_machine(void **state)
{
	struct tlb_geometry g;

	assert_int_equal(tlb_preset("sandybridge", &g), 0);
	assert_int_equal(g.l1[0].entries, 64);
	assert_int_equal(g.l1[0].ways, 4);
	assert_int_equal(g.l1[0].sizes, B4K);
	assert_int_equal(g.l1[1].entries, 32);
	assert_int_equal(g.l1[1].ways, 4);
	assert_int_equal(g.l1[1].sizes, B2M);
	assert_int_equal(g.l1[2].entries, 4);
	assert_int_equal(g.l1[2].ways, 4); /* fully associative */
	assert_int_equal(g.l1[2].sizes, B1G);
	assert_int_equal(g.l2[0].entries, 512);
	assert_int_equal(g.l2[0].ways, 4);
	assert_int_equal(g.l2[0].sizes, B4K);
	assert_int_equal(g.l2[1].entries, 0);
}

static void skylake_preset(void **state)
{
	struct tlb_geometry g;
	struct tlb *t = malloc(sizeof(*t));
	struct tlb_hit h;

	assert_int_equal(tlb_preset("skylake", &g), 0);
	assert_int_equal(g.l2[0].entries, 1536);
	assert_int_equal(g.l2[0].ways, 12);
	assert_int_equal(g.l2[0].sizes, B4K | B2M);
	assert_int_equal(g.l2[1].entries, 16);
	assert_int_equal(g.l2[1].sizes, B1G);
	assert_int_equal(tlb_init(t, &g), 0);
	/* The shared STLB takes 2 MiB pages; 1 GiB pages go to their own. */
	tlb_fill_l2(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	tlb_fill_l2(t, 0x80000000ULL, TLB_1G, 0xc0000000ULL);
	assert_true(tlb_lookup_l2(t, 0x40100000ULL, &h));
	assert_int_equal(h.size, TLB_2M);
	assert_true(tlb_lookup_l2(t, 0x80100000ULL, &h));
	assert_int_equal(h.size, TLB_1G);
	free(t);
}

static void unknown_preset_and_bad_geometry_are_refused(void **state)
{
	struct tlb_geometry g = {0};
	struct tlb *t = malloc(sizeof(*t));

	assert_int_equal(tlb_preset("pentium", &g), -DV_ENOENT);
	g.l1[0] = (struct tlb_array_geometry){48, 4, B4K}; /* 12 sets */
	assert_int_equal(tlb_init(t, &g), -DV_EINVAL);
	g.l1[0] = (struct tlb_array_geometry){64, 4, B2M}; /* no 4 KiB array */
	assert_int_equal(tlb_init(t, &g), -DV_EINVAL);
	g.l1[0] = (struct tlb_array_geometry){4096, 4, B4K}; /* too big */
	assert_int_equal(tlb_init(t, &g), -DV_EINVAL);
	g.l1[0] = (struct tlb_array_geometry){64, 4, B4K};
	g.l1[1] = (struct tlb_array_geometry){64, 4, B4K}; /* two arrays for 4 KiB */
	assert_int_equal(tlb_init(t, &g), -DV_EINVAL);
	free(t);
}

/* Empty arrays are skipped, so the count of entries in use must follow
 * fills, refills in place, INVLPG and flushes exactly. */
static void entries_in_use_follow_fills_and_flushes(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_array *a = &t->l1[0];

	assert_int_equal(a->valid, 0);
	assert_false(l1_has(t, page(1)));
	tlb_fill_l1(t, page(1), TLB_4K, page(100));
	tlb_fill_l1(t, page(1), TLB_4K, page(100)); /* in place */
	assert_int_equal(a->valid, 1);
	tlb_fill_l1(t, page(5), TLB_4K, page(105)); /* same set, second way */
	tlb_fill_l1(t, page(9), TLB_4K, page(109)); /* evicts page 1 */
	assert_int_equal(a->valid, 2);
	assert_false(l1_has(t, page(1)));
	tlb_flush_va(t, page(5));
	tlb_flush_va(t, page(9));
	assert_int_equal(a->valid, 0);
	assert_false(l1_has(t, page(9)));
	tlb_fill_l1(t, page(9), TLB_4K, page(109));
	assert_true(l1_has(t, page(9)));
	tlb_flush(t);
	assert_int_equal(a->valid, 0);
	assert_false(l1_has(t, page(9)));
	free(t);
}

/* The lookups probe only the arrays holding entries (or pinned): each
 * array joins the list with its first entry, from either level's fill,
 * leaves it when INVLPG or a flush empties it, and a pinned array stays,
 * so an entry put in it directly is found. */
static void lookups_probe_the_arrays_in_use(void **state)
{
	struct tlb *t = small_tlb();
	struct tlb_array *a4k = t->l1_of[TLB_4K], *a2m = t->l1_of[TLB_2M];

	assert_int_equal(t->nlive_l1, 0);
	assert_int_equal(t->nlive_l2, 0);
	tlb_fill_l1(t, 0x40000000ULL, TLB_2M, 0x80000000ULL);
	assert_int_equal(t->nlive_l1, 1);
	assert_ptr_equal(t->live_l1[0].array, a2m);
	fill4k(t, 3);
	tlb_fill_l2(t, page(3), TLB_4K, page(103));
	assert_int_equal(t->nlive_l1, 2);
	assert_int_equal(t->nlive_l2, 1);
	/* The probe order stays the configured one: 4 KiB first here. */
	assert_ptr_equal(t->live_l1[0].array, a4k);
	assert_true(l1_has(t, 0x401ff000ULL));
	assert_true(l1_has(t, page(3)));
	tlb_flush_va(t, 0x40000000ULL);
	assert_int_equal(t->nlive_l1, 1);
	assert_true(l1_has(t, page(3)));
	tlb_flush(t);
	assert_int_equal(t->nlive_l1, 0);
	assert_int_equal(t->nlive_l2, 0);
	/* Pinned: in the list while empty, and a direct put is found. */
	tlb_array_pin(t, a2m, true);
	assert_int_equal(t->nlive_l1, 1);
	tlb_array_put(a2m, 0x40000000ULL, TLB_2M, 0x80000000ULL, true);
	assert_true(l1_has(t, 0x40000000ULL));
	tlb_flush(t);
	assert_int_equal(t->nlive_l1, 1);
	tlb_array_pin(t, a2m, false);
	assert_int_equal(t->nlive_l1, 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lookup_returns_what_was_filled),
		cmocka_unit_test(a_set_holds_as_many_pages_as_ways),
		cmocka_unit_test(lru_evicts_the_least_recently_used),
		cmocka_unit_test(lru_order_in_a_four_way_set),
		cmocka_unit_test(lru_order_survives_the_clock_wrapping),
		cmocka_unit_test(refilling_a_present_page_does_not_duplicate_it),
		cmocka_unit_test(page_sizes_live_in_separate_arrays),
		cmocka_unit_test(same_number_different_size_do_not_alias),
		cmocka_unit_test(a_size_without_l1_array_is_splintered),
		cmocka_unit_test(l2_holds_only_its_sizes),
		cmocka_unit_test(flush_empties_everything),
		cmocka_unit_test(flush_va_drops_only_that_translation),
		cmocka_unit_test(sandybridge_preset_is_the_papers_machine),
		cmocka_unit_test(skylake_preset),
		cmocka_unit_test(entries_in_use_follow_fills_and_flushes),
		cmocka_unit_test(lookups_probe_the_arrays_in_use),
		cmocka_unit_test(unknown_preset_and_bad_geometry_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
