/* gups: the HPC Challenge RandomAccess update stream, the generator both
 * mmusim and the guest's workload run.
 *
 * HPCC RandomAccess (Luszczek et al., "The HPC Challenge (HPCC) benchmark
 * suite", SC 2006) updates a table of 2^k 64-bit words: ran is advanced by a
 * shift register with primitive polynomial x^63 + x^2 + x + 1 (POLY = 7) and
 * Table[ran & (2^k - 1)] ^= ran. As in HPCC, the table size is a power of two:
 * the largest that fits in the footprint. The sequence starts from a value
 * derived from the seed rather than HPCC_starts(0), so different seeds give
 * different streams. Applying the same updates twice restores the table:
 * HPCC's verification, which the guest runs through another mapping. */
#ifndef LIB_WL_GUPS_H
#define LIB_WL_GUPS_H

#include <dimvisor/types.h>
#include "lib/rng.h"

#define WL_GUPS_POLY 0x7ULL

struct wl_gups {
	u64 mask; /* words - 1 */
	u64 ran;
};

/* The table's size for a footprint: the largest power of two that fits. */
static inline u64 wl_gups_table_bytes(u64 footprint)
{
	u64 p = 1;

	while (p <= footprint / 2)
		p *= 2;
	return p;
}

static inline void wl_gups_init(struct wl_gups *g, u64 table_bytes, u64 seed)
{
	g->mask = table_bytes / 8 - 1;
	g->ran = rng_mix64(seed + 1) | 1; /* any non-zero register state */
}

/* The next update's value; it goes to word (ran & mask) of the table. */
static inline u64 wl_gups_next(struct wl_gups *g)
{
	g->ran = (g->ran << 1) ^ ((s64)g->ran < 0 ? WL_GUPS_POLY : 0);
	return g->ran;
}

#endif
