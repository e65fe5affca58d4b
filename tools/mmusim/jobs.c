/* Configurations on several threads; see jobs.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dimvisor/errno.h>
#include "jobs.h"

#define JOBS_RING 32 /* batches in the ring: a few per worker of slack */

/* An idle worker takes over another's configuration once it is this many
 * batches behind the stream: far enough that it is the other worker that is
 * slow, not a batch in flight. The generator refills half the ring at a
 * time, so a worker that has caught up with it waits for the slowest
 * configuration to be about this far behind. */
#define JOBS_STEAL_GAP (JOBS_RING / 2)

struct jobs_worker {
	struct jobs *j;
	pthread_t tid;
	unsigned index;
	double cost; /* estimated, for the first spread */
	u64 batch;   /* the batch it runs */
	bool started;
};

/* Waking a thread costs a system call and, with the generator a third thread
 * on two cores, a worker's time slice: every wait says what it waits for,
 * and a thread is woken only when that may have come. */
struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;	 /* workers: a batch produced, a (batch, configuration) done,
				  * the world started again */
	pthread_cond_t cv_gen;	 /* the generator: room in the ring */
	pthread_cond_t cv_world; /* a worker about to grow an arena: the others out */
	unsigned data_waiters;	 /* workers with nothing to run */
	unsigned map_waiters;	 /* workers waiting for earlier (batch, configuration)s */
	u64 gen_need;		 /* the generator waits until every configuration has done
				  * this many batches; 0: it is not waiting */
	struct sim *sims;
	size_t nsims;
	struct jobs_worker *w;
	unsigned nw;
	/* the ring */
	struct access ring[JOBS_RING][ACCESS_BATCH];
	size_t len[JOBS_RING];
	u64 produced; /* batches in the ring so far */
	bool end;     /* no batch after produced */
	/* per configuration */
	u64 *done;	 /* batches it finished */
	unsigned *owner; /* the worker that runs it */
	bool *busy;	 /* being run now */
	u64 *synced;	 /* 1 + the position it last waited for the mapping order at */
	/* the workers */
	unsigned active; /* in a batch and not waiting for the mapping order */
	bool world;	 /* one waits to grow an arena: no batch starts */
	bool failed;
	char err[512];
};

static double jobs_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* First error wins; everyone stops. Called with mu held. */
static void jobs_fail(struct jobs *j, const char *msg)
{
	if (!j->failed)
		snprintf(j->err, sizeof(j->err), "%s", msg);
	j->failed = true;
	pthread_cond_broadcast(&j->cv);
	pthread_cond_broadcast(&j->cv_gen);
	pthread_cond_broadcast(&j->cv_world);
}

/* Estimated cost of a configuration per access, for the first spread:
 * where walks read 4 KiB leaf tables (which miss the host's caches) a large
 * part per walk and a little per reference of it, elsewhere a part per
 * reference (the VMM segment's checks of every gPA, escape filter
 * included, counted as references), plus the TLB lookups every access
 * makes. Fitted to the CPU time of each configuration on gups over 8 GiB,
 * 10 M accesses, after the sixth round (s): 4k+4k 0.81, vmm-direct 0.59,
 * guest-direct 0.56, native-4k 0.51, 2m+2m 0.45, 1g+1g 0.25, native-ds
 * 0.09, dual-direct 0.07 (docs/mmusim.md). Only the balance depends on it,
 * never a result, and idle workers take over configurations from busy ones
 * as they go (jobs_steal). */
static double jobs_cost(const struct config_spec *c)
{
	unsigned g = c->guest == PAGES_1G ? 2 : c->guest == PAGES_4K ? 4 : 3;
	unsigned h = c->ept == PAGES_1G ? 2 : c->ept == PAGES_4K ? 4 : 3;
	bool small = c->guest == PAGES_4K || c->guest == PAGES_THP;
	double refs;

	switch (c->mode) {
	case MODEL_NATIVE:
		refs = g;
		break;
	case MODEL_NATIVE_DS:
	case MODEL_DUAL_DIRECT:
		refs = 0.3;
		small = false;
		break;
	case MODEL_VMM_DIRECT:
		refs = 2 * (g + 1);
		break;
	case MODEL_GUEST_DIRECT:
		refs = h + 1;
		small = c->ept == PAGES_4K;
		break;
	default:
		refs = (g + 1) * (h + 1) - 1;
		small = small || c->ept == PAGES_4K;
		break;
	}
	return small ? 22 + 0.7 * refs : 3 + 1.5 * refs;
}

