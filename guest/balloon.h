/* The guest's balloon driver (issue 10, the paper's self-ballooning): it
 * picks free guest-physical pages, the scattered ones first, gives them to
 * dimvisor, takes the same amount back as one contiguous hot-added range, and
 * makes that range the guest segment of the current address space, so the
 * guest's physical fragmentation stops standing between it and Guest Direct.
 *
 * The test kernel has no page allocator: callers say which pages of a range
 * are in use. */
#ifndef GUEST_BALLOON_H
#define GUEST_BALLOON_H

#include <dimvisor/hypercall.h>
#include <dimvisor/types.h>

/* Whether the page at gpa is in use (not the driver's to give). */
typedef bool (*balloon_in_use_fn)(u64 gpa, void *ctx);

/* Gather up to want free pages of [lo, hi) (page-aligned) into out as page
 * numbers: first the scattered ones, whose neighbours in the range are in
 * use (they are worth nothing to anything that wants contiguous memory), then
 * the rest in address order. Returns how many. */
unsigned balloon_gather(u64 lo, u64 hi, balloon_in_use_fn in_use, void *ctx, u64 *out,
			unsigned want);

/* Give the n pages to dimvisor and ask for them back hot-added: 0 and
 * *added, or -DV_E* (nothing given). */
s64 balloon_give(const u64 *pages, unsigned n, struct dv_mem_range *added);

/* Hot-unplug the n pages (the I/O gap) and have the same amount re-added
 * right above the top of RAM at 4 GiB or more: 0 and *added, or -DV_E*. */
s64 balloon_unplug(const u64 *pages, unsigned n, struct dv_mem_range *added);

/* Map the hot-added range at gVA va (4 KiB aligned) in the current tables
 * with leaves up to level (1 4 KiB, 2 2 MiB, 3 1 GiB) and register
 * [va, va + len) -> its gPA as the guest segment. 0 or -DV_E*. */
s64 balloon_adopt_segment(u64 va, const struct dv_mem_range *added, unsigned level);

#endif
