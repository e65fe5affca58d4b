/* Unit tests for the page-table engine (mm/pagetable.c). Tables live in a malloc'd
 * arena that stands in for physical memory: "physical" addresses start at 4 GiB so
 * that a truncated address cannot pass, fresh pages are filled with garbage (the
 * engine must zero them), freed pages are poisoned and any access to a page that is
 * not allocated fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dimvisor/errno.h>
#include "mm/pagetable.h"

/* --- the fake physical memory ------------------------------------------------------ */

#define ARENA_BASE 0x100000000ULL

struct arena {
	u8 *mem;
	size_t npages;
	u32 *free_stack;
	size_t nfree;
	bool *used;
	u64 allocs, frees, ptr_calls;
	long fail_after; /* allocations that still succeed; -1: all of them */
};

static u64 arena_alloc(void *ctx)
{
	struct arena *a = ctx;
	u32 idx;

	if (a->fail_after == 0 || a->nfree == 0)
		return PT_NO_TABLE;
	if (a->fail_after > 0)
		a->fail_after--;
	idx = a->free_stack[--a->nfree];
	assert_false(a->used[idx]);
	a->used[idx] = true;
	memset(a->mem + (size_t)idx * PAGE_SIZE, 0xa5, PAGE_SIZE); /* not zeroed */
	a->allocs++;
	return ARENA_BASE + (u64)idx * PAGE_SIZE;
}

static size_t arena_index(const struct arena *a, u64 phys)
{
	/* one branch, not three asserts: this is on every table access */
	if (phys < ARENA_BASE || !IS_ALIGNED(phys, PAGE_SIZE) ||
	    (phys - ARENA_BASE) / PAGE_SIZE >= a->npages)
		fail_msg("table address %#llx outside the arena", (unsigned long long)phys);
	return (phys - ARENA_BASE) / PAGE_SIZE;
}

static void arena_free(void *ctx, u64 phys)
{
	struct arena *a = ctx;
	size_t idx = arena_index(a, phys);

	assert_true(a->used[idx]); /* no double free */
	a->used[idx] = false;
	memset(a->mem + idx * PAGE_SIZE, 0x5a, PAGE_SIZE);
	a->free_stack[a->nfree++] = (u32)idx;
	a->frees++;
}

static void *arena_ptr(void *ctx, u64 phys)
{
	struct arena *a = ctx;
	size_t idx = arena_index(a, phys);

	if (!a->used[idx]) /* no use after free */
		fail_msg("table %#llx used after free", (unsigned long long)phys);
	a->ptr_calls++;
	return a->mem + idx * PAGE_SIZE;
}

static u64 arena_live(const struct arena *a)
{
	return a->allocs - a->frees;
}

static void arena_init(struct arena *a, size_t npages)
{
	*a = (struct arena){.npages = npages, .fail_after = -1};
	a->mem = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);
	a->free_stack = malloc(npages * sizeof(*a->free_stack));
	a->used = calloc(npages, sizeof(*a->used));
	assert_non_null(a->mem);
	assert_non_null(a->free_stack);
	assert_non_null(a->used);
	for (size_t i = 0; i < npages; i++)
		a->free_stack[i] = (u32)(npages - 1 - i);
	a->nfree = npages;
}

static void arena_fini(struct arena *a)
{
	free(a->mem);
	free(a->free_stack);
	free(a->used);
}

/* A page table over its own arena. */
struct fx {
	struct arena a;
	struct pagetable pt;
};

static struct fx *fx_new(enum pt_format fmt, unsigned sizes, size_t npages)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pt_ops ops = {arena_alloc, arena_free, arena_ptr, 0, NULL};

	assert_non_null(f);
	arena_init(&f->a, npages);
	ops.ctx = &f->a;
	assert_int_equal(pt_init(&f->pt, fmt, sizes, &ops), 0);
	return f;
}

/* Destroy, check that every table came back, free. */
static void fx_free(struct fx *f)
{
	pt_destroy(&f->pt);
	assert_int_equal(f->a.allocs, f->a.frees);
	arena_fini(&f->a);
	free(f);
}

static void expect_counts(const struct pagetable *pt, u64 t4, u64 t3, u64 t2, u64 t1, u64 l3,
			  u64 l2, u64 l1)
{
	assert_int_equal(pt->tables[4], t4);
	assert_int_equal(pt->tables[3], t3);
	assert_int_equal(pt->tables[2], t2);
	assert_int_equal(pt->tables[1], t1);
	assert_int_equal(pt->leaves[3], l3);
	assert_int_equal(pt->leaves[2], l2);
	assert_int_equal(pt->leaves[1], l1);
}

static void expect_xlate(const struct pagetable *pt, u64 va, u64 pa, unsigned perms, unsigned level)
{
	u64 got_pa = 0;
	unsigned got_perms = 0, got_level = 0;

	assert_int_equal(pt_translate(pt, va, &got_pa, &got_perms, &got_level), 0);
	assert_int_equal(got_pa, pa);
	assert_int_equal(got_perms, perms);
	assert_int_equal(got_level, level);
}

static void expect_unmapped(const struct pagetable *pt, u64 va)
{
	assert_int_equal(pt_translate(pt, va, NULL, NULL, NULL), -DV_ENOENT);
}

/* --- entry encoding ---------------------------------------------------------------- */

static void test_x86_entry_bits(void **state)
{
	(void)state;
	/* P|RW|NX */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x1234000, PT_RW, 1), 0x8000000001234003ULL);
	/* P|RW|PS, executable */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x40000000, PT_RWX, 3), 0x40000083ULL);
	/* P|PS|G */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x200000, PT_RX | PT_GLOBAL, 2), 0x200181ULL);
	/* P|RW|PWT|PCD|NX */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0xfee00000, PT_RW | PT_UC, 1),
			 0x80000000fee0001bULL);
	/* P|US|NX */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x5000, PT_R | PT_USER, 1),
			 0x8000000000005005ULL);
	/* a 2 MiB frame drops address bits 20:12 (bit 12 would be PAT) */
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x40201000, PT_RWX, 2), 0x40200083ULL);
	assert_int_equal(pt_make_leaf(PT_FMT_X86, 0x1000, PT_RWX, 4), 0);
	/* non-leaf: P|RW|US */
	assert_int_equal(pt_make_table_entry(PT_FMT_X86, 0x123000), 0x123007ULL);
	assert_int_equal(pt_make_table_entry(PT_FMT_X86, 0xfffff00123000ULL), 0xfffff00123007ULL);
}

static void test_ept_entry_bits(void **state)
{
	(void)state;
	/* 2 MiB RWX WB: PS | memtype 6 << 3 | RWX */
	assert_int_equal(pt_make_leaf(PT_FMT_EPT, 0x40000000, PT_RWX, 2),
			 0x40000000ULL | 0x80 | 0x30 | 0x7);
	assert_int_equal(pt_make_leaf(PT_FMT_EPT, 0x1000, PT_R, 1), 0x1031ULL);
	/* 1 GiB RW UC: memtype 0 */
	assert_int_equal(pt_make_leaf(PT_FMT_EPT, 0x80000000, PT_RW | PT_UC, 3), 0x80000083ULL);
	/* execute-only */
	assert_int_equal(pt_make_leaf(PT_FMT_EPT, 0x2000, PT_X, 1), 0x2034ULL);
	assert_int_equal(pt_make_table_entry(PT_FMT_EPT, 0x123000), 0x123007ULL);
}

static void test_entry_decode_round_trips(void **state)
{
	static const unsigned x86_perms[] = {PT_R,	    PT_RW,	     PT_RX,
					     PT_RWX,	    PT_R | PT_USER,  PT_RWX | PT_GLOBAL,
					     PT_RW | PT_UC, PT_RWX | PT_USER};
	static const unsigned ept_perms[] = {PT_R, PT_RW, PT_RX, PT_RWX, PT_X, PT_RW | PT_UC};
	(void)state;

	for (unsigned level = 1; level <= 3; level++) {
		u64 pa = 0xabc00000000ULL;

		for (size_t i = 0; i < ARRAY_SIZE(x86_perms); i++) {
			u64 e = pt_make_leaf(PT_FMT_X86, pa, x86_perms[i], level);

			assert_true(pt_entry_present(PT_FMT_X86, e));
			assert_true(pt_entry_is_leaf(PT_FMT_X86, e, level));
			assert_int_equal(pt_entry_addr(PT_FMT_X86, e, level), pa);
			assert_int_equal(pt_entry_perms(PT_FMT_X86, e), x86_perms[i]);
		}
		for (size_t i = 0; i < ARRAY_SIZE(ept_perms); i++) {
			u64 e = pt_make_leaf(PT_FMT_EPT, pa, ept_perms[i], level);

			assert_true(pt_entry_present(PT_FMT_EPT, e));
			assert_true(pt_entry_is_leaf(PT_FMT_EPT, e, level));
			assert_int_equal(pt_entry_addr(PT_FMT_EPT, e, level), pa);
			assert_int_equal(pt_entry_perms(PT_FMT_EPT, e), ept_perms[i]);
		}
	}
	/* table entries are not leaves above level 1; nothing is a leaf at level 4 */
	assert_false(pt_entry_is_leaf(PT_FMT_X86, pt_make_table_entry(PT_FMT_X86, 0x5000), 2));
	assert_false(pt_entry_is_leaf(PT_FMT_EPT, pt_make_table_entry(PT_FMT_EPT, 0x5000), 4));
	assert_false(pt_entry_present(PT_FMT_EPT, 0x30)); /* memtype but RWX = 0 */
	assert_false(pt_entry_present(PT_FMT_X86, 0x8000000000001002ULL));
}

/* --- init and argument checks ------------------------------------------------------ */