/* Batches every configuration has done. Called with mu held. */
static u64 jobs_min_done(const struct jobs *j)
{
	u64 d = ~0ULL;

	for (size_t c = 0; c < j->nsims; c++)
		d = MIN(d, j->done[c]);
	return d;
}

/* Configuration i has done batch k: wake whoever may now go on. Called
 * with mu held. */
static void jobs_done(struct jobs *j, size_t i, u64 k)
{
	j->done[i] = k + 1;
	if (j->map_waiters)
		pthread_cond_broadcast(&j->cv);
	else if (j->data_waiters && (j->end || j->done[i] + JOBS_STEAL_GAP <= j->produced))
		pthread_cond_broadcast(&j->cv); /* it may be taken over now */
	if (j->gen_need && jobs_min_done(j) >= j->gen_need) {
		j->gen_need = 0;
		pthread_cond_signal(&j->cv_gen);
	}
}

/* Is every (batch, configuration) before (k, i) done? Called with mu held. */
static bool jobs_before_done(const struct jobs *j, u64 k, size_t i)
{
	for (size_t c = 0; c < j->nsims; c++)
		if (j->done[c] < (c < i ? k + 1 : k))
			return false;
	return true;
}

/* One worker fewer in a batch: the one growing an arena may be waiting for
 * that. Called with mu held. */
static void jobs_inactive(struct jobs *j)
{
	j->active--;
	if (j->world && j->active <= 1)
		pthread_cond_signal(&j->cv_world);
}

/* Would mapping addr for s grow (and so perhaps move) an arena? */
static bool jobs_map_grows(const struct sim *s, bool ept)
{
	return ept ? etables_map_grows(s->e) : gtables_map_grows(s->g);
}

/* sim_map_fn of the workers. Every thread walks the one set of tables, so a
 * missing mapping may be one an earlier (batch, configuration) on another
 * thread is about to make: the first fault of a (batch, configuration)
 * waits until every earlier one is done, and the access is retried. After
 * that no thread can map anything before this one is done (each waits for
 * it the same way), so a fault is a mapping one thread would make here, in
 * the same order: made at once. Mapping only turns entries from not present
 * to present, which a walk on another thread may see or not, both as one
 * thread would (a missing entry is a fault, retried after the wait); only
 * growing an arena, which may move it, needs every other worker out of its
 * batch or waiting. */
