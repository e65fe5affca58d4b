/* Unit tests for the buddy allocator (mm/pmm.c). A host mapping stands in for
 * physical memory: the span [lo, hi) lives at buf, virt_offset = buf - lo. Large
 * spans use MAP_NORESERVE, so only the pages holding free-list nodes cost memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include <dimvisor/types.h>

#include "mm/pmm.h"

/* --- fixture ----------------------------------------------------------------- */

struct arena {
	struct pmm p;
	u8 *buf;
	size_t buf_len;
	void *meta;
};

static void arena_open(struct arena *a, u64 lo, u64 hi)
{
	size_t meta_len = pmm_metadata_size(lo, hi);

	a->buf_len = ALIGN_UP(hi, PAGE_SIZE) - ALIGN_DOWN(lo, PAGE_SIZE);
	a->buf = mmap(NULL, a->buf_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(a->buf != MAP_FAILED);
	assert_true(meta_len > 0);
	a->meta = malloc(meta_len);
	assert_non_null(a->meta);
	memset(a->meta, 0xa5, meta_len); /* pmm_init must clear it */
	assert_int_equal(pmm_init(&a->p, lo, hi, a->meta, meta_len,
				  (u64)(uintptr_t)a->buf - ALIGN_DOWN(lo, PAGE_SIZE)),
			 0);
}

/* An arena whose whole span is usable RAM. */
static void arena_open_ram(struct arena *a, u64 lo, u64 hi)
{
	arena_open(a, lo, hi);
	assert_int_equal(pmm_add_free(&a->p, lo, hi - lo), 0);
}

static void arena_close(struct arena *a)
{
	munmap(a->buf, a->buf_len);
	free(a->meta);
}

/* Snapshot of everything observable, to show a rejected call changed nothing. */
struct snapshot {
	u64 free_bytes, total_bytes, counts[PMM_ORDERS];
};

static struct snapshot snap(const struct pmm *p)
{
	struct snapshot s;

	s.free_bytes = pmm_free_bytes(p);
	s.total_bytes = pmm_total_bytes(p);
	pmm_free_counts(p, s.counts);
	return s;
}

static void assert_unchanged(const struct pmm *p, const struct snapshot *before)
{
	struct snapshot now = snap(p);

	assert_int_equal(pmm_check(p), 0);
	assert_int_equal(now.free_bytes, before->free_bytes);
	assert_int_equal(now.total_bytes, before->total_bytes);
	assert_memory_equal(now.counts, before->counts, sizeof(now.counts));
}

/* --- metadata and init ------------------------------------------------------------- */

static void test_metadata_size_is_about_three_bits_per_page(void **state)
{
	/* 4 GiB: 16384 words of page bits + 32771 words over the 19 orders
	 * (16384 + 8192 + ... + 2 for orders 0..13, one word each for 14..18). */
	assert_int_equal(pmm_metadata_size(0, 4 * GiB), 393240);
	/* 2 pages: 1 word of page bits + 1 word per order. */
	assert_int_equal(pmm_metadata_size(0x1000, 0x3000), 160);
	/* Rounded outward to pages. */
	assert_int_equal(pmm_metadata_size(0x1800, 0x2800), 160);
}

static void test_metadata_size_of_invalid_span_is_zero(void **state)
{
	assert_int_equal(pmm_metadata_size(0x2000, 0x2000), 0);
	assert_int_equal(pmm_metadata_size(0x3000, 0x2000), 0);
	assert_int_equal(pmm_metadata_size(0, PMM_MAX_PHYS + PAGE_SIZE), 0);
}

static void test_init_rejects_bad_arguments(void **state)
{
	static u64 meta[64];
	struct pmm p;

	assert_int_equal(pmm_init(&p, 0x2000, 0x2000, meta, sizeof(meta), 0), -DV_EINVAL);
	assert_int_equal(pmm_init(&p, 0, 1 * GiB, meta, sizeof(meta), 0), -DV_EINVAL);
	assert_int_equal(pmm_init(&p, 0x1000, 0x3000, meta, 152, 0), -DV_EINVAL);
	assert_int_equal(pmm_init(&p, 0x1000, 0x3000, (u8 *)meta + 4, 160, 0), -DV_EINVAL);
	assert_int_equal(pmm_init(&p, 0x1000, 0x3000, NULL, 160, 0), -DV_EINVAL);
	assert_int_equal(pmm_init(&p, 0x1000, 0x3000, meta, 160, 0), 0);
}

static void test_fresh_span_has_nothing_free(void **state)
{
	struct arena a;

	arena_open(&a, 0, 1 * MiB);
	assert_int_equal(pmm_free_bytes(&a.p), 0);
	assert_int_equal(pmm_total_bytes(&a.p), 0);
	assert_int_equal(pmm_alloc(&a.p, 0), PMM_NONE);
	assert_int_equal(pmm_page_state(&a.p, 0x5000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_largest_free_block(&a.p), 0);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- alloc, split, coalesce ---------------------------------------------------------- */

static void test_alloc_every_order_is_naturally_aligned(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 2 * GiB);
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		u64 addr = pmm_alloc(&a.p, order);

		assert_int_not_equal(addr, PMM_NONE);
		assert_true(IS_ALIGNED(addr, 4096ULL << order));
		assert_true(addr + (4096ULL << order) <= 2 * GiB);
		assert_int_equal(pmm_page_state(&a.p, addr), PMM_PAGE_ALLOCATED);
	}
	assert_int_equal(pmm_check(&a.p), 0);
	/* Orders 0..18 take 2 GiB - 4 KiB in all. */
	assert_int_equal(pmm_free_bytes(&a.p), 4096);
	arena_close(&a);
}

static void test_alloc_rejects_order_above_max(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 1 * MiB);
	assert_int_equal(pmm_alloc(&a.p, 19), PMM_NONE);
	assert_int_equal(pmm_free_bytes(&a.p), 1 * MiB);
	arena_close(&a);
}

static void test_split_of_fresh_gib_leaves_one_block_per_order(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];

	arena_open_ram(&a, 1 * GiB, 2 * GiB);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x40000000);
	pmm_free_counts(&a.p, counts);
	for (unsigned order = 0; order < PMM_MAX_ORDER; order++)
		assert_int_equal(counts[order], 1);
	assert_int_equal(counts[PMM_MAX_ORDER], 0);
	assert_int_equal(pmm_free_bytes(&a.p), 1 * GiB - 4096);
	assert_int_equal(pmm_largest_free_block(&a.p), 512 * MiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_free_coalesces_back_to_one_block(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];

	arena_open_ram(&a, 1 * GiB, 2 * GiB);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x40000000);
	assert_int_equal(pmm_free(&a.p, 0x40000000, 0), 0);
	pmm_free_counts(&a.p, counts);
	for (unsigned order = 0; order < PMM_MAX_ORDER; order++)
		assert_int_equal(counts[order], 0);
	assert_int_equal(counts[PMM_MAX_ORDER], 1);
	assert_int_equal(pmm_largest_free_block(&a.p), 1 * GiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_fresh_allocator_hands_out_ascending_addresses(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 16 * MiB);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x0000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x1000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x2000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x3000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x4000);
	assert_int_equal(pmm_alloc(&a.p, 2), 0x8000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x5000);
	arena_close(&a);
}

static void test_most_recently_freed_block_is_reused_first(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 16 * MiB);
	for (int i = 0; i < 8; i++)
		pmm_alloc(&a.p, 0);
	assert_int_equal(pmm_free(&a.p, 0x3000, 0), 0);
	assert_int_equal(pmm_free(&a.p, 0x5000, 0), 0);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x5000); /* LIFO, not lowest */
	assert_int_equal(pmm_alloc(&a.p, 0), 0x3000);
	arena_close(&a);
}

/* --- add_free and reserve ---------------------------------------------------------- */

/* A PC-like map: low RAM up to the EBDA, a hole, RAM from 1 MiB to 64 MiB. */
static void arena_open_pc(struct arena *a)
{
	arena_open(a, 0, 64 * MiB);
	assert_int_equal(pmm_add_free(&a->p, 0, 0x9fc00), 0); /* shrunk to 0x9f000 */
	assert_int_equal(pmm_add_free(&a->p, 1 * MiB, 63 * MiB), 0);
}

