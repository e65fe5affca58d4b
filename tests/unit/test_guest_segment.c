/* hv/guest_segment.c: a guest triple is believed only when guest RAM and the
 * guest's own tables (built here by hand) implement it; triples are kept per
 * address space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/guest_segment.h"
#include "test_model_tables.h"
#include <dimvisor/errno.h>

#define BASE_G 0x0000100000000000ULL
#define ROOT   0x1000ULL

/* Guest RAM: [0, 1 GiB) and [4 GiB, 5 GiB); the I/O gap between. */
static bool ram(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	return (gpa + len <= (1ULL << 30)) || (gpa >= (4ULL << 30) && gpa + len <= (5ULL << 30));
}

static struct tmem *m;
static struct walk_tables t;
static const struct walk_env env = {.maxphyaddr = 46, .nxe = true, .wp = true};

/* BASE_G .. +8 MiB -> gPA 64 MiB: four 2 MiB pages; then 4 KiB pages for
 * the next 2 MiB onto gPA 72 MiB, except one page mapped elsewhere. */
static int setup(void **state)
{
	(void)state;
	m = tmem_new(0x100000);
	tmem_page_at(m, ROOT);
	for (u64 i = 0; i < 4; i++)
		tmap_x86(m, ROOT, BASE_G + i * PAGE_2M, (64ULL << 20) + i * PAGE_2M, 2);
	for (u64 i = 0; i < 512; i++)
		tmap_x86(m, ROOT, BASE_G + 4 * PAGE_2M + i * PAGE_SIZE,
			 (72ULL << 20) + (i == 100 ? 0x100000 : i * PAGE_SIZE), 1);
	t = tmem_tables(m, ROOT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tmem_free(m);
	return 0;
}

static int check(u64 base, u64 limit, u64 offset, u64 *bad)
{
	struct segment s = {base, limit, offset};

	return guest_segment_check(&s, ram, NULL, &t, &env, bad);
}

static void the_truth_is_believed(void **state)
{
	u64 bad;

	(void)state;
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, (64ULL << 20) - BASE_G, &bad), 0);
	/* 4 KiB pages too, up to the page mapped elsewhere */
	assert_int_equal(
		check(BASE_G, BASE_G + 8 * MiB + 100 * PAGE_SIZE, (64ULL << 20) - BASE_G, &bad), 0);
	/* one walk per 2 MiB leaf, not one per page: 4 walks of 4 reads */
	m->reads = 0;
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, (64ULL << 20) - BASE_G, &bad), 0);
	assert_int_equal(m->reads, 4 * 3);
}

static void malformed_triples_are_einval(void **state)
{
	u64 bad;
	const u64 off = (64ULL << 20) - BASE_G;

	(void)state;
	assert_int_equal(check(BASE_G, BASE_G, off, &bad), -DV_EINVAL);
	assert_int_equal(check(BASE_G + MiB, BASE_G, off, &bad), -DV_EINVAL);
	assert_int_equal(check(BASE_G + 0x800, BASE_G + MiB, off, &bad), -DV_EINVAL);
	assert_int_equal(check(BASE_G, BASE_G + MiB, off + 8, &bad), -DV_EINVAL);
	assert_int_equal(check(0x0000800000000000ULL, 0x0000800000200000ULL, 0, &bad),
			 -DV_EINVAL); /* non-canonical */
	assert_int_equal(check(0x00007ffffff00000ULL, 0xffff800000100000ULL, 0, &bad),
			 -DV_EINVAL); /* across the hole */
}

static void gpa_outside_ram_or_across_the_gap_is_erange(void **state)
{
	u64 bad;

	(void)state;
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, (2ULL << 30) - BASE_G, &bad), -DV_ERANGE);
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, (1ULL << 30) - 4 * MiB - BASE_G, &bad),
			 -DV_ERANGE);
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, 0 - BASE_G - 4 * MiB, &bad), -DV_ERANGE);
}

static void lies_are_efault_with_the_first_page(void **state)
{
	u64 bad = 0;
	const u64 off = (64ULL << 20) - BASE_G;

	(void)state;
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB, off + PAGE_2M, &bad), -DV_EFAULT);
	assert_int_equal(bad, BASE_G);
	assert_int_equal(check(BASE_G, BASE_G + 8 * MiB + 101 * PAGE_SIZE, off, &bad), -DV_EFAULT);
	assert_int_equal(bad, BASE_G + 8 * MiB + 100 * PAGE_SIZE); /* the page mapped elsewhere */
	assert_int_equal(check(BASE_G, BASE_G + 12 * MiB, off, &bad), -DV_EFAULT);
	assert_int_equal(bad, BASE_G + 8 * MiB + 100 * PAGE_SIZE);
	assert_int_equal(check(BASE_G + 16 * MiB, BASE_G + 18 * MiB, off, &bad), -DV_EFAULT);
	assert_int_equal(bad, BASE_G + 16 * MiB); /* unmapped */
}

static void triples_are_kept_per_address_space(void **state)
{
	struct guest_segments g = {0};
	struct segment a = {BASE_G, BASE_G + MiB, 0}, b = {BASE_G, BASE_G + 2 * MiB, 4096};

	(void)state;
	assert_null(guest_segments_lookup(&g, 0x1000));
	assert_int_equal(guest_segments_set(&g, 0x1000, &a), 0);
	assert_int_equal(guest_segments_set(&g, 0x2000 | 0x18, &b), 0); /* PWT/PCD ignored */
	assert_int_equal(guest_segments_lookup(&g, 0x1000)->limit, BASE_G + MiB);
	assert_int_equal(guest_segments_lookup(&g, 0x2000)->limit, BASE_G + 2 * MiB);
	assert_int_equal(guest_segments_set(&g, 0x1000, &b), 0); /* replaces */
	assert_int_equal(g.n, 2);
	assert_int_equal(guest_segments_lookup(&g, 0x1000)->offset, 4096);
	assert_int_equal(guest_segments_clear(&g, 0x1000), 0);
	assert_null(guest_segments_lookup(&g, 0x1000));
	assert_int_equal(guest_segments_clear(&g, 0x1000), -DV_ENOENT);
	assert_non_null(guest_segments_lookup(&g, 0x2000));
	for (u64 i = 0; i < GUEST_SEGMENT_SPACES - 1; i++)
		assert_int_equal(guest_segments_set(&g, 0x10000 + i * 0x1000, &a), 0);
	assert_int_equal(guest_segments_set(&g, 0x90000, &a), -DV_E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_truth_is_believed, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_triples_are_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(gpa_outside_ram_or_across_the_gap_is_erange, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lies_are_efault_with_the_first_page, setup,
						teardown),
		cmocka_unit_test(triples_are_kept_per_address_space),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
