/* Console summary of a pmm instance. Kept apart from pmm.c so the allocator
 * itself depends on nothing but the compiler (the unit tests link it alone). */
#include <dimvisor/types.h>

#include "lib/printf.h"
#include "mm/pmm.h"

/* Split size into a value and the largest unit that divides it exactly, so the
 * summary never rounds (a range one page short of 1 GiB prints in KiB). */
static unsigned long long size_value(u64 size, const char **unit)
{
	if (size != 0 && IS_ALIGNED(size, GiB)) {
		*unit = "GiB";
		return size / GiB;
	}
	if (size != 0 && IS_ALIGNED(size, MiB)) {
		*unit = "MiB";
		return size / MiB;
	}
	*unit = "KiB";
	return size / KiB;
}

void pmm_print_summary(const struct pmm *p)
{
	u64 counts[PMM_ORDERS], range_base;
	u64 range = pmm_largest_free_range(p, &range_base);
	unsigned long long block_v, range_v;
	const char *block_u, *range_u;
	char line[400] = "";
	int at = 0;

	block_v = size_value(pmm_largest_free_block(p), &block_u);
	range_v = size_value(range, &range_u);
	kprintf("pmm: %llu MiB free of %llu MiB usable, largest block %llu %s, "
		"largest contiguous range %llu %s at 0x%llx\n",
		(unsigned long long)(pmm_free_bytes(p) / MiB),
		(unsigned long long)(pmm_total_bytes(p) / MiB), block_v, block_u, range_v, range_u,
		range ? (unsigned long long)range_base : 0ULL);

	pmm_free_counts(p, counts);
	for (unsigned order = 0; order <= PMM_MAX_ORDER && at < (int)sizeof(line); order++) {
		at += ksnprintf(line + at, sizeof(line) - (size_t)at, " %u:%llu", order,
				(unsigned long long)counts[order]);
	}
	kprintf("pmm: free blocks per order (4 KiB << order):%s\n", line);
}
