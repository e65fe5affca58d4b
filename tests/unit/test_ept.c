/* Unit tests for mm/ept.c: the EPT built over the extent map, in a host buffer that
 * stands in for the table pages ("physical" addresses from 16 GiB up). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/ept.h"

#define TABLE_BASE (16 * GiB)
#define NTABLES	   64

struct tables {
	u8 *mem;
	bool used[NTABLES];
	unsigned live;
};

static u64 tables_alloc(void *ctx)
{
	struct tables *t = ctx;

	for (unsigned i = 0; i < NTABLES; i++) {
		if (!t->used[i]) {
			t->used[i] = true;
			t->live++;
			return TABLE_BASE + (u64)i * PAGE_SIZE;
		}
	}
	return PT_NO_TABLE;
}

static unsigned table_index(u64 phys)
{
	assert_true(phys >= TABLE_BASE && phys < TABLE_BASE + NTABLES * PAGE_SIZE);
	return (unsigned)((phys - TABLE_BASE) / PAGE_SIZE);
}

static void tables_free(void *ctx, u64 phys)
{
	struct tables *t = ctx;
	unsigned i = table_index(phys);

	assert_true(t->used[i]);
	t->used[i] = false;
	t->live--;
}

static void *tables_ptr(void *ctx, u64 phys)
{
	struct tables *t = ctx;
	unsigned i = table_index(phys);

	assert_true(t->used[i]);
	return t->mem + (size_t)i * PAGE_SIZE;
}

struct fx {
	struct tables t;
	struct pagetable ept;
	struct extent slots[16];
	struct extent_map m;
};

static struct fx *fx_new(unsigned page_sizes)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pt_ops ops = {tables_alloc, tables_free, tables_ptr, 0, NULL};

	assert_non_null(f);
	f->t.mem = aligned_alloc(PAGE_SIZE, NTABLES * PAGE_SIZE);
	assert_non_null(f->t.mem);
	ops.ctx = &f->t;
	assert_int_equal(ept_init(&f->ept, page_sizes, &ops), 0);
	extent_map_init(&f->m, f->slots, 16);
	return f;
}

static void fx_free(struct fx *f)
{
	pt_destroy(&f->ept);
	assert_int_equal(f->t.live, 0);
	free(f->t.mem);
	free(f);
}

static void add(struct fx *f, u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	struct extent x = {.gpa = gpa, .hpa = hpa, .len = len, .kind = kind};

	assert_int_equal(extent_add(&f->m, &x), 0);
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

static void expect_hpa(const struct pagetable *ept, u64 gpa, u64 hpa)
{
	u64 got = 0;

	assert_int_equal(ept_translate(ept, gpa, &got), 0);
	assert_int_equal(got, hpa);
}

/* --- page sizes ------------------------------------------------------------------------ */

static void test_page_sizes_for_each_shift(void **state)
{
	(void)state;
	assert_int_equal(ept_page_sizes(12), PT_SIZE_4K);
	assert_int_equal(ept_page_sizes(20), PT_SIZE_4K);
	assert_int_equal(ept_page_sizes(21), PT_SIZE_4K | PT_SIZE_2M);
	assert_int_equal(ept_page_sizes(30), PT_SIZE_4K | PT_SIZE_2M | PT_SIZE_1G);
	assert_int_equal(ept_largest_size(PT_SIZE_4K), PT_SIZE_4K);
	assert_int_equal(ept_largest_size(PT_SIZE_4K | PT_SIZE_2M), PT_SIZE_2M);
	assert_int_equal(ept_largest_size(PT_SIZE_ALL), PT_SIZE_1G);
}

static void test_pointer_is_write_back_with_a_4_level_walk(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	(void)state;

	/* bits 2:0 memory type 6 (WB), bits 5:3 walk length - 1 = 3 */
	assert_int_equal(ept_pointer(&f->ept), f->ept.root | 0x1e);
	assert_int_equal(f->ept.root, TABLE_BASE);
	fx_free(f);
}

/* --- mapping the map ------------------------------------------------------------------ */

