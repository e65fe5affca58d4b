/* mm/segment.c: the VMM segment's host range (alignment, bad pages that
 * become escape holes), its extents and its escape filter. Host memory is a
 * pmm over a 4 GiB span of a host mapping (MAP_NORESERVE, as test_pmm does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/segment.h"

#define SPAN (4ULL << 30)

static struct pmm pmm;
static u8 *buf;
static void *meta;
static struct extent slots[64];
static struct extent_map map;
static struct vmm_segment seg;

static int setup(void **state)
{
	size_t meta_len = pmm_metadata_size(0, SPAN);

	(void)state;
	buf = mmap(NULL, SPAN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	meta = malloc(meta_len);
	if (buf == MAP_FAILED || !meta)
		return -1;
	if (pmm_init(&pmm, 0, SPAN, meta, meta_len, (u64)(uintptr_t)buf) < 0)
		return -1;
	/* RAM from 16 MiB: the lowest 1 GiB-aligned block is at 1 GiB */
	if (pmm_add_free(&pmm, 16ULL << 20, SPAN - (16ULL << 20)) < 0)
		return -1;
	extent_map_init(&map, slots, 64);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(buf, SPAN);
	free(meta);
	return 0;
}

static void one_gib_segment_is_1g_aligned_and_congruent(void **state)
{
	u64 bad[VMM_SEGMENT_MAX_HOLES];
	unsigned nbad = 99;

	(void)state;
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0, PAGE_1G, true, true, bad, &nbad), 0);
	assert_int_equal(nbad, 0);
	assert_int_equal(seg.leaf_shift, PAGE_1G_SHIFT);
	assert_int_equal(seg.hpa, 1ULL << 30);
	assert_int_equal(seg.regs.base, 0);
	assert_int_equal(seg.regs.limit, PAGE_1G);
	assert_int_equal(seg.regs.offset, 1ULL << 30);
	assert_int_equal(vmm_segment_map(&seg, &map, &pmm, bad, nbad), 0);
	assert_int_equal(extent_count(&map), 1);
	assert_int_equal(map.e[0].kind, EXTENT_SEGMENT);
	assert_int_equal(map.e[0].hpa, 1ULL << 30);
	vmm_segment_release(&seg, &pmm);
	assert_int_equal(pmm_check(&pmm), 0);
}

static void without_1g_pages_the_segment_uses_2m(void **state)
{
	u64 bad[VMM_SEGMENT_MAX_HOLES];
	unsigned nbad;

	(void)state;
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0, 256ULL << 20, true, false, bad, &nbad),
			 0);
	assert_int_equal(seg.leaf_shift, PAGE_2M_SHIFT);
	assert_true(IS_ALIGNED(seg.hpa, PAGE_2M));
	assert_int_equal(seg.hpa, 16ULL << 20); /* the lowest 2 MiB-aligned fit */
	vmm_segment_release(&seg, &pmm);
	/* smaller than a 1 GiB page: 2 MiB leaves even when the CPU has 1 GiB ones */
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0, 256ULL << 20, true, true, bad, &nbad), 0);
	assert_int_equal(seg.leaf_shift, PAGE_2M_SHIFT);
	vmm_segment_release(&seg, &pmm);
}

static void a_bad_page_becomes_a_hole_with_a_spare_frame(void **state)
{
	u64 bad[VMM_SEGMENT_MAX_HOLES];
	unsigned nbad;
	const u64 badpage = (1ULL << 30) + 0x5000;
	u64 owner = 0, fp;

	(void)state;
	assert_int_equal(pmm_mark_bad(&pmm, badpage), 0);
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0, PAGE_1G, true, true, bad, &nbad), 0);
	assert_int_equal(seg.hpa, 1ULL << 30); /* the range spans the bad page */
	assert_int_equal(nbad, 1);
	assert_int_equal(bad[0], badpage);
	assert_int_equal(vmm_segment_map(&seg, &map, &pmm, bad, nbad), 0);
	assert_int_equal(seg.nholes, 1);
	assert_int_equal(seg.hole_gpa[0], 0x5000);
	/* SEGMENT [0, 0x5000), HOLE [0x5000, 0x6000) elsewhere, SEGMENT [0x6000, 1 GiB) */
	assert_int_equal(extent_count(&map), 3);
	assert_int_equal(map.e[1].kind, EXTENT_HOLE);
	assert_int_equal(map.e[1].gpa, 0x5000);
	assert_int_equal(map.e[1].len, PAGE_SIZE);
	assert_int_not_equal(map.e[1].hpa, badpage);
	assert_int_equal(map.e[1].hpa, seg.hole_spare[0]);
	assert_int_equal(map.e[2].hpa, (1ULL << 30) + 0x6000);
	assert_true(escape_contains(&seg.filter, 0x5000));
	assert_false(escape_contains(&seg.filter, 0x6000));
	/* the false positives of a 256-bit filter with one page in it are few */
	fp = vmm_segment_false_positives(&seg);
	assert_true(fp < (PAGE_1G >> PAGE_SHIFT) / 8);
	if (pmm_owner_get(&pmm, seg.hole_spare[0], &owner) != -DV_ENOSYS)
		assert_int_equal(owner, 0x5000);
	vmm_segment_release(&seg, &pmm);
	assert_true(pmm_is_bad(&pmm, badpage));
	assert_int_equal(pmm_check(&pmm), 0);
}

static void no_contiguous_range_takes_nothing(void **state)
{
	u64 bad[VMM_SEGMENT_MAX_HOLES];
	unsigned nbad;
	u64 before = pmm_free_bytes(&pmm);

	(void)state;
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0, 8ULL << 30, true, true, bad, &nbad),
			 -DV_ENOMEM);
	assert_int_equal(pmm_free_bytes(&pmm), before);
	assert_int_equal(vmm_segment_claim(&seg, &pmm, 0x1000, PAGE_2M, true, true, bad, &nbad),
			 -DV_EINVAL); /* a base not aligned to the leaf size */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_gib_segment_is_1g_aligned_and_congruent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(without_1g_pages_the_segment_uses_2m, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_bad_page_becomes_a_hole_with_a_spare_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(no_contiguous_range_takes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