static int jobs_map(void *ctx, struct sim *s, bool ept, u64 addr)
{
	struct jobs_worker *w = ctx;
	struct jobs *j = w->j;
	u64 pos = w->batch * j->nsims + s->index + 1;
	int rc;

	pthread_mutex_lock(&j->mu);
	if (j->synced[s->index] != pos) {
		jobs_inactive(j);
		while (!j->failed && !jobs_before_done(j, w->batch, s->index)) {
			j->map_waiters++;
			pthread_cond_wait(&j->cv, &j->mu);
			j->map_waiters--;
		}
		/* Whoever grew an arena did so before its (batch,
		 * configuration) was done, so the world is running again. */
		j->active++;
		j->synced[s->index] = pos;
		rc = j->failed ? -DV_EBUSY : 0;
		pthread_mutex_unlock(&j->mu);
		return rc;
	}
	if (jobs_map_grows(s, ept)) {
		j->world = true;
		while (!j->failed && j->active > 1)
			pthread_cond_wait(&j->cv_world, &j->mu);
		rc = j->failed ? -DV_EBUSY : sim_map_direct(s, ept, addr);
		j->world = false;
		pthread_cond_broadcast(&j->cv);
	} else {
		rc = sim_map_direct(s, ept, addr);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/* w's configuration to run next: its earliest (batch, configuration), if
 * that batch is in the ring. Earliest first keeps every wait on the mapping
 * order a wait on another thread. Called with mu held. */
static bool jobs_pick(const struct jobs *j, const struct jobs_worker *w, size_t *out)
{
	size_t best = j->nsims;

	for (size_t c = 0; c < j->nsims; c++)
		if (j->owner[c] == w->index && (best == j->nsims || j->done[c] < j->done[best]))
			best = c;
	if (best == j->nsims || j->done[best] >= j->produced)
		return false;
	*out = best;
	return true;
}

/* w has nothing to run: take over the configuration furthest behind, from a
 * worker that is slower, if one is far enough behind (or the stream has
 * ended). Its tables are everyone's, so only its model moves between
 * caches. Called with mu held. */
static bool jobs_steal(struct jobs *j, struct jobs_worker *w)
{
	size_t best = j->nsims;

	for (size_t c = 0; c < j->nsims; c++)
		if (j->owner[c] != w->index && !j->busy[c] &&
		    (best == j->nsims || j->done[c] < j->done[best]))
			best = c;
	if (best == j->nsims || j->done[best] >= j->produced ||
	    (!j->end && j->done[best] + JOBS_STEAL_GAP > j->produced))
		return false;
	j->owner[best] = w->index;
	j->sims[best].map_ctx = w;
	return true;
}

/* Run configuration i over its next batch. Called with mu held; returns
 * with it held. */
static void jobs_run_one(struct jobs *j, struct jobs_worker *w, size_t i)
{
	u64 k = j->done[i];
	const struct access *batch = j->ring[k % JOBS_RING];
	size_t n = j->len[k % JOBS_RING];
	char err[512];
	int rc;

	j->busy[i] = true;
	j->active++;
	w->batch = k;
	pthread_mutex_unlock(&j->mu);
	rc = sim_feed(&j->sims[i], batch, n, err, sizeof(err));
	pthread_mutex_lock(&j->mu);
	j->busy[i] = false;
	jobs_inactive(j);
	if (rc)
		jobs_fail(j, err);
	else
		jobs_done(j, i, k);
}

static void *jobs_worker_main(void *arg)
{
	struct jobs_worker *w = arg;
	struct jobs *j = w->j;

	pthread_mutex_lock(&j->mu);
	while (!j->failed) {
		size_t i;

		if (!j->world &&
		    (jobs_pick(j, w, &i) || (jobs_steal(j, w) && jobs_pick(j, w, &i)))) {
			jobs_run_one(j, w, i);
			continue;
		}
		if (j->end && !j->world && jobs_min_done(j) >= j->produced)
			break;
		j->data_waiters++;
		pthread_cond_wait(&j->cv, &j->mu);
		j->data_waiters--;
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Spread the configurations: largest estimated cost first, each to the
 * least loaded worker (LPT). */
static void jobs_spread(struct jobs *j, const struct config_spec *specs, size_t *order)
{
	size_t n = j->nsims;

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t k = i;
		     k > 0 && jobs_cost(&specs[order[k]]) > jobs_cost(&specs[order[k - 1]]); k--) {
			size_t x = order[k];

			order[k] = order[k - 1];
			order[k - 1] = x;
		}
	for (size_t i = 0; i < n; i++) {
		struct jobs_worker *best = &j->w[0];

		for (unsigned t = 1; t < j->nw; t++)
			if (j->w[t].cost < best->cost)
				best = &j->w[t];
		best->cost += jobs_cost(&specs[order[i]]);
		j->owner[order[i]] = best->index;
	}
}

int jobs_setup(struct jobs **jp, unsigned threads, const struct config_spec *specs, size_t n,
	       struct layout *lay, const struct sim_options *o, struct sim *sims, char *err,
	       size_t errlen)
{
	struct jobs *j = calloc(1, sizeof(*j));
	size_t *order;

	*jp = j;
	if (!j)
		goto nomem;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_cond_init(&j->cv_gen, NULL);
	pthread_cond_init(&j->cv_world, NULL);
	j->sims = sims;
	j->w = calloc(threads, sizeof(*j->w));
	if (j->w)
		j->nw = threads;
	j->done = calloc(n, sizeof(*j->done));
	j->owner = calloc(n, sizeof(*j->owner));
	j->busy = calloc(n, sizeof(*j->busy));
	j->synced = calloc(n, sizeof(*j->synced));
	order = calloc(n, sizeof(*order));
	if (!j->w || !j->done || !j->owner || !j->busy || !j->synced || !order) {
		free(order);
		goto nomem;
	}
	for (unsigned t = 0; t < threads; t++) {
		j->w[t].j = j;
		j->w[t].index = t;
	}
	j->nsims = n;
	jobs_spread(j, specs, order);
	free(order);
	for (size_t i = 0; i < n; i++) {
		int rc = sim_init(&sims[i], &specs[i], lay, o, err, errlen);

		if (rc) {
			j->nsims = i;
			return rc;
		}
		sims[i].index = (unsigned)i;
		sims[i].map = jobs_map;
		sims[i].map_ctx = &j->w[j->owner[i]];
	}
	return 0;
nomem:
	if (j)
		j->nsims = 0;
	snprintf(err, errlen, "--jobs: out of memory");
	return -DV_ENOMEM;
}

/* Wait until the ring slot of batch k is free: every configuration done
 * with the batch that used it last; when it is not, wait until half the
 * ring is, to fill it in one go. Called with mu held. */
static void jobs_wait_room(struct jobs *j, u64 k)
{
	if (j->failed || k < JOBS_RING || jobs_min_done(j) >= k - JOBS_RING + 1)
		return;
	while (!j->failed && jobs_min_done(j) < k - JOBS_RING / 2 + 1) {
		j->gen_need = k - JOBS_RING / 2 + 1;
		pthread_cond_wait(&j->cv_gen, &j->mu);
	}
	j->gen_need = 0;
}

int jobs_run(struct jobs *j, jobs_next_fn next, void *next_ctx, jobs_progress_fn progress,
	     void *progress_ctx, u64 limit, bool trace, struct jobs_run *out, char *err,
	     size_t errlen)
{
	u64 fed = 0;
	unsigned t;
	int rc = 0;

	for (t = 0; t < j->nw; t++) {
		if (pthread_create(&j->w[t].tid, NULL, jobs_worker_main, &j->w[t])) {
			pthread_mutex_lock(&j->mu);
			jobs_fail(j, "--jobs: cannot start a thread");
			pthread_mutex_unlock(&j->mu);
			break;
		}
		j->w[t].started = true;
	}
	for (u64 k = 0; !limit || fed < limit; k++) {
		struct access *slot = j->ring[k % JOBS_RING];
		size_t want = ACCESS_BATCH;
		double g0;
		long n;

		pthread_mutex_lock(&j->mu);
		jobs_wait_room(j, k);
		pthread_mutex_unlock(&j->mu);
		if (j->failed)
			break;
		if (limit && trace)
			want = (size_t)MIN((u64)ACCESS_BATCH, limit - fed);
		g0 = jobs_now();
		n = next(next_ctx, slot, want, err, errlen);
		out->gen_seconds += jobs_now() - g0;
		if (n < 0) {
			pthread_mutex_lock(&j->mu);
			jobs_fail(j, err);
			pthread_mutex_unlock(&j->mu);
			break;
		}
		if (n == 0)
			break;
		if (limit && (u64)n > limit - fed)
			n = (long)(limit - fed);
		fed += (u64)n;
		pthread_mutex_lock(&j->mu);
		j->len[k % JOBS_RING] = (size_t)n;
		j->produced = k + 1;
		if (j->data_waiters)
			pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
		if (progress)
			progress(progress_ctx, fed);
	}
	pthread_mutex_lock(&j->mu);
	j->end = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	for (t = 0; t < j->nw; t++)
		if (j->w[t].started)
			pthread_join(j->w[t].tid, NULL);
	if (j->failed) {
		snprintf(err, errlen, "%s", j->err);
		rc = -DV_EINVAL;
	}
	out->sims = j->sims;
	out->nsims = j->nsims;
	out->threads = j->nw;
	out->accesses = fed;
	return rc;
}

void jobs_fini(struct jobs *j)
{
	if (!j)
		return;
	for (size_t i = 0; j->sims && i < j->nsims; i++)
		sim_fini(&j->sims[i]);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	pthread_cond_destroy(&j->cv_gen);
	pthread_cond_destroy(&j->cv_world);
	free(j->w);
	free(j->done);
	free(j->owner);
	free(j->busy);
	free(j->synced);
	free(j);
}