static void test_init_rejects_bad_arguments(void **state)
{
	struct arena a;
	struct pagetable pt;
	struct pt_ops ops = {arena_alloc, arena_free, arena_ptr, 0, &a};
	struct pt_ops no_alloc = {NULL, arena_free, arena_ptr, 0, &a};
	(void)state;

	arena_init(&a, 4);
	assert_int_equal(pt_init(&pt, PT_FMT_X86, 0, &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_X86, PT_SIZE_2M, &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_X86, PT_SIZE_4K | PT_SIZE_1G, &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_X86, PT_SIZE_ALL | (1u << 4), &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_X86, PT_SIZE_4K | 1u, &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, (enum pt_format)7, PT_SIZE_ALL, &ops), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_EPT, PT_SIZE_ALL, &no_alloc), -DV_EINVAL);
	assert_int_equal(pt_init(&pt, PT_FMT_EPT, PT_SIZE_ALL, NULL), -DV_EINVAL);
	a.fail_after = 0;
	assert_int_equal(pt_init(&pt, PT_FMT_EPT, PT_SIZE_ALL, &ops), -DV_ENOMEM);
	pt_destroy(&pt); /* harmless on a table that never got a root */
	assert_int_equal(a.allocs, 0);
	arena_fini(&a);
}

static void test_init_allocates_a_zeroed_root(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 4);
	(void)state;

	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(arena_live(&f->a), 1);
	expect_unmapped(&f->pt, 0);
	expect_unmapped(&f->pt, 0xffffffffffffULL);
	assert_false(f->pt.needs_flush);
	fx_free(f);
}

static void test_misaligned_input_is_einval(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x1001, 0, PAGE_SIZE, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0x1000, 0x800, PAGE_SIZE, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0x1000, 0x2000, 0x1800, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_unmap(&f->pt, 0x1000, 0x10), -DV_EINVAL);
	assert_int_equal(pt_protect(&f->pt, 0x10, PAGE_SIZE, PT_R), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0x1000, 0x1000, 0, PT_RW), 0); /* empty: no-op */
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	fx_free(f);
}

static void test_x86_noncanonical_is_einval(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x0000800000000000ULL, 0, PAGE_SIZE, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0xffff7ffffffff000ULL, 0, PAGE_SIZE, PT_RW), -DV_EINVAL);
	/* a range running off the lower half */
	assert_int_equal(pt_map(&f->pt, 0x00007ffffffff000ULL, 0, 2 * PAGE_SIZE, PT_RW),
			 -DV_EINVAL);
	/* a range wrapping past 2^64 */
	assert_int_equal(pt_unmap(&f->pt, 0xfffffffffffff000ULL, 2 * PAGE_SIZE), -DV_EINVAL);
	assert_int_equal(pt_translate(&f->pt, 0x0000800000000000ULL, NULL, NULL, NULL), -DV_EINVAL);
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);

	/* the upper half works, up to the very last page */
	assert_int_equal(pt_map(&f->pt, 0xffff800000000000ULL, 0x1000000, PAGE_2M, PT_RW), 0);
	expect_xlate(&f->pt, 0xffff800000012345ULL, 0x1012345, PT_RW, 2);
	assert_int_equal(pt_map(&f->pt, 0xfffffffffffff000ULL, 0x5000, PAGE_SIZE, PT_RX), 0);
	expect_xlate(&f->pt, 0xffffffffffffffffULL, 0x5fff, PT_RX, 1);
	expect_unmapped(&f->pt, 0x00007ffffffff000ULL); /* same index bits, other half */
	expect_counts(&f->pt, 1, 2, 2, 1, 0, 1, 1);
	fx_free(f);
}

static void test_ept_address_limits(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 1ULL << 48, 0, PAGE_SIZE, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, (1ULL << 48) - PAGE_SIZE, 0, 2 * PAGE_SIZE, PT_RW),
			 -DV_EINVAL);
	/* host-physical addresses end at 2^52 */
	assert_int_equal(pt_map(&f->pt, 0, 1ULL << 52, PAGE_SIZE, PT_RW), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0, (1ULL << 52) - PAGE_SIZE, 2 * PAGE_SIZE, PT_RW),
			 -DV_EINVAL);
	/* EPT has no canonical hole: 2^47 is an ordinary guest-physical address */
	assert_int_equal(pt_map(&f->pt, 0x7ffffffff000ULL, 0x1000, 2 * PAGE_SIZE, PT_RW), 0);
	expect_xlate(&f->pt, 0x800000000000ULL, 0x2000, PT_RW, 1);
	assert_int_equal(
		pt_map(&f->pt, (1ULL << 48) - PAGE_SIZE, (1ULL << 52) - PAGE_SIZE, PAGE_SIZE, PT_R),
		0);
	expect_xlate(&f->pt, (1ULL << 48) - 1, (1ULL << 52) - 1, PT_R, 1);
	fx_free(f);
}

static void test_invalid_perms_are_einval(void **state)
{
	struct fx *x = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	struct fx *e = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&x->pt, 0, 0, PAGE_SIZE, 0), -DV_EINVAL);
	assert_int_equal(pt_map(&x->pt, 0, 0, PAGE_SIZE, PT_W), -DV_EINVAL);
	assert_int_equal(pt_map(&x->pt, 0, 0, PAGE_SIZE, PT_X), -DV_EINVAL); /* no X-only */
	assert_int_equal(pt_map(&x->pt, 0, 0, PAGE_SIZE, PT_R | (1u << 6)), -DV_EINVAL);
	assert_int_equal(pt_map(&e->pt, 0, 0, PAGE_SIZE, 0), -DV_EINVAL);
	assert_int_equal(pt_map(&e->pt, 0, 0, PAGE_SIZE, PT_W), -DV_EINVAL);
	assert_int_equal(pt_map(&e->pt, 0, 0, PAGE_SIZE, PT_RW | PT_USER), -DV_EINVAL);
	assert_int_equal(pt_map(&e->pt, 0, 0, PAGE_SIZE, PT_RW | PT_GLOBAL), -DV_EINVAL);
	assert_int_equal(pt_map(&e->pt, 0, 0, PAGE_SIZE, PT_X), 0); /* execute-only */
	assert_int_equal(pt_protect(&e->pt, 0, PAGE_SIZE, PT_W), -DV_EINVAL);
	assert_int_equal(x->a.allocs, 1);
	fx_free(x);
	fx_free(e);
}

/* --- page-size selection ----------------------------------------------------------- */

static void test_map_1g_with_4k_pages_counts(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_4K, 600);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RW), 0);
	/* 1 PML4 + 1 PDPT + 1 PD + 512 PTs; 262144 4 KiB leaves */
	expect_counts(&f->pt, 1, 1, 1, 512, 0, 0, 262144);
	assert_int_equal(arena_live(&f->a), 515);
	expect_xlate(&f->pt, 0x12345678, 0x12345678, PT_RW, 1);
	expect_xlate(&f->pt, GiB - 1, GiB - 1, PT_RW, 1);
	expect_unmapped(&f->pt, GiB);
	assert_false(f->pt.needs_flush);
	fx_free(f);
}

static void test_map_misaligned_pa_uses_4k_pages(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 600);
	(void)state;

	/* va is 1 GiB aligned, pa only 4 KiB: every leaf is 4 KiB */
	assert_int_equal(pt_map(&f->pt, GiB, GiB + PAGE_SIZE, GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 1, 512, 0, 0, 262144);
	expect_xlate(&f->pt, GiB + 0x200000, GiB + 0x201000, PT_RWX, 1);
	fx_free(f);
}

static void test_map_pa_2m_aligned_uses_2m_pages(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, GiB, 0x200000, GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	expect_xlate(&f->pt, GiB + 0x3fffff, 0x5fffff, PT_RWX, 2);
	fx_free(f);
}

static void test_map_picks_largest_pages(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	u64 va = GiB - PAGE_2M;
	u64 pa = 5 * GiB - PAGE_2M; /* same alignment as va, modulo 1 GiB */
	(void)state;

	/* [1G-2M, 1G) one 2 MiB page, [1G, 2G) one 1 GiB page, [2G, 2G+4K) one 4 KiB page */
	assert_int_equal(pt_map(&f->pt, va, pa, PAGE_2M + GiB + PAGE_SIZE, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 2, 1, 1, 1, 1);
	expect_xlate(&f->pt, va, pa, PT_RWX, 2);
	expect_xlate(&f->pt, GiB, 5 * GiB, PT_RWX, 3);
	expect_xlate(&f->pt, 2 * GiB - 1, 6 * GiB - 1, PT_RWX, 3);
	expect_xlate(&f->pt, 2 * GiB, 6 * GiB, PT_RWX, 1);
	expect_unmapped(&f->pt, 2 * GiB + PAGE_SIZE);
	expect_unmapped(&f->pt, va - PAGE_SIZE);
	fx_free(f);
}

static void test_page_sizes_mask_is_respected(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_4K | PT_SIZE_2M, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, 2 * GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 2, 0, 0, 1024, 0);
	expect_xlate(&f->pt, GiB + 5, GiB + 5, PT_RWX, 2);
	/* a merge into a 1 GiB leaf is refused too */
	assert_int_equal(pt_merge(&f->pt, 0, 3), -DV_EINVAL);
	expect_counts(&f->pt, 1, 1, 2, 0, 0, 1024, 0);
	fx_free(f);
}

/* --- replacing, unmapping, protecting ---------------------------------------------- */

static void test_map_replaces_tables_with_a_large_leaf(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 600);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x1000, GiB, PT_RW), 0); /* 4 KiB leaves */
	expect_counts(&f->pt, 1, 1, 1, 512, 0, 0, 262144);
	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, GiB, PT_RWX), 0); /* one 1 GiB leaf */
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	assert_int_equal(arena_live(&f->a), 2);
	assert_true(f->pt.needs_flush);
	expect_xlate(&f->pt, 0x1234567, 4 * GiB + 0x1234567, PT_RWX, 3);
	fx_free(f);
}

static void test_map_over_part_of_large_page_splits_it(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RWX), 0);
	/* 2 MiB at 4 MiB moved elsewhere: only the 1 GiB page splits, into 2 MiB pages */
	assert_int_equal(pt_map(&f->pt, 4 * MiB, 8 * GiB, PAGE_2M, PT_RW), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	expect_xlate(&f->pt, 4 * MiB + 7, 8 * GiB + 7, PT_RW, 2);
	expect_xlate(&f->pt, 6 * MiB, 6 * MiB, PT_RWX, 2);
	fx_free(f);
}

