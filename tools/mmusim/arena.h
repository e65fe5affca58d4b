/* Table memory for mmusim's page tables: one large anonymous mapping,
 * reserved up front without committing memory (MAP_NORESERVE), handed out a
 * 4 KiB page at a time and backed by the kernel only when touched. Physical
 * address p of a table is base + p on the host, so the model's walker reads
 * entries straight from the mapping (walk_tables.flat) with no callback. */
#ifndef MMUSIM_ARENA_H
#define MMUSIM_ARENA_H

#include <dimvisor/types.h>
#include "mm/pagetable.h"

struct arena {
	u8 *base;     /* host address of physical address 0 */
	u64 reserved; /* bytes of address space reserved */
	u64 used;     /* next free physical address */
};

/* Reserve bytes of address space. 0 or -DV_ENOMEM. */
int arena_init(struct arena *a, u64 bytes);
void arena_fini(struct arena *a);
/* pt_ops that allocate tables from a. */
void arena_pt_ops(struct arena *a, struct pt_ops *ops);
/* Tables handed out so far. */
static inline u64 arena_tables(const struct arena *a)
{
	return a->used / PAGE_SIZE - 1;
}

#endif