static void test_add_free_shrinks_inward_to_pages(void **state)
{
	struct arena a;

	arena_open(&a, 0, 1 * MiB);
	assert_int_equal(pmm_add_free(&a.p, 0x1800, 0x3000), 0); /* only 0x2000..0x4000 */
	assert_int_equal(pmm_total_bytes(&a.p), 0x2000);
	assert_int_equal(pmm_free_bytes(&a.p), 0x2000);
	assert_int_equal(pmm_page_state(&a.p, 0x1000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x2000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x3000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x4000), PMM_PAGE_ABSENT);
	/* Less than a whole page: nothing to add, not an error. */
	assert_int_equal(pmm_add_free(&a.p, 0x10800, 0x1000), 0);
	assert_int_equal(pmm_total_bytes(&a.p), 0x2000);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_add_free_adjacent_ranges_coalesce(void **state)
{
	struct arena a;

	arena_open(&a, 0, 1 * MiB);
	assert_int_equal(pmm_add_free(&a.p, 0, 512 * KiB), 0);
	assert_int_equal(pmm_add_free(&a.p, 512 * KiB, 512 * KiB), 0);
	assert_int_equal(pmm_largest_free_block(&a.p), 1 * MiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_add_free_overlapping_managed_rejected(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open(&a, 0, 4 * MiB);
	assert_int_equal(pmm_add_free(&a.p, 0, 1 * MiB), 0);
	assert_int_equal(pmm_alloc(&a.p, 0), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_add_free(&a.p, 512 * KiB, 1 * MiB), -DV_EEXIST); /* free pages */
	assert_int_equal(pmm_add_free(&a.p, 0, 0x1000), -DV_EEXIST);	      /* allocated page */
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_page_state(&a.p, 1 * MiB), PMM_PAGE_ABSENT);
	arena_close(&a);
}

static void test_add_free_outside_span_rejected(void **state)
{
	struct arena a;

	arena_open(&a, 1 * MiB, 2 * MiB);
	assert_int_equal(pmm_add_free(&a.p, 0, 2 * MiB), -DV_ERANGE);
	assert_int_equal(pmm_add_free(&a.p, 1 * MiB, 2 * MiB), -DV_ERANGE);
	assert_int_equal(pmm_add_free(&a.p, ~0ULL - 0x1000, 0x2000), -DV_ERANGE);
	assert_int_equal(pmm_total_bytes(&a.p), 0);
	arena_close(&a);
}

static void test_reserve_image_like_ranges(void **state)
{
	struct arena a;

	arena_open_pc(&a);
	assert_int_equal(pmm_free_bytes(&a.p), 0x9f000 + 63 * MiB);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 0x2345), 0); /* image: 3 pages */
	assert_int_equal(pmm_reserve(&a.p, 0x200800, 0x900), 0); /* module: 2 pages */
	assert_int_equal(pmm_free_bytes(&a.p), 0x3f9a000);
	assert_int_equal(pmm_total_bytes(&a.p), 0x3f9a000);
	assert_int_equal(pmm_page_state(&a.p, 0x100000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x102000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x103000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x1ff000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x200000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x201000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x202000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x9e000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x9f000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_reserve_is_idempotent(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_pc(&a);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 0x2345), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 0x2345), 0);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB + 0x1000, 0x10), 0);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_reserve_overlapping_non_ram(void **state)
{
	struct arena a;

	arena_open_pc(&a);
	/* Last low page, the hole, then 512 KiB above 1 MiB. */
	assert_int_equal(pmm_reserve(&a.p, 0x9e000, 0x180000 - 0x9e000), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 0x9e000 + 63 * MiB - 512 * KiB);
	assert_int_equal(pmm_total_bytes(&a.p), 0x9e000 + 63 * MiB - 512 * KiB);
	assert_int_equal(pmm_page_state(&a.p, 0x9d000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x17f000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x180000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_reserve_unaligned_rounds_outward(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 1 * MiB);
	assert_int_equal(pmm_reserve(&a.p, 0x5ff0, 0x20), 0); /* touches 0x5000 and 0x6000 */
	assert_int_equal(pmm_free_bytes(&a.p), 1 * MiB - 0x2000);
	assert_int_equal(pmm_page_state(&a.p, 0x4000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x5000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x6000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x7000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_reserve_outside_span_is_clipped(void **state)
{
	struct arena a;

	arena_open_ram(&a, 1 * MiB, 2 * MiB);
	assert_int_equal(pmm_reserve(&a.p, 0, 1 * MiB), 0);
	assert_int_equal(pmm_reserve(&a.p, 2 * MiB, 1 * MiB), 0);
	assert_int_equal(pmm_reserve(&a.p, 0, 0), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 1 * MiB);
	assert_int_equal(pmm_reserve(&a.p, 0xff000, 0x2000), 0); /* last page below + first in */
	assert_int_equal(pmm_reserve(&a.p, 0x1ff000, ~0ULL), 0); /* to the end of everything */
	assert_int_equal(pmm_free_bytes(&a.p), 1 * MiB - 0x2000);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_bad_pages_are_never_handed_out(void **state)
{
	static const u64 bad[] = {0x0, 0x25000, 0x1ff000, 0x200000, 0x3ff000};
	struct arena a;
	u64 addr, n = 0;

	arena_open_ram(&a, 0, 4 * MiB);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(pmm_reserve(&a.p, bad[i], PAGE_SIZE), 0);
	/* Every 1 MiB block holds a bad page. */
	assert_int_equal(pmm_largest_free_block(&a.p), 512 * KiB);
	assert_int_equal(pmm_alloc(&a.p, 8), PMM_NONE);
	while ((addr = pmm_alloc(&a.p, 0)) != PMM_NONE) {
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
			assert_int_not_equal(addr, bad[i]);
		n++;
	}
	assert_int_equal(n, 1024 - 5);
	assert_int_equal(pmm_free_bytes(&a.p), 0);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- exhaustion, largest block and range -------------------------------------------- */

static void test_exhaustion_returns_none_and_zero_free(void **state)
{
	struct arena a;
	u64 base, len;

	arena_open_ram(&a, 0, 1 * MiB);
	for (int i = 0; i < 256; i++)
		assert_int_equal(pmm_alloc(&a.p, 0), (u64)i * 0x1000);
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++)
		assert_int_equal(pmm_alloc(&a.p, order), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, PAGE_SIZE), PMM_NONE);
	assert_int_equal(pmm_free_bytes(&a.p), 0);
	assert_int_equal(pmm_total_bytes(&a.p), 1 * MiB);
	assert_int_equal(pmm_largest_free_block(&a.p), 0);
	assert_int_equal(pmm_largest_free_range(&a.p, &base), 0);
	assert_int_equal(base, PMM_NONE);
	assert_false(pmm_next_free_range(&a.p, 0, &base, &len));
	assert_int_equal(pmm_check(&a.p), 0);
	/* And everything comes back as one block. */
	for (int i = 0; i < 256; i++)
		assert_int_equal(pmm_free(&a.p, (u64)i * 0x1000, 0), 0);
	assert_int_equal(pmm_largest_free_block(&a.p), 1 * MiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_largest_block_and_range_after_fragmentation(void **state)
{
	struct arena a;
	u64 base;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0x100000, 0x1000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 0x300000, 0x1000), 0);
	/* Runs: [0, 1M), [1M + 4K, 3M), [3M + 4K, 4M). */
	assert_int_equal(pmm_largest_free_range(&a.p, &base), 0x1ff000);
	assert_int_equal(base, 0x101000);
	assert_int_equal(pmm_largest_free_block(&a.p), 1 * MiB);
	assert_true(pmm_is_range_free(&a.p, 0x101000, 0x1ff000));
	assert_false(pmm_is_range_free(&a.p, 0x100000, 0x2000));
	assert_int_equal(pmm_alloc(&a.p, 9), PMM_NONE);
	arena_close(&a);
}

static void test_next_free_range_iterates_runs(void **state)
{
	struct arena a;
	u64 base, len;

	arena_open_ram(&a, 0, 1 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0x10000, 0x10000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 0x80000, 0x1000), 0);
	assert_true(pmm_next_free_range(&a.p, 0, &base, &len));
	assert_int_equal(base, 0x0);
	assert_int_equal(len, 0x10000);
	assert_true(pmm_next_free_range(&a.p, base + len, &base, &len));
	assert_int_equal(base, 0x20000);
	assert_int_equal(len, 0x60000);
	assert_true(pmm_next_free_range(&a.p, base + len, &base, &len));
	assert_int_equal(base, 0x81000);
	assert_int_equal(len, 0x7f000);
	assert_false(pmm_next_free_range(&a.p, base + len, &base, &len));
	/* A run containing from is clipped to start there. */
	assert_true(pmm_next_free_range(&a.p, 0x30000, &base, &len));
	assert_int_equal(base, 0x30000);
	assert_int_equal(len, 0x50000);
	arena_close(&a);
}

/* --- contiguous ranges ---------------------------------------------------------------- */

static void test_alloc_contig_non_power_of_two_sizes(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];

	arena_open_ram(&a, 0, 64 * MiB);
	assert_int_equal(pmm_alloc_contig(&a.p, 3 * MiB + 20 * KiB, 2 * MiB), 0x0);
	assert_int_equal(pmm_alloc_contig(&a.p, 5 * PAGE_SIZE, PAGE_SIZE), 0x305000);
	assert_int_equal(pmm_alloc_contig(&a.p, 3 * MiB, 1 * MiB), 0x400000);
	assert_int_equal(pmm_alloc_contig(&a.p, 12 * KiB, 16 * KiB), 0x30c000);
	assert_int_equal(pmm_free_bytes(&a.p),
			 64 * MiB - 3 * MiB - 20 * KiB - 20 * KiB - 3 * MiB - 12 * KiB);
	assert_int_equal(pmm_page_state(&a.p, 0x304000), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 0x30a000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x6fffff), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_check(&a.p), 0);

	assert_int_equal(pmm_free_range(&a.p, 0x0, 3 * MiB + 20 * KiB), 0);
	assert_int_equal(pmm_free_range(&a.p, 0x305000, 5 * PAGE_SIZE), 0);
	assert_int_equal(pmm_free_range(&a.p, 0x400000, 3 * MiB), 0);
	assert_int_equal(pmm_free_range(&a.p, 0x30c000, 12 * KiB), 0);
	pmm_free_counts(&a.p, counts);
	assert_int_equal(counts[14], 1); /* 64 MiB */
	assert_int_equal(pmm_free_bytes(&a.p), 64 * MiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_alloc_contig_spans_several_blocks(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 8 * MiB);
	assert_int_equal(pmm_alloc(&a.p, 0), 0x0);
	/* [4K, 8M) is 23 buddy blocks; the range crosses most of them. */
	assert_int_equal(pmm_alloc_contig(&a.p, 8 * MiB - 8 * KiB, PAGE_SIZE), 0x1000);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * KiB);
	assert_int_equal(pmm_page_state(&a.p, 0x7ff000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_alloc_contig_fails_when_fragmented(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 0, 1 * MiB);
	for (u64 page = 0x1000; page < 1 * MiB; page += 0x2000)
		assert_int_equal(pmm_claim_range(&a.p, page, PAGE_SIZE), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 512 * KiB);
	before = snap(&a.p);
	assert_int_equal(pmm_alloc_contig(&a.p, 2 * PAGE_SIZE, PAGE_SIZE), PMM_NONE);
	assert_int_equal(pmm_largest_free_range(&a.p, NULL), PAGE_SIZE);
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, 8 * KiB), 0x0);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, 8 * KiB), 0x2000);
	arena_close(&a);
}

