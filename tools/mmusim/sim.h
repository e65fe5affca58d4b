/* One configuration under simulation: its model instance, the shared tables
 * it walks, and the lazy materialisation loop around model_access. */
#ifndef MMUSIM_SIM_H
#define MMUSIM_SIM_H

#include <dimvisor/types.h>
#include "access.h"
#include "config.h"
#include "layout.h"
#include "mm/model/model.h"

struct sim_options {
	const char *tlb; /* preset name */
	bool pwc;	 /* page-walk caches and nested TLB */
	u32 escape_bits, escape_hashes;
	struct cost_ref_params ref; /* per-reference model */
	/* Linear model: a value < 0 is derived per configuration from its page
	 * sizes and ref (cost_linear_params_from_refs). */
	struct cost_linear_params lin;
	/* Slots of the model's walk memo per configuration (a power of two;
	 * 0 = off, the default). A pure speed-up, counts are identical; not
	 * used with page-walk caches. On the development VM it loses: a memo
	 * as large as the touched pages misses the host caches as often as
	 * the walk it replaces (see docs/mmusim.md). */
	u64 memo_slots;
	/* Look-ahead of the pipelined walks, in accesses (0 = off): the table
	 * entries of access i + prefetch are prefetched (the guest's leaf and
	 * the EPT entry of its table page), those of access i + prefetch / 2
	 * read and the data's EPT entry prefetched, before access i runs. */
	unsigned prefetch;
	/* Slots of the model's cache of guest-table translations (a power of
	 * two; 0 = off): counts are identical, 2D walks skip re-walking EPT
	 * for the guest tables' gPAs. Not used with page-walk caches. */
	u64 table_cache_slots;
	/* Slots of the model's path cache (a power of two; 0 = off): counts
	 * are identical, 2D walks start at the guest leaf table of a 2 MiB
	 * block they walked before. */
	u64 path_cache_slots;
	/* The model's walkers written for the configuration (model_set_fast):
	 * on by default; off, or checked against the generic ones. */
	enum model_fast_mode fast;
};

/* Enough for the guest tables of 8 GiB of 4 KiB pages (4096 + 10 pages),
 * 64 KiB per virtualized configuration: small enough to stay in the host's
 * L2 cache. See docs/mmusim.md. */
#define SIM_TABLE_CACHE_DEFAULT 4096

/* One slot per 2 MiB block of 8 GiB, 32 bytes each: 128 KiB per
 * virtualized configuration with 4 KiB guest pages. See docs/mmusim.md. */
#define SIM_PATH_CACHE_DEFAULT 4096

#define SIM_PREFETCH_DEFAULT 16	 /* look-ahead in accesses; see docs/mmusim.md */
#define SIM_PREFETCH_MAX     256 /* the largest --prefetch-distance */

void sim_options_default(struct sim_options *o);

struct sim;

/* How a missing mapping is made: gtables_map (ept false) or etables_map of
 * addr in the sim's tables, or the same through --jobs' ordered log. 0 to
 * retry the access, or a negative error. */
typedef int (*sim_map_fn)(void *ctx, struct sim *s, bool ept, u64 addr);

struct sim {
	struct config_spec spec;
	unsigned index; /* position in the configuration list */
	sim_map_fn map; /* NULL: map in place */
	void *map_ctx;
	struct model *m;
	struct gtables *g;
	struct etables *e;		  /* NULL for native configurations */
	struct walk_tables gw, ew;	  /* what the model reads now (arenas grow) */
	struct model_memo_slot *memo;	  /* walk memo storage, or NULL */
	struct model_tcache_slot *tcache; /* table-translation cache, or NULL */
	struct model_path_slot *path;	  /* path cache, or NULL */
	struct cost_linear_params lin;	  /* the parameters this configuration uses */
	double seconds;			  /* time spent in this configuration's model */
	double cpu_seconds;		  /* of which its thread ran (CPU time) */
	u64 walks_before;		  /* walks before the last batch */
	bool walking;			  /* the last batch walked often: prefetch */
	unsigned prefetch;		  /* look-ahead (even), 0 = off */
};

/* Set up s for spec over layout l. 0, or a negative error with a message. */
int sim_init(struct sim *s, const struct config_spec *spec, struct layout *l,
	     const struct sim_options *o, char *err, size_t errlen);
/* Make the mapping of addr in s's own tables (what sim_map_fn does by
 * default). */
int sim_map_direct(struct sim *s, bool ept, u64 addr);
/* Translate n accesses; mappings missing from the tables are made and the
 * access retried. 0, or a negative error (a real fault: the address cannot
 * be translated) with a message. */
int sim_feed(struct sim *s, const struct access *a, size_t n, char *err, size_t errlen);
void sim_fini(struct sim *s);

/* Results of one configuration, derived from the model's counters. */
struct sim_result {
	const char *name;
	struct model_stats st;
	double l1_mpka, l2_mpka; /* misses per thousand accesses */
	double refs_per_walk_avg;
	double cycles_linear;		     /* Table IV */
	double cycles_per_ref_model;	     /* refs * cycles_per_ref + adds * cycles_per_add */
	double overhead_vs_native_4k;	     /* per-reference cycles / native-4k's */
	double overhead_linear_vs_native_4k; /* the same with Table IV cycles */
	double seconds, rate;		     /* simulation time, accesses per second */
	double cpu_seconds, cpu_rate;	     /* the same in its thread's CPU time */
	u64 tables_guest, tables_ept;
};

/* Results of s, with the baseline's cycles for the overhead ratios (0:
 * none known, ratios are 0). */
void sim_result(const struct sim *s, const struct sim_options *o, struct sim_result *r);
void sim_result_overhead(struct sim_result *r, const struct sim_result *baseline);

#endif
