/* Table memory for mmusim's page tables: one anonymous mapping that starts
 * small and grows on demand (doubling, up to a limit), committed by the
 * kernel only when touched, handed out a 4 KiB page at a time. Physical
 * address p of a table is base + p on the host, so the model's walker reads
 * entries straight from the mapping (walk_tables.flat) with no callback.
 *
 * Growing may move the mapping (mremap): base changes and moves counts up.
 * It happens only in arena_make_room, never while the page-table engine
 * holds pointers into the tables; whoever reads through base (the engine's
 * window, a model's flat tables) must look again when moves changes. */
#ifndef MMUSIM_ARENA_H
#define MMUSIM_ARENA_H

#include <dimvisor/types.h>
#include "mm/pagetable.h"

/* The first reservation: small enough for valgrind and `ulimit -v`. */
#define ARENA_INITIAL_BYTES (16ULL << 20)

struct arena {
	u8 *base;     /* host address of physical address 0 */
	u64 reserved; /* bytes of address space mapped now */
	u64 limit;    /* most bytes it may grow to (physical addresses below) */
	u64 used;     /* next free physical address */
	u64 moves;    /* times base changed */
};

/* Map the first ARENA_INITIAL_BYTES (or limit, if smaller) of an arena that
 * may grow to limit bytes. 0 or -DV_ENOMEM. */
int arena_init(struct arena *a, u64 limit);
void arena_fini(struct arena *a);
/* Make sure tables more pages can be handed out without growing (grow now if
 * not, up to the limit). 0, or -DV_ENOMEM when the host refuses the memory;
 * reaching the limit is not an error here (alloc_table then fails). */
int arena_make_room(struct arena *a, u64 tables);
/* Can tables more pages be handed out without growing? */
static inline bool arena_has_room(const struct arena *a, u64 tables)
{
	return MIN(a->used + tables * PAGE_SIZE, a->limit) <= a->reserved;
}
/* pt_ops that allocate tables from a (never growing it). */
void arena_pt_ops(struct arena *a, struct pt_ops *ops);
/* Tables handed out so far. */
static inline u64 arena_tables(const struct arena *a)
{
	return a->used / PAGE_SIZE - 1;
}

#endif
