/* bfs: Graph500-style breadth-first search over a Kronecker graph in CSR
 * form (Graph500 "Benchmark 1", kernel 2, top-down with a queue, as in its
 * reference "simple" BFS).
 *
 * Each search: parent[] := -1 (a write stream over the vertices), then from a
 * random root of non-zero degree, for each queued vertex v: read queue[head],
 * xoff[v], xoff[v + 1]; for each neighbour w in xadj[xoff[v] .. xoff[v + 1]):
 * read xadj[e] and w's word of the visited bitmap; on discovery write the
 * bitmap word, parent[w] and queue[tail]. Elements are 8 bytes (Graph500
 * uses 64-bit vertex ids), the bitmap is 64-bit words. Graph generation and
 * CSR construction (kernel 1) are not traced.
 *
 * Footprint: the graph is built at a scale this machine holds (by default
 * the largest up to BFS_AUTO_MAX_SCALE whose arrays fit the footprint;
 * --scale chooses it). If the footprint is larger than the graph's arrays
 * by a factor k, the arrays are stretched: vertex v lives at virtual vertex
 * v * k, queue slot i at i * k, and the adjacency list of v starts at virtual
 * entry xoff[v] * k, its entries contiguous. The stream is then that of a
 * uniform 1-in-k sample of the vertices of a k-times larger graph with the
 * same degree distribution: random accesses spread over the full footprint,
 * sequential runs inside an adjacency list stay sequential. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "kron.h"
#include "rng.h"
#include "workload.h"

#define BFS_AUTO_MAX_SCALE 20 /* ~0.3 GB of host memory, built in about a second */
#define BFS_MIN_SCALE	   4

enum bfs_phase { BFS_INIT, BFS_DEQUEUE, BFS_SCAN };

struct bfs {
	struct kron_graph g;
	u64 k; /* stretch factor */
	u64 xoff_va, xadj_va, parent_va, queue_va, visited_va;
	u64 *visited; /* real bitmap, n bits */
	u32 *queue;   /* real queue, n slots */
	u64 head, tail;
	u64 v, e, e_end;
	u64 init_i;
	u64 rng;
	u64 searches;
	enum bfs_phase phase;
};

/* Virtual bytes of the five arrays of a graph of n vertices and nadj
 * adjacency entries, unstretched. */
static u64 bfs_natural_bytes(u64 n, u64 nadj)
{
	return (n + 1) * 8 + nadj * 8 + n * 8 + n * 8 + ALIGN_UP(n, 64) / 8;
}

/* Expected adjacency entries of scale s (self-loops are few). */
static u64 bfs_expected_bytes(u32 s)
{
	u64 n = 1ULL << s;

	return bfs_natural_bytes(n, 2 * KRON_EDGEFACTOR * n);
}

static u32 bfs_auto_scale(u64 usable)
{
	u32 s = BFS_MIN_SCALE;

	while (s < BFS_AUTO_MAX_SCALE && bfs_expected_bytes(s + 1) <= usable)
		s++;
	return s;
}

static void bfs_place(struct bfs *b, struct vspace *vs)
{
	u64 n = b->g.n, k = b->k;

	b->xoff_va = vspace_alloc(vs, "xoff", (n * k + 1) * 8);
	b->xadj_va = vspace_alloc(vs, "xadj", b->g.nadj * k * 8);
	b->parent_va = vspace_alloc(vs, "parent", n * k * 8);
	b->queue_va = vspace_alloc(vs, "queue", n * k * 8);
	b->visited_va = vspace_alloc(vs, "visited", ALIGN_UP(n * k, 64) / 8);
}

static void bfs_new_search(struct bfs *b)
{
	u64 root;

	do
		root = rng_below(rng_next(&b->rng), b->g.n);
	while (b->g.xoff[root] == b->g.xoff[root + 1]);
	memset(b->visited, 0, ALIGN_UP(b->g.n, 64) / 8);
	b->visited[root / 64] |= 1ULL << (root % 64);
	b->queue[0] = (u32)root;
	b->head = 0;
	b->tail = 1;
	b->init_i = 0;
	b->phase = BFS_INIT;
	b->searches++;
}

