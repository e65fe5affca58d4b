/* gups in the guest: HPCC RandomAccess on a real table (lib/wl_gups.h). The
 * updates go through the workload's region; HPCC's verification (the same
 * updates again restore Table[i] = i) runs through the identity map, so an
 * update that landed in the wrong frame shows up as an error. */
#include "guest/workloads/workload.h"
#include "lib/printf.h"
#include "lib/wl_gups.h"
#include "lib/wl_layout.h"

u64 wl_gups_bytes(u64 footprint)
{
	struct vspace vs;

	vspace_init(&vs, footprint);
	vspace_alloc(&vs, "table", wl_gups_table_bytes(footprint));
	return vs.next - WL_VA_BASE;
}

void wl_gups_fill(const struct wl_place *p, const struct wl_options *o)
{
	volatile u64 *table = (volatile u64 *)p->va;
	u64 words = wl_gups_table_bytes(o->size) / 8;

	for (u64 i = 0; i < words; i++)
		table[i] = i;
}

void wl_gups_update(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	volatile u64 *table = (volatile u64 *)p->va;
	struct wl_gups g;

	wl_gups_init(&g, wl_gups_table_bytes(o->size), o->seed);
	for (u64 n = 0; n < o->ops; n++) {
		u64 ran = wl_gups_next(&g);

		table[ran & g.mask] ^= ran;
	}
	r->ops = o->ops;
	r->errors = 0;
}

void wl_gups_verify(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	u64 bytes = wl_gups_table_bytes(o->size), words = bytes / 8;
	volatile u64 *view = (volatile u64 *)wl_view(p, p->va);
	struct wl_gups g;

	wl_gups_init(&g, bytes, o->seed);
	for (u64 n = 0; n < o->ops; n++) {
		u64 ran = wl_gups_next(&g);

		view[ran & g.mask] ^= ran;
	}
	for (u64 i = 0; i < words; i++)
		r->errors += view[i] != i;
	ksnprintf(r->what, sizeof(r->what), "table of %lu words (%lu KiB), %lu updates", words,
		  bytes >> 10, o->ops);
}

void wl_gups_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	wl_gups_fill(p, o);
	wl_gups_update(p, o, r);
	wl_gups_verify(p, o, r);
}
