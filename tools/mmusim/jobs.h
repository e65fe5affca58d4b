/* --jobs N: the configurations on N threads over one stream of accesses,
 * with results identical to one thread.
 *
 * The stream is produced once, by the calling thread, into a ring of
 * batches that every worker reads. Each worker runs its own configurations
 * over each batch in list order, with its own copy of the page tables
 * (struct layout), so no thread ever reads tables another one writes.
 *
 * Tables are made lazily, and the order in which they are made decides
 * their addresses, which counts can see (escape-filter false positives on
 * table gPAs, the paging-structure caches). One thread makes them in the
 * order (batch, configuration); so do the workers: the mappings are a log,
 * and configuration i may add to it in batch k only once every earlier
 * (batch, configuration) is done and its own copy has replayed the log. A
 * copy replays every entry of its page policies in log order, so every copy
 * is exactly the one-thread tables at the same point. Waits happen only when
 * a mapping is missing (the warm-up, for most workloads). */
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

/* Set up threads workers (2 or more) for specs[0..n): each gets a layout made
 * by layout_init(p) and the sims of its configurations, spread so the
 * workers' estimated costs are even. sims[i] is specs[i]'s. 0, or a
 * negative error with a message. */
int jobs_setup(struct jobs **jp, unsigned threads, const struct config_spec *specs, size_t n,
	       const struct layout_params *p, const struct sim_options *o, struct sim *sims,
	       char *err, size_t errlen);
/* Run the stream through every configuration; stop after limit accesses
 * (0: at the end of the stream). 0, or a negative error with a message. */
int jobs_run(struct jobs *j, jobs_next_fn next, void *next_ctx, jobs_progress_fn progress,
	     void *progress_ctx, u64 limit, bool trace, struct jobs_run *out, char *err,
	     size_t errlen);
/* Free the sims and the workers' layouts. */
void jobs_fini(struct jobs *j);

#endif
