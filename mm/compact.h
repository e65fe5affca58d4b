/* Compaction: free a contiguous host range for the VMM segment while the
 * guest runs, by moving guest pages, a bounded batch per step, to where the
 * segment puts them (hPA = target + (gPA - gpa0)), so that when every page
 * is in place the segment is already built: nothing is copied at the end.
 *
 * The planner (compact_choose) picks an aligned host range holding no frame
 * that cannot move, with the fewest guest pages to move out of it. The steps
 * then walk the segment's gPA range in order: a page not in place goes to its
 * target frame, after moving away whatever guest page sits there (to its own
 * target when that is free, else to any free frame outside the range). The
 * target's free frames are claimed first, and a frame of the target that a
 * move empties stays held by the compaction, so nothing else can take them
 * meanwhile; frames emptied outside the target go back to the host.
 *
 * Host memory is seen and changed only through struct compact_ops, so the
 * whole thing runs over a fake host in the unit tests. */
#ifndef MM_COMPACT_H
#define MM_COMPACT_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"

#define COMPACT_NONE  (~0ULL)
#define COMPACT_CHUNK (2ULL << 20) /* the planner's granularity */

enum compact_frame {
	COMPACT_FREE,  /* the host's to give */
	COMPACT_GUEST, /* backs a guest page (its gPA): movable */
	COMPACT_FIXED, /* anything else: cannot move */
};

struct compact_ops {
	/* What host frame hpa holds (a guest page's gPA in *gpa). */
	enum compact_frame (*frame)(void *ctx, u64 hpa, u64 *gpa);
	/* The host frame backing gpa now, COMPACT_NONE if none (ballooned). */
	u64 (*where)(void *ctx, u64 gpa);
	/* Take the free frame hpa (0, or < 0 when it is not free any more). */
	int (*claim)(void *ctx, u64 hpa);
	/* A free frame outside the target (whose free frames are all claimed),
	 * or COMPACT_NONE. */
	u64 (*alloc)(void *ctx);
	/* Copy gpa's page to the frame to (taken) and map it there; the frame it
	 * leaves stays allocated. 0 or < 0 (nothing changed). */
	int (*move)(void *ctx, u64 gpa, u64 to);
	/* Give a frame back to the host. */
	void (*release)(void *ctx, u64 hpa);
	void *ctx;
};

struct compact_plan {
	u64 gpa0, len; /* the segment's guest-physical range */
	u64 base;      /* its target host range [base, base + len) */
	u64 cursor;    /* bytes of the range in place, from gpa0 */
	u64 *held;     /* bitmap over the target's frames: claimed, holding no page */
	u64 moved;     /* pages moved so far */
};

/* Choose the target for len bytes (a multiple of 4 KiB) at an align-aligned
 * host address in [lo, hi): every frame free or a guest page, fewest guest
 * pages to move, the lowest among equals. fixed[] and guest[] (maxchunks
 * entries each) are the caller's scratch, counting per COMPACT_CHUNK of
 * [lo, hi); memory past maxchunks chunks is not considered. 0 with *base and
 * *moves (the guest pages in it, an upper bound on the moves), -DV_ENOMEM when
 * no range qualifies, -DV_EINVAL for bad arguments. */
int compact_choose(const struct compact_ops *o, u64 lo, u64 hi, u64 len, u64 align, u16 *fixed,
		   u16 *guest, unsigned maxchunks, u64 *base, u64 *moves);

/* Start a plan: zero held (len / 4 KiB bits) and claim every free frame of
 * the target. 0, or -DV_EBUSY when a frame of the target became fixed (all
 * claims undone). */
int compact_begin(struct compact_plan *p, const struct compact_ops *o, u64 gpa0, u64 len, u64 base,
		  u64 *held);

/* Move at most budget pages (budget >= 2: a page may take two moves). 1 when every page is in place
 * (the target is then exactly the range, nothing held), 0 when there is more to do, or an error
 * that leaves everything consistent (abandon the plan): -DV_EBUSY (a frame of the target cannot be
 * moved), -DV_ENOMEM (no free frame outside), -DV_ENOENT (a page of the range has no frame:
 * ballooned), or move's error. */
int compact_step(struct compact_plan *p, const struct compact_ops *o, unsigned budget);

/* Give back the frames the plan holds (moved pages stay where they are). */
void compact_abandon(struct compact_plan *p, const struct compact_ops *o);

#endif