static void test_alloc_contig_rejects_bad_arguments(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 0, 1 * MiB);
	before = snap(&a.p);
	assert_int_equal(pmm_alloc_contig(&a.p, 0, PAGE_SIZE), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, 4097, PAGE_SIZE), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, 0), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, 2048), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, PAGE_SIZE, 3 * PAGE_SIZE), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, 2 * MiB, PAGE_SIZE), PMM_NONE);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_claim_range_is_all_or_nothing(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0x105000, PAGE_SIZE), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_claim_range(&a.p, 1 * MiB, 1 * MiB), -DV_EBUSY);
	assert_int_equal(pmm_claim_range(&a.p, 0x104000, 0x2000), -DV_EBUSY);
	assert_int_equal(pmm_claim_range(&a.p, 0x105000, PAGE_SIZE), -DV_EBUSY);
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_page_state(&a.p, 1 * MiB), PMM_PAGE_FREE);

	assert_int_equal(pmm_claim_range(&a.p, 0x106000, 1 * MiB), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - PAGE_SIZE - 1 * MiB);
	assert_int_equal(pmm_page_state(&a.p, 0x106000), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 0x205fff), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 0x206000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_claim_range_rejects_bad_arguments(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 1 * MiB, 2 * MiB);
	before = snap(&a.p);
	assert_int_equal(pmm_claim_range(&a.p, 0x100800, PAGE_SIZE), -DV_EINVAL);
	assert_int_equal(pmm_claim_range(&a.p, 1 * MiB, 0x800), -DV_EINVAL);
	assert_int_equal(pmm_claim_range(&a.p, 1 * MiB, 0), -DV_EINVAL);
	assert_int_equal(pmm_claim_range(&a.p, 0xff000, 0x2000), -DV_EINVAL);
	assert_int_equal(pmm_claim_range(&a.p, 0x1ff000, 0x2000), -DV_EINVAL);
	assert_int_equal(pmm_claim_range(&a.p, 1 * MiB, ~0xfffULL), -DV_EINVAL);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_free_range_of_arbitrary_ranges(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0x3000, 0x3fc000), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 0x4000);
	assert_int_equal(pmm_free_range(&a.p, 0x5000, 0xd000), 0); /* 13 pages */
	assert_int_equal(pmm_free_bytes(&a.p), 0x11000);
	assert_int_equal(pmm_largest_free_range(&a.p, NULL), 0xd000);
	assert_int_equal(pmm_check(&a.p), 0);
	assert_int_equal(pmm_free_range(&a.p, 0x3000, 0x2000), 0);
	assert_int_equal(pmm_free_range(&a.p, 0x12000, 0x3ed000), 0);
	pmm_free_counts(&a.p, counts);
	assert_int_equal(counts[10], 1); /* 4 MiB */
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- misuse is detected ------------------------------------------------------------------ */

static void test_double_free_rejected_without_change(void **state)
{
	struct arena a;
	struct snapshot before;
	u64 block, page;

	arena_open_ram(&a, 0, 4 * MiB);
	block = pmm_alloc(&a.p, 3);
	page = pmm_alloc(&a.p, 0);
	assert_int_equal(pmm_free(&a.p, block, 3), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_free(&a.p, block, 3), -DV_EBUSY);
	assert_int_equal(pmm_free(&a.p, block + 0x2000, 0), -DV_EBUSY);	 /* inside a free block */
	assert_int_equal(pmm_free(&a.p, 0x200000, 9), -DV_EBUSY);	 /* never allocated */
	assert_int_equal(pmm_free_range(&a.p, page, 0x3000), -DV_EBUSY); /* ends in free pages */
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_page_state(&a.p, page), PMM_PAGE_ALLOCATED);
	arena_close(&a);
}

