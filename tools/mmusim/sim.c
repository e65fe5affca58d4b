/* Driving one model instance; see sim.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dimvisor/errno.h>
#include "sim.h"

/* How many accesses ahead the memo slot is prefetched: enough to overlap
 * the host's memory latency with a few walks' worth of work. */
#define SIM_PREFETCH_AHEAD 8

/* The look-ahead's memory of what the near step has to do: a ring of at
 * least the largest distance. */
#define SIM_NEAR_RING SIM_PREFETCH_MAX

/* Pipelined walks are worth their look-ahead only when walks are frequent:
 * at least one access in this many walked in the previous batch. */
#define SIM_PREFETCH_MIN_SHARE 64

/* A 2D walk can miss at most one table per guest level and per nested level
 * of each guest-table gPA, plus the data page: a few dozen mappings at
 * worst; more retries than this is a bug, not a big footprint. */
#define SIM_MAX_RETRIES 64

void sim_options_default(struct sim_options *o)
{
	memset(o, 0, sizeof(*o));
	o->tlb = "sandybridge";
	o->escape_bits = ESCAPE_DEFAULT_BITS;
	o->escape_hashes = ESCAPE_DEFAULT_HASHES;
	cost_ref_params_default(&o->ref);
	o->lin = (struct cost_linear_params){-1, -1, -1, -1};
	o->prefetch = SIM_PREFETCH_DEFAULT;
	o->table_cache_slots = SIM_TABLE_CACHE_DEFAULT;
	o->path_cache_slots = SIM_PATH_CACHE_DEFAULT;
	o->fast = MODEL_FAST_ON;
}

/* Give the model its walk memo. 0 or -DV_ENOMEM. */
static int sim_memo(struct sim *s, const struct sim_options *o)
{
	if (!o->memo_slots || o->pwc)
		return 0;
	s->memo = aligned_alloc(64, o->memo_slots * sizeof(*s->memo));
	if (!s->memo)
		return -DV_ENOMEM;
	return model_set_memo(s->m, s->memo, o->memo_slots);
}

/* Give a virtualized configuration its table-translation cache. 0 or
 * -DV_ENOMEM. */
static int sim_table_cache(struct sim *s, const struct sim_options *o)
{
	if (!o->table_cache_slots || o->pwc || !s->spec.virt)
		return 0;
	s->tcache = aligned_alloc(64, o->table_cache_slots * sizeof(*s->tcache));
	if (!s->tcache)
		return -DV_ENOMEM;
	return model_set_table_cache(s->m, s->tcache, o->table_cache_slots);
}

/* Give the model its path cache (used by the fast walkers only) where it
 * pays: virtualized configurations whose guest walks reach 4 KiB leaf
 * tables (4 KiB pages or THP), where a known path also skips the guest
 * tables' nested translations. Native walks lose by it (measured on gups
 * 8 GiB; docs/mmusim.md). 0 or -DV_ENOMEM. */
static int sim_path_cache(struct sim *s, const struct sim_options *o)
{
	const struct config_spec *c = &s->spec;
	u64 n = o->path_cache_slots;

	if (!n || o->pwc || o->fast == MODEL_FAST_OFF || !c->virt ||
	    !(c->guest == PAGES_4K || c->guest == PAGES_THP))
		return 0;
	s->path = aligned_alloc(64, n * sizeof(*s->path));
	if (!s->path)
		return -DV_ENOMEM;
	return model_set_path_cache(s->m, s->path, n);
}

/* Walk levels of a page policy: 4, 3, 2; THP counts as 2 MiB (most pages
 * of a THP layout are). */
static unsigned policy_levels(enum page_policy p)
{
	return p == PAGES_1G ? 2 : (p == PAGES_2M || p == PAGES_THP) ? 3 : 4;
}

static void sim_linear_params(struct sim *s, const struct sim_options *o)
{
	struct cost_linear_params d;

	cost_linear_params_from_refs(&d, &o->ref, policy_levels(s->spec.guest),
				     s->spec.virt ? policy_levels(s->spec.ept) : 4);
	s->lin.c_n = o->lin.c_n >= 0 ? o->lin.c_n : d.c_n;
	s->lin.c_v = o->lin.c_v >= 0 ? o->lin.c_v : d.c_v;
	s->lin.delta_vd = o->lin.delta_vd >= 0 ? o->lin.delta_vd : d.delta_vd;
	s->lin.delta_gd = o->lin.delta_gd >= 0 ? o->lin.delta_gd : d.delta_gd;
}