static void test_map_identical_is_a_noop(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RW), 0);
	/* a piece of what the 1 GiB leaf already maps: no split, no flush */
	assert_int_equal(pt_map(&f->pt, 0x5000, 0x5000, 0x3000, PT_RW), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	assert_false(f->pt.needs_flush);
	fx_free(f);
}

static void test_unmap_hole_in_1g_page(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	u64 va = GiB, pa = 2 * GiB, hole = GiB + 0x12345000;
	(void)state;

	assert_int_equal(pt_map(&f->pt, va, pa, GiB, PT_RWX), 0);
	assert_int_equal(pt_unmap(&f->pt, hole, PAGE_SIZE), 0);
	/* 1 GiB -> 512 x 2 MiB, the one with the hole -> 512 x 4 KiB, minus the hole */
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 511, 511);
	expect_unmapped(&f->pt, hole);
	expect_unmapped(&f->pt, hole + PAGE_SIZE - 1);
	expect_xlate(&f->pt, hole - PAGE_SIZE, pa + 0x12344000, PT_RWX, 1);
	expect_xlate(&f->pt, hole + PAGE_SIZE, pa + 0x12346000, PT_RWX, 1);
	expect_xlate(&f->pt, GiB + 0x12200000, pa + 0x12200000, PT_RWX, 1);
	expect_xlate(&f->pt, GiB + 0x12400000, pa + 0x12400000, PT_RWX, 2);
	expect_xlate(&f->pt, va, pa, PT_RWX, 2);
	expect_xlate(&f->pt, 2 * GiB - 1, pa + GiB - 1, PT_RWX, 2);
	assert_true(f->pt.needs_flush);
	fx_free(f);
}

static void test_unmap_frees_empty_tables(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x1000, 0x1000, PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_map(&f->pt, 0x3000, 0x3000, PAGE_SIZE, PT_RW), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 2);
	assert_int_equal(pt_unmap(&f->pt, 0x1000, PAGE_SIZE), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 1); /* the PT still holds 0x3000 */
	assert_int_equal(pt_unmap(&f->pt, 0x3000, PAGE_SIZE), 0);
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(arena_live(&f->a), 1);

	/* unmapping everything from a sparse, mixed table leaves only the root */
	assert_int_equal(pt_map(&f->pt, 0, 0, 3 * GiB + PAGE_2M + PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_map(&f->pt, 600 * GiB, 0, PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_unmap(&f->pt, 0, 1024 * GiB), 0);
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(arena_live(&f->a), 1);
	fx_free(f);
}

static void test_unmap_of_nothing_is_fine(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_unmap(&f->pt, 0x1000, 64 * GiB), 0);
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	assert_false(f->pt.needs_flush);
	assert_int_equal(f->a.allocs, 1);
	fx_free(f);
}

static void test_protect_splits_and_keeps_frames(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, PAGE_2M, 2 * PAGE_2M, PAGE_2M, PT_RW), 0);
	assert_false(f->pt.needs_flush);
	assert_int_equal(pt_protect(&f->pt, PAGE_2M + 0x1000, PAGE_SIZE, PT_R), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 512);
	expect_xlate(&f->pt, PAGE_2M + 0x1000, 2 * PAGE_2M + 0x1000, PT_R, 1);
	expect_xlate(&f->pt, PAGE_2M, 2 * PAGE_2M, PT_RW, 1);
	expect_xlate(&f->pt, PAGE_2M + 0x2000, 2 * PAGE_2M + 0x2000, PT_RW, 1);
	assert_true(f->pt.needs_flush); /* write permission was taken away */

	/* the whole 2 MiB read-only: still 4 KiB leaves until merged */
	assert_int_equal(pt_protect(&f->pt, PAGE_2M, PAGE_2M, PT_R), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 512);
	assert_int_equal(pt_merge(&f->pt, PAGE_2M, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 1, 0);
	expect_xlate(&f->pt, PAGE_2M + 0x1000, 2 * PAGE_2M + 0x1000, PT_R, 2);
	fx_free(f);
}

static void test_protect_same_perms_does_not_split(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RW), 0);
	assert_int_equal(pt_protect(&f->pt, 0x5000, PAGE_SIZE, PT_RW), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	assert_false(f->pt.needs_flush);
	/* adding rights to a whole leaf rewrites it in place, no flush needed */
	assert_int_equal(pt_protect(&f->pt, 0, GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	expect_xlate(&f->pt, 0x5000, 0x5000, PT_RWX, 3);
	assert_false(f->pt.needs_flush);
	fx_free(f);
}

static void test_protect_hole_is_enoent_and_changes_nothing(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x10000, 2 * PAGE_SIZE, PT_RWX), 0);
	assert_int_equal(pt_map(&f->pt, 3 * PAGE_SIZE, 0x20000, PAGE_SIZE, PT_RWX), 0);
	assert_int_equal(pt_protect(&f->pt, 0, 4 * PAGE_SIZE, PT_R), -DV_ENOENT);
	expect_xlate(&f->pt, 0, 0x10000, PT_RWX, 1);
	expect_xlate(&f->pt, PAGE_SIZE, 0x11000, PT_RWX, 1);
	expect_xlate(&f->pt, 3 * PAGE_SIZE, 0x20000, PT_RWX, 1);
	assert_false(f->pt.needs_flush);
	/* a hole at the level of a whole table */
	assert_int_equal(pt_protect(&f->pt, 0, GiB + PAGE_SIZE, PT_R), -DV_ENOENT);
	expect_xlate(&f->pt, 0, 0x10000, PT_RWX, 1);
	fx_free(f);
}

/* --- split and merge --------------------------------------------------------------- */

static void test_escape_hole_round_trip(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	const u64 off = 4 * GiB; /* hPA = gPA + 4 GiB */
	const u64 hole = GiB + PAGE_SIZE;
	u64 allocs;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, off, 2 * GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 2, 0, 0);
	allocs = f->a.allocs;
	assert_int_equal(allocs, 2);

	/* escape one page to another frame */
	assert_int_equal(pt_map(&f->pt, hole, 0x7000000, PAGE_SIZE, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 1, 511, 512);
	assert_true(f->pt.needs_flush);
	expect_xlate(&f->pt, hole + 0x10, 0x7000010, PT_RWX, 1);
	expect_xlate(&f->pt, hole - PAGE_SIZE, off + GiB, PT_RWX, 1);
	expect_xlate(&f->pt, hole + PAGE_SIZE, off + GiB + 2 * PAGE_SIZE, PT_RWX, 1);
	expect_xlate(&f->pt, GiB + PAGE_2M, off + GiB + PAGE_2M, PT_RWX, 2);
	expect_xlate(&f->pt, 2 * GiB - PAGE_SIZE, off + 2 * GiB - PAGE_SIZE, PT_RWX, 2);
	expect_xlate(&f->pt, 0x12345000, off + 0x12345000, PT_RWX, 3);
	f->pt.needs_flush = false;

	/* restore the frame, then merge back to one 1 GiB leaf */
	assert_int_equal(pt_map(&f->pt, hole, off + hole, PAGE_SIZE, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 1, 511, 512);
	assert_int_equal(pt_merge(&f->pt, GiB, 3), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 2, 0, 0);
	assert_true(f->pt.needs_flush);
	expect_xlate(&f->pt, hole, off + hole, PT_RWX, 3);
	assert_int_equal(f->a.allocs, allocs + 2); /* one PD, one PT ... */
	assert_int_equal(arena_live(&f->a), 2);	   /* ... both freed again */
	fx_free(f);
}

/* A 2 MiB range at 2 MiB mapped by 512 contiguous 4 KiB leaves. */
static struct fx *fx_split_2m(void)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_4K | PT_SIZE_2M, 16);

	assert_int_equal(pt_map(&f->pt, PAGE_2M, 4 * PAGE_2M, PAGE_2M, PT_RWX), 0);
	assert_int_equal(pt_split(&f->pt, PAGE_2M, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 512);
	f->pt.needs_flush = false;
	return f;
}

static void expect_merge_refused(struct fx *f)
{
	u64 t1 = f->pt.tables[1], l1 = f->pt.leaves[1], live = arena_live(&f->a);

	assert_int_equal(pt_merge(&f->pt, PAGE_2M + 0x3000, 2), -DV_EBUSY);
	assert_int_equal(f->pt.tables[1], t1);
	assert_int_equal(f->pt.leaves[1], l1);
	assert_int_equal(f->pt.leaves[2], 0);
	assert_int_equal(arena_live(&f->a), live);
	assert_false(f->pt.needs_flush);
}

static void test_merge_refuses_other_frame(void **state)
{
	struct fx *f = fx_split_2m();
	(void)state;

	assert_int_equal(pt_map(&f->pt, PAGE_2M + 0x5000, 0x9000, PAGE_SIZE, PT_RWX), 0);
	f->pt.needs_flush = false;
	expect_merge_refused(f);
	assert_int_equal(pt_map(&f->pt, PAGE_2M + 0x5000, 4 * PAGE_2M + 0x5000, PAGE_SIZE, PT_RWX),
			 0);
	assert_int_equal(pt_merge(&f->pt, PAGE_2M, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 1, 0);
	fx_free(f);
}

static void test_merge_refuses_different_perms(void **state)
{
	struct fx *f = fx_split_2m();
	(void)state;

	assert_int_equal(pt_protect(&f->pt, PAGE_2M + 0x1ff000, PAGE_SIZE, PT_RX), 0);
	f->pt.needs_flush = false;
	expect_merge_refused(f);
	fx_free(f);
}

static void test_merge_refuses_missing_page(void **state)
{
	struct fx *f = fx_split_2m();
	(void)state;

	assert_int_equal(pt_unmap(&f->pt, PAGE_2M, PAGE_SIZE), 0);
	f->pt.needs_flush = false;
	expect_merge_refused(f);
	fx_free(f);
}

static void test_merge_refuses_misaligned_run(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_4K | PT_SIZE_2M, 16);
	(void)state;

	/* contiguous, same perms, but the run starts 4 KiB past a 2 MiB frame */
	assert_int_equal(pt_map(&f->pt, PAGE_2M, 4 * PAGE_2M + PAGE_SIZE, PAGE_2M, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 0, 512);
	expect_merge_refused(f);
	fx_free(f);
}

static void test_merge_of_leaf_or_nothing(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RWX), 0);
	assert_int_equal(pt_merge(&f->pt, 0, 3), 0);	      /* already a leaf */
	assert_int_equal(pt_merge(&f->pt, 0, 2), -DV_ENOENT); /* no table down there */
	assert_int_equal(pt_merge(&f->pt, 5 * GiB, 3), -DV_ENOENT);
	assert_int_equal(pt_merge(&f->pt, 0, 1), -DV_EINVAL);
	assert_int_equal(pt_merge(&f->pt, 0, 4), -DV_EINVAL);
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	fx_free(f);
}

