/* Self-ballooning and hot-add on the guest-physical extent map (issue 10): the
 * checks a balloon list must pass, where hot-added memory goes, and the map
 * edits, all without touching host memory or the EPT (hv/balloon.c does
 * that), so they are unit-tested on the host.
 *
 * A list is page numbers (gPA >> 12). Every check and every edit is all or
 * nothing: on error the map is as it was. */
#ifndef MM_BALLOON_H
#define MM_BALLOON_H

#include <dimvisor/hypercall.h>
#include <dimvisor/types.h>
#include "mm/extent.h"

/* Hot-added memory starts on a 1 GiB boundary at or above 4 GiB: above the
 * I/O gap, so it never joins the RAM below it (what the VMM segment covers),
 * and aligned so the guest can map it with its largest pages and the EPT
 * with the largest leaves the host blocks allow. gPA space costs nothing. */
#define BALLOON_HOTADD_FLOOR (4ULL << 30)
#define BALLOON_HOTADD_ALIGN (1ULL << 30)

/* Why a list was refused: the first bad entry, the error, a reason. */
struct balloon_bad {
	unsigned index;
	int err;
	const char *why;
};

/* Check a list for inflating: each page must be ordinary or hot-added RAM
 * (-DV_EINVAL otherwise: not guest memory, ballooned already, past the
 * guest-physical limit; -DV_EBUSY inside the VMM segment, which must stay
 * whole), and listed once (-DV_EINVAL). scratch holds n entries (it is
 * sorted to find duplicates). 0 or the error, with *bad filled. */
int balloon_check_inflate(const struct extent_map *m, const u64 *pfn, unsigned n, u64 *scratch,
			  struct balloon_bad *bad);
/* Check a list for deflating: each page ballooned, listed once (-DV_EINVAL). */
int balloon_check_deflate(const struct extent_map *m, const u64 *pfn, unsigned n, u64 *scratch,
			  struct balloon_bad *bad);

/* Where len bytes of hot-added memory go: 0 and *gpa, or -DV_ERANGE when the
 * range would pass limit (at most EXTENT_GPA_LIMIT; the hypervisor's owner
 * map records gPAs below PMM_OWNER_MAX only). */
int balloon_plan_hotadd(const struct extent_map *m, u64 len, u64 limit, u64 *gpa);

/* Where len bytes re-added for unplugged memory go (the paper's I/O gap): right
 * after the top of guest memory (the end of the highest extent of any kind),
 * but not below 4 GiB, so that they continue the RAM above the I/O gap and
 * one segment can cover both. 0 and *gpa, or -DV_ERANGE as above. */
int balloon_plan_readd(const struct extent_map *m, u64 len, u64 limit, u64 *gpa);

/* Inflate in the map: each listed page (checked) becomes an EXTENT_BALLOON
 * page (merged with ballooned neighbours); what backed it goes to
 * removed[i] for the caller to unmap and free; then the nhot extents of
 * hot[] are added. backup has room for the map's capacity: the map is
 * restored from it on failure (-DV_E2BIG: the map is full, -DV_EEXIST /
 * -DV_EINVAL from a bad hot-add extent). */
int balloon_inflate_map(struct extent_map *m, const u64 *pfn, unsigned n, struct extent *removed,
			const struct extent *hot, unsigned nhot, struct extent *backup);

/* Hot-unplug in the map: as balloon_inflate_map (the same checks first), but
 * each listed page leaves the map altogether, as if it were part of the I/O
 * gap: not guest memory, never given back, absent from the memory map. */
int balloon_unplug_map(struct extent_map *m, const u64 *pfn, unsigned n, struct extent *removed,
		       const struct extent *hot, unsigned nhot, struct extent *backup);

/* Deflate in the map: each listed page (checked: ballooned) becomes kind,
 * backed by hpa[i]. All or nothing as above. */
int balloon_deflate_map(struct extent_map *m, const u64 *pfn, unsigned n, const u64 *hpa,
			enum extent_kind kind, struct extent *backup);

/* The memory map the guest sees: RAM (ordinary RAM, the VMM segment and its
 * holes), hot-added, ballooned; adjacent pieces of one kind merged. The pieces
 * that end after gPA from: at most DV_MEMORY_MAP_MAX in out->e, their number
 * in out->n, how many there are in out->total. */
void balloon_memory_map(const struct extent_map *m, u64 from, struct dv_memory_map *out);

#endif