/* Pipelined walks pay where walks read 4 KiB leaf tables, which are spread
 * over megabytes: guest (native) 4 KiB pages walked, or 4 KiB EPT pages
 * walked. With large pages the tables are a few cached lines, and there the
 * look-ahead only costs (measured on gups 8 GiB: 4k+4k 1.6x, native-4k
 * 1.2x, guest-direct 1.4x faster with it; 2m+2m and 1g+1g 1.3-1.5x
 * slower). Under the VMM segment the guest's 4 KiB tables are still walked:
 * vmm-direct alone took 0.60 s of CPU with it against 1.13 s without, and
 * as much either way right after another configuration had walked the same
 * tables (as in the eight-configuration run, where it had measured even). */
static bool sim_prefetch_pays(const struct config_spec *c)
{
	bool small_guest = c->guest == PAGES_4K || c->guest == PAGES_THP;

	return small_guest || (c->virt && c->ept == PAGES_4K);
}

/* The near look-ahead step fetches the data's EPT entry: not walked where
 * the VMM segment translates every gPA. */
static bool sim_prefetch_near(const struct config_spec *c)
{
	return c->virt && c->mode != MODEL_VMM_DIRECT && c->mode != MODEL_DUAL_DIRECT;
}

int sim_init(struct sim *s, const struct config_spec *spec, struct layout *l,
	     const struct sim_options *o, char *err, size_t errlen)
{
	struct model_config c;
	int rc;

	memset(s, 0, sizeof(*s));
	s->spec = *spec;
	model_config_init(&c, spec->mode);
	if (tlb_preset(o->tlb, &c.tlb)) {
		snprintf(err, errlen, "unknown TLB preset '%s'", o->tlb);
		return -DV_EINVAL;
	}
	c.pwc = o->pwc;
	c.escape_bits = o->escape_bits;
	c.escape_hashes = o->escape_hashes;
	c.env.maxphyaddr = LAYOUT_MAXPHYADDR;
	/* Both segments in every mode: a mode that does not translate with
	 * one still uses it to classify misses for the linear model. */
	c.gseg = l->geo.gseg;
	c.vseg = l->geo.vseg;
	s->g = layout_guest(l, spec->guest);
	if (spec->virt)
		s->e = layout_ept(l, spec->ept);
	s->m = malloc(sizeof(*s->m));
	if (!s->g || (spec->virt && !s->e) || !s->m) {
		snprintf(err, errlen, "%s: out of memory", spec->name);
		sim_fini(s);
		return -DV_ENOMEM;
	}
	gtables_walk(s->g, &c.guest);
	if (s->e)
		etables_walk(s->e, &c.nested);
	s->gw = c.guest;
	s->ew = c.nested;
	rc = model_init(s->m, &c);
	if (rc == 0)
		model_set_fast(s->m, o->fast);
	for (unsigned i = 0; rc == 0 && i < l->geo.nescaped; i++)
		rc = model_escape_page(s->m, l->geo.escaped[i]);
	if (rc == 0)
		rc = sim_memo(s, o);
	if (rc == 0)
		rc = sim_table_cache(s, o);
	if (rc == 0)
		rc = sim_path_cache(s, o);
	if (rc) {
		snprintf(err, errlen, "%s: the model refused the configuration (%s)", spec->name,
			 dv_strerror(-rc));
		sim_fini(s);
		return rc;
	}
	sim_linear_params(s, o);
	s->prefetch = sim_prefetch_pays(spec) ? MIN(o->prefetch, SIM_NEAR_RING) & ~1u : 0;
	s->walking = true;
	return 0;
}

void sim_fini(struct sim *s)
{
	free(s->m);
	free(s->memo);
	free(s->tcache);
	free(s->path);
	s->m = NULL;
	s->memo = NULL;
	s->tcache = NULL;
	s->path = NULL;
}

/* The arenas grow, and may move, as tables are made (by this configuration
 * or another with the same page policy): tell the model where they are. */
static void sim_tables_refresh(struct sim *s)
{
	struct walk_tables gw, ew = s->ew;

	gtables_walk(s->g, &gw);
	if (s->e)
		etables_walk(s->e, &ew);
	if (gw.flat == s->gw.flat && gw.flat_size == s->gw.flat_size && ew.flat == s->ew.flat &&
	    ew.flat_size == s->ew.flat_size)
		return;
	s->gw = gw;
	s->ew = ew;
	model_move_tables(s->m, &gw, &ew);
}

