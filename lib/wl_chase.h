/* chase: a random pointer chase, the generator both mmusim and the guest's
 * workload run. Nodes of one cache line fill the footprint and are linked in
 * a single random cycle; each step reads the next-node pointer (8 bytes) of
 * the current node. The cycle is the order perm(0), perm(1), ... of a keyed
 * bijection, so it visits every node once per lap without storing the
 * permutation. */
#ifndef LIB_WL_CHASE_H
#define LIB_WL_CHASE_H

#include <dimvisor/types.h>
#include "lib/rng.h"

#define WL_CHASE_NODE 64

struct wl_chase {
	u64 nodes;
	unsigned bits;
	u64 key;
	u64 step;
};

static inline void wl_chase_init(struct wl_chase *c, u64 footprint, u64 seed)
{
	c->nodes = footprint / WL_CHASE_NODE;
	c->bits = rng_bits_for(c->nodes);
	c->key = rng_mix64(seed ^ 0xc4a5e);
	c->step = 0;
}

/* The node at position i of the cycle. */
static inline u64 wl_chase_node(const struct wl_chase *c, u64 i)
{
	return rng_perm(i, c->nodes, c->bits, c->key);
}

/* The node the next step reads. */
static inline u64 wl_chase_next(struct wl_chase *c)
{
	u64 node = wl_chase_node(c, c->step);

	if (++c->step == c->nodes)
		c->step = 0;
	return node;
}

#endif
