/* chase: a random pointer chase. Nodes of one cache line fill the footprint
 * and are linked in a single random cycle; each step reads the next-node
 * pointer (8 bytes) of the current node. The cycle is the order
 * perm(0), perm(1), ... of a keyed bijection, so it visits every node once
 * per lap without storing the permutation. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "rng.h"
#include "workload.h"

#define CHASE_NODE 64

struct chase {
	u64 base;
	u64 nodes;
	unsigned bits;
	u64 key;
	u64 step;
};

static int chase_init(struct workload *wl, const struct workload_params *p, char *err,
		      size_t errlen)
{
	struct chase *c;

	if (p->footprint < 2 * CHASE_NODE) {
		snprintf(err, errlen, "chase: footprint must be at least %d bytes", 2 * CHASE_NODE);
		return -DV_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -DV_ENOMEM;
	c->nodes = p->footprint / CHASE_NODE;
	c->bits = rng_bits_for(c->nodes);
	c->key = rng_mix64(p->seed ^ 0xc4a5e);
	c->base = vspace_alloc(&wl->vs, "nodes", c->nodes * CHASE_NODE);
	wl->st = c;
	snprintf(wl->desc, sizeof(wl->desc), "chase: %llu nodes of %d bytes in one cycle",
		 (unsigned long long)c->nodes, CHASE_NODE);
	return 0;
}

static size_t chase_next(void *st, struct access *buf, size_t max)
{
	struct chase *c = st;
	size_t n;

	for (n = 0; n < max; n++) {
		u64 node = rng_perm(c->step, c->nodes, c->bits, c->key);

		buf[n] = (struct access){
			.va = c->base + node * CHASE_NODE, .size = 8, .kind = ACCESS_READ};
		if (++c->step == c->nodes)
			c->step = 0;
	}
	return n;
}

static void chase_fini(void *st)
{
	free(st);
}

const struct workload_ops wl_chase_ops = {
	.name = "chase",
	.help = "random pointer chase over 64-byte nodes forming one cycle",
	.init = chase_init,
	.next = chase_next,
	.fini = chase_fini,
};
