/* gups: the HPC Challenge RandomAccess update stream (lib/wl_gups.h, shared
 * with the guest's workload). Each update is a read and a write of the same
 * random word; only table accesses are emitted (ran lives in registers). */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "lib/wl_gups.h"
#include "workload.h"

struct gups {
	u64 table;
	struct wl_gups gen;
};

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
	bytes = wl_gups_table_bytes(p->footprint);
	g->table = vspace_alloc(&wl->vs, "table", bytes);
	wl_gups_init(&g->gen, bytes, p->seed);
	wl->st = g;
	snprintf(wl->desc, sizeof(wl->desc), "gups: table of 2^%u 8-byte words (%llu MiB)",
		 rng_bits_for(bytes / 8), (unsigned long long)(bytes >> 20));
	return 0;
}

static size_t gups_next(void *st, struct access *buf, size_t max)
{
	struct gups *g = st;
	struct wl_gups gen = g->gen; /* in registers across the loop */
	size_t n = 0;

	while (n + 2 <= max) {
		u64 va = g->table + (wl_gups_next(&gen) & gen.mask) * 8;

		buf[n++] = (struct access){.va = va, .size = 8, .kind = ACCESS_READ};
		buf[n++] = (struct access){.va = va, .size = 8, .kind = ACCESS_WRITE};
	}
	g->gen = gen;
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