static const char *const fault_kinds[] = {"ok", "not present", "protection", "reserved bit",
					  "non-canonical address"};

int sim_map_direct(struct sim *s, bool ept, u64 addr)
{
	return ept ? etables_map(s->e, addr) : gtables_map(s->g, addr);
}

/* The access at a faulted: materialise what is missing, or fail. */
static int sim_fault(struct sim *s, const struct access *a, char *err, size_t errlen)
{
	const struct walk_fault *f = model_fault(s->m);
	int rc = -DV_EFAULT;

	if (f->kind == WALK_NOT_PRESENT && (f->stage == WALK_STAGE_GUEST || s->e)) {
		bool ept = f->stage != WALK_STAGE_GUEST;
		u64 addr = ept ? f->pa : f->va;

		rc = s->map ? s->map(s->map_ctx, s, ept, addr) : sim_map_direct(s, ept, addr);
		if (rc == 0) {
			sim_tables_refresh(s);
			return 0;
		}
		if (rc == -DV_EBUSY) {
			snprintf(err, errlen, "%s: stopped (another configuration failed)",
				 s->spec.name);
			return rc;
		}
		if (rc == -DV_ENOMEM) {
			snprintf(err, errlen,
				 "%s: out of table memory or of room outside the primary region "
				 "at address 0x%llx",
				 s->spec.name, (unsigned long long)a->va);
			return rc;
		}
	}
	snprintf(err, errlen, "%s: access to 0x%llx (%u bytes) faults: %s at level %u of the %s",
		 s->spec.name, (unsigned long long)a->va, a->size,
		 f->kind < ARRAY_SIZE(fault_kinds) ? fault_kinds[f->kind] : "?", f->level,
		 f->stage == WALK_STAGE_GUEST ? "guest tables" : "EPT");
	return -DV_EFAULT;
}

/* One access the slow way: faults resolved, instruction fetches through
 * model_translate. */
static int sim_access_retry(struct sim *s, const struct access *a, char *err, size_t errlen)
{
	for (unsigned tries = 0; tries < SIM_MAX_RETRIES; tries++) {
		int rc;

		if (a->kind == ACCESS_IFETCH)
			rc = model_translate(s->m, a->va, WALK_ACC_EXEC | WALK_ACC_USER, NULL);
		else
			rc = model_access(s->m, a->va, a->kind == ACCESS_WRITE);
		if (rc == 0)
			return 0;
		rc = sim_fault(s, a, err, errlen);
		if (rc)
			return rc;
	}
	snprintf(err, errlen, "%s: access to 0x%llx keeps faulting", s->spec.name,
		 (unsigned long long)a->va);
	return -DV_EFAULT;
}

/* a is in the 4 KiB page of the access before it (a[-1] exists). */
static inline bool sim_same_page(const struct access *a)
{
	return ((a[0].va ^ a[-1].va) >> PAGE_SHIFT) == 0;
}

/* The n accesses of a, with look-ahead d (even, > 0, at most
 * SIM_NEAR_RING), the near step on or off: a constant in each of the
 * function's two copies (a configuration without it then keeps no ring). */
__attribute__((always_inline)) static inline int sim_feed_ahead(struct sim *s,
								const struct access *a, size_t n,
								unsigned d, bool near, char *err,
								size_t errlen)
{
	struct model *m = s->m;
	/* Whether the near step has work for position i, as the far step
	 * said d / 2 accesses before (0 for an access to the page of the one
	 * before it: an access there walks at most once for both, gups'
	 * write after its read; one look-ahead). */
	u8 todo[SIM_NEAR_RING] = {0};
	size_t i;

	for (i = 0; i < n && i < d; i++)
		todo[i % SIM_NEAR_RING] = model_prefetch_far(m, a[i].va) && near;
	for (i = 0; near && i < n && i < d / 2; i++)
		if (todo[i % SIM_NEAR_RING])
			model_prefetch_near(m, a[i].va);
	for (i = 0; i < n; i++) {
		if (i + d < n && !sim_same_page(&a[i + d])) {
			bool more = model_prefetch_far(m, a[i + d].va);

			if (near)
				todo[(i + d) % SIM_NEAR_RING] = more;
		} else if (near) {
			todo[(i + d) % SIM_NEAR_RING] = 0;
		}
		if (near && i + d / 2 < n && todo[(i + d / 2) % SIM_NEAR_RING])
			model_prefetch_near(m, a[i + d / 2].va);
		if (__builtin_expect(a[i].kind != ACCESS_IFETCH, 1) &&
		    __builtin_expect(model_access(m, a[i].va, a[i].kind == ACCESS_WRITE) == 0, 1))
			continue;
		int rc = sim_access_retry(s, &a[i], err, errlen);

		if (rc)
			return rc;
	}
	return 0;
}