static void test_map_all_segment_with_a_hole_and_4k_ram(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct ept_caps caps = {{[EXTENT_RAM] = PT_SIZE_4K,
				 [EXTENT_SEGMENT] = PT_SIZE_1G,
				 [EXTENT_HOLE] = PT_SIZE_4K}};
	(void)state;

	/* a 1 GiB segment at hPA 4 GiB with one escaped page, then 4 MiB of RAM */
	add(f, 0, 4 * GiB, 0x7000, EXTENT_SEGMENT);
	add(f, 0x7000, 9 * GiB, PAGE_SIZE, EXTENT_HOLE);
	add(f, 0x8000, 4 * GiB + 0x8000, GiB - 0x8000, EXTENT_SEGMENT);
	add(f, GiB, 10 * GiB, 4 * MiB, EXTENT_RAM);
	assert_int_equal(ept_map_all(&f->ept, &f->m, &caps), 0);
	/* the hole splits only its 2 MiB (one PT), the rest of the segment is in 2 MiB
	 * leaves (one PD); the RAM has its own PD and two PTs */
	expect_counts(&f->ept, 1, 1, 2, 3, 0, 511, 512 + 1024);
	expect_hpa(&f->ept, 0x6fff, 4 * GiB + 0x6fff);
	expect_hpa(&f->ept, 0x7abc, 9 * GiB + 0xabc);
	expect_hpa(&f->ept, 0x8000, 4 * GiB + 0x8000);
	expect_hpa(&f->ept, GiB - 1, 5 * GiB - 1);
	expect_hpa(&f->ept, GiB + 0x3ff000, 10 * GiB + 0x3ff000);
	fx_free(f);
}

static void test_map_all_1g_segment_is_one_leaf(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct ept_caps caps = {{[EXTENT_RAM] = PT_SIZE_4K, [EXTENT_SEGMENT] = PT_SIZE_1G}};
	(void)state;

	add(f, 0, 4 * GiB, GiB, EXTENT_SEGMENT);
	assert_int_equal(ept_map_all(&f->ept, &f->m, &caps), 0);
	/* PML4 and one PDPT: the paging structures the issue allows a 1 GiB guest */
	expect_counts(&f->ept, 1, 1, 0, 0, 1, 0, 0);
	fx_free(f);
}

static void test_map_all_skips_kinds_without_a_cap(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct ept_caps caps = {{[EXTENT_RAM] = PT_SIZE_2M}};
	u64 hpa;
	(void)state;

	add(f, 0, 2 * GiB, 4 * MiB, EXTENT_RAM);
	add(f, 4 * MiB, EXTENT_NO_HPA, 2 * MiB, EXTENT_BALLOON);
	add(f, 6 * MiB, 3 * GiB, 2 * MiB, EXTENT_HOTADD);
	assert_int_equal(ept_map_all(&f->ept, &f->m, &caps), 0);
	expect_counts(&f->ept, 1, 1, 1, 0, 0, 2, 0);
	assert_int_equal(ept_translate(&f->ept, 4 * MiB, &hpa), -DV_ENOENT);
	assert_int_equal(ept_translate(&f->ept, 6 * MiB, &hpa), -DV_ENOENT);
	fx_free(f);
}

static void test_map_all_stops_at_the_first_error(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct ept_caps caps = {{[EXTENT_RAM] = PT_SIZE_4K, [EXTENT_BALLOON] = PT_SIZE_4K}};
	u64 hpa;
	(void)state;

	add(f, 0, 2 * GiB, PAGE_SIZE, EXTENT_RAM);
	add(f, PAGE_SIZE, EXTENT_NO_HPA, PAGE_SIZE, EXTENT_BALLOON);
	add(f, 2 * PAGE_SIZE, 3 * GiB, PAGE_SIZE, EXTENT_RAM);
	assert_int_equal(ept_map_all(&f->ept, &f->m, &caps), -DV_EINVAL);
	expect_hpa(&f->ept, 0, 2 * GiB);
	assert_int_equal(ept_translate(&f->ept, 2 * PAGE_SIZE, &hpa), -DV_ENOENT);
	fx_free(f);
}

static void test_map_extent_refuses_one_without_host_memory(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct extent x = {
		.gpa = 0, .hpa = EXTENT_NO_HPA, .len = PAGE_SIZE, .kind = EXTENT_BALLOON};
	u64 bad;
	(void)state;

	assert_int_equal(ept_map_extent(&f->ept, &x, PT_SIZE_4K), -DV_EINVAL);
	assert_int_equal(ept_check_extent(&f->ept, &x, PT_SIZE_4K, &bad), -DV_EINVAL);
	expect_counts(&f->ept, 1, 0, 0, 0, 0, 0, 0);
	fx_free(f);
}

