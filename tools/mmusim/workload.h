/* Synthetic workloads: each produces an endless, deterministic stream of
 * accesses over a virtual footprint. Only addresses are generated; nothing of
 * the footprint is allocated, so a footprint can be far larger than the
 * machine's memory (the model materialises page tables for touched pages).
 * The layout (lib/wl_layout.h) and the gups, chase and stream generators are
 * shared with the guest's workloads (guest/workloads/). */
#ifndef MMUSIM_WORKLOAD_H
#define MMUSIM_WORKLOAD_H

#include <dimvisor/types.h>
#include "access.h"
#include "lib/wl_layout.h"

struct workload_params {
	u64 footprint; /* bytes of virtual memory the workload spans */
	u64 seed;
	u32 scale; /* bfs: Kronecker scale actually built (0 = automatic) */
};

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
