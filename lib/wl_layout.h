/* Where a synthetic workload's data lives in virtual memory: its arrays placed
 * back to back from WL_VA_BASE inside a budget of footprint bytes. Shared by
 * mmusim's generators (hosted) and the guest's workloads (freestanding), so
 * that the same name, size and seed give the same addresses on both sides. */
#ifndef LIB_WL_LAYOUT_H
#define LIB_WL_LAYOUT_H

#include <dimvisor/types.h>

/* Virtual address where workloads place their data: 1 TiB, 1 GiB aligned,
 * leaving room below 128 TiB (the x86-64 user half) for footprints of tens of
 * TiB. */
#define WL_VA_BASE  (1ULL << 40)
#define WL_VA_LIMIT (1ULL << 47)
/* Alignment of each array inside the region, so that large pages can map
 * them; footprints below WL_SMALL use 4 KiB so alignment gaps stay small. */
#define WL_ARRAY_ALIGN (2ULL << 20)
#define WL_SMALL       (64ULL << 20)

/* A named range of virtual memory the workload uses. The primary region (the
 * paper's big-memory heap) is where a guest segment goes. */
struct workload_region {
	const char *name;
	u64 base;
	u64 size;
};

#define WL_MAX_REGIONS 8

struct vspace {
	u64 next;
	u64 limit;
	u64 align;
	unsigned n;
	struct workload_region region[WL_MAX_REGIONS];
};

static inline void vspace_init(struct vspace *vs, u64 footprint)
{
	*vs = (struct vspace){0};
	vs->next = WL_VA_BASE;
	vs->limit = WL_VA_BASE + footprint;
	vs->align = footprint >= WL_SMALL ? WL_ARRAY_ALIGN : 4096;
}

/* Bytes left for narrays more arrays once their alignment gaps are paid. */
static inline u64 vspace_usable(const struct vspace *vs, unsigned narrays)
{
	u64 room = vs->limit > vs->next ? vs->limit - vs->next : 0;
	u64 gaps = (u64)narrays * vs->align;

	return room > gaps ? room - gaps : 0;
}

/* Reserve size bytes named name, aligned; returns its base address. */
static inline u64 vspace_alloc(struct vspace *vs, const char *name, u64 size)
{
	u64 base = vs->next;

	if (vs->n < WL_MAX_REGIONS) {
		vs->region[vs->n].name = name;
		vs->region[vs->n].base = base;
		vs->region[vs->n].size = size;
		vs->n++;
	}
	vs->next = ALIGN_UP(base + size, vs->align);
	return base;
}

/* The primary region: from the first array's base to the end of the last. */
static inline void vspace_extent(const struct vspace *vs, u64 *base, u64 *limit)
{
	*base = WL_VA_BASE;
	*limit = vs->n ? vs->region[vs->n - 1].base + vs->region[vs->n - 1].size : WL_VA_BASE;
}

#endif
