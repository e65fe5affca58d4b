/* What the unit tests of mmusim's workloads and of the guest's share: open a
 * workload or fail the test, and take its next accesses. */
#ifndef TESTS_UNIT_WORKLOAD_HELPERS_H
#define TESTS_UNIT_WORKLOAD_HELPERS_H

#include <stdlib.h>
#include "tools/mmusim/workload.h"

/* Open name over footprint with seed; fails the test on error. bfs builds
 * a scale-10 graph (the automatic scale is exercised on its own). */
static inline void open_wl(struct workload *wl, const char *name, u64 footprint, u64 seed)
{
	struct workload_params p = {.footprint = footprint, .seed = seed, .scale = 10};
	char err[200] = "";

	if (workload_open(wl, name, &p, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
}

/* Exactly n accesses of wl into a fresh array (the caller frees it). */
static inline struct access *take(struct workload *wl, size_t n)
{
	struct access *a = calloc(n + ACCESS_BATCH, sizeof(*a));
	size_t got = 0;

	while (got < n) {
		size_t k = workload_next(wl, a + got, ACCESS_BATCH);

		assert_true(k > 0);
		assert_true(k <= ACCESS_BATCH);
		got += k;
	}
	return a;
}

#endif