static void test_merge_recursive_carries_dirty_bit(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	struct pt_walk w;
	u64 *entry;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 8 * GiB, GiB, PT_RW), 0);
	assert_int_equal(pt_split(&f->pt, 0, 3), 0);
	assert_int_equal(pt_split(&f->pt, 0, 2), 0);
	assert_int_equal(pt_split(&f->pt, 0x3fe00000, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 2, 0, 510, 1024);
	assert_false(f->pt.needs_flush);

	/* as the hardware would: mark one 4 KiB page dirty */
	assert_int_equal(pt_walk_path(&f->pt, 0x3fff0000, &w), 0);
	assert_int_equal(w.level, 1);
	entry = (u64 *)((u8 *)arena_ptr(&f->a, ALIGN_DOWN(w.entry_pa[3], PAGE_SIZE)) +
			(w.entry_pa[3] & (PAGE_SIZE - 1)));
	*entry |= EPT_A | EPT_D;

	assert_int_equal(pt_merge(&f->pt, 0x1000, 3), 0);
	expect_counts(&f->pt, 1, 1, 0, 0, 1, 0, 0);
	assert_int_equal(arena_live(&f->a), 2);
	assert_true(f->pt.needs_flush);
	assert_int_equal(pt_walk_path(&f->pt, 0, &w), 0);
	assert_int_equal(w.entry[1], pt_make_leaf(PT_FMT_EPT, 8 * GiB, PT_RW, 3) | EPT_A | EPT_D);
	fx_free(f);
}

static void test_split(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, GiB, 3 * GiB, GiB, PT_RX | PT_GLOBAL), 0);
	assert_int_equal(pt_split(&f->pt, GiB + 0x12345678, 3), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	assert_false(f->pt.needs_flush); /* same translations */
	expect_xlate(&f->pt, GiB + 0x12345678, 3 * GiB + 0x12345678, PT_RX | PT_GLOBAL, 2);
	assert_int_equal(pt_split(&f->pt, GiB, 3), -DV_ENOENT); /* a table now */
	assert_int_equal(pt_split(&f->pt, 0, 2), -DV_ENOENT);	/* unmapped */
	assert_int_equal(pt_split(&f->pt, GiB, 1), -DV_EINVAL);
	assert_int_equal(pt_split(&f->pt, 0x1000, 3), -DV_ENOENT);
	assert_int_equal(pt_split(&f->pt, GiB, 4), -DV_EINVAL);
	f->a.fail_after = 0;
	assert_int_equal(pt_split(&f->pt, GiB, 2), -DV_ENOMEM);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	f->a.fail_after = -1;
	assert_int_equal(pt_split(&f->pt, GiB, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 511, 512);
	expect_xlate(&f->pt, GiB + 0x1000, 3 * GiB + 0x1000, PT_RX | PT_GLOBAL, 1);
	fx_free(f);
}

static void test_split_carries_accessed_dirty(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	struct pt_walk w;
	u64 *entry;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x40000000, PAGE_2M, PT_RW), 0);
	assert_int_equal(pt_walk_path(&f->pt, 0, &w), 0);
	entry = (u64 *)((u8 *)arena_ptr(&f->a, ALIGN_DOWN(w.entry_pa[2], PAGE_SIZE)) +
			(w.entry_pa[2] & (PAGE_SIZE - 1)));
	*entry |= X86_PTE_A | X86_PTE_D; /* as the hardware would */
	assert_int_equal(pt_split(&f->pt, 0, 2), 0);
	assert_int_equal(pt_walk_path(&f->pt, 0x1ff000, &w), 0);
	assert_int_equal(w.level, 1);
	/* P|RW|A|D|NX, no PS (bit 7 of a PTE is PAT) */
	assert_int_equal(w.entry[3], 0x80000000401ff063ULL);
	fx_free(f);
}

/* --- the poisoned-but-present state (TLB-miss sampling) ---------------------------- */

/* The raw leaf mapping va, as the CPU reads it. */
static u64 raw_leaf(struct fx *f, u64 va)
{
	struct pt_walk w;

	pt_walk_path(&f->pt, va, &w);
	return w.entry[w.n - 1];
}

static void test_poison(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	u64 leaf_va = 0, before_4k, before_2m;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x200000, 0x40200000, PAGE_2M, PT_RWX), 0);
	assert_int_equal(pt_map(&f->pt, 0x1000, 0x9000, PAGE_SIZE, PT_RX), 0);
	before_4k = raw_leaf(f, 0x1000);
	before_2m = raw_leaf(f, 0x200000);
	f->pt.needs_flush = false;

	assert_int_equal(pt_poison(&f->pt, 0x1000, true, &leaf_va), 1);
	assert_int_equal(leaf_va, 0x1000);
	assert_int_equal(pt_poison(&f->pt, 0x234567, true, &leaf_va), 2);
	assert_int_equal(leaf_va, 0x200000);
	/* the CPU sees no rights (an EPT violation); the engine the same leaf */
	assert_int_equal(raw_leaf(f, 0x1000) & EPT_RWX, 0);
	assert_int_equal(raw_leaf(f, 0x200000) & EPT_RWX, 0);
	assert_true(pt_poisoned(&f->pt, 0x1000));
	assert_true(pt_poisoned(&f->pt, 0x3ff000));
	assert_false(pt_poisoned(&f->pt, 0x2000)); /* unmapped */
	expect_xlate(&f->pt, 0x1234, 0x9234, PT_RX, 1);
	expect_xlate(&f->pt, 0x234567, 0x40234567, PT_RWX, 2);
	assert_int_equal(pt_check_linear(&f->pt, 0x200000, 0x40200000, PAGE_2M, PT_SIZE_2M, NULL),
			 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 1, 1);
	assert_false(f->pt.needs_flush); /* cached translations outlive a poison on purpose */
	assert_int_equal(pt_ept_unpoisoned(raw_leaf(f, 0x1000)), before_4k);
	assert_int_equal(pt_ept_unpoisoned(raw_leaf(f, 0x200000)), before_2m);
	assert_int_equal(pt_ept_unpoisoned(before_4k), before_4k);
	/* poisoning twice changes nothing; curing restores the very entry */
	assert_int_equal(pt_poison(&f->pt, 0x1000, true, NULL), 1);
	assert_int_equal(pt_poison(&f->pt, 0x1000, false, NULL), 1);
	assert_int_equal(pt_poison(&f->pt, 0x200000, false, NULL), 2);
	assert_int_equal(raw_leaf(f, 0x1000), before_4k);
	assert_int_equal(raw_leaf(f, 0x200000), before_2m);
	assert_false(pt_poisoned(&f->pt, 0x1000));
	assert_false(f->pt.needs_flush);
	/* errors */
	assert_int_equal(pt_poison(&f->pt, 0x2000, true, NULL), -DV_ENOENT);
	assert_int_equal(pt_poison(&f->pt, 1ULL << 48, true, NULL), -DV_EINVAL);
	fx_free(f);
}

/* A remap or a split of a poisoned leaf drops the poison and keeps the rights. */
static void test_poison_dropped_by_split_and_remap(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x200000, 0x40200000, PAGE_2M, PT_RWX), 0);
	assert_int_equal(pt_poison(&f->pt, 0x200000, true, NULL), 2);
	assert_int_equal(pt_split(&f->pt, 0x200000, 2), 0);
	assert_false(pt_poisoned(&f->pt, 0x3ff000));
	assert_int_equal(raw_leaf(f, 0x3ff000) & EPT_RWX, EPT_RWX);
	assert_int_equal(pt_poison(&f->pt, 0x3ff000, true, NULL), 1);
	assert_int_equal(pt_map(&f->pt, 0x3ff000, 0x50000000, PAGE_SIZE, PT_RW), 0);
	assert_false(pt_poisoned(&f->pt, 0x3ff000));
	expect_xlate(&f->pt, 0x3ff000, 0x50000000, PT_RW, 1);
	fx_free(f);
}

static void test_poison_is_ept_only(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0x1000, 0x9000, PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_poison(&f->pt, 0x1000, true, NULL), -DV_EINVAL);
	assert_false(pt_poisoned(&f->pt, 0x1000));
	fx_free(f);
}

/* --- out of memory ----------------------------------------------------------------- */

/* What a table translates in [lo, hi), page by page, plus its counters. */
struct snapshot {
	u64 tables[PT_LEVELS + 1], leaves[PT_LEVELS + 1], live;
	bool needs_flush;
	size_t n;
	int rc[2048];
	u64 pa[2048];
	unsigned perms[2048], level[2048];
};

static void snapshot_take(struct snapshot *s, const struct fx *f, u64 lo, u64 hi)
{
	memcpy(s->tables, f->pt.tables, sizeof(s->tables));
	memcpy(s->leaves, f->pt.leaves, sizeof(s->leaves));
	s->live = arena_live(&f->a);
	s->needs_flush = f->pt.needs_flush;
	s->n = (hi - lo) / PAGE_SIZE;
	assert_true(s->n <= ARRAY_SIZE(s->rc));
	for (size_t i = 0; i < s->n; i++)
		s->rc[i] = pt_translate(&f->pt, lo + i * PAGE_SIZE, &s->pa[i], &s->perms[i],
					&s->level[i]);
}

