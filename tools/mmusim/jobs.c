/* Configurations on several threads; see jobs.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dimvisor/errno.h>
#include "jobs.h"

#define JOBS_RING 32 /* batches in the ring: a few per worker of slack */

/* One mapping made, in the order one thread would have made it. */
struct jobs_map {
	bool ept;
	u8 policy;
	u64 addr;
};

struct jobs_worker {
	struct jobs *j;
	pthread_t tid;
	struct layout lay; /* this thread's copy of the tables */
	size_t applied;	   /* log entries replayed into lay */
	size_t *cfg;	   /* its configurations, in list order */
	size_t ncfg;
	double cost; /* estimated, for the spread */
	u64 batch;   /* the batch it runs */
	bool started;
};

/* Waking a thread costs a system call and, with the generator a third thread
 * on two cores, a worker's time slice: every wait says what it waits for,
 * and a thread is woken only when that may have come. */
struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* workers: a batch produced, a (batch, configuration) done */
	pthread_cond_t cv_gen; /* the generator: room in the ring */
	unsigned data_waiters; /* workers waiting for a batch to be produced */
	unsigned map_waiters;  /* workers waiting for earlier (batch, configuration)s */
	u64 gen_need;	       /* the generator waits until every configuration has done
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
	u64 *done;    /* per configuration: batches it finished */
	/* the mappings */
	struct jobs_map *log;
	size_t nlog, caplog;
	u64 *synced; /* per configuration: 1 + the position it replayed the log at */
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
}

/* Estimated cost of a configuration per access, for spreading them: where
 * walks read 4 KiB leaf tables (which miss the host's caches) a large part
 * per walk and a little per reference of it, elsewhere a part per
 * reference (the VMM segment's checks of every gPA, escape filter
 * included, counted as references), plus the TLB lookups every access
 * makes. Fitted to the CPU time of each configuration on gups over 8 GiB,
 * 10 M accesses, after the sixth round (s): 4k+4k 0.81, vmm-direct 0.59,
 * guest-direct 0.56, native-4k 0.51, 2m+2m 0.45, 1g+1g 0.25, native-ds
 * 0.09, dual-direct 0.07 (docs/mmusim.md). Only the balance depends on it,
 * never a result. */
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

