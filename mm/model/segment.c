/* Direct segments: validation and the TLB-entry span of a translation. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/segment.h"

int segment_check(const struct segment *s)
{
	if (s->base > s->limit)
		return -DV_EINVAL;
	if (!IS_ALIGNED(s->base, PAGE_SIZE) || !IS_ALIGNED(s->limit, PAGE_SIZE) ||
	    !IS_ALIGNED(s->offset, PAGE_SIZE))
		return -DV_EINVAL;
	return 0;
}

/* The block of 2^shift bytes around a must lie in [base, limit) and map to an
 * equally aligned block, else a TLB entry of that size could not hold it. */
static bool segment_block_fits(const struct segment *s, u64 a, u8 shift)
{
	u64 size = 1ULL << shift;
	u64 blk = ALIGN_DOWN(a, size);

	if (!IS_ALIGNED(s->offset, size) || blk < s->base)
		return false;
	return s->limit - blk >= size;
}

u8 segment_span_shift(const struct segment *s, u64 a, u8 max_shift)
{
	static const u8 shifts[] = {PAGE_1G_SHIFT, PAGE_2M_SHIFT};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(shifts); i++) {
		if (shifts[i] <= max_shift && segment_block_fits(s, a, shifts[i]))
			return shifts[i];
	}
	return PAGE_SHIFT;
}