/* sim_feed_ahead with the near step where it pays: 2D walks whose gPAs the
 * VMM segment does not translate (a native walk's look-ahead is all in the
 * far step; the near one only finds the data's EPT entry). */
static int sim_feed_prefetch(struct sim *s, const struct access *a, size_t n, unsigned d, char *err,
			     size_t errlen)
{
	if (sim_prefetch_near(&s->spec))
		return sim_feed_ahead(s, a, n, d, true, err, errlen);
	return sim_feed_ahead(s, a, n, d, false, err, errlen);
}

static double sim_clock(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The batch, timed: wall time, and the thread's CPU time, which a machine
 * shared with other work does not inflate by descheduling. */
static int sim_feed_batch(struct sim *s, const struct access *a, size_t n, char *err,
			  size_t errlen);

int sim_feed(struct sim *s, const struct access *a, size_t n, char *err, size_t errlen)
{
	double t0 = sim_clock(CLOCK_MONOTONIC), c0 = sim_clock(CLOCK_THREAD_CPUTIME_ID);
	int rc = sim_feed_batch(s, a, n, err, errlen);

	s->cpu_seconds += sim_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
	s->seconds += sim_clock(CLOCK_MONOTONIC) - t0;
	return rc;
}

static int sim_feed_batch(struct sim *s, const struct access *a, size_t n, char *err, size_t errlen)
{
	struct model *m = s->m;
	u64 walks = model_stats(m)->walks;
	int rc = 0;

	sim_tables_refresh(s);
	if (s->walking && s->prefetch) {
		rc = sim_feed_prefetch(s, a, n, s->prefetch, err, errlen);
	} else {
		for (size_t i = 0; i < n; i++) {
			if (i + SIM_PREFETCH_AHEAD < n)
				model_prefetch(m, a[i + SIM_PREFETCH_AHEAD].va);
			if (__builtin_expect(a[i].kind != ACCESS_IFETCH, 1) &&
			    __builtin_expect(
				    model_access(m, a[i].va, a[i].kind == ACCESS_WRITE) == 0, 1))
				continue;
			rc = sim_access_retry(s, &a[i], err, errlen);
			if (rc)
				break;
		}
	}
	s->walking = (model_stats(m)->walks - walks) * SIM_PREFETCH_MIN_SHARE >= n;
	if (rc == 0 && model_fast_mismatches(m, NULL)) {
		snprintf(err, errlen,
			 "%s: the fast walkers differ from the generic ones on %llu walks",
			 s->spec.name, (unsigned long long)model_fast_mismatches(m, NULL));
		rc = -DV_EINVAL;
	}
	return rc;
}

void sim_result(const struct sim *s, const struct sim_options *o, struct sim_result *r)
{
	const struct model_stats *st = model_stats(s->m);
	double acc = (double)st->accesses;

	memset(r, 0, sizeof(*r));
	r->name = s->spec.name;
	r->st = *st;
	r->l1_mpka = acc ? 1000.0 * (double)st->l1_misses / acc : 0;
	r->l2_mpka = acc ? 1000.0 * (double)st->l2_misses / acc : 0;
	r->refs_per_walk_avg = st->walks ? (double)st->walk_refs / (double)st->walks : 0;
	r->cycles_linear =
		cost_linear_cycles_of(&s->lin, model_cost_design(s->spec.mode), &st->miss);
	r->cycles_per_ref_model = (double)cost_ref_cycles(&o->ref, st->walk_refs, st->seg_adds);
	r->seconds = s->seconds;
	r->rate = s->seconds > 0 ? acc / s->seconds : 0;
	r->cpu_seconds = s->cpu_seconds;
	r->cpu_rate = s->cpu_seconds > 0 ? acc / s->cpu_seconds : 0;
	r->tables_guest = arena_tables(&s->g->arena);
	r->tables_ept = s->e ? arena_tables(&s->e->arena) : 0;
}

void sim_result_overhead(struct sim_result *r, const struct sim_result *baseline)
{
	if (!baseline)
		return;
	r->overhead_vs_native_4k =
		cost_ratio(r->cycles_per_ref_model, baseline->cycles_per_ref_model);
	r->overhead_linear_vs_native_4k = cost_ratio(r->cycles_linear, baseline->cycles_linear);
}
