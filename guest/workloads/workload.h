/* The guest's workloads: gups, chase and stream, run on real memory with the
 * generators mmusim simulates (lib/wl_*.h), laid out as mmusim lays them out
 * (lib/wl_layout.h: from gVA WL_VA_BASE), so that the same name, size and
 * seed give the same address stream on both sides.
 *
 * Each one checks its result through a second mapping of the same memory:
 * the data is written and worked on through the workload's region and
 * verified through the guest's identity map of the guest-physical pages
 * behind it. A wrong translation of the region (a page mapped to the wrong
 * frame, data lost in a move) cannot pass that check. */
#ifndef GUEST_WORKLOADS_WORKLOAD_H
#define GUEST_WORKLOADS_WORKLOAD_H

#include <dimvisor/types.h>

struct wl_options {
	u64 size;     /* wl-size=: the footprint, as mmusim's --footprint */
	u64 seed;     /* wl-seed=: as mmusim's --seed */
	u64 ops;      /* wl-ops=: updates, chase steps, stream elements */
	bool outside; /* wl-data=outside: 4 KiB pages, no guest segment over the data */
	bool chase;   /* wl-sample=chase: the sampling tests run chase, not gups */
};

/* Where the data is: the workload's layout starts at gVA va (WL_VA_BASE); the
 * same bytes are at gVA view (the identity map of the guest-physical pages
 * behind it). */
struct wl_place {
	u64 va, view, size;
};

/* What a run did: operations done and errors its verification found. */
struct wl_result {
	u64 ops, errors;
	char what[96]; /* the layout, for the report */
};

/* Each: the bytes of layout it needs for a footprint, and the run. */
u64 wl_gups_bytes(u64 footprint);
void wl_gups_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
u64 wl_chase_bytes(u64 footprint);
void wl_chase_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
u64 wl_stream_bytes(u64 footprint);
void wl_stream_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
/* kvs is floating point (its Zipf sampling): call wl_kvs_fpu_enable once
 * before wl_kvs_run. wl_kvs_bytes is ~0 for a footprint too small. */
u64 wl_kvs_bytes(u64 footprint);
void wl_kvs_fpu_enable(void);
void wl_kvs_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);

/* The runs of gups and chase in three phases, so that a measurement can
 * cover the work alone: fill the data (through the region), the work (the
 * updates, the chase; r gets its ops and the errors seen so far), the
 * verification (through the identity map; adds its errors to r). */
struct wl_phases {
	const char *name;
	void (*fill)(const struct wl_place *p, const struct wl_options *o);
	void (*work)(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
	void (*verify)(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
};

void wl_gups_fill(const struct wl_place *p, const struct wl_options *o);
void wl_gups_update(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
void wl_gups_verify(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
void wl_chase_fill(const struct wl_place *p, const struct wl_options *o);
void wl_chase_work(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);
void wl_chase_verify(const struct wl_place *p, const struct wl_options *o, struct wl_result *r);

/* The identity-map address of gVA va of the layout. */
static inline u64 wl_view(const struct wl_place *p, u64 va)
{
	return p->view + (va - p->va);
}

#endif
