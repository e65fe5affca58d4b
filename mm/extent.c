/* The guest-physical extent map: a sorted array, binary-searched; see extent.h. */
#include "mm/extent.h"

#include <dimvisor/errno.h>

#include "arch/x86_64/pte.h"

static u64 ext_end(const struct extent *x)
{
	return x->gpa + x->len;
}

/* hPA of the byte at offset off into x (EXTENT_NO_HPA stays so). */
static u64 hpa_at(const struct extent *x, u64 off)
{
	return x->hpa == EXTENT_NO_HPA ? EXTENT_NO_HPA : x->hpa + off;
}

/* Whether b continues a: same kind, adjacent in gPA and in hPA. */
static bool continues(const struct extent *a, const struct extent *b)
{
	return a->kind == b->kind && ext_end(a) == b->gpa && hpa_at(a, a->len) == b->hpa;
}

/* Index of the first extent that ends after gpa (n if none). */
static unsigned lower(const struct extent_map *m, u64 gpa)
{
	unsigned a = 0, b = m->n;

	while (a < b) {
		unsigned mid = (a + b) / 2;

		if (ext_end(&m->e[mid]) <= gpa)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

static void slot_insert(struct extent_map *m, unsigned i, const struct extent *x)
{
	for (unsigned j = m->n; j > i; j--)
		m->e[j] = m->e[j - 1];
	m->e[i] = *x;
	m->n++;
}

static void slots_delete(struct extent_map *m, unsigned i, unsigned count)
{
	for (unsigned j = i; j + count < m->n; j++)
		m->e[j] = m->e[j + count];
	m->n -= count;
}

void extent_map_init(struct extent_map *m, struct extent *slots, unsigned cap)
{
	m->e = slots;
	m->n = 0;
	m->cap = cap;
}

static bool extent_valid(const struct extent *x)
{
	if (x->len == 0 || !IS_ALIGNED(x->gpa, PAGE_SIZE) || !IS_ALIGNED(x->len, PAGE_SIZE))
		return false;
	if (x->gpa >= EXTENT_GPA_LIMIT || x->len > EXTENT_GPA_LIMIT - x->gpa)
		return false;
	if ((unsigned)x->kind >= EXTENT_NKINDS)
		return false;
	if (x->kind == EXTENT_BALLOON)
		return x->hpa == EXTENT_NO_HPA;
	return x->hpa != EXTENT_NO_HPA && IS_ALIGNED(x->hpa, PAGE_SIZE) && x->hpa + x->len > x->hpa;
}

int extent_add(struct extent_map *m, const struct extent *x)
{
	unsigned i;
	bool with_prev, with_next;

	if (!extent_valid(x))
		return -DV_EINVAL;
	i = lower(m, x->gpa);
	if (i < m->n && m->e[i].gpa < ext_end(x))
		return -DV_EEXIST;
	with_prev = i > 0 && continues(&m->e[i - 1], x);
	with_next = i < m->n && continues(x, &m->e[i]);
	if (with_prev && with_next) {
		m->e[i - 1].len += x->len + m->e[i].len;
		slots_delete(m, i, 1);
	} else if (with_prev) {
		m->e[i - 1].len += x->len;
	} else if (with_next) {
		m->e[i].gpa = x->gpa;
		m->e[i].hpa = x->hpa;
		m->e[i].len += x->len;
	} else {
		if (m->n == m->cap)
			return -DV_E2BIG;
		slot_insert(m, i, x);
	}
	return 0;
}

int extent_split(struct extent_map *m, u64 gpa)
{
	unsigned i;
	struct extent upper;

	if (!IS_ALIGNED(gpa, PAGE_SIZE))
		return -DV_EINVAL;
	i = lower(m, gpa);
	if (i == m->n || m->e[i].gpa > gpa)
		return -DV_ENOENT;
	if (m->e[i].gpa == gpa)
		return 0;
	if (m->n == m->cap)
		return -DV_E2BIG;
	upper = m->e[i];
	upper.gpa = gpa;
	upper.hpa = hpa_at(&m->e[i], gpa - m->e[i].gpa);
	upper.len = ext_end(&m->e[i]) - gpa;
	m->e[i].len = gpa - m->e[i].gpa;
	slot_insert(m, i + 1, &upper);
	return 0;
}

int extent_remove(struct extent_map *m, u64 gpa, u64 len, struct extent *out, unsigned max)
{
	u64 end = gpa + len;
	unsigned first, last, pieces;

	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE) || end < gpa)
		return -DV_EINVAL;
	if (len == 0)
		return 0;
	first = lower(m, gpa);
	last = first; /* one past the last extent touched */
	while (last < m->n && m->e[last].gpa < end)
		last++;
	pieces = last - first;
	if (pieces > max)
		return -DV_E2BIG;
	/* one extent reaching past both ends becomes two */
	if (pieces == 1 && m->e[first].gpa < gpa && ext_end(&m->e[first]) > end && m->n == m->cap)
		return -DV_E2BIG;
	for (unsigned i = first; i < last; i++) {
		const struct extent *x = &m->e[i];
		u64 lo = MAX(x->gpa, gpa), hi = MIN(ext_end(x), end);

		out[i - first] = (struct extent){
			.gpa = lo, .hpa = hpa_at(x, lo - x->gpa), .len = hi - lo, .kind = x->kind};
	}
	if (pieces == 0)
		return 0;
	if (pieces == 1 && m->e[first].gpa < gpa && ext_end(&m->e[first]) > end) {
		extent_split(m, end); /* has its slot: checked above */
		m->e[first].len = gpa - m->e[first].gpa;
		return 1;
	}
	/* trim the partly covered ends, delete what is wholly covered */
	if (m->e[first].gpa < gpa) {
		m->e[first].len = gpa - m->e[first].gpa;
		first++;
	}
	if (last > first && ext_end(&m->e[last - 1]) > end) {
		struct extent *x = &m->e[last - 1];

		x->hpa = hpa_at(x, end - x->gpa);
		x->len = ext_end(x) - end;
		x->gpa = end;
		last--;
	}
	slots_delete(m, first, last - first);
	return (int)pieces;
}

