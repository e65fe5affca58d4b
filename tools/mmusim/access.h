/* One memory access as mmusim feeds it to the MMU model: a virtual address,
 * a size in bytes and a kind. Every source (synthetic workloads, lackey and
 * qtrace traces) produces batches of these, so the simulator's hot loop is a
 * loop over an array. */
#ifndef MMUSIM_ACCESS_H
#define MMUSIM_ACCESS_H

#include <dimvisor/types.h>

enum access_kind {
	ACCESS_READ = 0,
	ACCESS_WRITE = 1,
	ACCESS_IFETCH = 2,
};

struct access {
	u64 va;
	u32 size;
	u8 kind; /* enum access_kind */
};

/* Accesses produced per batch by the driver: large enough to amortise the
 * per-batch calls, small enough (64 KiB) to stay in the L2 cache while every
 * configuration's model consumes it. */
#define ACCESS_BATCH 4096

#endif
