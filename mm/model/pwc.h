/* Paging-structure caches (Intel SDM Vol. 3A 4.10.3): small caches of upper
 * level entries keyed by the address bits that select them, so a walk can
 * start below the root. One struct pwc serves one dimension: the guest (or
 * native) tables keyed by linear address, or EPT keyed by guest-physical
 * address. Fully associative, LRU. Off by default in the model, so that the
 * paper's walk counts (24 refs for 4K+4K) hold unless asked otherwise. */
#ifndef MM_MODEL_PWC_H
#define MM_MODEL_PWC_H

#include <dimvisor/types.h>

#define PWC_LEVELS	3 /* caches for entries of level 4 (PML4E), 3 (PDPTE), 2 (PDE) */
#define PWC_MAX_ENTRIES 64

/* entries[0]: PML4E cache, [1]: PDPTE cache, [2]: PDE cache; 0 = absent. */
struct pwc_geometry {
	u16 entries[PWC_LEVELS];
};

struct pwc_entry {
	u64 tag; /* address >> bits mapped by the entry, shifted up one, | 1 */
	u64 val; /* next table address | rights accumulated down to this level */
};

struct pwc_cache {
	u16 n;				     /* capacity */
	struct pwc_entry e[PWC_MAX_ENTRIES]; /* most recently used first */
};

struct pwc {
	struct pwc_cache c[PWC_LEVELS];
};

/* -DV_EINVAL if an entry count exceeds PWC_MAX_ENTRIES. */
int pwc_init(struct pwc *p, const struct pwc_geometry *g);
void pwc_flush(struct pwc *p);

/* Longest match for addr: returns the level of the next table to read (1, 2
 * or 3) with its address in *table and the rights accumulated above it in
 * *rights, or 4 when nothing matches (start at the root). */
u8 pwc_lookup(struct pwc *p, u64 addr, u64 *table, u64 *rights);

/* Cache the entry of level (4, 3 or 2) used for addr: it points to table and
 * the rights accumulated through it are rights (no bits in 51:12). */
void pwc_fill(struct pwc *p, u8 level, u64 addr, u64 table, u64 rights);

#endif