static void test_free_bad_arguments_rejected_without_change(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_pc(&a);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 0x3000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 2 * MiB, 2 * MiB), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_free(&a.p, 2 * MiB + 0x800, 0), -DV_EINVAL); /* misaligned */
	assert_int_equal(pmm_free(&a.p, 2 * MiB + 0x1000, 1), -DV_EINVAL);
	assert_int_equal(pmm_free(&a.p, 2 * MiB, 19), -DV_EINVAL); /* order too big */
	assert_int_equal(pmm_free(&a.p, 64 * MiB, 0), -DV_EINVAL); /* off the span */
	assert_int_equal(pmm_free(&a.p, 64 * MiB - 0x1000, 1), -DV_EINVAL);
	assert_int_equal(pmm_free(&a.p, 0xa0000, 0), -DV_EFAULT); /* hole */
	assert_int_equal(pmm_free(&a.p, 1 * MiB, 0), -DV_EFAULT); /* reserved */
	assert_int_equal(pmm_free_range(&a.p, 0xff000, 0x2000), -DV_EFAULT);
	assert_int_equal(pmm_free_range(&a.p, 2 * MiB, 0), -DV_EINVAL);
	assert_int_equal(pmm_free_range(&a.p, 2 * MiB, ~0xfffULL), -DV_EINVAL);
	assert_int_equal(pmm_free_range(&a.p, 2 * MiB, 0x1800), -DV_EINVAL);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_check_detects_corruption(void **state)
{
	struct arena a;
	u64 block;

	arena_open_ram(&a, 0, 1 * MiB);
	block = pmm_alloc(&a.p, 0);
	assert_int_equal(pmm_check(&a.p), 0);

	a.p.free_bytes += PAGE_SIZE;
	assert_int_equal(pmm_check(&a.p), -PMM_INV_FREE_BYTES);
	a.p.free_bytes -= PAGE_SIZE;

	a.p.total_bytes -= PAGE_SIZE;
	assert_int_equal(pmm_check(&a.p), -PMM_INV_TOTAL_BYTES);
	a.p.total_bytes += PAGE_SIZE;

	a.p.nfree[0]++;
	assert_int_equal(pmm_check(&a.p), -PMM_INV_LIST_BITMAP);
	a.p.nfree[0]--;

	/* Somebody wrote into the free page at 0x1000 (its list node). */
	((u64 *)(a.buf + 0x1000))[1] = 0x5000;
	assert_int_equal(pmm_check(&a.p), -PMM_INV_LIST);
	((u64 *)(a.buf + 0x1000))[1] = PMM_NONE;
	assert_int_equal(pmm_check(&a.p), 0);

	/* The allocated page marked free at order 0 without a list entry. */
	a.p.free_map[0][0] |= 1ULL << (block >> PAGE_SHIFT);
	assert_int_equal(pmm_check(&a.p), -PMM_INV_LIST_BITMAP);
	a.p.free_map[0][0] &= ~(1ULL << (block >> PAGE_SHIFT));
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- spans and sizes ----------------------------------------------------------------------- */

static void test_span_not_gib_aligned(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];
	const u64 lo = 0xc01000, hi = 0xc01000 + 1 * GiB;

	arena_open_ram(&a, lo, hi);
	pmm_free_counts(&a.p, counts);
	/* [12M+4K, 1G+12M+4K) splits into two 4 KiB blocks and one of each order 1..17. */
	assert_int_equal(counts[0], 2);
	for (unsigned order = 1; order < PMM_MAX_ORDER; order++)
		assert_int_equal(counts[order], 1);
	assert_int_equal(counts[PMM_MAX_ORDER], 0);
	assert_int_equal(pmm_free_bytes(&a.p), 1 * GiB);
	assert_int_equal(pmm_largest_free_block(&a.p), 512 * MiB);
	assert_int_equal(pmm_alloc(&a.p, 18), PMM_NONE);
	assert_int_equal(pmm_alloc_contig(&a.p, 1 * GiB - 16 * MiB, 16 * MiB), 0x1000000);
	assert_int_equal(pmm_alloc(&a.p, 0), 0xc01000);
	assert_int_equal(pmm_alloc_contig(&a.p, 8 * MiB, 8 * MiB), 0x40000000);
	assert_int_equal(pmm_free_range(&a.p, 0x1000000, 1 * GiB - 16 * MiB), 0);
	assert_int_equal(pmm_alloc(&a.p, 17), 0x20000000);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_span_with_unaligned_edges(void **state)
{
	struct arena a;

	arena_open(&a, 0x12345, 0x89abc); /* rounded outward to [0x12000, 0x8a000) */
	assert_int_equal(pmm_add_free(&a.p, 0x12345, 0x89abc - 0x12345), 0);
	assert_int_equal(pmm_total_bytes(&a.p), 0x89000 - 0x13000);
	assert_int_equal(pmm_page_state(&a.p, 0x12000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&a.p, 0x13000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x89000), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_largest_free_block(&a.p), 256 * KiB); /* [0x40000, 0x80000) */
	assert_int_equal(pmm_alloc(&a.p, 6), 0x40000);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_gib_blocks(void **state)
{
	struct arena a;
	u64 counts[PMM_ORDERS];

	arena_open_ram(&a, 0, 3 * GiB);
	pmm_free_counts(&a.p, counts);
	assert_int_equal(counts[PMM_MAX_ORDER], 3);
	assert_int_equal(pmm_largest_free_block(&a.p), 1 * GiB);
	assert_int_equal(pmm_alloc(&a.p, 18), 0x00000000);
	assert_int_equal(pmm_alloc(&a.p, 18), 0x40000000);
	assert_int_equal(pmm_alloc(&a.p, 18), 0x80000000);
	assert_int_equal(pmm_alloc(&a.p, 18), PMM_NONE);
	assert_int_equal(pmm_free_bytes(&a.p), 0);
	assert_int_equal(pmm_free(&a.p, 0x40000000, 18), 0);
	assert_int_equal(pmm_free(&a.p, 0x00000000, 18), 0);
	assert_int_equal(pmm_free(&a.p, 0x80000000, 18), 0);
	/* 1 GiB is the top order: neighbours stay separate blocks. */
	pmm_free_counts(&a.p, counts);
	assert_int_equal(counts[PMM_MAX_ORDER], 3);
	assert_int_equal(pmm_largest_free_range(&a.p, NULL), 3 * GiB);
	assert_int_equal(pmm_alloc_contig(&a.p, 3 * GiB, 1 * GiB), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 0);
	assert_int_equal(pmm_free_range(&a.p, 0, 3 * GiB), 0);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_vmm_segment_sized_range(void **state)
{
	struct arena a;
	u64 base;

	arena_open(&a, 0, 5 * GiB);
	assert_int_equal(pmm_add_free(&a.p, 0, 0x9fc00), 0);
	assert_int_equal(pmm_add_free(&a.p, 1 * MiB, 5 * GiB - 1 * MiB), 0);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 2 * MiB), 0); /* image */
	for (int i = 0; i < 10; i++)				  /* early tables */
		assert_true(pmm_alloc(&a.p, 0) < 1 * MiB);
	assert_int_equal(pmm_alloc_contig(&a.p, 3 * GiB, 1 * GiB), 0x40000000);
	assert_int_equal(pmm_largest_free_range(&a.p, &base), 1 * GiB);
	assert_int_equal(base, 0x100000000);
	assert_int_equal(pmm_alloc_contig(&a.p, 2 * GiB, 1 * GiB), PMM_NONE);
	assert_int_equal(pmm_free_bytes(&a.p),
			 0x9f000 - 10 * PAGE_SIZE + 5 * GiB - 3 * MiB - 3 * GiB);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- bad pages ---------------------------------------------------------------------- */

static void test_mark_bad_takes_a_free_page_out(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x25123), 0); /* rounded down to its page */
	assert_int_equal(pmm_page_state(&a.p, 0x25000), PMM_PAGE_BAD);
	assert_true(pmm_is_bad(&a.p, 0x25000));
	assert_false(pmm_is_bad(&a.p, 0x26000));
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_total_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_mark_bad_twice_is_a_noop(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x25000), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_mark_bad(&a.p, 0x25000), 0);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_mark_bad_of_unmanaged_page_is_enoent(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 1 * MiB, 4 * MiB);
	assert_int_equal(pmm_reserve(&a.p, 0x200000, PAGE_SIZE), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_mark_bad(&a.p, 0x200000), -DV_ENOENT); /* reserved */
	assert_int_equal(pmm_mark_bad(&a.p, 0x5000), -DV_ENOENT);   /* below the span */
	assert_int_equal(pmm_mark_bad(&a.p, 4 * MiB), -DV_ENOENT);  /* above it */
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_page_state(&a.p, 0x200000), PMM_PAGE_ABSENT);
	arena_close(&a);
}

