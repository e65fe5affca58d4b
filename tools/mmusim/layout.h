/* Where memory lives for every configuration: the guest's page tables and
 * EPT, materialised lazily (a page is mapped when a walk first finds it
 * missing), the primary region and the segments that cover it, and escaped
 * pages. Tables are shared by all configurations that use the same page
 * policy: mmusim only ever adds mappings, and the same address always gets
 * the same mapping, so a table built for one configuration is exactly the
 * one another would have built.
 *
 * Guest-physical space (also the physical space of native configurations):
 *   [4 KiB, 32 GiB)          guest page-table pages (table arena)
 *   [64 GiB, +primary)       the primary region: gPA = gVA + OFFSET_g, linear,
 *                            so every page size fits and the guest segment
 *                            [BASE_g, LIMIT_g) = the primary region holds
 *   then up to 64 GiB        pages outside the primary region, in first-touch
 *                            order
 * Host-physical space:
 *   [4 KiB, 32 GiB)          EPT table pages
 *   gPA + 64 GiB             guest memory: the VMM segment [0, end of guest
 *                            memory) with OFFSET_v = 64 GiB; EPT maps the same
 *   above                    spare host pages that replace escaped ones
 * Escaped pages: chosen at random (from the seed) among the 4 KiB pages of
 * the primary region's gPA range; EPT maps each to a spare host page with a
 * 4 KiB page, splitting the large EPT pages around it only as far as needed
 * (a 1 GiB page into 2 MiB pages, the 2 MiB page holding it into 4 KiB).
 *
 * A fault fills the whole table page of the missing entry (512 pages of the
 * policy's size, clipped to the primary region or guest memory): the extra
 * entries change no walk and no table count, and save 511 faults of 512.
 * Pages outside the primary region are mapped one at a time. */
#ifndef MMUSIM_LAYOUT_H
#define MMUSIM_LAYOUT_H

#include <dimvisor/types.h>
#include "arena.h"
#include "config.h"
#include "mm/model/escape.h"
#include "mm/model/model.h"
#include "mm/pagetable.h"
#include "workload.h"

#define LAYOUT_TABLE_BYTES (32ULL << 30) /* the most table memory per policy */
#define LAYOUT_GPA_PRIMARY (64ULL << 30)
#define LAYOUT_OTHER_BYTES (64ULL << 30)
#define LAYOUT_HPA_OFFSET  (64ULL << 30)
#define LAYOUT_MAX_ESCAPED ESCAPE_MAX_PAGES
/* The simulated machine's physical-address width: wider than any real one
 * so footprints of tens of TiB fit; it changes no walk. */
#define LAYOUT_MAXPHYADDR 52

struct layout_params {
	u64 primary_base, primary_limit;       /* gVA range of the primary region */
	const struct workload_region *regions; /* THP: 2 MiB blocks inside one */
	unsigned nregions;
	unsigned nescaped; /* escaped 4 KiB pages */
	u64 seed;
};

struct layout_geometry {
	u64 primary_base, primary_limit; /* 4 KiB aligned */
	u64 va_anchor; /* primary_base rounded down to 1 GiB: maps to gpa_primary */
	u64 gpa_primary;
	u64 gpa_other; /* first gPA for pages outside the primary region */
	u64 gpa_top;   /* end of guest memory */
	u64 hpa_offset;
	u64 hpa_spare; /* first spare host page */
	struct workload_region regions[WL_MAX_REGIONS];
	unsigned nregions;
	u64 escaped[LAYOUT_MAX_ESCAPED]; /* sorted gPAs of 4 KiB pages */
	unsigned nescaped;
	struct segment gseg, vseg;
};

/* Guest (or native) page tables under one page policy. */
struct gtables {
	enum page_policy policy;
	struct arena arena;
	struct pagetable pt;
	u64 other_next; /* next free gPA outside the primary region */
	const struct layout_geometry *geo;
	u64 maps; /* pages mapped on demand */
};

/* EPT under one page size. */
struct etables {
	enum page_policy policy;
	struct arena arena;
	struct pagetable pt;
	const struct layout_geometry *geo;
	u64 maps;
};

struct layout {
	struct layout_geometry geo;
	struct gtables *g[4]; /* by enum page_policy, made on first use */
	struct etables *e[3];
};

int layout_init(struct layout *l, const struct layout_params *p, char *err, size_t errlen);
void layout_fini(struct layout *l);
/* The shared tables for a policy, created empty on first use; NULL when
 * out of memory. */
struct gtables *layout_guest(struct layout *l, enum page_policy p);
struct etables *layout_ept(struct layout *l, enum page_policy p);

/* Map the guest page holding gva (its size from the policy), with the rest
 * of its table page in the primary region. 0, or -DV_ENOMEM when tables or
 * the room outside the primary region run out. */
int gtables_map(struct gtables *g, u64 gva);
/* Map the EPT page holding gpa, with the rest of its table page. */
int etables_map(struct etables *e, u64 gpa);
/* Would the next gtables_map (etables_map) grow the arena, which may move
 * it? Only then does a map call change anything a walk in progress reads
 * other than entries going from not present to present. */
bool gtables_map_grows(const struct gtables *g);
bool etables_map_grows(const struct etables *e);

/* The gPA the layout gives a primary-region gVA (tests, reports). */
static inline u64 layout_primary_gpa(const struct layout_geometry *geo, u64 gva)
{
	return gva - geo->va_anchor + geo->gpa_primary;
}

static inline void gtables_walk(const struct gtables *g, struct walk_tables *wt)
{
	*wt = (struct walk_tables){
		.root = g->pt.root, .flat = g->arena.base, .flat_size = g->arena.reserved};
}

static inline void etables_walk(const struct etables *e, struct walk_tables *wt)
{
	*wt = (struct walk_tables){
		.root = e->pt.root, .flat = e->arena.base, .flat_size = e->arena.reserved};
}

#endif