static void snapshot_expect_same(const struct snapshot *a, const struct snapshot *b)
{
	assert_memory_equal(a->tables, b->tables, sizeof(a->tables));
	assert_memory_equal(a->leaves, b->leaves, sizeof(a->leaves));
	assert_int_equal(a->live, b->live);
	assert_int_equal(a->needs_flush, b->needs_flush);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->rc[i], b->rc[i]);
		if (a->rc[i] == 0) {
			assert_int_equal(a->pa[i], b->pa[i]);
			assert_int_equal(a->perms[i], b->perms[i]);
			assert_int_equal(a->level[i], b->level[i]);
		}
	}
}

enum oom_op { OOM_MAP, OOM_UNMAP, OOM_PROTECT, OOM_MAP_EMPTY };

/* Two 1 GiB EPT leaves, and an operation on the 8 KiB across their border: it needs
 * four tables (a PD and a PT on each side). */
static int oom_run(struct fx *f, enum oom_op op)
{
	const u64 va = GiB - PAGE_SIZE, len = 2 * PAGE_SIZE;

	switch (op) {
	case OOM_MAP:
		return pt_map(&f->pt, va, 0x7000000, len, PT_RW);
	case OOM_UNMAP:
		return pt_unmap(&f->pt, va, len);
	case OOM_PROTECT:
		return pt_protect(&f->pt, va, len, PT_R);
	case OOM_MAP_EMPTY:
		return pt_map(&f->pt, va, 0x7000000, len, PT_RW);
	}
	return -1;
}

/* Fail the allocator after 0, 1, 2 ... tables until the operation succeeds: every
 * failure must change nothing and leak nothing. Returns the tables it needed. */
static long oom_sweep(enum oom_op op)
{
	for (long n = 0;; n++) {
		struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
		struct snapshot *before = malloc(sizeof(*before));
		struct snapshot *after = malloc(sizeof(*after));
		int rc;

		if (op != OOM_MAP_EMPTY)
			assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, 2 * GiB, PT_RWX), 0);
		snapshot_take(before, f, GiB - 4 * MiB, GiB + 4 * MiB);
		f->a.fail_after = n;
		rc = oom_run(f, op);
		f->a.fail_after = -1;
		snapshot_take(after, f, GiB - 4 * MiB, GiB + 4 * MiB);
		if (rc == 0) {
			free(before);
			free(after);
			fx_free(f);
			return n;
		}
		assert_int_equal(rc, -DV_ENOMEM);
		snapshot_expect_same(before, after);
		free(before);
		free(after);
		fx_free(f); /* destroyable, no leaks */
		assert_true(n < 64);
	}
}

static void test_enomem_changes_nothing(void **state)
{
	(void)state;
	assert_int_equal(oom_sweep(OOM_MAP), 4);
	assert_int_equal(oom_sweep(OOM_UNMAP), 4);
	assert_int_equal(oom_sweep(OOM_PROTECT), 4);
	/* an empty table: PDPT + PD + PT on each side of the 1 GiB line, shared PDPT */
	assert_int_equal(oom_sweep(OOM_MAP_EMPTY), 5);
}

static void test_enomem_result_is_exact(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, 2 * GiB, PT_RWX), 0);
	f->a.fail_after = 4; /* exactly enough */
	assert_int_equal(oom_run(f, OOM_MAP), 0);
	expect_counts(&f->pt, 1, 1, 2, 2, 0, 1022, 1024);
	expect_xlate(&f->pt, GiB - PAGE_SIZE, 0x7000000, PT_RW, 1);
	expect_xlate(&f->pt, GiB, 0x7001000, PT_RW, 1);
	expect_xlate(&f->pt, GiB - 2 * PAGE_SIZE, 5 * GiB - 2 * PAGE_SIZE, PT_RWX, 1);
	assert_int_equal(arena_live(&f->a), 6);
	fx_free(f);
}

/* --- lifecycle, flushing, walks, cost ---------------------------------------------- */

static void test_destroy_frees_everything(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 64);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * GiB + 3 * PAGE_2M + 5 * PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_map(&f->pt, 0xffff800000000000ULL, 0x1000, 7 * PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_map(&f->pt, 700 * GiB + PAGE_SIZE, 0x2000, PAGE_2M, PT_RW), 0);
	assert_int_equal(pt_unmap(&f->pt, GiB + 0x5000, PAGE_SIZE), 0);
	assert_true(arena_live(&f->a) > 5);
	pt_destroy(&f->pt);
	assert_int_equal(f->a.allocs, f->a.frees);
	assert_int_equal(f->pt.root, PT_NO_TABLE);
	assert_int_equal(pt_translate(&f->pt, 0, NULL, NULL, NULL), -DV_EINVAL);
	assert_int_equal(pt_map(&f->pt, 0, 0, PAGE_SIZE, PT_RW), -DV_EINVAL);
	fx_free(f); /* destroying twice is harmless */
}

static void test_needs_flush_semantics(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	struct pagetable *pt = &f->pt;
	(void)state;

	assert_int_equal(pt_map(pt, 0, 0, 4 * PAGE_SIZE, PT_R), 0);
	assert_false(pt->needs_flush); /* new translations only */
	assert_int_equal(pt_map(pt, 0, 0, 4 * PAGE_SIZE, PT_R), 0);
	assert_false(pt->needs_flush); /* nothing changed */
	assert_int_equal(pt_protect(pt, 0, PAGE_SIZE, PT_RWX), 0);
	assert_false(pt->needs_flush); /* rights added */
	assert_int_equal(pt_protect(pt, 0, PAGE_SIZE, PT_RX), 0);
	assert_true(pt->needs_flush); /* write taken away */
	pt->needs_flush = false;
	assert_int_equal(pt_protect(pt, PAGE_SIZE, PAGE_SIZE, PT_R | PT_USER), 0);
	assert_true(pt->needs_flush); /* U/S flips supervisor rights under SMEP/SMAP */
	pt->needs_flush = false;
	assert_int_equal(pt_protect(pt, 2 * PAGE_SIZE, PAGE_SIZE, PT_R | PT_UC), 0);
	assert_true(pt->needs_flush); /* memory type changed */
	pt->needs_flush = false;
	assert_int_equal(pt_map(pt, 3 * PAGE_SIZE, 0x9000, PAGE_SIZE, PT_R), 0);
	assert_true(pt->needs_flush); /* other frame */
	pt->needs_flush = false;
	assert_int_equal(pt_unmap(pt, 64 * PAGE_SIZE, PAGE_SIZE), 0);
	assert_false(pt->needs_flush); /* was not mapped */
	assert_int_equal(pt_unmap(pt, 0, PAGE_SIZE), 0);
	assert_true(pt->needs_flush);
	pt->needs_flush = false;
	assert_int_equal(pt_map(pt, PAGE_2M, 0, PAGE_2M, PT_R), 0);
	assert_int_equal(pt_split(pt, PAGE_2M, 2), 0);
	assert_false(pt->needs_flush); /* split: same translations */
	assert_int_equal(pt_merge(pt, PAGE_2M, 2), 0);
	assert_true(pt->needs_flush); /* a freed table may sit in paging-structure caches */
	pt->needs_flush = false;
	assert_int_equal(pt_map(pt, 0, 0x200000, PAGE_2M, PT_R), 0);
	assert_true(pt->needs_flush); /* a table of 4 KiB leaves replaced by a 2 MiB leaf */
	fx_free(f);
}

static void test_walk_path_records_entries(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	const u64 va = GiB + PAGE_2M + 0x1234;
	struct pt_walk w;
	u64 pdpt, pd;
	(void)state;

	assert_int_equal(pt_map(&f->pt, GiB + PAGE_2M, 0x1200000, PAGE_2M, PT_RW), 0);
	assert_int_equal(pt_walk_path(&f->pt, va, &w), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.level, 2);
	pdpt = w.entry[0] & PTE_ADDR_MASK;
	pd = w.entry[1] & PTE_ADDR_MASK;
	assert_int_equal(w.entry_pa[0], f->pt.root + 0 * 8);
	assert_int_equal(w.entry_pa[1], pdpt + 1 * 8);
	assert_int_equal(w.entry_pa[2], pd + 1 * 8);
	assert_int_equal(w.entry[0], pt_make_table_entry(PT_FMT_X86, pdpt));
	assert_int_equal(w.entry[1], pt_make_table_entry(PT_FMT_X86, pd));
	assert_int_equal(w.entry[2], pt_make_leaf(PT_FMT_X86, 0x1200000, PT_RW, 2));

	assert_int_equal(pt_walk_path(&f->pt, 512 * GiB, &w), -DV_ENOENT);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.level, 4);
	assert_int_equal(w.entry_pa[0], f->pt.root + 1 * 8);
	assert_int_equal(pt_walk_path(&f->pt, GiB + 3 * PAGE_2M, &w), -DV_ENOENT);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.level, 2);
	fx_free(f);
}

static void test_map_1tib_with_1g_pages_is_cheap(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	f->a.ptr_calls = 0;
	assert_int_equal(pt_map(&f->pt, 0, 0, TiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 2, 0, 0, 1024, 0, 0);
	assert_int_equal(f->a.allocs, 3);
	assert_true(f->a.ptr_calls < 16); /* per table, not per granule */
	expect_xlate(&f->pt, TiB - 1, TiB - 1, PT_RWX, 3);
	f->a.ptr_calls = 0;
	assert_int_equal(pt_unmap(&f->pt, 0, TiB), 0);
	assert_true(f->a.ptr_calls < 16);
	assert_int_equal(arena_live(&f->a), 1);
	fx_free(f);
}

static void test_map_4g_with_4k_pages_walks_each_table_once(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_4K, 2100);
	(void)state;

	f->a.ptr_calls = 0;
	assert_int_equal(pt_map(&f->pt, 0, 0, 4 * GiB, PT_RWX), 0);
	expect_counts(&f->pt, 1, 1, 4, 2048, 0, 0, 1048576);
	assert_true(f->a.ptr_calls < 4 * arena_live(&f->a)); /* not 1M walks */
	expect_xlate(&f->pt, 4 * GiB - 1, 4 * GiB - 1, PT_RWX, 1);
	fx_free(f);
}

