/* Direct segments: validation (the TLB-entry span of a translation is inline
 * in segment.h). */
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