static void test_mark_bad_of_an_allocated_page(void **state)
{
	struct arena a;
	u64 block;

	arena_open_ram(&a, 0, 4 * MiB);
	block = pmm_alloc(&a.p, 2); /* 16 KiB at 0 */
	assert_int_equal(block, 0);
	assert_int_equal(pmm_mark_bad(&a.p, 0x1000), 0);
	assert_int_equal(pmm_total_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	/* freeing the block gives back its three good pages */
	assert_int_equal(pmm_free(&a.p, block, 2), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_page_state(&a.p, 0x1000), PMM_PAGE_BAD);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_mark_bad_list_full_is_e2big(void **state)
{
	struct arena a;
	struct snapshot before;

	arena_open_ram(&a, 0, 4 * MiB);
	for (u64 i = 0; i < PMM_MAX_BAD; i++)
		assert_int_equal(pmm_mark_bad(&a.p, i * 2 * PAGE_SIZE), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_mark_bad(&a.p, 3 * MiB), -DV_E2BIG);
	assert_unchanged(&a.p, &before);
	assert_int_equal(pmm_page_state(&a.p, 3 * MiB), PMM_PAGE_FREE);
	arena_close(&a);
}

static void test_add_free_over_a_bad_page_keeps_it_bad(void **state)
{
	struct arena a;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x1ff000), 0);
	assert_int_equal(pmm_reserve(&a.p, 1 * MiB, 1 * MiB), 0);
	assert_int_equal(pmm_add_free(&a.p, 1 * MiB, 1 * MiB), 0);
	assert_int_equal(pmm_page_state(&a.p, 0x1ff000), PMM_PAGE_BAD);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_total_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_claim_range_bad_spans_bad_pages(void **state)
{
	struct arena a;
	u64 bad[4] = {0};

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x1ff000), 0);
	assert_int_equal(pmm_mark_bad(&a.p, 0x101000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 1 * MiB, 1 * MiB), -DV_EBUSY);
	assert_int_equal(pmm_claim_range_bad(&a.p, 1 * MiB, 1 * MiB, bad, 4), 2);
	assert_int_equal(bad[0], 0x101000);
	assert_int_equal(bad[1], 0x1ff000);
	assert_int_equal(pmm_free_bytes(&a.p), 3 * MiB);
	assert_int_equal(pmm_page_state(&a.p, 0x100000), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 0x101000), PMM_PAGE_BAD);
	assert_int_equal(pmm_page_state(&a.p, 0x1fe000), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 0x200000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_claim_range_bad_refuses_an_allocated_page(void **state)
{
	struct arena a;
	struct snapshot before;
	u64 bad[4];

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x101000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 0x180000, PAGE_SIZE), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_claim_range_bad(&a.p, 1 * MiB, 1 * MiB, bad, 4), -DV_EBUSY);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_claim_range_bad_too_many_bad_is_e2big(void **state)
{
	struct arena a;
	struct snapshot before;
	u64 bad[1];

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x101000), 0);
	assert_int_equal(pmm_mark_bad(&a.p, 0x102000), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_claim_range_bad(&a.p, 1 * MiB, 1 * MiB, bad, 1), -DV_E2BIG);
	assert_unchanged(&a.p, &before);
	/* a range with no bad page needs no room for any */
	assert_int_equal(pmm_claim_range_bad(&a.p, 2 * MiB, 1 * MiB, NULL, 0), 0);
	arena_close(&a);
}

static void test_free_range_skips_bad_pages(void **state)
{
	struct arena a;
	u64 bad[4];

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x101000), 0);
	assert_int_equal(pmm_claim_range_bad(&a.p, 1 * MiB, 1 * MiB, bad, 4), 1);
	assert_int_equal(pmm_free_range(&a.p, 1 * MiB, 1 * MiB), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_page_state(&a.p, 0x101000), PMM_PAGE_BAD);
	assert_int_equal(pmm_page_state(&a.p, 0x100000), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&a.p, 0x102000), PMM_PAGE_FREE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_alloc_contig_bad_finds_a_range_across_bad_pages(void **state)
{
	struct arena a;
	u64 bad[8] = {0};
	unsigned n = 99;

	arena_open_ram(&a, 0, 8 * MiB);
	/* one bad page in every 2 MiB block: no clean 4 MiB range anywhere */
	for (u64 b = 0; b < 8 * MiB; b += 2 * MiB)
		assert_int_equal(pmm_mark_bad(&a.p, b + 0x3000), 0);
	assert_int_equal(pmm_alloc_contig(&a.p, 4 * MiB, 2 * MiB), PMM_NONE);
	assert_int_equal(pmm_alloc_contig_bad(&a.p, 4 * MiB, 2 * MiB, bad, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad[0], 0x3000);
	assert_int_equal(bad[1], 0x203000);
	assert_int_equal(pmm_free_bytes(&a.p), 4 * MiB - 2 * PAGE_SIZE);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_alloc_contig_bad_respects_max_bad(void **state)
{
	struct arena a;
	u64 bad[1] = {0};
	unsigned n = 99;

	arena_open_ram(&a, 0, 8 * MiB);
	/* 2 MiB-aligned 4 MiB windows: [0,4M) and [2M,6M) hold two bad pages, [4M,8M) one */
	assert_int_equal(pmm_mark_bad(&a.p, 0x3000), 0);
	assert_int_equal(pmm_mark_bad(&a.p, 0x203000), 0);
	assert_int_equal(pmm_mark_bad(&a.p, 0x403000), 0);
	assert_int_equal(pmm_alloc_contig_bad(&a.p, 4 * MiB, 2 * MiB, bad, 1, &n), 4 * MiB);
	assert_int_equal(n, 1);
	assert_int_equal(bad[0], 0x403000);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_alloc_contig_bad_skips_allocated_pages(void **state)
{
	struct arena a;
	u64 bad[4];
	unsigned n = 99;

	arena_open_ram(&a, 0, 8 * MiB);
	assert_int_equal(pmm_mark_bad(&a.p, 0x3000), 0);
	assert_int_equal(pmm_claim_range(&a.p, 0x100000, PAGE_SIZE), 0);
	/* [0, 2M) holds an allocated page: the first fit is at 2 MiB, without bad pages */
	assert_int_equal(pmm_alloc_contig_bad(&a.p, 2 * MiB, 2 * MiB, bad, 4, &n), 2 * MiB);
	assert_int_equal(n, 0);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

/* --- pools ---------------------------------------------------------------------------- */

static void test_carve_pool_takes_a_range_with_its_metadata_inside(void **state)
{
	struct arena a;
	struct pmm pool;

	arena_open_ram(&a, 0, 64 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0, PAGE_SIZE), 0); /* the pool goes to 2 MiB */
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 4 * MiB, 2 * MiB), 0);
	assert_int_equal(pmm_free_bytes(&a.p), 64 * MiB - PAGE_SIZE - 4 * MiB);
	assert_int_equal(pmm_page_state(&a.p, 2 * MiB), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 6 * MiB - PAGE_SIZE), PMM_PAGE_ALLOCATED);
	assert_int_equal(pmm_page_state(&a.p, 6 * MiB), PMM_PAGE_FREE);
	/* 488 bytes of metadata for 1024 pages: one page, absent in the pool */
	assert_int_equal(pmm_total_bytes(&pool), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_free_bytes(&pool), 4 * MiB - PAGE_SIZE);
	assert_int_equal(pmm_page_state(&pool, 2 * MiB), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_page_state(&pool, 2 * MiB + PAGE_SIZE), PMM_PAGE_FREE);
	assert_int_equal(pmm_page_state(&pool, 6 * MiB), PMM_PAGE_ABSENT);
	assert_int_equal(pmm_check(&pool), 0);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
}

static void test_pool_allocations_stay_inside_the_pool(void **state)
{
	struct arena a;
	struct pmm pool;
	u64 page, n = 0;

	arena_open_ram(&a, 0, 16 * MiB);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 1 * MiB, 1 * MiB), 0);
	while ((page = pmm_alloc(&pool, 0)) != PMM_NONE) {
		assert_true(page >= PAGE_SIZE && page < 1 * MiB);
		n++;
	}
	assert_int_equal(n, 255);
	assert_int_equal(pmm_free_bytes(&a.p), 15 * MiB); /* the main allocator is untouched */
	assert_int_equal(pmm_free(&pool, 0x5000, 0), 0);
	assert_int_equal(pmm_check(&pool), 0);
	arena_close(&a);
}

static void test_carve_pool_without_room_is_enomem(void **state)
{
	struct arena a;
	struct pmm pool;
	struct snapshot before;

	arena_open_ram(&a, 0, 4 * MiB);
	/* one page taken in each 2 MiB half: no 2 MiB-aligned 2 MiB range, no 3 MiB one */
	assert_int_equal(pmm_claim_range(&a.p, 0x1000, PAGE_SIZE), 0);
	assert_int_equal(pmm_claim_range(&a.p, 0x201000, PAGE_SIZE), 0);
	before = snap(&a.p);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 3 * MiB, PAGE_SIZE), -DV_ENOMEM);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 2 * MiB, 2 * MiB), -DV_ENOMEM);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

static void test_carve_pool_rejects_bad_arguments(void **state)
{
	struct arena a;
	struct pmm pool;
	struct snapshot before;

	arena_open_ram(&a, 0, 4 * MiB);
	before = snap(&a.p);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, PAGE_SIZE, PAGE_SIZE), -DV_EINVAL);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 0x2800, PAGE_SIZE), -DV_EINVAL);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 1 * MiB, 0x3000), -DV_EINVAL);
	assert_int_equal(pmm_carve_pool(&pool, &a.p, 1 * MiB, 0x800), -DV_EINVAL);
	assert_unchanged(&a.p, &before);
	arena_close(&a);
}

/* --- owner map ------------------------------------------------------------------------ */

/* An arena of RAM with an owner map. */
static u32 *arena_open_owned(struct arena *a, u64 lo, u64 hi)
{
	u32 *map;

	arena_open_ram(a, lo, hi);
	map = malloc(pmm_owner_map_size(&a->p));
	assert_non_null(map);
	memset(map, 0xa5, pmm_owner_map_size(&a->p)); /* pmm_owner_map_init must clear it */
	assert_int_equal(pmm_owner_map_init(&a->p, map, pmm_owner_map_size(&a->p)), 0);
	return map;
}