static void test_window_access_without_callback(void **state)
{
	struct arena a;
	struct pagetable pt;
	struct pt_ops ops = {arena_alloc, arena_free, NULL, 0, &a};
	(void)state;

	arena_init(&a, 8);
	ops.window = (u64)(uintptr_t)a.mem - ARENA_BASE;
	assert_int_equal(pt_init(&pt, PT_FMT_X86, PT_SIZE_ALL, &ops), 0);
	assert_int_equal(pt_map(&pt, GiB - PAGE_2M, GiB - PAGE_2M, PAGE_2M + PAGE_SIZE, PT_RW), 0);
	expect_xlate(&pt, GiB, GiB, PT_RW, 1);
	expect_xlate(&pt, GiB - 1, GiB - 1, PT_RW, 2);
	assert_int_equal(a.ptr_calls, 0);
	pt_destroy(&pt);
	assert_int_equal(a.allocs, a.frees);
	arena_fini(&a);
}

/* --- leaf cap per call ------------------------------------------------------------- */

static void test_map_capped_4k_next_to_a_1g_leaf(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	(void)state;

	/* a 1 GiB-page segment and, above it, 4 MiB of ept=4k RAM in the same table */
	assert_int_equal(pt_map_capped(&f->pt, 0, 4 * GiB, GiB, PT_RWX, PT_SIZE_1G), 0);
	assert_int_equal(pt_map_capped(&f->pt, GiB, 6 * GiB, 4 * MiB, PT_RWX, PT_SIZE_4K), 0);
	/* PML4, PDPT, one PD, two PTs; one 1 GiB leaf, 1024 4 KiB leaves */
	expect_counts(&f->pt, 1, 1, 1, 2, 1, 0, 1024);
	expect_xlate(&f->pt, 0x12345678, 4 * GiB + 0x12345678, PT_RWX, 3);
	expect_xlate(&f->pt, GiB + 0x3ff000, 6 * GiB + 0x3ff000, PT_RWX, 1);
	fx_free(f);
}

static void test_map_capped_2m_on_a_1g_aligned_range(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map_capped(&f->pt, 0, GiB, GiB, PT_RW, PT_SIZE_2M), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	expect_xlate(&f->pt, GiB - 1, 2 * GiB - 1, PT_RW, 2);
	fx_free(f);
}

static void test_map_capped_splits_an_identical_larger_leaf(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, GiB, PT_RWX), 0);
	/* same frames, same rights, but the caller wants 4 KiB leaves in [2M, 4M) */
	assert_int_equal(pt_map_capped(&f->pt, PAGE_2M, PAGE_2M, PAGE_2M, PT_RWX, PT_SIZE_4K), 0);
	expect_counts(&f->pt, 1, 1, 1, 1, 0, 511, 512);
	expect_xlate(&f->pt, PAGE_2M + 0x5000, PAGE_2M + 0x5000, PT_RWX, 1);
	expect_xlate(&f->pt, 0x1000, 0x1000, PT_RWX, 2);
	assert_false(f->pt.needs_flush); /* every translation kept */
	fx_free(f);
}

static void test_map_capped_below_page_sizes_changes_nothing_else(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_4K | PT_SIZE_2M, 8);
	(void)state;

	/* a 1 GiB cap on a table without 1 GiB leaves: page_sizes still rules */
	assert_int_equal(pt_map_capped(&f->pt, 0, 0, GiB, PT_RWX, PT_SIZE_1G), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 512, 0);
	fx_free(f);
}

static void test_map_capped_rejects_a_bad_cap(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map_capped(&f->pt, 0, 0, PAGE_SIZE, PT_RWX, 0), -DV_EINVAL);
	assert_int_equal(pt_map_capped(&f->pt, 0, 0, PAGE_SIZE, PT_RWX, PT_SIZE_4K | PT_SIZE_2M),
			 -DV_EINVAL);
	assert_int_equal(pt_map_capped(&f->pt, 0, 0, PAGE_SIZE, PT_RWX, 1u << 4), -DV_EINVAL);
	assert_int_equal(pt_map_capped(&f->pt, 0, 0, PAGE_SIZE, PT_RWX, 1u << 0), -DV_EINVAL);
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	fx_free(f);
}

/* --- deferred frees ---------------------------------------------------------------- */

static void test_deferred_unmap_keeps_tables_until_release(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x1000, 4 * MiB, PT_RWX), 0); /* 2 PTs */
	assert_int_equal(arena_live(&f->a), 5);
	pt_defer_frees(&f->pt, &d);
	assert_int_equal(pt_unmap(&f->pt, 0, 4 * MiB), 0);
	/* two PTs, the PD and the PDPT are unlinked but still allocated */
	expect_counts(&f->pt, 1, 0, 0, 0, 0, 0, 0);
	assert_int_equal(d.count, 4);
	assert_int_equal(f->a.frees, 0);
	assert_true(f->pt.needs_flush);
	assert_int_equal(pt_release_deferred(&f->pt, &d), 4);
	assert_int_equal(f->a.frees, 4);
	assert_int_equal(arena_live(&f->a), 1);
	assert_int_equal(d.count, 0);
	pt_defer_frees(&f->pt, NULL);
	fx_free(f);
}

static void test_deferred_table_replaced_by_a_large_leaf(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x1000, PAGE_2M, PT_RW), 0); /* one PT */
	pt_defer_frees(&f->pt, &d);
	assert_int_equal(pt_map(&f->pt, 0, PAGE_2M, PAGE_2M, PT_RW), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 1, 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(f->a.frees, 0);
	assert_int_equal(pt_release_deferred(&f->pt, &d), 1);
	assert_int_equal(f->a.frees, 1);
	pt_defer_frees(&f->pt, NULL);
	fx_free(f);
}

static void test_deferred_link_is_a_non_present_entry(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	u64 *pd, *pt1;
	(void)state;

	/* a PD with two PTs, replaced by one 1 GiB leaf: PT0, PT1, then the PD go to d */
	assert_int_equal(pt_map(&f->pt, 0, 0x1000, 4 * MiB, PT_RWX), 0);
	pt_defer_frees(&f->pt, &d);
	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, GiB, PT_RWX), 0);
	assert_int_equal(d.count, 3);
	pd = arena_ptr(&f->a, d.head);
	pt1 = arena_ptr(&f->a, pd[0]);
	assert_false(pt_entry_present(PT_FMT_EPT, pd[0]));
	assert_false(pt_entry_present(PT_FMT_X86, pd[0]));
	assert_false(pt_entry_present(PT_FMT_EPT, pt1[0]));
	/* the rest of an unlinked table is untouched: PT1 entry 1 still maps 0x202000 */
	assert_int_equal(pt1[1], pt_make_leaf(PT_FMT_EPT, 0x202000, PT_RWX, 1));
	assert_int_equal(pt_release_deferred(&f->pt, &d), 3);
	assert_int_equal(arena_live(&f->a), 2);
	pt_defer_frees(&f->pt, NULL);
	fx_free(f);
}

static void test_deferred_merge_keeps_the_merged_table(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, PAGE_2M, PT_RWX), 0);
	assert_int_equal(pt_split(&f->pt, 0, 2), 0);
	pt_defer_frees(&f->pt, &d);
	assert_int_equal(pt_merge(&f->pt, 0, 2), 0);
	expect_counts(&f->pt, 1, 1, 1, 0, 0, 1, 0);
	assert_int_equal(d.count, 1);
	assert_int_equal(f->a.frees, 0);
	assert_int_equal(pt_release_deferred(&f->pt, &d), 1);
	pt_defer_frees(&f->pt, NULL);
	fx_free(f);
}

static void test_deferred_destroy_frees_nothing_until_release(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, PAGE_2M + PAGE_SIZE, PT_RW), 0);
	assert_int_equal(arena_live(&f->a), 4);
	pt_defer_frees(&f->pt, &d);
	pt_destroy(&f->pt);
	assert_int_equal(f->a.frees, 0);
	assert_int_equal(pt_release_deferred(&f->pt, &d), 4);
	assert_int_equal(f->a.allocs, f->a.frees);
	fx_free(f);
}

static void test_defer_off_frees_at_once(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 16);
	struct pt_deferred d = {0};
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0x1000, PAGE_SIZE, PT_RWX), 0);
	pt_defer_frees(&f->pt, &d);
	pt_defer_frees(&f->pt, NULL);
	assert_int_equal(pt_unmap(&f->pt, 0, PAGE_SIZE), 0);
	assert_int_equal(f->a.frees, 3);
	assert_int_equal(d.count, 0);
	assert_int_equal(pt_release_deferred(&f->pt, &d), 0);
	fx_free(f);
}

/* --- linear range check ------------------------------------------------------------ */

static void test_check_linear_accepts_a_1g_segment(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	u64 bad = 0x1234;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, 2 * GiB, PT_RWX), 0);
	assert_int_equal(pt_check_linear(&f->pt, 0, 4 * GiB, 2 * GiB, PT_SIZE_1G, &bad), 0);
	assert_int_equal(bad, 0x1234); /* untouched on success */
	fx_free(f);
}

static void test_check_linear_leaf_may_extend_past_the_range(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, GiB, PT_RWX), 0);
	assert_int_equal(
		pt_check_linear(&f->pt, 0x3000, 4 * GiB + 0x3000, 2 * PAGE_SIZE, PT_SIZE_1G, NULL),
		0);
	fx_free(f);
}

static void test_check_linear_reports_the_first_hole(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	u64 bad = 0;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 4 * GiB, GiB, PT_RWX), 0);
	assert_int_equal(pt_unmap(&f->pt, 0x12345000, PAGE_SIZE), 0);
	assert_int_equal(pt_unmap(&f->pt, 0x20000000, PAGE_SIZE), 0);
	assert_int_equal(pt_check_linear(&f->pt, 0, 4 * GiB, GiB, PT_SIZE_4K, &bad), -DV_ENOENT);
	assert_int_equal(bad, 0x12345000);
	fx_free(f);
}

static void test_check_linear_reports_a_page_mapped_elsewhere(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	u64 bad = 0;
	(void)state;

	assert_int_equal(pt_map(&f->pt, GiB, 2 * GiB, GiB, PT_RW), 0);
	assert_int_equal(pt_map(&f->pt, GiB + 0x7000, 9 * GiB, PAGE_SIZE, PT_RW), 0);
	assert_int_equal(pt_check_linear(&f->pt, GiB, 2 * GiB, GiB, PT_SIZE_4K, &bad), -DV_EFAULT);
	assert_int_equal(bad, GiB + 0x7000);
	fx_free(f);
}

