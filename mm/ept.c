/* EPT over the extent map: see ept.h. */
#include "mm/ept.h"

#include <dimvisor/errno.h>

#include "arch/x86_64/pte.h"

unsigned ept_page_sizes(unsigned max_shift)
{
	if (max_shift >= PAGE_1G_SHIFT)
		return PT_SIZE_4K | PT_SIZE_2M | PT_SIZE_1G;
	if (max_shift >= PAGE_2M_SHIFT)
		return PT_SIZE_4K | PT_SIZE_2M;
	return PT_SIZE_4K;
}

unsigned ept_largest_size(unsigned page_sizes)
{
	if (page_sizes & PT_SIZE_1G)
		return PT_SIZE_1G;
	if (page_sizes & PT_SIZE_2M)
		return PT_SIZE_2M;
	return PT_SIZE_4K;
}

int ept_init(struct pagetable *ept, unsigned page_sizes, const struct pt_ops *ops)
{
	return pt_init(ept, PT_FMT_EPT, page_sizes, ops);
}

int ept_map_extent(struct pagetable *ept, const struct extent *x, unsigned max_size)
{
	if (x->hpa == EXTENT_NO_HPA)
		return -DV_EINVAL;
	/* guest memory: the guest decides what is executable, in its own tables */
	return pt_map_capped(ept, x->gpa, x->hpa, x->len, PT_RWX, max_size);
}

int ept_unmap_extent(struct pagetable *ept, const struct extent *x)
{
	return pt_unmap(ept, x->gpa, x->len);
}

int ept_map_all(struct pagetable *ept, const struct extent_map *m, const struct ept_caps *caps)
{
	for (const struct extent *x = extent_next(m, 0); x; x = extent_next(m, x->gpa + x->len)) {
		unsigned cap = caps->max_size[x->kind];
		int err;

		if (!cap)
			continue;
		err = ept_map_extent(ept, x, cap);
		if (err)
			return err;
	}
	return 0;
}

int ept_check_extent(const struct pagetable *ept, const struct extent *x, unsigned min_size,
		     u64 *bad)
{
	if (x->hpa == EXTENT_NO_HPA)
		return -DV_EINVAL;
	return pt_check_linear(ept, x->gpa, x->hpa, x->len, min_size, bad);
}

int ept_map_mmio(struct pagetable *ept, u64 gpa, u64 hpa, u64 len)
{
	return pt_map(ept, gpa, hpa, len, PT_RW | PT_UC);
}

int ept_translate(const struct pagetable *ept, u64 gpa, u64 *hpa)
{
	return pt_translate(ept, gpa, hpa, NULL, NULL);
}

u64 ept_pointer(const struct pagetable *ept)
{
	return ept->root | EPTP_WALK_4 | EPTP_MEMTYPE_WB;
}

/* Remember table (a page) at level once; false when the list is full. */
static bool note_table(u64 *seen, unsigned *nseen, unsigned cap, u64 table)
{
	for (unsigned i = 0; i < *nseen; i++)
		if (seen[i] == table)
			return true;
	if (*nseen == cap)
		return false;
	seen[(*nseen)++] = table;
	return true;
}

int ept_count_tables(const struct pagetable *ept, u64 gpa, u64 len, u64 by_level[5])
{
	static u64 seen[EPT_COUNT_MAX_TABLES];
	unsigned nseen = 0;
	u64 end = gpa + len;

	for (unsigned l = 0; l < 5; l++)
		by_level[l] = 0;
	while (gpa < end) {
		struct pt_walk w;
		u64 step;

		if (pt_walk_path(ept, gpa, &w) < 0)
			return -DV_ENOENT;
		/* entry i was read from the table of level 4 - i */
		for (unsigned i = 0; i < w.n; i++) {
			u64 table = w.entry_pa[i] & ~(PAGE_SIZE - 1);
			unsigned before = nseen;

			if (!note_table(seen, &nseen, EPT_COUNT_MAX_TABLES, table))
				return -DV_E2BIG;
			if (nseen > before)
				by_level[PT_LEVELS - i]++;
		}
		step = PT_LEVEL_SIZE(w.level);
		gpa = (gpa & ~(step - 1)) + step;
	}
	return 0;
}

/* Tables at each level above the leaves: the distinct aligned blocks of the
 * size one table at that level covers. */
u64 ept_tables_needed(u64 gpa, u64 len, unsigned leaf_shift)
{
	u64 tables = 0;

	if (len == 0)
		return 0;
	for (unsigned level = PT_LEVELS; level >= 1; level--) {
		u64 covers = PT_LEVEL_SIZE(level) * PT_ENTRIES; /* one table at this level */

		if (PT_LEVEL_SIZE(level) < (1ULL << leaf_shift))
			break;
		tables += (gpa + len - 1) / covers - gpa / covers + 1;
	}
	return tables;
}