static int bfs_init(struct workload *wl, const struct workload_params *p, char *err, size_t errlen)
{
	u64 usable = vspace_usable(&wl->vs, 5), need;
	u32 scale = p->scale;
	struct bfs *b;
	int rc;

	if (scale == 0)
		scale = bfs_auto_scale(usable);
	if (scale < BFS_MIN_SCALE || scale > KRON_MAX_SCALE) {
		snprintf(err, errlen, "bfs: scale must be %d..%d", BFS_MIN_SCALE, KRON_MAX_SCALE);
		return -DV_EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -DV_ENOMEM;
	rc = kron_build(&b->g, scale, p->seed);
	if (rc)
		goto fail;
	need = bfs_natural_bytes(b->g.n, b->g.nadj);
	if (need > usable) {
		snprintf(err, errlen, "bfs: scale %u needs %llu MiB of footprint", scale,
			 (unsigned long long)(need >> 20) + 1);
		rc = -DV_EINVAL;
		goto fail;
	}
	b->k = usable / need;
	b->visited = calloc(ALIGN_UP(b->g.n, 64) / 64, sizeof(u64));
	b->queue = calloc(b->g.n, sizeof(u32));
	if (!b->visited || !b->queue) {
		rc = -DV_ENOMEM;
		goto fail;
	}
	b->rng = rng_mix64(p->seed ^ 0xbf5);
	bfs_place(b, &wl->vs);
	bfs_new_search(b);
	wl->st = b;
	snprintf(wl->desc, sizeof(wl->desc),
		 "bfs: Kronecker scale %u (%llu vertices, %llu adjacency entries), stretch %llu",
		 scale, (unsigned long long)b->g.n, (unsigned long long)b->g.nadj,
		 (unsigned long long)b->k);
	return 0;
fail:
	if (rc == -DV_ENOMEM)
		snprintf(err, errlen, "bfs: out of memory building scale %u", scale);
	kron_free(&b->g);
	free(b->visited);
	free(b->queue);
	free(b);
	return rc;
}

static inline struct access acc(u64 va, u8 kind)
{
	return (struct access){.va = va, .size = 8, .kind = kind};
}

/* One step of the search; returns the accesses written (at most 5). */
static size_t bfs_step(struct bfs *b, struct access *o)
{
	u64 k = b->k;
	size_t n = 0;

	switch (b->phase) {
	case BFS_INIT:
		o[n++] = acc(b->parent_va + b->init_i * k * 8, ACCESS_WRITE);
		if (++b->init_i == b->g.n) {
			/* parent[root] = root: the queue already holds it */
			o[n++] = acc(b->parent_va + b->queue[0] * k * 8, ACCESS_WRITE);
			b->phase = BFS_DEQUEUE;
		}
		break;
	case BFS_DEQUEUE:
		if (b->head == b->tail) {
			bfs_new_search(b);
			break;
		}
		b->v = b->queue[b->head];
		o[n++] = acc(b->queue_va + b->head * k * 8, ACCESS_READ);
		o[n++] = acc(b->xoff_va + b->v * k * 8, ACCESS_READ);
		o[n++] = acc(b->xoff_va + (b->v * k + 1) * 8, ACCESS_READ);
		b->head++;
		b->e = b->g.xoff[b->v];
		b->e_end = b->g.xoff[b->v + 1];
		b->phase = BFS_SCAN;
		break;
	case BFS_SCAN: {
		u64 w, word;

		if (b->e == b->e_end) {
			b->phase = BFS_DEQUEUE;
			break;
		}
		w = b->g.xadj[b->e];
		word = (w * k) / 64;
		o[n++] = acc(b->xadj_va + (b->g.xoff[b->v] * k + (b->e - b->g.xoff[b->v])) * 8,
			     ACCESS_READ);
		o[n++] = acc(b->visited_va + word * 8, ACCESS_READ);
		if (!(b->visited[w / 64] & (1ULL << (w % 64)))) {
			b->visited[w / 64] |= 1ULL << (w % 64);
			o[n++] = acc(b->visited_va + word * 8, ACCESS_WRITE);
			o[n++] = acc(b->parent_va + w * k * 8, ACCESS_WRITE);
			o[n++] = acc(b->queue_va + b->tail * k * 8, ACCESS_WRITE);
			b->queue[b->tail++] = (u32)w;
		}
		b->e++;
		break;
	}
	}
	return n;
}

static size_t bfs_next(void *st, struct access *buf, size_t max)
{
	struct bfs *b = st;
	size_t n = 0;

	while (n + 5 <= max)
		n += bfs_step(b, buf + n);
	return n;
}

static void bfs_fini(void *st)
{
	struct bfs *b = st;

	kron_free(&b->g);
	free(b->visited);
	free(b->queue);
	free(b);
}

const struct workload_ops wl_bfs_ops = {
	.name = "bfs",
	.help = "Graph500-style BFS over a Kronecker graph (CSR); --scale sets the graph built",
	.init = bfs_init,
	.next = bfs_next,
	.fini = bfs_fini,
};
