/* Unit tests for the guest's memory-map edits after hot-unplug and hot-add
 * (guest/bootinfo_hotplug.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <dimvisor/errno.h>
#include "guest/bootinfo.h"

#define MiB	 (1ULL << 20)
#define GiB	 (1ULL << 30)
#define RESERVED 2

static struct boot_info bi, before;

static void region(u64 base, u64 len, u32 type)
{
	bi.regions[bi.nregions++] = (struct boot_region){base, len, type};
	if (type == BOOT_RAM_TYPE) {
		bi.ram_bytes += len;
		bi.ram_top = base + len;
	}
}

/* As dimvisor lays out mem=512M iogap=256M: RAM below the gap, a reserved
 * piece, RAM from 4 GiB. */
static int setup(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	region(0, 256 * MiB, BOOT_RAM_TYPE);
	region(3 * GiB, 16 * MiB, RESERVED);
	region(4 * GiB, 256 * MiB, BOOT_RAM_TYPE);
	before = bi;
	return 0;
}

static void expect_region(unsigned i, u64 base, u64 len, u32 type)
{
	assert_true(i < bi.nregions);
	assert_int_equal(bi.regions[i].base, base);
	assert_int_equal(bi.regions[i].length, len);
	assert_int_equal(bi.regions[i].type, type);
}

static void assert_unchanged(void)
{
	assert_int_equal(bi.nregions, before.nregions);
	assert_memory_equal(bi.regions, before.regions, bi.nregions * sizeof(bi.regions[0]));
	assert_int_equal(bi.ram_bytes, before.ram_bytes);
	assert_int_equal(bi.ram_top, before.ram_top);
}

static void unplug_the_top_of_low_ram_and_readd_above(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_remove_ram(&bi, 32 * MiB, 224 * MiB), 0);
	assert_int_equal(bootinfo_add_ram(&bi, 4 * GiB + 256 * MiB, 224 * MiB), 0);
	assert_int_equal(bi.nregions, 3);
	expect_region(0, 0, 32 * MiB, BOOT_RAM_TYPE);
	expect_region(2, 4 * GiB, 480 * MiB, BOOT_RAM_TYPE); /* joined */
	assert_int_equal(bi.ram_bytes, 512 * MiB);
	assert_int_equal(bi.ram_top, 4 * GiB + 480 * MiB);
}

static void unplug_from_the_middle_splits(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_remove_ram(&bi, 64 * MiB, MiB), 0);
	assert_int_equal(bi.nregions, 4);
	expect_region(0, 0, 64 * MiB, BOOT_RAM_TYPE);
	expect_region(1, 65 * MiB, 191 * MiB, BOOT_RAM_TYPE);
	assert_int_equal(bi.ram_bytes, 511 * MiB);
	/* adding it back joins all three */
	assert_int_equal(bootinfo_add_ram(&bi, 64 * MiB, MiB), 0);
	assert_unchanged();
}

static void unplug_a_whole_region_and_from_its_start(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_remove_ram(&bi, 4 * GiB, MiB), 0);
	expect_region(2, 4 * GiB + MiB, 255 * MiB, BOOT_RAM_TYPE);
	assert_int_equal(bootinfo_remove_ram(&bi, 4 * GiB + MiB, 255 * MiB), 0);
	assert_int_equal(bi.nregions, 2);
	assert_int_equal(bi.ram_top, 256 * MiB);
	assert_int_equal(bi.ram_bytes, 256 * MiB);
}

static void unplug_of_what_is_not_ram_changes_nothing(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_remove_ram(&bi, 3 * GiB, MiB), -DV_EINVAL);	    /* reserved */
	assert_int_equal(bootinfo_remove_ram(&bi, 255 * MiB, 2 * MiB), -DV_EINVAL); /* past */
	assert_int_equal(bootinfo_remove_ram(&bi, 0, 0), -DV_EINVAL);
	assert_unchanged();
}

static void add_over_a_region_or_wrapping_is_refused(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_add_ram(&bi, 255 * MiB, 2 * MiB), -DV_EEXIST);
	assert_int_equal(bootinfo_add_ram(&bi, 3 * GiB - MiB, 2 * MiB), -DV_EEXIST);
	assert_int_equal(bootinfo_add_ram(&bi, ~0ULL - MiB, 2 * MiB), -DV_EINVAL);
	assert_int_equal(bootinfo_add_ram(&bi, 8 * GiB, 0), -DV_EINVAL);
	assert_unchanged();
}

static void add_apart_inserts_sorted_and_before_joins_the_next(void **state)
{
	(void)state;
	assert_int_equal(bootinfo_add_ram(&bi, 8 * GiB, GiB), 0);
	expect_region(3, 8 * GiB, GiB, BOOT_RAM_TYPE);
	assert_int_equal(bootinfo_add_ram(&bi, 512 * MiB, 64 * MiB), 0);
	expect_region(1, 512 * MiB, 64 * MiB, BOOT_RAM_TYPE);
	assert_int_equal(bootinfo_add_ram(&bi, 7 * GiB, GiB), 0); /* right below 8 GiB */
	expect_region(4, 7 * GiB, 2 * GiB, BOOT_RAM_TYPE);
	assert_int_equal(bi.nregions, 5);
	assert_int_equal(bi.ram_top, 9 * GiB);
	assert_int_equal(bi.ram_bytes, 512 * MiB + 64 * MiB + 2 * GiB);
}

static void a_full_map_refuses_a_split(void **state)
{
	(void)state;
	while (bi.nregions < BOOT_REGIONS_MAX)
		region(16 * GiB + bi.nregions * 2 * MiB, MiB, RESERVED);
	before = bi;
	assert_int_equal(bootinfo_remove_ram(&bi, 64 * MiB, MiB), -DV_E2BIG);
	assert_int_equal(bootinfo_add_ram(&bi, 1 * GiB, MiB), -DV_E2BIG);
	assert_unchanged();
	assert_int_equal(bootinfo_remove_ram(&bi, 0, MiB), 0); /* no new region needed */
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(unplug_the_top_of_low_ram_and_readd_above),
		T(unplug_from_the_middle_splits),
		T(unplug_a_whole_region_and_from_its_start),
		T(unplug_of_what_is_not_ram_changes_nothing),
		T(add_over_a_region_or_wrapping_is_refused),
		T(add_apart_inserts_sorted_and_before_joins_the_next),
		T(a_full_map_refuses_a_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
