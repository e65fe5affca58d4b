/* The memory layout and lazy table materialisation; see layout.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "layout.h"
#include "rng.h"

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* nescaped distinct 4 KiB pages of the primary region's gPA range. */
static void layout_pick_escaped(struct layout_geometry *geo, unsigned n, u64 seed)
{
	u64 first = layout_primary_gpa(geo, geo->primary_base) >> PAGE_SHIFT;
	u64 pages = (geo->primary_limit - geo->primary_base) >> PAGE_SHIFT;
	u64 rng = rng_mix64(seed ^ 0xe5ca9e);

	geo->nescaped = 0;
	if (n > pages)
		n = (unsigned)pages;
	while (geo->nescaped < n) {
		u64 gpa = (first + rng_below(rng_next(&rng), pages)) << PAGE_SHIFT;
		bool dup = false;

		for (unsigned i = 0; i < geo->nescaped; i++)
			dup |= geo->escaped[i] == gpa;
		if (!dup)
			geo->escaped[geo->nescaped++] = gpa;
	}
	qsort(geo->escaped, geo->nescaped, sizeof(u64), cmp_u64);
}

int layout_init(struct layout *l, const struct layout_params *p, char *err, size_t errlen)
{
	struct layout_geometry *geo = &l->geo;
	u64 span;

	memset(l, 0, sizeof(*l));
	geo->primary_base = ALIGN_DOWN(p->primary_base, PAGE_SIZE);
	geo->primary_limit = ALIGN_UP(p->primary_limit, PAGE_SIZE);
	if (geo->primary_limit <= geo->primary_base || !walk_canonical(geo->primary_base) ||
	    geo->primary_limit > (1ULL << 47)) {
		snprintf(err, errlen, "primary region must be a non-empty range of user addresses");
		return -DV_EINVAL;
	}
	if (p->nescaped > LAYOUT_MAX_ESCAPED) {
		snprintf(err, errlen, "at most %d escaped pages", LAYOUT_MAX_ESCAPED);
		return -DV_EINVAL;
	}
	geo->va_anchor = ALIGN_DOWN(geo->primary_base, PAGE_1G);
	geo->gpa_primary = LAYOUT_GPA_PRIMARY;
	span = ALIGN_UP(geo->primary_limit - geo->va_anchor, PAGE_1G);
	geo->gpa_other = geo->gpa_primary + span;
	geo->gpa_top = geo->gpa_other + LAYOUT_OTHER_BYTES;
	geo->hpa_offset = LAYOUT_HPA_OFFSET;
	geo->hpa_spare = geo->gpa_top + geo->hpa_offset;
	geo->nregions = p->regions ? MIN(p->nregions, WL_MAX_REGIONS) : 0;
	if (geo->nregions) {
		memcpy(geo->regions, p->regions, geo->nregions * sizeof(geo->regions[0]));
	} else {
		geo->regions[0] = (struct workload_region){"primary", geo->primary_base,
							   geo->primary_limit - geo->primary_base};
		geo->nregions = 1;
	}
	geo->gseg = (struct segment){geo->primary_base, geo->primary_limit,
				     geo->gpa_primary - geo->va_anchor};
	geo->vseg = (struct segment){0, geo->gpa_top, geo->hpa_offset};
	layout_pick_escaped(geo, p->nescaped, p->seed);
	return 0;
}

/* The tables live in their arena, whose tables are never freed one by one
 * (arena_free_table does nothing): unmapping the arena frees them all, and
 * walking them first (pt_destroy) cost a pass over every entry, 63 M
 * instructions for 8 GiB of 4 KiB tables, at the end of every run. */
void layout_fini(struct layout *l)
{
	for (unsigned i = 0; i < ARRAY_SIZE(l->g); i++) {
		if (l->g[i]) {
			arena_fini(&l->g[i]->arena);
			free(l->g[i]);
		}
	}
	for (unsigned i = 0; i < ARRAY_SIZE(l->e); i++) {
		if (l->e[i]) {
			arena_fini(&l->e[i]->arena);
			free(l->e[i]);
		}
	}
	memset(l, 0, sizeof(*l));
}

