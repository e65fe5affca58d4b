/* --jobs N: the configurations on N threads over one stream of accesses,
 * with results identical to one thread.
 *
 * The stream is produced once, by the calling thread, into a ring of
 * batches that every worker reads. Each worker runs the configurations it
 * owns over the batches, earliest (batch, configuration) first. A worker
 * with nothing to run takes over a configuration of a slower worker once
 * that one is far behind (jobs_steal), so the threads finish together
 * whatever the estimated costs said.
 *
 * Every worker walks the one set of page tables (the caller's layout).
 * Tables are made lazily, and the order in which they are made decides
 * their addresses, which counts can see (escape-filter false positives on
 * table gPAs, the paging-structure caches). One thread makes them in the
 * order (batch, configuration); so do the workers: configuration i may map
 * in batch k only once every earlier (batch, configuration) is done, and
 * nobody later maps before it is. A walk on another thread meanwhile sees
 * entries either not yet present (a fault, retried after that wait, as a
 * fault changes no count) or final: the layout only ever turns entries from
 * not present to present. Growing an arena may move it, so that waits
 * until every other worker is between batches or waiting. Waits happen
 * only when a mapping is missing (the warm-up, for most workloads). */
#ifndef MMUSIM_JOBS_H
#define MMUSIM_JOBS_H

#include <dimvisor/types.h>
#include "access.h"
#include "layout.h"
#include "sim.h"

/* The stream: up to max accesses into buf, 0 at its end, < 0 on an error
 * (message in err). */
typedef long (*jobs_next_fn)(void *ctx, struct access *buf, size_t max, char *err, size_t errlen);
/* Progress: done accesses produced so far. */
typedef void (*jobs_progress_fn)(void *ctx, u64 done);

struct jobs_run {
	struct sim *sims; /* set up by jobs_setup */
	size_t nsims;
	unsigned threads;
	u64 accesses;	    /* out: accesses fed to every configuration */
	double gen_seconds; /* out: time spent producing them */
};

struct jobs;

/* Set up threads workers (2 or more) for specs[0..n) over the tables of lay
 * (which must outlive j): the sims, spread first so the workers' estimated
 * costs are even. sims[i] is specs[i]'s. 0, or a negative error with a
 * message. */
int jobs_setup(struct jobs **jp, unsigned threads, const struct config_spec *specs, size_t n,
	       struct layout *lay, const struct sim_options *o, struct sim *sims, char *err,
	       size_t errlen);
/* Run the stream through every configuration; stop after limit accesses
 * (0: at the end of the stream). 0, or a negative error with a message. */
int jobs_run(struct jobs *j, jobs_next_fn next, void *next_ctx, jobs_progress_fn progress,
	     void *progress_ctx, u64 limit, bool trace, struct jobs_run *out, char *err,
	     size_t errlen);
/* Free the sims (not the layout). */
void jobs_fini(struct jobs *j);

#endif
