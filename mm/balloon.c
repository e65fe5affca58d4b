/* Self-ballooning and hot-add on the extent map; see balloon.h. */
#include "mm/balloon.h"

#include <dimvisor/errno.h>

#include "arch/x86_64/pte.h"

#define PFN_LIMIT   (EXTENT_GPA_LIMIT >> PAGE_SHIFT)
#define INDEX_BITS  16 /* DV_BALLOON_MAX entries fit */
#define INDEX_MASK  ((1ULL << INDEX_BITS) - 1)
#define GUEST_KINDS (EXTENT_KIND_BIT(EXTENT_RAM) | EXTENT_KIND_BIT(EXTENT_HOTADD))
#define VSEG_KINDS  (EXTENT_KIND_BIT(EXTENT_SEGMENT) | EXTENT_KIND_BIT(EXTENT_HOLE))

_Static_assert(DV_BALLOON_MAX <= INDEX_MASK + 1, "a list index fits in the sort key");

static int refuse(struct balloon_bad *bad, unsigned index, int err, const char *why)
{
	*bad = (struct balloon_bad){.index = index, .err = err, .why = why};
	return err;
}

static void sift_down(u64 *a, unsigned root, unsigned n)
{
	for (;;) {
		unsigned child = 2 * root + 1;
		u64 t;

		if (child >= n)
			return;
		if (child + 1 < n && a[child + 1] > a[child])
			child++;
		if (a[root] >= a[child])
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

/* Heapsort: O(n log n) with no recursion and no extra memory. */
static void sort_u64(u64 *a, unsigned n)
{
	for (unsigned i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (unsigned end = n; end-- > 1;) {
		u64 t = a[0];

		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end);
	}
}

/* The first entry (lowest index) that repeats an earlier one, or n. Sorting
 * (page, index) keys puts each page's entries together, lowest index first. */
static unsigned first_duplicate(const u64 *pfn, unsigned n, u64 *scratch)
{
	unsigned first = n;

	for (unsigned i = 0; i < n; i++)
		scratch[i] = pfn[i] << INDEX_BITS | i;
	sort_u64(scratch, n);
	for (unsigned i = 1; i < n; i++)
		if (scratch[i] >> INDEX_BITS == scratch[i - 1] >> INDEX_BITS &&
		    (scratch[i] & INDEX_MASK) < first)
			first = (unsigned)(scratch[i] & INDEX_MASK);
	return first;
}

/* Entries one by one (kinds), then duplicates: the first bad entry of
 * either sort is reported, the per-entry one first. */
static int check_list(const struct extent_map *m, const u64 *pfn, unsigned n, u64 *scratch,
		      bool inflate, struct balloon_bad *bad)
{
	unsigned dup;

	if (n == 0 || n > DV_BALLOON_MAX)
		return refuse(bad, 0, -DV_EINVAL, "the list must have 1..DV_BALLOON_MAX entries");
	for (unsigned i = 0; i < n; i++) {
		const struct extent *x;
		unsigned kind;

		if (pfn[i] >= PFN_LIMIT)
			return refuse(bad, i, -DV_EINVAL, "past the guest-physical limit");
		x = extent_lookup(m, pfn[i] << PAGE_SHIFT);
		if (!x)
			return refuse(bad, i, -DV_EINVAL, "not guest memory");
		kind = EXTENT_KIND_BIT(x->kind);
		if (inflate && x->kind == EXTENT_BALLOON)
			return refuse(bad, i, -DV_EINVAL, "ballooned already");
		if (inflate && (kind & VSEG_KINDS))
			return refuse(bad, i, -DV_EBUSY, "inside the VMM segment");
		if (inflate && !(kind & GUEST_KINDS))
			return refuse(bad, i, -DV_EINVAL, "not guest memory");
		if (!inflate && x->kind != EXTENT_BALLOON)
			return refuse(bad, i, -DV_EINVAL, "not ballooned");
	}
	dup = first_duplicate(pfn, n, scratch);
	if (dup < n)
		return refuse(bad, dup, -DV_EINVAL, "listed twice");
	return 0;
}

int balloon_check_inflate(const struct extent_map *m, const u64 *pfn, unsigned n, u64 *scratch,
			  struct balloon_bad *bad)
{
	return check_list(m, pfn, n, scratch, true, bad);
}

int balloon_check_deflate(const struct extent_map *m, const u64 *pfn, unsigned n, u64 *scratch,
			  struct balloon_bad *bad)
{
	return check_list(m, pfn, n, scratch, false, bad);
}

/* The end of the highest extent, but not below the hot-add floor. */
static u64 top_of_memory(const struct extent_map *m)
{
	u64 top = BALLOON_HOTADD_FLOOR;

	for (unsigned i = 0; i < m->n; i++)
		top = MAX(top, m->e[i].gpa + m->e[i].len);
	return top;
}

static int place(u64 base, u64 len, u64 limit, u64 *gpa)
{
	limit = MIN(limit, EXTENT_GPA_LIMIT);
	if (len == 0 || !IS_ALIGNED(len, PAGE_SIZE) || base >= limit || len > limit - base)
		return -DV_ERANGE;
	*gpa = base;
	return 0;
}

int balloon_plan_hotadd(const struct extent_map *m, u64 len, u64 limit, u64 *gpa)
{
	return place(ALIGN_UP(top_of_memory(m), BALLOON_HOTADD_ALIGN), len, limit, gpa);
}

int balloon_plan_readd(const struct extent_map *m, u64 len, u64 limit, u64 *gpa)
{
	return place(top_of_memory(m), len, limit, gpa);
}

static void map_save(const struct extent_map *m, struct extent *backup)
{
	for (unsigned i = 0; i < m->n; i++)
		backup[i] = m->e[i];
}

static int map_restore(struct extent_map *m, const struct extent *backup, unsigned n, int err)
{
	for (unsigned i = 0; i < n; i++)
		m->e[i] = backup[i];
	m->n = n;
	return err;
}

/* Give page gpa (one whole extent piece of its kind) a new identity x. */
static int replace_page(struct extent_map *m, const struct extent *x, struct extent *removed)
{
	struct extent dummy;
	int got = extent_remove(m, x->gpa, PAGE_SIZE, removed ? removed : &dummy, 1);

	return got < 0 ? got : extent_add(m, x);
}

/* Take page gpa out of the map: its piece goes to removed. */
static int remove_page(struct extent_map *m, u64 gpa, struct extent *removed)
{
	int got = extent_remove(m, gpa, PAGE_SIZE, removed, 1);

	return got < 0 ? got : 0;
}

/* The listed pages become ballooned pages, or leave the map (unplug); then
 * the hot-added extents join it. All or nothing. */
static int give_pages(struct extent_map *m, const u64 *pfn, unsigned n, bool unplug,
		      struct extent *removed, const struct extent *hot, unsigned nhot,
		      struct extent *backup)
{
	unsigned saved = m->n;
	int err = 0;

	map_save(m, backup);
	for (unsigned i = 0; i < n && !err; i++) {
		struct extent b = {.gpa = pfn[i] << PAGE_SHIFT,
				   .hpa = EXTENT_NO_HPA,
				   .len = PAGE_SIZE,
				   .kind = EXTENT_BALLOON};

		err = unplug ? remove_page(m, b.gpa, &removed[i])
			     : replace_page(m, &b, &removed[i]);
	}
	for (unsigned i = 0; i < nhot && !err; i++)
		err = extent_add(m, &hot[i]);
	return err ? map_restore(m, backup, saved, err) : 0;
}

int balloon_inflate_map(struct extent_map *m, const u64 *pfn, unsigned n, struct extent *removed,
			const struct extent *hot, unsigned nhot, struct extent *backup)
{
	return give_pages(m, pfn, n, false, removed, hot, nhot, backup);
}

int balloon_unplug_map(struct extent_map *m, const u64 *pfn, unsigned n, struct extent *removed,
		       const struct extent *hot, unsigned nhot, struct extent *backup)
{
	return give_pages(m, pfn, n, true, removed, hot, nhot, backup);
}

int balloon_deflate_map(struct extent_map *m, const u64 *pfn, unsigned n, const u64 *hpa,
			enum extent_kind kind, struct extent *backup)
{
	unsigned saved = m->n;
	int err = 0;

	map_save(m, backup);
	for (unsigned i = 0; i < n && !err; i++) {
		struct extent x = {
			.gpa = pfn[i] << PAGE_SHIFT, .hpa = hpa[i], .len = PAGE_SIZE, .kind = kind};

		err = replace_page(m, &x, NULL);
	}
	return err ? map_restore(m, backup, saved, err) : 0;
}

/* What the guest calls each kind: the VMM segment and its holes are RAM to it. */
static const u32 mem_kinds[EXTENT_NKINDS] = {
	[EXTENT_RAM] = DV_MEM_RAM,	     [EXTENT_SEGMENT] = DV_MEM_RAM,
	[EXTENT_HOLE] = DV_MEM_RAM,	     [EXTENT_HOTADD] = DV_MEM_HOTADDED,
	[EXTENT_BALLOON] = DV_MEM_BALLOONED,
};

static u32 mem_kind(enum extent_kind kind)
{
	return mem_kinds[kind];
}

static void emit(struct dv_memory_map *out, const struct dv_memory_map_entry *e, u64 from)
{
	if (e->gpa + e->len <= from)
		return;
	if (out->n < DV_MEMORY_MAP_MAX)
		out->e[out->n++] = *e;
	out->total++;
}

/* Merged from the start, whatever from is: a piece that holds from may
 * begin well before it. */
void balloon_memory_map(const struct extent_map *m, u64 from, struct dv_memory_map *out)
{
	struct dv_memory_map_entry cur = {0};
	bool have = false;

	out->n = out->total = 0;
	for (unsigned i = 0; i <= m->n; i++) {
		const struct extent *x = i < m->n ? &m->e[i] : NULL;

		if (x && have && cur.gpa + cur.len == x->gpa && cur.kind == mem_kind(x->kind)) {
			cur.len += x->len;
			continue;
		}
		if (have)
			emit(out, &cur, from);
		if (x)
			cur = (struct dv_memory_map_entry){
				.gpa = x->gpa, .len = x->len, .kind = mem_kind(x->kind)};
		have = x != NULL;
	}
}
