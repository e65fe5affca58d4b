/* Kronecker graph generation and CSR construction.
 *
 * Graph500 specification (graph500.org, "Graph 500 Benchmark 1", sections
 * 3.x "Kernel 1/graph generation"): each edge chooses, at each of scale
 * levels, one quadrant of the adjacency matrix with probabilities A = 0.57,
 * B = 0.19, C = 0.19, D = 0.05; vertex labels are then randomly permuted.
 * We keep duplicate edges, drop self-loops and store both directions. */
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "kron.h"
#include "rng.h"

/* Quadrant thresholds in 16-bit fixed point: A, A + B, A + B + C. */
#define KRON_T_A   ((u32)(0.57 * 65536))
#define KRON_T_AB  ((u32)((0.57 + 0.19) * 65536))
#define KRON_T_ABC ((u32)((0.57 + 0.19 + 0.19) * 65536))

/* One edge: scale quadrant choices, 16 random bits each, 4 per draw. */
static void kron_edge(u64 *rng, u32 scale, u64 *u, u64 *v)
{
	u64 a = 0, b = 0, r = 0;

	for (u32 l = 0; l < scale; l++) {
		u32 q;

		if (l % 4 == 0)
			r = rng_next(rng);
		q = (u32)(r & 0xffff);
		r >>= 16;
		a <<= 1;
		b <<= 1;
		if (q >= KRON_T_ABC) {
			a |= 1;
			b |= 1;
		} else if (q >= KRON_T_AB) {
			a |= 1;
		} else if (q >= KRON_T_A) {
			b |= 1;
		}
	}
	*u = a;
	*v = b;
}

int kron_build(struct kron_graph *g, u32 scale, u64 seed)
{
	u64 n = 1ULL << scale, m = n * KRON_EDGEFACTOR, rng = rng_mix64(seed ^ 0x6b726f6e);
	u64 perm_key = rng_next(&rng), edge_seed = rng_next(&rng), s;
	u32 *fill;

	memset(g, 0, sizeof(*g));
	if (scale < 1 || scale > KRON_MAX_SCALE)
		return -DV_EINVAL;
	g->scale = scale;
	g->n = n;
	g->xoff = calloc(n + 1, sizeof(u32));
	fill = calloc(n + 1, sizeof(u32));
	if (!g->xoff || !fill)
		goto nomem;
	/* Two passes over the same edge stream (regenerated from its seed):
	 * count degrees, then place; no edge list is stored. */
	s = edge_seed;
	for (u64 e = 0; e < m; e++) {
		u64 u, v;

		kron_edge(&s, scale, &u, &v);
		if (u == v)
			continue;
		g->xoff[rng_perm_pow2(u, scale, perm_key) + 1]++;
		g->xoff[rng_perm_pow2(v, scale, perm_key) + 1]++;
	}
	for (u64 i = 0; i < n; i++)
		g->xoff[i + 1] += g->xoff[i];
	g->nadj = g->xoff[n];
	g->xadj = malloc((g->nadj ? g->nadj : 1) * sizeof(u32));
	if (!g->xadj)
		goto nomem;
	memcpy(fill, g->xoff, (n + 1) * sizeof(u32));
	s = edge_seed;
	for (u64 e = 0; e < m; e++) {
		u64 u, v;

		kron_edge(&s, scale, &u, &v);
		if (u == v)
			continue;
		u = rng_perm_pow2(u, scale, perm_key);
		v = rng_perm_pow2(v, scale, perm_key);
		g->xadj[fill[u]++] = (u32)v;
		g->xadj[fill[v]++] = (u32)u;
	}
	free(fill);
	return 0;
nomem:
	free(fill);
	kron_free(g);
	return -DV_ENOMEM;
}

void kron_free(struct kron_graph *g)
{
	free(g->xoff);
	free(g->xadj);
	memset(g, 0, sizeof(*g));
}
