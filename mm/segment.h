/* The VMM segment: one contiguous host range that backs guest-physical
 * [BASE_v, LIMIT_v) with hPA = gPA + OFFSET_v, the way the paper's prototype
 * emulates the proposed segment registers: the range is mapped in EPT with
 * the largest leaves the CPU has, so a nested walk of the guest's RAM never
 * goes below them. Host pages with faults inside the range (badmem=) become
 * escape holes: 4 KiB extents backed by spare frames elsewhere, recorded in
 * an escape filter with the model's geometry and code (mm/model/escape.c). */
#ifndef MM_SEGMENT_H
#define MM_SEGMENT_H

#include <dimvisor/types.h>
#include "mm/extent.h"
#include "mm/model/escape.h"
#include "mm/model/segment.h"
#include "mm/pmm.h"

#define VMM_SEGMENT_MAX_HOLES 64

struct vmm_segment {
	struct segment regs; /* BASE_v, LIMIT_v, OFFSET_v; limit == base: none */
	u64 hpa, len;	     /* the host range: [hpa, hpa + len) */
	unsigned leaf_shift; /* gPA and hPA are congruent modulo 1 << leaf_shift */
	unsigned nholes;     /* escaped pages (gPA), ascending */
	u64 hole_gpa[VMM_SEGMENT_MAX_HOLES];
	u64 hole_spare[VMM_SEGMENT_MAX_HOLES]; /* the frame backing each hole */
	struct escape_filter filter;
};

/* Claim a host range for guest-physical [base, base + len): aligned so that
 * gPA and hPA are congruent modulo the largest leaf the CPU has that fits in
 * len (1 GiB if cpu_1g, else 2 MiB if cpu_2m, else 4 KiB), spanning bad host
 * pages if need be (at most VMM_SEGMENT_MAX_HOLES). Returns 0, or -DV_ENOMEM
 * when no such range is free (nothing taken: the caller degrades). */
int vmm_segment_claim(struct vmm_segment *s, struct pmm *pmm, u64 base, u64 len, bool cpu_2m,
		      bool cpu_1g, u64 *bad, unsigned *nbad);

/* The leaf the segment of len bytes is mapped with: 1 GiB when the CPU has it
 * and len holds one, else 2 MiB when the CPU has it, else 4 KiB. */
unsigned vmm_segment_leaf_shift(u64 len, bool cpu_2m, bool cpu_1g);

/* Make s the segment for gPA [base, base + len) at host [hpa, hpa + len),
 * mapped with leaves of 1 << leaf_shift, with no holes and an empty escape
 * filter. (vmm_segment_claim does this for the range it claims; a live
 * switch does it for RAM that already lies in one such range.) */
void vmm_segment_adopt(struct vmm_segment *s, u64 base, u64 len, u64 hpa, unsigned leaf_shift);

/* Whether gpa is an escape hole already. */
bool vmm_segment_has_hole(const struct vmm_segment *s, u64 gpa);
/* Record gpa as an escape hole backed by spare: in the ascending list and in
 * the escape filter. -DV_E2BIG when VMM_SEGMENT_MAX_HOLES are taken. */
int vmm_segment_add_hole(struct vmm_segment *s, u64 gpa, u64 spare);

/* Put the segment into the map: SEGMENT extents hPA = gPA + OFFSET_v, split
 * around each bad host page, which becomes a HOLE extent backed by a spare
 * frame from pmm (the caller zeroes it); records each hole (vmm_segment_add_hole) and each
 * frame's owner. Returns 0, or -DV_ENOMEM / -DV_E2BIG (the caller frees the range). */
int vmm_segment_map(struct vmm_segment *s, struct extent_map *m, struct pmm *pmm, const u64 *bad,
		    unsigned nbad);

/* Release what vmm_segment_claim and vmm_segment_map took. */
void vmm_segment_release(struct vmm_segment *s, struct pmm *pmm);

/* The escape filter's false positives: pages of the segment the filter says
 * may be escaped although they are not, probed page by page. */
u64 vmm_segment_false_positives(const struct vmm_segment *s);

#endif
