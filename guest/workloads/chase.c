/* chase in the guest: a real pointer chase over the cycle lib/wl_chase.h
 * defines. The cycle is built and chased through the workload's region, each
 * pointer loaded compared with the node the generator says comes next; then
 * the cycle is walked once more through the identity map and must come back
 * to its start after exactly one lap. */
#include "guest/workloads/workload.h"
#include "lib/printf.h"
#include "lib/wl_chase.h"
#include "lib/wl_layout.h"

u64 wl_chase_bytes(u64 footprint)
{
	struct vspace vs;
	struct wl_chase c;

	wl_chase_init(&c, footprint, 0);
	vspace_init(&vs, footprint);
	vspace_alloc(&vs, "nodes", c.nodes * WL_CHASE_NODE);
	return vs.next - WL_VA_BASE;
}

static u64 node_va(const struct wl_place *p, u64 node)
{
	return p->va + node * WL_CHASE_NODE;
}

/* Follow the cycle through the identity map from its first node: the steps
 * until it closes, or nodes + 1 when it does not close in time. */
static u64 lap_through_view(const struct wl_place *p, const struct wl_chase *c)
{
	u64 start = node_va(p, wl_chase_node(c, 0)), at = start;

	for (u64 steps = 1; steps <= c->nodes; steps++) {
		u64 next = *(volatile u64 *)wl_view(p, at);

		if (next < p->va || next >= p->va + c->nodes * WL_CHASE_NODE)
			return c->nodes + 1; /* not a node: the data is wrong */
		if (next == start)
			return steps;
		at = next;
	}
	return c->nodes + 1;
}

void wl_chase_fill(const struct wl_place *p, const struct wl_options *o)
{
	struct wl_chase c;

	wl_chase_init(&c, o->size, o->seed);
	for (u64 i = 0; i < c.nodes; i++)
		*(volatile u64 *)node_va(p, wl_chase_node(&c, i)) =
			node_va(p, wl_chase_node(&c, i + 1 == c.nodes ? 0 : i + 1));
}

void wl_chase_work(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	struct wl_chase expect;
	u64 at;

	wl_chase_init(&expect, o->size, o->seed);
	at = node_va(p, wl_chase_next(&expect));
	r->errors = 0;
	for (u64 n = 0; n < o->ops; n++) {
		u64 want = node_va(p, wl_chase_next(&expect));

		at = *(volatile u64 *)at;
		if (at != want) {
			r->errors++;
			at = want; /* go on from where the chase should be */
		}
	}
	r->ops = o->ops;
}

void wl_chase_verify(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	struct wl_chase c;

	wl_chase_init(&c, o->size, o->seed);
	r->errors += lap_through_view(p, &c) != c.nodes;
	ksnprintf(r->what, sizeof(r->what), "%lu nodes of %d bytes, %lu steps", c.nodes,
		  WL_CHASE_NODE, o->ops);
}

void wl_chase_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	wl_chase_fill(p, o);
	wl_chase_work(p, o, r);
	wl_chase_verify(p, o, r);
}
