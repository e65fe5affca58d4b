/* gups: the HPC Challenge RandomAccess update stream.
 *
 * HPCC RandomAccess (Luszczek et al., "The HPC Challenge (HPCC) benchmark
 * suite", SC 2006) updates a table of 2^k 64-bit words: ran is advanced by a
 * shift register with primitive polynomial x^63 + x^2 + x + 1 (POLY = 7) and
 * Table[ran & (2^k - 1)] ^= ran. Each update is a read and a write of the
 * same random word. As in HPCC, the table size is a power of two: the largest
 * that fits in the footprint. The sequence starts from a value derived from
 * the seed rather than HPCC_starts(0), so different seeds give different
 * streams. Only table accesses are emitted (ran lives in registers). */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "rng.h"
#include "workload.h"

#define GUPS_POLY 0x7ULL

struct gups {
	u64 table;
	u64 mask; /* words - 1 */
	u64 ran;
};

static u64 pow2_floor(u64 x)
{
	u64 p = 1;

	while (p <= x / 2)
		p *= 2;
	return p;
}

static int gups_init(struct workload *wl, const struct workload_params *p, char *err, size_t errlen)
{
	struct gups *g;
	u64 bytes;

	if (p->footprint < 4096) {
		snprintf(err, errlen, "gups: footprint must be at least 4 KiB");
		return -DV_EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -DV_ENOMEM;
	bytes = pow2_floor(p->footprint);
	g->table = vspace_alloc(&wl->vs, "table", bytes);
	g->mask = bytes / 8 - 1;
	g->ran = rng_mix64(p->seed + 1) | 1; /* any non-zero register state */
	wl->st = g;
	snprintf(wl->desc, sizeof(wl->desc), "gups: table of 2^%u 8-byte words (%llu MiB)",
		 rng_bits_for(bytes / 8), (unsigned long long)(bytes >> 20));
	return 0;
}

static size_t gups_next(void *st, struct access *buf, size_t max)
{
	struct gups *g = st;
	u64 ran = g->ran;
	size_t n = 0;

	while (n + 2 <= max) {
		u64 va;

		ran = (ran << 1) ^ ((s64)ran < 0 ? GUPS_POLY : 0);
		va = g->table + (ran & g->mask) * 8;
		buf[n++] = (struct access){.va = va, .size = 8, .kind = ACCESS_READ};
		buf[n++] = (struct access){.va = va, .size = 8, .kind = ACCESS_WRITE};
	}
	g->ran = ran;
	return n;
}

static void gups_fini(void *st)
{
	free(st);
}

const struct workload_ops wl_gups_ops = {
	.name = "gups",
	.help = "HPCC RandomAccess: read-modify-write of random words of a 2^k-word table",
	.init = gups_init,
	.next = gups_next,
	.fini = gups_fini,
};