/* The leaf sizes a table of policy p may hold. */
static unsigned policy_sizes(enum page_policy p)
{
	switch (p) {
	case PAGES_1G:
		return PT_SIZE_ALL;
	case PAGES_2M:
	case PAGES_THP:
		return PT_SIZE_4K | PT_SIZE_2M;
	default:
		return PT_SIZE_4K;
	}
}

/* Arena + empty table of fmt; 0 or -DV_ENOMEM. */
static int table_setup(struct arena *a, struct pagetable *pt, enum pt_format fmt, unsigned sizes)
{
	struct pt_ops ops;

	if (arena_init(a, LAYOUT_TABLE_BYTES))
		return -DV_ENOMEM;
	arena_pt_ops(a, &ops);
	if (pt_init(pt, fmt, sizes, &ops)) {
		arena_fini(a);
		return -DV_ENOMEM;
	}
	return 0;
}

struct gtables *layout_guest(struct layout *l, enum page_policy p)
{
	struct gtables *g = l->g[p];

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g || table_setup(&g->arena, &g->pt, PT_FMT_X86, policy_sizes(p))) {
		free(g);
		return NULL;
	}
	g->policy = p;
	g->geo = &l->geo;
	g->other_next = l->geo.gpa_other;
	l->g[p] = g;
	return g;
}

struct etables *layout_ept(struct layout *l, enum page_policy p)
{
	struct etables *e;

	if (p == PAGES_THP)
		return NULL;
	e = l->e[p];
	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e || table_setup(&e->arena, &e->pt, PT_FMT_EPT, policy_sizes(p))) {
		free(e);
		return NULL;
	}
	e->policy = p;
	e->geo = &l->geo;
	l->e[p] = e;
	return e;
}

/* Tables one map call may make: a chunk needs at most a PDPT, a PD and a
 * PT; each escaped page in it at most a PD and a PT more. */
static u64 table_room_pages(const struct layout_geometry *geo)
{
	return 8 + 2 * (u64)geo->nescaped;
}

/* Room in a for the tables of one map call, made before pt_map runs:
 * growing may move the arena, and the engine must see the new window. 0 or
 * -DV_ENOMEM. */
static int table_room(struct arena *a, struct pagetable *pt, const struct layout_geometry *geo)
{
	int rc = arena_make_room(a, table_room_pages(geo));

	pt->ops.window = (u64)(uintptr_t)a->base;
	return rc;
}

/* THP: the 2 MiB block at b lies wholly inside one region. */
static bool thp_eligible(const struct layout_geometry *geo, u64 b)
{
	for (unsigned i = 0; i < geo->nregions; i++) {
		const struct workload_region *r = &geo->regions[i];

		if (b >= r->base && b + PAGE_2M <= r->base + r->size)
			return true;
	}
	return false;
}

/* Pages a fault fills at once: the whole table page that maps the faulting
 * address (512 entries), within [lo, hi). Filling entries nobody touched
 * changes no walk and no table count (the table page exists either way),
 * and it saves 511 faults and re-walks out of 512. Returns the chunk's
 * start and sets *end. */
static u64 chunk_of(u64 addr, unsigned shift, u64 lo, u64 hi, u64 *end)
{
	u64 span = 1ULL << (shift + PT_INDEX_BITS);
	u64 start = MAX(ALIGN_DOWN(addr, span), lo);

	*end = MIN(ALIGN_DOWN(addr, span) + span, hi);
	return start;
}

/* The primary region as the guest maps it linearly: rounded out to the
 * policy's page size (THP: to 4 KiB; its 2 MiB pages lie inside regions). */
static void primary_span(const struct gtables *g, u64 *lo, u64 *hi)
{
	u64 size = 1ULL << page_policy_shift(g->policy);

	*lo = ALIGN_DOWN(g->geo->primary_base, size);
	*hi = ALIGN_UP(g->geo->primary_limit, size);
}