static void test_owner_map_is_four_bytes_per_page(void **state)
{
	struct arena a;

	arena_open_ram(&a, 1 * MiB, 5 * MiB);
	assert_int_equal(pmm_owner_map_size(&a.p), 4096);
	arena_close(&a);
}

static void test_owner_set_get_clear(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);
	u64 block = pmm_alloc(&a.p, 2), gpa = 0;

	assert_int_equal(block, 0);
	assert_int_equal(pmm_owner_get(&a.p, block, &gpa), -DV_ENOENT);
	assert_int_equal(pmm_owner_set(&a.p, block, 0x40000000, 4 * PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_get(&a.p, 0x2345, &gpa), 0);
	assert_int_equal(gpa, 0x40002345);
	assert_int_equal(pmm_owner_get(&a.p, 0x3000, &gpa), 0);
	assert_int_equal(gpa, 0x40003000);
	assert_int_equal(pmm_check(&a.p), 0);
	assert_int_equal(pmm_owner_clear(&a.p, 0x1000, PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_get(&a.p, 0x1000, &gpa), -DV_ENOENT);
	assert_int_equal(pmm_owner_get(&a.p, 0x2000, &gpa), 0);
	assert_int_equal(gpa, 0x40002000);
	arena_close(&a);
	free(map);
}

static void test_owner_set_refuses_a_frame_not_allocated(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);
	u64 gpa;

	assert_int_equal(pmm_claim_range(&a.p, 0, PAGE_SIZE), 0);
	assert_int_equal(pmm_reserve(&a.p, 0x10000, PAGE_SIZE), 0);
	/* the second page is free, then one is absent */
	assert_int_equal(pmm_owner_set(&a.p, 0, 0, 2 * PAGE_SIZE), -DV_EFAULT);
	assert_int_equal(pmm_owner_set(&a.p, 0x10000, 0, PAGE_SIZE), -DV_EFAULT);
	assert_int_equal(pmm_owner_get(&a.p, 0, &gpa), -DV_ENOENT);
	arena_close(&a);
	free(map);
}