/* Replay the log into w's tables. Called with mu held. */
static int jobs_replay(struct jobs_worker *w)
{
	struct jobs *j = w->j;
	int rc = 0;

	for (; rc == 0 && w->applied < j->nlog; w->applied++) {
		const struct jobs_map *e = &j->log[w->applied];

		if (e->ept && w->lay.e[e->policy])
			rc = etables_map(w->lay.e[e->policy], e->addr);
		else if (!e->ept && w->lay.g[e->policy])
			rc = gtables_map(w->lay.g[e->policy], e->addr);
	}
	return rc;
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

/* sim_map_fn of the workers: the first fault of a (batch, configuration)
 * waits for everything before it and replays the log (then the access is
 * retried: the mapping may be there now); a fault after that is a mapping
 * one thread would make here, so it goes to the log and the tables. */
static int jobs_map(void *ctx, struct sim *s, bool ept, u64 addr)
{
	struct jobs_worker *w = ctx;
	struct jobs *j = w->j;
	u64 pos = w->batch * j->nsims + s->index + 1;
	int rc;

	pthread_mutex_lock(&j->mu);
	if (j->synced[s->index] != pos) {
		while (!j->failed && !jobs_before_done(j, w->batch, s->index)) {
			j->map_waiters++;
			pthread_cond_wait(&j->cv, &j->mu);
			j->map_waiters--;
		}
		rc = j->failed ? -DV_EBUSY : jobs_replay(w);
		j->synced[s->index] = pos;
		pthread_mutex_unlock(&j->mu);
		return rc;
	}
	if (j->nlog == j->caplog) {
		size_t cap = j->caplog ? 2 * j->caplog : 4096;
		struct jobs_map *log = realloc(j->log, cap * sizeof(*log));

		if (!log) {
			pthread_mutex_unlock(&j->mu);
			return -DV_ENOMEM;
		}
		j->log = log;
		j->caplog = cap;
	}
	/* Nothing can have been added since the replay: whoever comes later
	 * waits for this position. */
	j->log[j->nlog++] = (struct jobs_map){ept, (u8)(ept ? s->spec.ept : s->spec.guest), addr};
	rc = jobs_replay(w);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

static void *jobs_worker_main(void *arg)
{
	struct jobs_worker *w = arg;
	struct jobs *j = w->j;
	char err[512];

	for (u64 k = 0;; k++) {
		const struct access *batch;
		size_t n;

		pthread_mutex_lock(&j->mu);
		while (!j->failed && j->produced <= k && !j->end) {
			j->data_waiters++;
			pthread_cond_wait(&j->cv, &j->mu);
			j->data_waiters--;
		}
		if (j->failed || j->produced <= k) {
			/* The end: replay the whole log, so the table counts
			 * are the one-thread ones. */
			if (!j->failed && jobs_replay(w))
				jobs_fail(j, "out of table memory replaying the mappings");
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		batch = j->ring[k % JOBS_RING];
		n = j->len[k % JOBS_RING];
		pthread_mutex_unlock(&j->mu);
		w->batch = k;
		for (size_t c = 0; c < w->ncfg; c++) {
			struct sim *s = &j->sims[w->cfg[c]];
			int rc = sim_feed(s, batch, n, err, sizeof(err));

			pthread_mutex_lock(&j->mu);
			if (rc) {
				jobs_fail(j, err);
				pthread_mutex_unlock(&j->mu);
				return NULL;
			}
			jobs_done(j, w->cfg[c], k);
			pthread_mutex_unlock(&j->mu);
		}
	}
}

int jobs_setup(struct jobs **jp, unsigned threads, const struct config_spec *specs, size_t n,
	       const struct layout_params *p, const struct sim_options *o, struct sim *sims,
	       char *err, size_t errlen)
{
	struct jobs *j = calloc(1, sizeof(*j));
	size_t *order;
	unsigned t;
	bool ok;

	*jp = j;
	if (!j)
		goto nomem;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	pthread_cond_init(&j->cv_gen, NULL);
	j->sims = sims;
	j->nsims = n;
	j->w = calloc(threads, sizeof(*j->w));
	if (j->w)
		j->nw = threads;
	j->done = calloc(n, sizeof(*j->done));
	j->synced = calloc(n, sizeof(*j->synced));
	order = calloc(n, sizeof(*order));
	ok = j->w && j->done && j->synced && order;
	for (t = 0; j->w && t < threads; t++) {
		j->w[t].cfg = calloc(n, sizeof(size_t));
		ok = ok && j->w[t].cfg;
	}
	if (!ok) {
		free(order);
		goto nomem;
	}
	for (t = 0; t < threads; t++) {
		j->w[t].j = j;
		if (layout_init(&j->w[t].lay, p, err, errlen)) {
			free(order);
			return -DV_EINVAL;
		}
	}
	/* Largest first, each to the least loaded worker (LPT); then every
	 * worker's list back in configuration order. */
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

		for (t = 1; t < threads; t++)
			if (j->w[t].cost < best->cost)
				best = &j->w[t];
		best->cost += jobs_cost(&specs[order[i]]);
		best->cfg[best->ncfg++] = order[i];
	}
	free(order);
	for (t = 0; t < threads; t++) {
		struct jobs_worker *w = &j->w[t];

		for (size_t a = 1; a < w->ncfg; a++)
			for (size_t b = a; b > 0 && w->cfg[b] < w->cfg[b - 1]; b--) {
				size_t x = w->cfg[b];

				w->cfg[b] = w->cfg[b - 1];
				w->cfg[b - 1] = x;
			}
		for (size_t c = 0; c < w->ncfg; c++) {
			size_t i = w->cfg[c];
			int rc = sim_init(&sims[i], &specs[i], &w->lay, o, err, errlen);

			if (rc)
				return rc;
			sims[i].index = (unsigned)i;
			sims[i].map = jobs_map;
			sims[i].map_ctx = w;
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "--jobs: out of memory");
	return -DV_ENOMEM;
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

		/* The slot is free once every configuration is done with the
		 * batch that used it last; when it is not, wait until half the
		 * ring is, and fill it in one go. */
		pthread_mutex_lock(&j->mu);
		if (!j->failed && k >= JOBS_RING && jobs_min_done(j) < k - JOBS_RING + 1) {
			while (!j->failed && jobs_min_done(j) < k - JOBS_RING / 2 + 1) {
				j->gen_need = k - JOBS_RING / 2 + 1;
				pthread_cond_wait(&j->cv_gen, &j->mu);
			}
			j->gen_need = 0;
		}
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
	for (unsigned t = 0; j->w && t < j->nw; t++) {
		layout_fini(&j->w[t].lay);
		free(j->w[t].cfg);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	pthread_cond_destroy(&j->cv_gen);
	free(j->w);
	free(j->done);
	free(j->synced);
	free(j->log);
	free(j);
}