static void test_map_extent_is_rwx_write_back(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct extent x = {.gpa = 0x5000, .hpa = 0x9000, .len = PAGE_SIZE, .kind = EXTENT_RAM};
	unsigned perms = 0;
	(void)state;

	assert_int_equal(ept_map_extent(&f->ept, &x, PT_SIZE_4K), 0);
	assert_int_equal(pt_translate(&f->ept, 0x5000, NULL, &perms, NULL), 0);
	assert_int_equal(perms, PT_RWX);
	fx_free(f);
}

static void test_unmap_extent(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct extent x = {.gpa = 2 * MiB, .hpa = 2 * GiB, .len = 2 * MiB, .kind = EXTENT_RAM};
	u64 hpa;
	(void)state;

	add(f, 0, 0x40000000, 8 * MiB, EXTENT_RAM);
	assert_int_equal(ept_map_extent(&f->ept, &f->m.e[0], PT_SIZE_2M), 0);
	assert_int_equal(ept_unmap_extent(&f->ept, &x), 0);
	assert_int_equal(ept_translate(&f->ept, 2 * MiB, &hpa), -DV_ENOENT);
	expect_hpa(&f->ept, 4 * MiB, 0x40400000);
	expect_counts(&f->ept, 1, 1, 1, 0, 0, 3, 0);
	fx_free(f);
}

/* --- checks ----------------------------------------------------------------------------- */

static void test_check_extent_finds_a_page_passed_through(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	struct ept_caps caps = {{[EXTENT_SEGMENT] = PT_SIZE_1G}};
	u64 bad = 0;
	(void)state;

	add(f, 0, 4 * GiB, GiB, EXTENT_SEGMENT);
	assert_int_equal(ept_map_all(&f->ept, &f->m, &caps), 0);
	assert_int_equal(ept_check_extent(&f->ept, &f->m.e[0], PT_SIZE_1G, &bad), 0);
	assert_int_equal(ept_map_mmio(&f->ept, 0x3000, 0xfee00000, PAGE_SIZE), 0);
	assert_int_equal(ept_check_extent(&f->ept, &f->m.e[0], PT_SIZE_4K, &bad), -DV_EFAULT);
	assert_int_equal(bad, 0x3000);
	fx_free(f);
}

static void test_mmio_is_uncached(void **state)
{
	struct fx *f = fx_new(PT_SIZE_ALL);
	unsigned perms = 0;
	(void)state;

	assert_int_equal(ept_map_mmio(&f->ept, 0xfee00000, 0xfee00000, PAGE_SIZE), 0);
	assert_int_equal(pt_translate(&f->ept, 0xfee00000, NULL, &perms, NULL), 0);
	assert_int_equal(perms, PT_RW | PT_UC);
	fx_free(f);
}

static void tables_a_hole_free_segment_needs(void **state)
{
	(void)state;
	assert_int_equal(ept_tables_needed(0, 1ULL << 30, PAGE_1G_SHIFT), 2); /* PML4, PDPT */
	assert_int_equal(ept_tables_needed(0, 1ULL << 30, PAGE_2M_SHIFT), 3); /* + one PD */
	assert_int_equal(ept_tables_needed(0, 256ULL << 20, PAGE_2M_SHIFT), 3);
	assert_int_equal(ept_tables_needed(0, 3ULL << 30, PAGE_2M_SHIFT), 5); /* 3 PDs */
	assert_int_equal(ept_tables_needed(0, 64ULL << 20, PAGE_SHIFT), 35);  /* + 32 PTs */
	assert_int_equal(ept_tables_needed(1ULL << 30, 1ULL << 30, PAGE_1G_SHIFT), 2);
	assert_int_equal(ept_tables_needed(0, 0, PAGE_1G_SHIFT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tables_a_hole_free_segment_needs),
		cmocka_unit_test(test_page_sizes_for_each_shift),
		cmocka_unit_test(test_pointer_is_write_back_with_a_4_level_walk),
		cmocka_unit_test(test_map_all_segment_with_a_hole_and_4k_ram),
		cmocka_unit_test(test_map_all_1g_segment_is_one_leaf),
		cmocka_unit_test(test_map_all_skips_kinds_without_a_cap),
		cmocka_unit_test(test_map_all_stops_at_the_first_error),
		cmocka_unit_test(test_map_extent_refuses_one_without_host_memory),
		cmocka_unit_test(test_map_extent_is_rwx_write_back),
		cmocka_unit_test(test_unmap_extent),
		cmocka_unit_test(test_check_extent_finds_a_page_passed_through),
		cmocka_unit_test(test_mmio_is_uncached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