static void test_owner_set_refuses_an_owned_frame(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);
	u64 gpa = 0;

	assert_int_equal(pmm_claim_range(&a.p, 0, 2 * PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_set(&a.p, 0x1000, 0x7000, PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_set(&a.p, 0, 0x9000, 2 * PAGE_SIZE), -DV_EEXIST);
	assert_int_equal(pmm_owner_get(&a.p, 0, &gpa), -DV_ENOENT); /* nothing set */
	assert_int_equal(pmm_owner_get(&a.p, 0x1000, &gpa), 0);
	assert_int_equal(gpa, 0x7000);
	arena_close(&a);
	free(map);
}

static void test_owner_gpa_limit(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);
	u64 gpa = 0;

	assert_int_equal(pmm_claim_range(&a.p, 0, 2 * PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_set(&a.p, 0, PMM_OWNER_MAX - PAGE_SIZE, 2 * PAGE_SIZE),
			 -DV_ERANGE);
	assert_int_equal(pmm_owner_set(&a.p, 0, 0x1800, PAGE_SIZE), -DV_EINVAL);
	assert_int_equal(pmm_owner_set(&a.p, 0, PMM_OWNER_MAX - PAGE_SIZE, PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_get(&a.p, 0, &gpa), 0);
	assert_int_equal(gpa, (1ULL << 43) - PAGE_SIZE);
	arena_close(&a);
	free(map);
}

static void test_free_clears_the_owner(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);
	u64 gpa;

	assert_int_equal(pmm_alloc(&a.p, 1), 0);
	assert_int_equal(pmm_owner_set(&a.p, 0, 0x100000, 2 * PAGE_SIZE), 0);
	assert_int_equal(pmm_free(&a.p, 0, 1), 0);
	assert_int_equal(pmm_alloc(&a.p, 1), 0);
	assert_int_equal(pmm_owner_get(&a.p, 0, &gpa), -DV_ENOENT);
	assert_int_equal(pmm_owner_get(&a.p, 0x1000, &gpa), -DV_ENOENT);
	assert_int_equal(pmm_check(&a.p), 0);
	arena_close(&a);
	free(map);
}

static void test_owner_without_a_map_is_enosys(void **state)
{
	struct arena a;
	u64 gpa;

	arena_open_ram(&a, 0, 4 * MiB);
	assert_int_equal(pmm_claim_range(&a.p, 0, PAGE_SIZE), 0);
	assert_int_equal(pmm_owner_set(&a.p, 0, 0, PAGE_SIZE), -DV_ENOSYS);
	assert_int_equal(pmm_owner_get(&a.p, 0, &gpa), -DV_ENOSYS);
	assert_int_equal(pmm_owner_clear(&a.p, 0, PAGE_SIZE), -DV_ENOSYS);
	arena_close(&a);
}

static void test_check_detects_an_owner_on_a_free_page(void **state)
{
	struct arena a;
	u32 *map = arena_open_owned(&a, 0, 4 * MiB);

	map[5] = 1; /* page 0x5000 is free */
	assert_int_equal(pmm_check(&a.p), -PMM_INV_OWNER);
	arena_close(&a);
	free(map);
}

/* --- randomized run against a reference ---------------------------------------------------- */

enum { REF_ABSENT, REF_FREE, REF_USED, REF_BAD };

struct record {
	u64 base, len;
	int order; /* from pmm_alloc, or -1 */
};

struct model {
	struct arena a;
	u64 lo, npages;
	u8 *page; /* REF_* per page */
	struct record *rec;
	size_t nrec, rec_cap;
	u64 rng;
	u64 free_pages;
	unsigned nbad;
	unsigned claims_across_bad; /* claims that spanned at least one bad page */
};

static u64 rnd(struct model *m)
{
	/* xorshift64*: deterministic, good enough to pick operations. */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(struct model *m, u64 n)
{
	return rnd(m) % n;
}

static u64 pidx(const struct model *m, u64 addr)
{
	return (addr - m->lo) >> PAGE_SHIFT;
}

/* Bad pages stay bad whatever happens to the range around them. */
static void ref_set(struct model *m, u64 base, u64 len, u8 state)
{
	for (u64 i = pidx(m, base); i < pidx(m, base + len); i++) {
		if (m->page[i] == REF_BAD)
			continue;
		m->free_pages += (state == REF_FREE) - (m->page[i] == REF_FREE);
		m->page[i] = state;
	}
}

static bool ref_all(const struct model *m, u64 first, u64 n, u8 state)
{
	if (first + n > m->npages)
		return false;
	for (u64 i = first; i < first + n; i++) {
		if (m->page[i] != state)
			return false;
	}
	return true;
}

static bool ref_any(const struct model *m, u64 first, u64 n, u8 state)
{
	for (u64 i = first; i < first + n; i++) {
		if (m->page[i] == state)
			return true;
	}
	return false;
}

/* Lowest address of a free run of npages aligned to align, or PMM_NONE. */
static u64 ref_first_fit(const struct model *m, u64 npages, u64 align)
{
	u64 run = 0;

	for (u64 i = 0; i < m->npages; i++) {
		run = m->page[i] == REF_FREE ? run + 1 : 0;
		if (run >= npages) {
			u64 start = m->lo + ((i + 1 - npages) << PAGE_SHIFT);
			u64 at = ALIGN_UP(start, align);

			if (at == start)
				return at;
		}
	}
	return PMM_NONE;
}

static bool ref_has_free_block(const struct model *m, unsigned order)
{
	u64 size = PAGE_SIZE << order;

	for (u64 at = ALIGN_UP(m->lo, size); pidx(m, at) + (1ULL << order) <= m->npages;
	     at += size) {
		if (ref_all(m, pidx(m, at), 1ULL << order, REF_FREE))
			return true;
	}
	return false;
}

static void rec_add(struct model *m, u64 base, u64 len, int order)
{
	assert_true(m->nrec < m->rec_cap);
	m->rec[m->nrec++] = (struct record){base, len, order};
}

static void rec_drop(struct model *m, size_t i)
{
	m->rec[i] = m->rec[--m->nrec];
}

static void op_alloc(struct model *m)
{
	u64 pick = rnd_below(m, 100);
	unsigned order = pick < 60   ? rnd_below(m, 3)
			 : pick < 90 ? 3 + rnd_below(m, 6)
				     : 9 + rnd_below(m, 5);
	u64 addr = pmm_alloc(&m->a.p, order);

	if (!ref_has_free_block(m, order)) {
		assert_int_equal(addr, PMM_NONE);
		return;
	}
	assert_int_not_equal(addr, PMM_NONE);
	assert_true(IS_ALIGNED(addr, PAGE_SIZE << order));
	assert_true(ref_all(m, pidx(m, addr), 1ULL << order, REF_FREE));
	ref_set(m, addr, PAGE_SIZE << order, REF_USED);
	rec_add(m, addr, PAGE_SIZE << order, (int)order);
}

static void op_free(struct model *m)
{
	size_t i;
	struct record r;

	if (m->nrec == 0)
		return;
	i = rnd_below(m, m->nrec);
	r = m->rec[i];
	if (r.order >= 0)
		assert_int_equal(pmm_free(&m->a.p, r.base, (unsigned)r.order), 0);
	else
		assert_int_equal(pmm_free_range(&m->a.p, r.base, r.len), 0);
	ref_set(m, r.base, r.len, REF_FREE);
	rec_drop(m, i);
}

/* Free a random page-aligned piece of a record; what is left stays recorded. */
static void op_free_part(struct model *m)
{
	size_t i;
	struct record r;
	u64 pages, first, n;

	if (m->nrec == 0)
		return;
	i = rnd_below(m, m->nrec);
	r = m->rec[i];
	pages = r.len >> PAGE_SHIFT;
	first = rnd_below(m, pages);
	n = 1 + rnd_below(m, pages - first);
	assert_int_equal(pmm_free_range(&m->a.p, r.base + (first << PAGE_SHIFT), n << PAGE_SHIFT),
			 0);
	ref_set(m, r.base + (first << PAGE_SHIFT), n << PAGE_SHIFT, REF_FREE);
	rec_drop(m, i);
	if (first > 0)
		rec_add(m, r.base, first << PAGE_SHIFT, -1);
	if (first + n < pages)
		rec_add(m, r.base + ((first + n) << PAGE_SHIFT), (pages - first - n) << PAGE_SHIFT,
			-1);
}

static void op_alloc_contig(struct model *m)
{
	u64 npages = 1 + rnd_below(m, rnd_below(m, 8) ? 32 : 600);
	u64 align = PAGE_SIZE << rnd_below(m, rnd_below(m, 4) ? 3 : 11);
	u64 expect = ref_first_fit(m, npages, align);
	u64 addr = pmm_alloc_contig(&m->a.p, npages << PAGE_SHIFT, align);

	assert_int_equal(addr, expect);
	if (addr != PMM_NONE) {
		ref_set(m, addr, npages << PAGE_SHIFT, REF_USED);
		rec_add(m, addr, npages << PAGE_SHIFT, -1);
	}
}

static void op_claim(struct model *m)
{
	u64 first = rnd_below(m, m->npages);
	u64 n = 1 + rnd_below(m, MIN(16, m->npages - first));
	u64 base = m->lo + (first << PAGE_SHIFT);
	bool ok = ref_all(m, first, n, REF_FREE);

	assert_int_equal(pmm_claim_range(&m->a.p, base, n << PAGE_SHIFT), ok ? 0 : -DV_EBUSY);
	if (ok) {
		ref_set(m, base, n << PAGE_SHIFT, REF_USED);
		rec_add(m, base, n << PAGE_SHIFT, -1);
	}
}

/* Free a range that is not entirely allocated: must be refused, changing nothing. */
static void op_bad_free(struct model *m)
{
	u64 first = rnd_below(m, m->npages);
	u64 n = 1 + rnd_below(m, MIN(16, m->npages - first));
	u64 base = m->lo + (first << PAGE_SHIFT);
	u64 free_before = pmm_free_bytes(&m->a.p);
	int expect;

	if (ref_any(m, first, n, REF_ABSENT))
		expect = -DV_EFAULT;
	else if (ref_any(m, first, n, REF_FREE))
		expect = -DV_EBUSY;
	else
		return; /* all allocated: a legal free, not this test */
	assert_int_equal(pmm_free_range(&m->a.p, base, n << PAGE_SHIFT), expect);
	assert_int_equal(pmm_free_bytes(&m->a.p), free_before);
}

/* A bad page found at run time: only pages nobody owns are reserved here. */
static void op_reserve_page(struct model *m)
{
	u64 first = rnd_below(m, m->npages);
	u64 base = m->lo + (first << PAGE_SHIFT);

	if (m->page[first] == REF_USED || m->page[first] == REF_BAD)
		return;
	assert_int_equal(pmm_reserve(&m->a.p, base, PAGE_SIZE), 0);
	ref_set(m, base, PAGE_SIZE, REF_ABSENT);
}

/* A page found bad at run time, free or allocated. */
static void op_mark_bad(struct model *m)
{
	u64 first = rnd_below(m, m->npages);
	u64 base = m->lo + (first << PAGE_SHIFT);
	u8 was = m->page[first];
	int expect = was == REF_ABSENT	      ? -DV_ENOENT
		     : was == REF_BAD	      ? 0
		     : m->nbad == PMM_MAX_BAD ? -DV_E2BIG
					      : 0;

	assert_int_equal(pmm_mark_bad(&m->a.p, base), expect);
	if (expect == 0 && was != REF_BAD) {
		m->free_pages -= was == REF_FREE;
		m->page[first] = REF_BAD;
		m->nbad++;
	}
}

/* Bad pages among the n pages from first, or -1 if one is neither free nor bad. */
static int ref_bad_or_busy(const struct model *m, u64 first, u64 n)
{
	int bad = 0;

	for (u64 i = first; i < first + n; i++) {
		if (m->page[i] == REF_BAD)
			bad++;
		else if (m->page[i] != REF_FREE)
			return -1;
	}
	return bad;
}

static void op_claim_bad(struct model *m)
{
	u64 first = rnd_below(m, m->npages);
	u64 n = 1 + rnd_below(m, MIN(64, m->npages - first));
	u64 base = m->lo + (first << PAGE_SHIFT), bad[2];
	int nbad = ref_bad_or_busy(m, first, n);
	int expect = nbad < 0 ? -DV_EBUSY : nbad > 2 ? -DV_E2BIG : nbad;

	assert_int_equal(pmm_claim_range_bad(&m->a.p, base, n << PAGE_SHIFT, bad, 2), expect);
	if (expect >= 0) {
		for (int i = 0; i < expect; i++)
			assert_int_equal(m->page[pidx(m, bad[i])], REF_BAD);
		m->claims_across_bad += expect > 0;
		ref_set(m, base, n << PAGE_SHIFT, REF_USED);
		rec_add(m, base, n << PAGE_SHIFT, -1);
	}
}

static void op_alloc_contig_bad(struct model *m)
{
	u64 npages = 1 + rnd_below(m, rnd_below(m, 4) ? 32 : 600);
	u64 align = PAGE_SIZE << rnd_below(m, rnd_below(m, 4) ? 3 : 11);
	u64 expect = PMM_NONE, bad[2];
	unsigned nbad = 99;
	u64 addr;

	for (u64 at = ALIGN_UP(m->lo, align); pidx(m, at) + npages <= m->npages; at += align) {
		int n = ref_bad_or_busy(m, pidx(m, at), npages);

		if (n >= 0 && n <= 2) {
			expect = at;
			break;
		}
	}
	addr = pmm_alloc_contig_bad(&m->a.p, npages << PAGE_SHIFT, align, bad, 2, &nbad);
	assert_int_equal(addr, expect);
	if (addr != PMM_NONE) {
		assert_int_equal(nbad, ref_bad_or_busy(m, pidx(m, addr), npages));
		m->claims_across_bad += nbad > 0;
		ref_set(m, addr, npages << PAGE_SHIFT, REF_USED);
		rec_add(m, addr, npages << PAGE_SHIFT, -1);
	}
}

/* Everything observable against the reference. With buddies always coalesced the
 * free blocks are exactly the maximal aligned all-free blocks, so the per-order
 * counts follow from the reference too. */
static void model_compare(struct model *m)
{
	u64 counts[PMM_ORDERS], expect[PMM_ORDERS] = {0};
	u64 run = 0, best = 0, best_base = PMM_NONE, base, largest_block = 0;

	assert_int_equal(pmm_check(&m->a.p), 0);
	for (u64 i = 0; i < m->npages; i++) {
		u64 addr = m->lo + (i << PAGE_SHIFT);
		enum pmm_page_state s = pmm_page_state(&m->a.p, addr);

		assert_int_equal(s, m->page[i] == REF_FREE   ? PMM_PAGE_FREE
				    : m->page[i] == REF_USED ? PMM_PAGE_ALLOCATED
				    : m->page[i] == REF_BAD  ? PMM_PAGE_BAD
							     : PMM_PAGE_ABSENT);
		run = m->page[i] == REF_FREE ? run + 1 : 0;
		if (run << PAGE_SHIFT > best) {
			best = run << PAGE_SHIFT;
			best_base = addr + PAGE_SIZE - best;
		}
	}
	for (u64 i = 0; i < m->npages;) {
		unsigned order = 0;
		u64 addr = m->lo + (i << PAGE_SHIFT);

		if (m->page[i] != REF_FREE) {
			i++;
			continue;
		}
		while (order < PMM_MAX_ORDER && IS_ALIGNED(addr, PAGE_SIZE << (order + 1)) &&
		       ref_all(m, i, 2ULL << order, REF_FREE))
			order++;
		expect[order]++;
		largest_block = MAX(largest_block, PAGE_SIZE << order);
		i += 1ULL << order;
	}
	pmm_free_counts(&m->a.p, counts);
	assert_memory_equal(counts, expect, sizeof(counts));
	assert_int_equal(pmm_largest_free_block(&m->a.p), largest_block);
	assert_int_equal(pmm_largest_free_range(&m->a.p, &base), best);
	assert_int_equal(base, best_base);
}

static void test_randomized_against_reference(void **state)
{
	/* Unaligned span, a hole, an image and bad pages: every edge case at once. */
	const u64 lo = 0x3000, hi = 0x3000 + 40 * MiB + 0x5000;
	const int ops = 40000, compare_every = 250;
	struct model m = {.lo = lo, .rng = 0x9e3779b97f4a7c15ULL};

	m.npages = (hi - lo) >> PAGE_SHIFT;
	m.page = calloc(m.npages, 1);
	m.rec_cap = m.npages + 16;
	m.rec = calloc(m.rec_cap, sizeof(*m.rec));
	assert_non_null(m.page);
	assert_non_null(m.rec);
	arena_open(&m.a, lo, hi);
	assert_int_equal(pmm_add_free(&m.a.p, lo, 12 * MiB + 0x800), 0);
	ref_set(&m, lo, 12 * MiB, REF_FREE);
	assert_int_equal(pmm_add_free(&m.a.p, lo + 13 * MiB, hi - lo - 13 * MiB), 0);
	ref_set(&m, lo + 13 * MiB, hi - lo - 13 * MiB, REF_FREE);
	assert_int_equal(pmm_reserve(&m.a.p, 0x100000, 0x2a345), 0);
	ref_set(&m, 0x100000, 0x2b000, REF_ABSENT);
	model_compare(&m);

	for (int op = 1; op <= ops; op++) {
		u64 pick = rnd_below(&m, 100);

		if (pick < 35)
			op_alloc(&m);
		else if (pick < 65)
			op_free(&m);
		else if (pick < 75)
			op_free_part(&m);
		else if (pick < 83)
			op_alloc_contig(&m);
		else if (pick < 91)
			op_claim(&m);
		else if (pick < 95)
			op_bad_free(&m);
		else if (pick < 96)
			op_reserve_page(&m);
		else if (pick < 97)
			op_mark_bad(&m);
		else if (pick < 98)
			op_claim_bad(&m);
		else
			op_alloc_contig_bad(&m);
		assert_int_equal(pmm_free_bytes(&m.a.p), m.free_pages << PAGE_SHIFT);
		if (op % compare_every == 0)
			model_compare(&m);
	}
	assert_true(m.nbad > 0 && m.claims_across_bad > 0);
	/* Give everything back: only the reserved and bad pages and the hole stay out. */
	while (m.nrec)
		op_free(&m);
	model_compare(&m);
	assert_int_equal(pmm_free_bytes(&m.a.p), pmm_total_bytes(&m.a.p));

	arena_close(&m.a);
	free(m.page);
	free(m.rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata_size_is_about_three_bits_per_page),
		cmocka_unit_test(test_metadata_size_of_invalid_span_is_zero),
		cmocka_unit_test(test_init_rejects_bad_arguments),
		cmocka_unit_test(test_fresh_span_has_nothing_free),
		cmocka_unit_test(test_alloc_every_order_is_naturally_aligned),
		cmocka_unit_test(test_alloc_rejects_order_above_max),
		cmocka_unit_test(test_split_of_fresh_gib_leaves_one_block_per_order),
		cmocka_unit_test(test_free_coalesces_back_to_one_block),
		cmocka_unit_test(test_fresh_allocator_hands_out_ascending_addresses),
		cmocka_unit_test(test_most_recently_freed_block_is_reused_first),
		cmocka_unit_test(test_add_free_shrinks_inward_to_pages),
		cmocka_unit_test(test_add_free_adjacent_ranges_coalesce),
		cmocka_unit_test(test_add_free_overlapping_managed_rejected),
		cmocka_unit_test(test_add_free_outside_span_rejected),
		cmocka_unit_test(test_reserve_image_like_ranges),
		cmocka_unit_test(test_reserve_is_idempotent),
		cmocka_unit_test(test_reserve_overlapping_non_ram),
		cmocka_unit_test(test_reserve_unaligned_rounds_outward),
		cmocka_unit_test(test_reserve_outside_span_is_clipped),
		cmocka_unit_test(test_bad_pages_are_never_handed_out),
		cmocka_unit_test(test_exhaustion_returns_none_and_zero_free),
		cmocka_unit_test(test_largest_block_and_range_after_fragmentation),
		cmocka_unit_test(test_next_free_range_iterates_runs),
		cmocka_unit_test(test_alloc_contig_non_power_of_two_sizes),
		cmocka_unit_test(test_alloc_contig_spans_several_blocks),
		cmocka_unit_test(test_alloc_contig_fails_when_fragmented),
		cmocka_unit_test(test_alloc_contig_rejects_bad_arguments),
		cmocka_unit_test(test_claim_range_is_all_or_nothing),
		cmocka_unit_test(test_claim_range_rejects_bad_arguments),
		cmocka_unit_test(test_free_range_of_arbitrary_ranges),
		cmocka_unit_test(test_double_free_rejected_without_change),
		cmocka_unit_test(test_free_bad_arguments_rejected_without_change),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_span_not_gib_aligned),
		cmocka_unit_test(test_span_with_unaligned_edges),
		cmocka_unit_test(test_gib_blocks),
		cmocka_unit_test(test_vmm_segment_sized_range),
		cmocka_unit_test(test_mark_bad_takes_a_free_page_out),
		cmocka_unit_test(test_mark_bad_twice_is_a_noop),
		cmocka_unit_test(test_mark_bad_of_unmanaged_page_is_enoent),
		cmocka_unit_test(test_mark_bad_of_an_allocated_page),
		cmocka_unit_test(test_mark_bad_list_full_is_e2big),
		cmocka_unit_test(test_add_free_over_a_bad_page_keeps_it_bad),
		cmocka_unit_test(test_claim_range_bad_spans_bad_pages),
		cmocka_unit_test(test_claim_range_bad_refuses_an_allocated_page),
		cmocka_unit_test(test_claim_range_bad_too_many_bad_is_e2big),
		cmocka_unit_test(test_free_range_skips_bad_pages),
		cmocka_unit_test(test_alloc_contig_bad_finds_a_range_across_bad_pages),
		cmocka_unit_test(test_alloc_contig_bad_respects_max_bad),
		cmocka_unit_test(test_alloc_contig_bad_skips_allocated_pages),
		cmocka_unit_test(test_carve_pool_takes_a_range_with_its_metadata_inside),
		cmocka_unit_test(test_pool_allocations_stay_inside_the_pool),
		cmocka_unit_test(test_carve_pool_without_room_is_enomem),
		cmocka_unit_test(test_carve_pool_rejects_bad_arguments),
		cmocka_unit_test(test_owner_map_is_four_bytes_per_page),
		cmocka_unit_test(test_owner_set_get_clear),
		cmocka_unit_test(test_owner_set_refuses_a_frame_not_allocated),
		cmocka_unit_test(test_owner_set_refuses_an_owned_frame),
		cmocka_unit_test(test_owner_gpa_limit),
		cmocka_unit_test(test_free_clears_the_owner),
		cmocka_unit_test(test_owner_without_a_map_is_enosys),
		cmocka_unit_test(test_check_detects_an_owner_on_a_free_page),
		cmocka_unit_test(test_randomized_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