static void test_check_linear_reports_a_leaf_too_small(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	u64 bad = 0;
	(void)state;

	/* linear throughout, but [2M, 4M) is in 4 KiB leaves */
	assert_int_equal(pt_map(&f->pt, 0, 0, 8 * MiB, PT_RWX), 0);
	assert_int_equal(pt_split(&f->pt, PAGE_2M, 2), 0);
	assert_int_equal(pt_check_linear(&f->pt, 0, 0, 8 * MiB, PT_SIZE_4K, &bad), 0);
	assert_int_equal(pt_check_linear(&f->pt, 0, 0, 8 * MiB, PT_SIZE_2M, &bad), -DV_ERANGE);
	assert_int_equal(bad, PAGE_2M);
	assert_int_equal(pt_check_linear(&f->pt, 0, 0, 8 * MiB, PT_SIZE_1G, &bad), -DV_ERANGE);
	assert_int_equal(bad, 0);
	fx_free(f);
}

static void test_check_linear_upper_half_x86(void **state)
{
	struct fx *f = fx_new(PT_FMT_X86, PT_SIZE_ALL, 8);
	const u64 va = 0xffff800000000000ULL;
	u64 bad = 0;
	(void)state;

	assert_int_equal(pt_map(&f->pt, va, GiB, 4 * MiB, PT_RW), 0);
	assert_int_equal(pt_check_linear(&f->pt, va, GiB, 4 * MiB, PT_SIZE_2M, &bad), 0);
	assert_int_equal(pt_check_linear(&f->pt, va, GiB, 4 * MiB + PAGE_SIZE, PT_SIZE_4K, &bad),
			 -DV_ENOENT);
	assert_int_equal(bad, va + 4 * MiB);
	fx_free(f);
}

static void test_check_linear_rejects_bad_arguments(void **state)
{
	struct fx *f = fx_new(PT_FMT_EPT, PT_SIZE_ALL, 8);
	u64 bad = 7;
	(void)state;

	assert_int_equal(pt_map(&f->pt, 0, 0, PAGE_2M, PT_RWX), 0);
	assert_int_equal(pt_check_linear(&f->pt, 0, 0, PAGE_SIZE, 0, &bad), -DV_EINVAL);
	assert_int_equal(pt_check_linear(&f->pt, 0x800, 0, PAGE_SIZE, PT_SIZE_4K, &bad),
			 -DV_EINVAL);
	assert_int_equal(pt_check_linear(&f->pt, 0, 0x800, PAGE_SIZE, PT_SIZE_4K, &bad),
			 -DV_EINVAL);
	assert_int_equal(pt_check_linear(&f->pt, 1ULL << 48, 0, PAGE_SIZE, PT_SIZE_4K, &bad),
			 -DV_EINVAL);
	assert_int_equal(bad, 7);
	/* an empty range is linear */
	assert_int_equal(pt_check_linear(&f->pt, 0x5000, 0, 0, PT_SIZE_1G, &bad), 0);
	fx_free(f);
}

/* --- randomized differential test -------------------------------------------------- */

/* A reference of what every 4 KiB page of a 2 GiB space maps to: frame | perms, or 0.
 * Random operations go to both; after each one, the whole space is compared, the
 * counters are recounted from the tables and the arena balance is checked. */
#define DIFF_SPACE (2 * GiB)
#define DIFF_PAGES (DIFF_SPACE / PAGE_SIZE)

struct diff {
	struct fx *f;
	u64 base; /* va of the space's first page */
	u64 *ref;
	u64 rng;
	const unsigned *perms;
	size_t nperms;
	unsigned merged, split, oom_failed, protect_holes; /* outcomes seen */
};

static u64 rnd(struct diff *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(struct diff *d, u64 n)
{
	return rnd(d) % n;
}

/* Count tables and leaves under phys; check no non-root table is empty and leaves sit
 * only at allowed levels. */
static void recount(const struct pagetable *pt, u64 phys, unsigned level, u64 *tables, u64 *leaves)
{
	const u64 *t = arena_ptr(pt->ops.ctx, phys);
	unsigned present = 0;

	tables[level]++;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		u64 e = t[i];

		if (!pt_entry_present(pt->fmt, e))
			continue;
		present++;
		if (pt_entry_is_leaf(pt->fmt, e, level)) {
			assert_true(pt->page_sizes & (1u << level));
			leaves[level]++;
		} else {
			recount(pt, pt_entry_addr(pt->fmt, e, level), level - 1, tables, leaves);
		}
	}
	assert_true(present > 0 || level == PT_LEVELS);
}

static inline void diff_expect_page(const struct diff *d, u64 p, u64 want)
{
	if (d->ref[p] != want)
		fail_msg("page %#llx: ref %#llx, table %#llx",
			 (unsigned long long)(d->base + p * PAGE_SIZE),
			 (unsigned long long)d->ref[p], (unsigned long long)want);
}

/* Pages [p, p + n) sit in one level-1 table, found by a walk of page p: decode each
 * of its entries rather than walking again from the root per page. */
static void diff_check_pt(const struct diff *d, u64 p, u64 n, const struct pt_walk *w)
{
	const struct pagetable *pt = &d->f->pt;
	u64 entry_pa = w->entry_pa[w->n - 1];
	const u64 *e = (const u64 *)((u8 *)arena_ptr(pt->ops.ctx, ALIGN_DOWN(entry_pa, PAGE_SIZE)) +
				     (entry_pa & (PAGE_SIZE - 1)));

	for (u64 i = 0; i < n; i++) {
		u64 want = 0;

		if (pt_entry_present(pt->fmt, e[i]))
			want = pt_entry_addr(pt->fmt, e[i], 1) | pt_entry_perms(pt->fmt, e[i]);
		diff_expect_page(d, p + i, want);
	}
}

static void diff_check(struct diff *d)
{
	const struct pagetable *pt = &d->f->pt;
	u64 tables[PT_LEVELS + 1] = {0}, leaves[PT_LEVELS + 1] = {0};

	for (u64 p = 0; p < DIFF_PAGES;) {
		u64 va = d->base + p * PAGE_SIZE;
		struct pt_walk w;
		int rc = pt_walk_path(pt, va, &w);
		u64 span = PT_LEVEL_SIZE(w.level);
		u64 stop = (ALIGN_DOWN(va, span) + span - d->base) / PAGE_SIZE;
		u64 e = w.entry[w.n - 1];

		assert_true(rc == 0 || rc == -DV_ENOENT);
		if (w.level == 1) { /* the rest of this table, leaves and holes */
			stop = MIN((ALIGN_DOWN(va, PAGE_2M) + PAGE_2M - d->base) / PAGE_SIZE,
				   DIFF_PAGES);
			diff_check_pt(d, p, stop - p, &w);
		} else if (rc == 0) {
			u64 want = pt_entry_addr(pt->fmt, e, w.level) + (va & (span - 1));

			want |= pt_entry_perms(pt->fmt, e);
			for (stop = MIN(stop, DIFF_PAGES); p < stop; p++, want += PAGE_SIZE)
				diff_expect_page(d, p, want);
		} else {
			for (stop = MIN(stop, DIFF_PAGES); p < stop; p++)
				diff_expect_page(d, p, 0);
		}
		p = stop;
	}
	/* and the public translate on a sample */
	for (unsigned i = 0; i < 256; i++) {
		u64 p = rnd_below(d, DIFF_PAGES), pa;
		unsigned perms;
		int rc = pt_translate(pt, d->base + p * PAGE_SIZE + 0x123, &pa, &perms, NULL);

		diff_expect_page(d, p, rc ? 0 : (pa - 0x123) | perms);
	}
	recount(pt, pt->root, PT_LEVELS, tables, leaves);
	assert_memory_equal(tables, pt->tables, sizeof(tables));
	assert_memory_equal(leaves, pt->leaves, sizeof(leaves));
	assert_int_equal(arena_live(&d->f->a), tables[1] + tables[2] + tables[3] + tables[4]);
}

/* A start near one of a few interesting places (1 GiB and 2 MiB borders), aligned
 * to gran, and a length of a few grans, clipped to the space. */
static void diff_range(struct diff *d, u64 gran, u64 *off, u64 *len)
{
	static const u64 anchors[] = {0, GiB - PAGE_2M, GiB, GiB + 5 * PAGE_2M, 2 * GiB - PAGE_2M};
	u64 a = rnd_below(d, 4) ? anchors[rnd_below(d, ARRAY_SIZE(anchors))]
				: rnd_below(d, DIFF_SPACE / PAGE_2M) * PAGE_2M;
	s64 shift = (s64)rnd_below(d, 16) - 8;
	s64 start = (s64)ALIGN_DOWN(a, gran) + shift * (s64)gran;
	u64 n = 1 + rnd_below(d, gran == PAGE_SIZE ? 1100 : 3);

	start = MAX(start, 0);
	start = MIN(start, (s64)(DIFF_SPACE - gran));
	*off = (u64)start;
	*len = MIN(n * gran, DIFF_SPACE - *off);
}

static u64 diff_gran(struct diff *d)
{
	u64 r = rnd_below(d, 20);

	return r < 10 ? PAGE_SIZE : r < 17 ? PAGE_2M : GiB;
}

/* Whether applying new[] over the reference for [first, first+n) weakens a translation. */
static bool ref_weakens(const struct diff *d, u64 first, u64 n, const u64 *newv)
{
	for (u64 i = 0; i < n; i++) {
		u64 o = d->ref[first + i], v = newv ? newv[i] : 0;
		unsigned op = o & 0xfff, np = v & 0xfff;

		if (!o)
			continue;
		if (!v || (o & ~0xfffULL) != (v & ~0xfffULL))
			return true;
		if ((op & ~np & (PT_R | PT_W | PT_X | PT_GLOBAL)) ||
		    ((op ^ np) & (PT_USER | PT_UC)))
			return true;
	}
	return false;
}

