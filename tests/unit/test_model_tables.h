/* Page tables built by hand for the model's tests: a sparse physical memory
 * of 4 KiB pages and a helper that writes one mapping level by level, in x86
 * or EPT format. Deliberately independent of mm/pagetable.c. */
#ifndef TEST_MODEL_TABLES_H
#define TEST_MODEL_TABLES_H

#include <stdlib.h>
#include <string.h>

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"
#include "mm/model/walk.h"

#define TMEM_MAX_PAGES 512

/* Pages are found by address with a linear scan: tests touch few pages. */
struct tmem {
	unsigned n;
	u64 next; /* next page the allocator hands out */
	u64 pa[TMEM_MAX_PAGES];
	u64 (*page)[512];
	unsigned reads; /* entries read through tmem_read */
};

static inline struct tmem *tmem_new(u64 alloc_base)
{
	struct tmem *m = calloc(1, sizeof(*m));

	m->page = calloc(TMEM_MAX_PAGES, sizeof(*m->page));
	m->next = alloc_base;
	return m;
}

static inline void tmem_free(struct tmem *m)
{
	free(m->page);
	free(m);
}

static inline u64 *tmem_find(struct tmem *m, u64 pa)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->pa[i] == (pa & ~0xfffULL))
			return &m->page[i][(pa & 0xfff) / 8];
	return NULL;
}

/* A zeroed page at pa (which must be free). */
static inline u64 tmem_page_at(struct tmem *m, u64 pa)
{
	if (m->n == TMEM_MAX_PAGES)
		abort();
	m->pa[m->n++] = pa;
	return pa;
}

static inline u64 tmem_alloc(struct tmem *m)
{
	u64 pa = tmem_page_at(m, m->next);

	m->next += 4096;
	return pa;
}

static inline void tmem_write(struct tmem *m, u64 pa, u64 v)
{
	u64 *e = tmem_find(m, pa);

	if (!e)
		abort();
	*e = v;
}

/* walk_read_fn: absent memory reads as 0 (not present). */
static inline u64 tmem_read(void *ctx, u64 pa)
{
	struct tmem *m = ctx;
	u64 *e = tmem_find(m, pa);

	m->reads++;
	return e ? *e : 0;
}

static inline struct walk_tables tmem_tables(struct tmem *m, u64 root)
{
	struct walk_tables t = {.root = root, .read = tmem_read, .ctx = m};

	return t;
}

/* Entry formats used by the helpers. */
#define T_X86_TABLE (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define T_X86_LEAF  (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define T_EPT_TABLE EPT_RWX
#define T_EPT_LEAF  (EPT_RWX | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT))

/* Map va -> pa with a leaf at level leaf_lvl (1: 4 KiB, 2: 2 MiB, 3: 1 GiB)
 * in the tables under root, creating tables from m's allocator. leaf_flags
 * get the PS bit added for large leaves (bit 7 in both formats). */
static inline void tmap(struct tmem *m, u64 root, u64 va, u64 pa, unsigned leaf_lvl,
			u64 table_flags, u64 leaf_flags)
{
	u64 table = root;

	for (unsigned lvl = 4; lvl > leaf_lvl; lvl--) {
		u64 slot = table + PT_INDEX(va, lvl) * 8;
		u64 *e = tmem_find(m, slot);

		if (!e)
			abort();
		if (!*e)
			*e = tmem_alloc(m) | table_flags;
		table = *e & PTE_ADDR_MASK;
	}
	tmem_write(m, table + PT_INDEX(va, leaf_lvl) * 8,
		   (pa & PTE_ADDR_MASK) | leaf_flags | (leaf_lvl > 1 ? X86_PTE_PS : 0));
}

static inline void tmap_x86(struct tmem *m, u64 root, u64 va, u64 pa, unsigned leaf_lvl)
{
	tmap(m, root, va, pa, leaf_lvl, T_X86_TABLE, T_X86_LEAF);
}

static inline void tmap_ept(struct tmem *m, u64 root, u64 gpa, u64 hpa, unsigned leaf_lvl)
{
	tmap(m, root, gpa, hpa, leaf_lvl, T_EPT_TABLE, T_EPT_LEAF);
}

/* Address of the entry for va at level lvl (the table must exist). */
static inline u64 tentry(struct tmem *m, u64 root, u64 va, unsigned lvl)
{
	u64 table = root;

	for (unsigned l = 4; l > lvl; l--)
		table = *tmem_find(m, table + PT_INDEX(va, l) * 8) & PTE_ADDR_MASK;
	return table + PT_INDEX(va, lvl) * 8;
}

#endif
