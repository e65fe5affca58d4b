/* A Graph500-style Kronecker graph in compressed sparse row form, built in
 * host memory (its scale must fit this machine; see wl_bfs.c for how a bigger
 * footprint is reached). */
#ifndef MMUSIM_KRON_H
#define MMUSIM_KRON_H

#include <dimvisor/types.h>

/* Graph500 specification: edge factor 16 (edges = 16 * vertices). */
#define KRON_EDGEFACTOR 16
#define KRON_MAX_SCALE	26 /* 2 * 16 * 2^26 = 2^31 entries: 32-bit offsets hold */

struct kron_graph {
	u32 scale;
	u64 n;	   /* vertices, 2^scale */
	u64 nadj;  /* adjacency entries: both directions of every non-loop edge */
	u32 *xoff; /* n + 1 offsets into xadj */
	u32 *xadj;
};

/* Build the graph of 2^scale vertices (1 <= scale <= KRON_MAX_SCALE) from
 * seed; 0 or -DV_ENOMEM / -DV_EINVAL. */
int kron_build(struct kron_graph *g, u32 scale, u64 seed);
void kron_free(struct kron_graph *g);

#endif
