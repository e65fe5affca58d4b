/* Synthetic workloads: each produces an endless, deterministic stream of
 * accesses over a virtual footprint. Only addresses are generated; nothing of
 * the footprint is allocated, so a footprint can be far larger than the
 * machine's memory (the model materialises page tables for touched pages). */
#ifndef MMUSIM_WORKLOAD_H
#define MMUSIM_WORKLOAD_H

#include <dimvisor/types.h>
#include "access.h"

/* Virtual address where workloads place their data: 1 TiB, 1 GiB aligned,
 * leaving room below 128 TiB (the x86-64 user half) for footprints of tens of
 * TiB. */
#define WL_VA_BASE  (1ULL << 40)
#define WL_VA_LIMIT (1ULL << 47)
/* Alignment of each array inside the region, so that large pages can map
 * them; footprints below WL_SMALL use 4 KiB so alignment gaps stay small. */
#define WL_ARRAY_ALIGN (2ULL << 20)
#define WL_SMALL       (64ULL << 20)

struct workload_params {
	u64 footprint; /* bytes of virtual memory the workload spans */
	u64 seed;
	u32 scale; /* bfs: Kronecker scale actually built (0 = automatic) */
};

/* A named range of virtual memory the workload uses. The primary region (the
 * paper's big-memory heap) is where a guest segment goes. */
struct workload_region {
	const char *name;
	u64 base;
	u64 size;
};

#define WL_MAX_REGIONS 8

/* Regions of a workload, placed back to back from WL_VA_BASE inside a budget
 * of footprint bytes. */
struct vspace {
	u64 next;
	u64 limit;
	u64 align;
	unsigned n;
	struct workload_region region[WL_MAX_REGIONS];
};

void vspace_init(struct vspace *vs, u64 footprint);
/* Bytes left for narrays more arrays once their alignment gaps are paid. */
u64 vspace_usable(const struct vspace *vs, unsigned narrays);
/* Reserve size bytes named name, aligned; returns its base address. */
u64 vspace_alloc(struct vspace *vs, const char *name, u64 size);
/* The primary region: from the first array's base to the end of the last. */
void vspace_extent(const struct vspace *vs, u64 *base, u64 *limit);

struct workload;

struct workload_ops {
	const char *name;
	const char *help;
	/* Build the state; returns 0 or a negative error and a message in err. */
	int (*init)(struct workload *wl, const struct workload_params *p, char *err, size_t errlen);
	/* Fill buf with up to max accesses (max >= WL_MIN_BATCH); returns how
	 * many. Generators never run dry: 0 only for a finished trace. */
	size_t (*next)(void *st, struct access *buf, size_t max);
	void (*fini)(void *st);
};

/* Every generator can always emit this many accesses in one step. */
#define WL_MIN_BATCH 64

struct workload {
	const struct workload_ops *ops;
	void *st;
	struct vspace vs;
	char desc[160]; /* what was built, for the report (e.g. bfs scale) */
};

/* The registered generators, NULL-terminated. */
extern const struct workload_ops *const workload_table[];

const struct workload_ops *workload_find(const char *name);
int workload_open(struct workload *wl, const char *name, const struct workload_params *p, char *err,
		  size_t errlen);
static inline size_t workload_next(struct workload *wl, struct access *buf, size_t max)
{
	return wl->ops->next(wl->st, buf, max);
}
void workload_close(struct workload *wl);

extern const struct workload_ops wl_gups_ops;
extern const struct workload_ops wl_bfs_ops;
extern const struct workload_ops wl_cg_ops;
extern const struct workload_ops wl_kvs_ops;
extern const struct workload_ops wl_chase_ops;
extern const struct workload_ops wl_stream_ops;

#endif