static void diff_step(struct diff *d)
{
	struct pagetable *pt = &d->f->pt;
	u64 gran = diff_gran(d), off, len, pa = 0;
	unsigned perms = d->perms[rnd_below(d, d->nperms)];
	bool oom = rnd_below(d, 10) == 0;
	u64 kind = rnd_below(d, 20);
	u64 first, n, *newv;
	unsigned cap_level;
	int rc;

	diff_range(d, gran, &off, &len);
	first = off / PAGE_SIZE;
	n = len / PAGE_SIZE;
	newv = calloc(n, sizeof(*newv));
	assert_non_null(newv);
	if (oom)
		d->f->a.fail_after = (long)rnd_below(d, 3);
	pt->needs_flush = false;

	if (kind < 9) { /* map */
		switch (rnd_below(d, 3)) {
		case 0: /* 1 GiB-aligned offset: large pages possible */
			pa = off + (1 + rnd_below(d, 4)) * GiB;
			break;
		case 1:
			pa = off + rnd_below(d, 8) * PAGE_2M;
			break;
		default:
			pa = rnd_below(d, 16 * GiB / PAGE_SIZE) * PAGE_SIZE;
			break;
		}
		for (u64 i = 0; i < n; i++)
			newv[i] = (pa + i * PAGE_SIZE) | perms;
		cap_level = 1 + (unsigned)rnd_below(d, 4); /* 4: no cap, plain pt_map */
		if (cap_level == 4)
			rc = pt_map(pt, d->base + off, pa, len, perms);
		else
			rc = pt_map_capped(pt, d->base + off, pa, len, perms, 1u << cap_level);
		/* the cap holds for every leaf of the range */
		for (u64 at = off; rc == 0 && cap_level < 4 && at < off + len;) {
			unsigned level = 0;

			assert_int_equal(pt_translate(pt, d->base + at, NULL, NULL, &level), 0);
			assert_true(level <= cap_level);
			at = ALIGN_DOWN(at, PT_LEVEL_SIZE(level)) + PT_LEVEL_SIZE(level);
		}
	} else if (kind < 14) { /* unmap */
		rc = pt_unmap(pt, d->base + off, len);
		free(newv);
		newv = NULL;
	} else if (kind < 17) { /* protect */
		bool hole = false;

		for (u64 i = 0; i < n; i++) {
			hole |= d->ref[first + i] == 0;
			newv[i] = (d->ref[first + i] & ~0xfffULL) | perms;
		}
		rc = pt_protect(pt, d->base + off, len, perms);
		if (hole) {
			assert_int_equal(rc, -DV_ENOENT);
			d->protect_holes++;
			rc = 1; /* nothing to apply */
		}
	} else { /* merge or split: translations never change */
		unsigned level = (pt->page_sizes & PT_SIZE_1G) && rnd_below(d, 3) == 0 ? 3 : 2;
		u64 va = d->base + ALIGN_DOWN(off, PT_LEVEL_SIZE(level));

		rc = kind < 19 ? pt_merge(pt, va, level) : pt_split(pt, va, level);
		assert_true(rc == 0 || rc == -DV_EBUSY || rc == -DV_ENOENT || rc == -DV_ENOMEM);
		if (rc == 0 && kind == 19)
			assert_false(pt->needs_flush);
		if (rc == 0 && kind < 19)
			d->merged++;
		if (rc == 0 && kind == 19)
			d->split++;
		if (rc == -DV_ENOMEM)
			d->oom_failed++;
		rc = 1;
	}
	d->f->a.fail_after = -1;

	if (rc == 0) {
		if (ref_weakens(d, first, n, newv))
			assert_true(pt->needs_flush);
		for (u64 i = 0; i < n; i++)
			d->ref[first + i] = newv ? newv[i] : 0;
	} else if (rc < 0) {
		assert_int_equal(rc, -DV_ENOMEM);
		assert_true(oom);
		assert_false(pt->needs_flush); /* nothing changed */
		d->oom_failed++;
	}
	free(newv);
	diff_check(d);
}

static void diff_run(enum pt_format fmt, unsigned sizes, u64 base, u64 seed, unsigned steps)
{
	static const unsigned x86_perms[] = {
		PT_R, PT_RW, PT_RX, PT_RWX, PT_RW | PT_USER, PT_R | PT_GLOBAL, PT_RW | PT_UC};
	static const unsigned ept_perms[] = {PT_R, PT_RW, PT_RX, PT_RWX, PT_X, PT_RW | PT_UC};
	struct diff d = {.base = base, .rng = seed};

	d.f = fx_new(fmt, sizes, 2048);
	d.ref = calloc(DIFF_PAGES, sizeof(*d.ref));
	assert_non_null(d.ref);
	d.perms = fmt == PT_FMT_X86 ? x86_perms : ept_perms;
	d.nperms = fmt == PT_FMT_X86 ? ARRAY_SIZE(x86_perms) : ARRAY_SIZE(ept_perms);
	for (unsigned i = 0; i < steps; i++)
		diff_step(&d);
	/* the run exercised what it claims to */
	assert_true(d.merged > 0 && d.split > 0 && d.oom_failed > 0 && d.protect_holes > 0);
	free(d.ref);
	fx_free(d.f);
}

static void test_random_x86_across_pml4_entries(void **state)
{
	(void)state;
	diff_run(PT_FMT_X86, PT_SIZE_ALL, 511 * GiB, 0x9e3779b97f4a7c15ULL, 1000);
}

static void test_random_x86_upper_half_no_1g(void **state)
{
	(void)state;
	diff_run(PT_FMT_X86, PT_SIZE_4K | PT_SIZE_2M, 0xffff800000000000ULL, 0x243f6a8885a308d3ULL,
		 600);
}

static void test_random_ept(void **state)
{
	(void)state;
	diff_run(PT_FMT_EPT, PT_SIZE_ALL, 2 * GiB, 0xb7e151628aed2a6bULL, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x86_entry_bits),
		cmocka_unit_test(test_ept_entry_bits),
		cmocka_unit_test(test_entry_decode_round_trips),
		cmocka_unit_test(test_init_rejects_bad_arguments),
		cmocka_unit_test(test_init_allocates_a_zeroed_root),
		cmocka_unit_test(test_misaligned_input_is_einval),
		cmocka_unit_test(test_x86_noncanonical_is_einval),
		cmocka_unit_test(test_ept_address_limits),
		cmocka_unit_test(test_invalid_perms_are_einval),
		cmocka_unit_test(test_map_1g_with_4k_pages_counts),
		cmocka_unit_test(test_map_misaligned_pa_uses_4k_pages),
		cmocka_unit_test(test_map_pa_2m_aligned_uses_2m_pages),
		cmocka_unit_test(test_map_picks_largest_pages),
		cmocka_unit_test(test_page_sizes_mask_is_respected),
		cmocka_unit_test(test_map_replaces_tables_with_a_large_leaf),
		cmocka_unit_test(test_map_over_part_of_large_page_splits_it),
		cmocka_unit_test(test_map_identical_is_a_noop),
		cmocka_unit_test(test_unmap_hole_in_1g_page),
		cmocka_unit_test(test_unmap_frees_empty_tables),
		cmocka_unit_test(test_unmap_of_nothing_is_fine),
		cmocka_unit_test(test_protect_splits_and_keeps_frames),
		cmocka_unit_test(test_protect_same_perms_does_not_split),
		cmocka_unit_test(test_protect_hole_is_enoent_and_changes_nothing),
		cmocka_unit_test(test_escape_hole_round_trip),
		cmocka_unit_test(test_merge_refuses_other_frame),
		cmocka_unit_test(test_merge_refuses_different_perms),
		cmocka_unit_test(test_merge_refuses_missing_page),
		cmocka_unit_test(test_merge_refuses_misaligned_run),
		cmocka_unit_test(test_merge_of_leaf_or_nothing),
		cmocka_unit_test(test_merge_recursive_carries_dirty_bit),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_poison),
		cmocka_unit_test(test_poison_dropped_by_split_and_remap),
		cmocka_unit_test(test_poison_is_ept_only),
		cmocka_unit_test(test_split_carries_accessed_dirty),
		cmocka_unit_test(test_enomem_changes_nothing),
		cmocka_unit_test(test_enomem_result_is_exact),
		cmocka_unit_test(test_destroy_frees_everything),
		cmocka_unit_test(test_needs_flush_semantics),
		cmocka_unit_test(test_walk_path_records_entries),
		cmocka_unit_test(test_map_1tib_with_1g_pages_is_cheap),
		cmocka_unit_test(test_map_4g_with_4k_pages_walks_each_table_once),
		cmocka_unit_test(test_window_access_without_callback),
		cmocka_unit_test(test_map_capped_4k_next_to_a_1g_leaf),
		cmocka_unit_test(test_map_capped_2m_on_a_1g_aligned_range),
		cmocka_unit_test(test_map_capped_splits_an_identical_larger_leaf),
		cmocka_unit_test(test_map_capped_below_page_sizes_changes_nothing_else),
		cmocka_unit_test(test_map_capped_rejects_a_bad_cap),
		cmocka_unit_test(test_deferred_unmap_keeps_tables_until_release),
		cmocka_unit_test(test_deferred_table_replaced_by_a_large_leaf),
		cmocka_unit_test(test_deferred_link_is_a_non_present_entry),
		cmocka_unit_test(test_deferred_merge_keeps_the_merged_table),
		cmocka_unit_test(test_deferred_destroy_frees_nothing_until_release),
		cmocka_unit_test(test_defer_off_frees_at_once),
		cmocka_unit_test(test_check_linear_accepts_a_1g_segment),
		cmocka_unit_test(test_check_linear_leaf_may_extend_past_the_range),
		cmocka_unit_test(test_check_linear_reports_the_first_hole),
		cmocka_unit_test(test_check_linear_reports_a_page_mapped_elsewhere),
		cmocka_unit_test(test_check_linear_reports_a_leaf_too_small),
		cmocka_unit_test(test_check_linear_upper_half_x86),
		cmocka_unit_test(test_check_linear_rejects_bad_arguments),
		cmocka_unit_test(test_random_x86_across_pml4_entries),
		cmocka_unit_test(test_random_x86_upper_half_no_1g),
		cmocka_unit_test(test_random_ept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