/* Map the primary-region page of gva, and the rest of its table page. */
static int gtables_map_primary(struct gtables *g, u64 gva, u64 lo, u64 hi)
{
	unsigned shift = page_policy_shift(g->policy);
	u64 start, end;

	if (g->policy == PAGES_THP) {
		/* One 2 MiB block: a 2 MiB page, or 4 KiB pages. pt_map uses
		 * the largest leaves a range allows, so the 4 KiB case maps
		 * its first page on its own: no call then covers the block. */
		start = ALIGN_DOWN(gva, PAGE_2M);
		if (!thp_eligible(g->geo, start)) {
			u64 gpa;
			int rc;

			start = MAX(start, lo);
			end = MIN(ALIGN_DOWN(gva, PAGE_2M) + PAGE_2M, hi);
			gpa = layout_primary_gpa(g->geo, start);
			rc = pt_map(&g->pt, start, gpa, PAGE_SIZE, PT_RWX | PT_USER);
			if (rc || end - start == PAGE_SIZE)
				return rc;
			return pt_map(&g->pt, start + PAGE_SIZE, gpa + PAGE_SIZE,
				      end - start - PAGE_SIZE, PT_RWX | PT_USER);
		}
		end = start + PAGE_2M;
	} else {
		start = chunk_of(gva, shift, lo, hi, &end);
	}
	return pt_map(&g->pt, start, layout_primary_gpa(g->geo, start), end - start,
		      PT_RWX | PT_USER);
}

/* Map the page of gva outside the primary region at the next free gPA. Its
 * block cannot overlap the primary span: both are aligned to the page size. */
static int gtables_map_other(struct gtables *g, u64 gva)
{
	u64 size = 1ULL << page_policy_shift(g->policy == PAGES_THP ? PAGES_4K : g->policy);
	u64 block = ALIGN_DOWN(gva, size), gpa = ALIGN_UP(g->other_next, size);

	if (gpa + size > g->geo->gpa_top)
		return -DV_ENOMEM;
	g->other_next = gpa + size;
	return pt_map(&g->pt, block, gpa, size, PT_RWX | PT_USER);
}

bool gtables_map_grows(const struct gtables *g)
{
	return !arena_has_room(&g->arena, table_room_pages(g->geo));
}

bool etables_map_grows(const struct etables *e)
{
	return !arena_has_room(&e->arena, table_room_pages(e->geo));
}

int gtables_map(struct gtables *g, u64 gva)
{
	u64 lo, hi;
	int rc = table_room(&g->arena, &g->pt, g->geo);

	if (rc)
		return rc;
	primary_span(g, &lo, &hi);
	if (gva >= lo && gva < hi)
		rc = gtables_map_primary(g, gva, lo, hi);
	else
		rc = gtables_map_other(g, gva);
	if (rc == 0)
		g->maps++;
	return rc;
}

/* Index of the first escaped page >= lo. */
static unsigned escaped_from(const struct layout_geometry *geo, u64 lo)
{
	unsigned a = 0, b = geo->nescaped;

	while (a < b) {
		unsigned m = (a + b) / 2;

		if (geo->escaped[m] < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

int etables_map(struct etables *e, u64 gpa)
{
	const struct layout_geometry *geo = e->geo;
	unsigned shift = page_policy_shift(e->policy);
	u64 end, start = chunk_of(gpa, shift, 0, geo->gpa_top, &end);
	int rc;

	if (gpa >= geo->gpa_top)
		return -DV_ENOMEM;
	rc = table_room(&e->arena, &e->pt, geo);
	if (rc)
		return rc;
	/* Escaped pages go to spare host pages, the rest of the chunk around
	 * them to its own: the large pages around an escaped page come out as
	 * 4 KiB ones, no smaller. Mapped around rather than over, so that every
	 * entry goes from not present straight to its final value: with
	 * --jobs, other threads walk these tables while they are made. */
	for (unsigned i = escaped_from(geo, start);
	     rc == 0 && i < geo->nescaped && geo->escaped[i] < end; i++) {
		u64 esc = geo->escaped[i];

		if (esc > start)
			rc = pt_map(&e->pt, start, start + geo->hpa_offset, esc - start, PT_RWX);
		if (rc == 0)
			rc = pt_map(&e->pt, esc, geo->hpa_spare + (u64)i * PAGE_SIZE, PAGE_SIZE,
				    PT_RWX);
		start = esc + PAGE_SIZE;
	}
	if (rc == 0 && start < end)
		rc = pt_map(&e->pt, start, start + geo->hpa_offset, end - start, PT_RWX);
	if (rc == 0)
		e->maps++;
	return rc;
}