const struct extent *extent_lookup(const struct extent_map *m, u64 gpa)
{
	unsigned i = lower(m, gpa);

	return i < m->n && m->e[i].gpa <= gpa ? &m->e[i] : NULL;
}

const struct extent *extent_next(const struct extent_map *m, u64 gpa)
{
	unsigned i = lower(m, gpa);

	return i < m->n ? &m->e[i] : NULL;
}

int extent_translate(const struct extent_map *m, u64 gpa, u64 *hpa)
{
	const struct extent *x = extent_lookup(m, gpa);

	if (!x || x->hpa == EXTENT_NO_HPA)
		return -DV_ENOENT;
	*hpa = x->hpa + (gpa - x->gpa);
	return 0;
}

bool extent_covers(const struct extent_map *m, u64 gpa, u64 len, unsigned kinds)
{
	u64 end = gpa + len;

	if (len == 0 || end < gpa)
		return false;
	for (unsigned i = lower(m, gpa); gpa < end; i++) {
		if (i == m->n || m->e[i].gpa > gpa || !(kinds & EXTENT_KIND_BIT(m->e[i].kind)))
			return false;
		gpa = ext_end(&m->e[i]);
	}
	return true;
}

u64 extent_bytes(const struct extent_map *m, unsigned kinds)
{
	u64 sum = 0;

	for (unsigned i = 0; i < m->n; i++)
		if (kinds & EXTENT_KIND_BIT(m->e[i].kind))
			sum += m->e[i].len;
	return sum;
}

u64 extent_longest_run(const struct extent_map *m, unsigned kinds, u64 *gpa)
{
	u64 best = 0, start = 0, len = 0;

	*gpa = 0;
	for (unsigned i = 0; i < m->n; i++) {
		const struct extent *x = &m->e[i];

		if (!(kinds & EXTENT_KIND_BIT(x->kind))) {
			len = 0;
			continue;
		}
		if (!len || start + len != x->gpa) {
			start = x->gpa;
			len = 0;
		}
		len += x->len;
		if (len > best) {
			best = len;
			*gpa = start;
		}
	}
	return best;
}

unsigned extent_count(const struct extent_map *m)
{
	return m->n;
}

const char *extent_kind_name(enum extent_kind kind)
{
	static const char *const names[EXTENT_NKINDS] = {
		[EXTENT_RAM] = "RAM",		[EXTENT_SEGMENT] = "VMM segment",
		[EXTENT_HOLE] = "escape hole",	[EXTENT_HOTADD] = "hot-added",
		[EXTENT_BALLOON] = "ballooned",
	};

	return (unsigned)kind < EXTENT_NKINDS ? names[kind] : "?";
}
