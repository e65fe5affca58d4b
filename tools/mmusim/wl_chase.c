/* chase: a random pointer chase over 64-byte nodes forming one cycle
 * (lib/wl_chase.h, shared with the guest's workload); each step reads the
 * next-node pointer (8 bytes) of the current node. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "lib/wl_chase.h"
#include "workload.h"

struct chase {
	u64 base;
	struct wl_chase gen;
};

static int chase_init(struct workload *wl, const struct workload_params *p, char *err,
		      size_t errlen)
{
	struct chase *c;

	if (p->footprint < 2 * WL_CHASE_NODE) {
		snprintf(err, errlen, "chase: footprint must be at least %d bytes",
			 2 * WL_CHASE_NODE);
		return -DV_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -DV_ENOMEM;
	wl_chase_init(&c->gen, p->footprint, p->seed);
	c->base = vspace_alloc(&wl->vs, "nodes", c->gen.nodes * WL_CHASE_NODE);
	wl->st = c;
	snprintf(wl->desc, sizeof(wl->desc), "chase: %llu nodes of %d bytes in one cycle",
		 (unsigned long long)c->gen.nodes, WL_CHASE_NODE);
	return 0;
}

static size_t chase_next(void *st, struct access *buf, size_t max)
{
	struct chase *c = st;
	size_t n;

	for (n = 0; n < max; n++)
		buf[n] = (struct access){.va = c->base + wl_chase_next(&c->gen) * WL_CHASE_NODE,
					 .size = 8,
					 .kind = ACCESS_READ};
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
