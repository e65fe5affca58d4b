/* Direct segments: a (BASE, LIMIT, OFFSET) register triple that translates
 * a in [BASE, LIMIT) to a + OFFSET without a page walk (Basu et al., ISCA
 * 2013; PAPER.md "Direct segments"). BASE = LIMIT disables the segment.
 * The guest segment translates gVA -> gPA, the VMM segment gPA -> hPA. */
#ifndef MM_MODEL_SEGMENT_H
#define MM_MODEL_SEGMENT_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"

struct segment {
	u64 base;   /* first address translated */
	u64 limit;  /* first address past the segment; = base disables it */
	u64 offset; /* added to the address (wraps mod 2^64, so "negative" works) */
};

static inline bool segment_enabled(const struct segment *s)
{
	return s->limit > s->base;
}

/* True when base <= a < limit. One unsigned compare: a disabled segment
 * (limit = base) has an empty range and never contains anything. */
static inline bool segment_contains(const struct segment *s, u64 a)
{
	return a - s->base < s->limit - s->base;
}

/* 0 if the triple is usable: base <= limit, all three 4 KiB aligned (the
 * escape filter and the TLB work on 4 KiB pages). -DV_EINVAL otherwise. */
int segment_check(const struct segment *s);

/* The block of 2^shift bytes around a must lie in [base, limit) and map to an
 * equally aligned block, else a TLB entry of that size could not hold it. */
static inline bool segment_block_fits(const struct segment *s, u64 a, u8 shift)
{
	u64 size = 1ULL << shift;
	u64 blk = ALIGN_DOWN(a, size);

	if (!IS_ALIGNED(s->offset, size) || blk < s->base)
		return false;
	return s->limit - blk >= size;
}

/* The largest page shift in {12, 21, 30}, at most max_shift, such that the
 * aligned block of that size around a lies inside the segment and the
 * offset keeps it aligned: the size of TLB entry the translation of a may
 * use. a must be inside the segment. Inline: every segment fill asks. */
static inline u8 segment_span_shift(const struct segment *s, u64 a, u8 max_shift)
{
	if (PAGE_1G_SHIFT <= max_shift && segment_block_fits(s, a, PAGE_1G_SHIFT))
		return PAGE_1G_SHIFT;
	if (PAGE_2M_SHIFT <= max_shift && segment_block_fits(s, a, PAGE_2M_SHIFT))
		return PAGE_2M_SHIFT;
	return PAGE_SHIFT;
}

#endif
