/* Paging-structure caches: one small fully associative LRU cache per upper
 * level, keyed by the address bits the cached entry translates. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/pwc.h"

/* Cache index of a level: 4 -> 0 (PML4E), 3 -> 1 (PDPTE), 2 -> 2 (PDE). */
static unsigned pwc_index(u8 level)
{
	return 4 - level;
}

/* An entry of level L selects the table of level L-1 for every address with
 * the same bits 47 : 12 + 9 (L-1), i.e. addr >> (12 + 9 (L-1)). */
static u64 pwc_tag(u8 level, u64 addr)
{
	return ((addr >> (PAGE_SHIFT + PT_INDEX_BITS * (level - 1))) << 1) | 1;
}

int pwc_init(struct pwc *p, const struct pwc_geometry *g)
{
	unsigned i;

	for (i = 0; i < PWC_LEVELS; i++) {
		if (g->entries[i] > PWC_MAX_ENTRIES)
			return -DV_EINVAL;
		p->c[i].n = g->entries[i];
	}
	pwc_flush(p);
	return 0;
}

void pwc_flush(struct pwc *p)
{
	unsigned i, j;

	for (i = 0; i < PWC_LEVELS; i++)
		for (j = 0; j < PWC_MAX_ENTRIES; j++)
			p->c[i].e[j].tag = 0;
}

/* Find tag in c; on a hit move it to the front (LRU) and return it. */
static struct pwc_entry *pwc_find(struct pwc_cache *c, u64 tag)
{
	unsigned i;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].tag == tag) {
			struct pwc_entry hit = c->e[i];

			for (; i > 0; i--)
				c->e[i] = c->e[i - 1];
			c->e[0] = hit;
			return &c->e[0];
		}
	}
	return NULL;
}

u8 pwc_lookup(struct pwc *p, u64 addr, u64 *table, u64 *rights)
{
	u8 level;

	/* Longest match first: a PDE hit skips three levels. */
	for (level = 2; level <= 4; level++) {
		struct pwc_cache *c = &p->c[pwc_index(level)];
		struct pwc_entry *e = c->n ? pwc_find(c, pwc_tag(level, addr)) : NULL;

		if (e) {
			*table = e->val & PTE_ADDR_MASK;
			*rights = e->val & ~PTE_ADDR_MASK;
			return level - 1;
		}
	}
	return 4;
}

void pwc_fill(struct pwc *p, u8 level, u64 addr, u64 table, u64 rights)
{
	struct pwc_cache *c = &p->c[pwc_index(level)];
	u64 tag = pwc_tag(level, addr);
	struct pwc_entry *e;
	unsigned i;

	if (c->n == 0)
		return;
	e = pwc_find(c, tag);
	if (!e) {
		for (i = c->n - 1; i > 0; i--)
			c->e[i] = c->e[i - 1];
		e = &c->e[0];
		e->tag = tag;
	}
	e->val = (table & PTE_ADDR_MASK) | (rights & ~PTE_ADDR_MASK);
}
