/* mmusim: run every listed configuration of the MMU model over one access
 * stream (a synthetic workload or a trace) and report what translation
 * cost in each. See docs/mmusim.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dimvisor/errno.h>
#include "cli.h"
#include "jobs.h"
#include "layout.h"
#include "plot.h"
#include "report.h"
#include "sim.h"
#include "trace.h"
#include "workload.h"

/* Exit statuses. */
#define EXIT_RUNTIME 1 /* bad trace, untranslatable access, I/O */
#define EXIT_USAGE   2

/* The access source: a workload or a trace. */
struct source {
	struct workload wl;
	struct trace tr;
	bool is_trace;
};

struct progress {
	double start, last;
	bool tty, printed;
	bool quiet;
	u64 total;	  /* --accesses, or 0 */
	unsigned threads; /* running the configurations */
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int source_open(struct source *s, const struct options *o, char *err, size_t errlen)
{
	struct workload_params p = {.footprint = o->footprint, .seed = o->seed, .scale = o->scale};

	memset(s, 0, sizeof(*s));
	if (o->trace) {
		s->is_trace = true;
		return trace_open(&s->tr, o->trace, o->ifetch, err, errlen);
	}
	return workload_open(&s->wl, o->workload, &p, err, errlen);
}

/* Up to max accesses; 0 at the end of a trace; < 0 on a trace error. */
static long source_next(struct source *s, struct access *buf, size_t max)
{
	if (s->is_trace)
		return trace_next(&s->tr, buf, max);
	return (long)workload_next(&s->wl, buf, max);
}

static void source_close(struct source *s)
{
	if (s->is_trace)
		trace_close(&s->tr);
	else
		workload_close(&s->wl);
}

static void layout_params_for(struct layout_params *lp, const struct options *o,
			      const struct source *s)
{
	struct layout_params p = {.nescaped = o->escaped, .seed = o->seed};

	if (o->primary_given) {
		p.primary_base = o->primary_base;
		p.primary_limit = o->primary_limit;
	} else if (s->is_trace) {
		/* A trace's regions are unknown: the whole user half. */
		p.primary_base = 0;
		p.primary_limit = 1ULL << 47;
	} else {
		vspace_extent(&s->wl.vs, &p.primary_base, &p.primary_limit);
	}
	if (!s->is_trace) {
		p.regions = s->wl.vs.region;
		p.nregions = s->wl.vs.n;
	}
	*lp = p;
}

static int layout_for(struct layout *l, const struct options *o, const struct source *s, char *err,
		      size_t errlen)
{
	struct layout_params p;

	layout_params_for(&p, o, s);
	return layout_init(l, &p, err, errlen);
}

static void progress_tick(struct progress *p, u64 done)
{
	double t = now();
	u64 total = p->total;
	char threads[32] = "";

	if (p->quiet || t - p->start < 1.0 || t - p->last < (p->tty ? 0.5 : 5.0))
		return;
	p->last = t;
	p->printed = true;
	if (p->threads)
		snprintf(threads, sizeof(threads), ", %u thread%s", p->threads,
			 p->threads > 1 ? "s" : "");
	if (total)
		fprintf(stderr, "mmusim: %.1f M / %.1f M accesses (%.0f%%), %.1f M/s%s%s",
			(double)done / 1e6, (double)total / 1e6,
			100.0 * (double)done / (double)total, (double)done / (t - p->start) / 1e6,
			threads, p->tty ? "   \r" : "\n");
	else
		fprintf(stderr, "mmusim: %.1f M accesses, %.1f M/s%s%s", (double)done / 1e6,
			(double)done / (t - p->start) / 1e6, threads, p->tty ? "   \r" : "\n");
}

static void progress_end(struct progress *p)
{
	if (p->printed && p->tty)
		fprintf(stderr, "\n");
}

/* The loop: each batch is produced once and fed to every configuration. */
static int run(const struct options *o, struct source *src, struct sim *sims, size_t nsims,
	       struct report *rep, char *err, size_t errlen)
{
	static struct access buf[ACCESS_BATCH];
	struct progress pr = {.tty = isatty(STDERR_FILENO) && !o->quiet,
			      .quiet = o->quiet,
			      .total = o->accesses,
			      .threads = nsims ? 1 : 0};
	double t0 = now();
	u64 fed = 0;

	pr.start = pr.last = t0;
	while (!o->accesses || fed < o->accesses) {
		double g0 = now(), g1;
		/* A trace is read no further than the accesses simulated, so
		 * its counts describe them; a workload's batch is cut below. */
		size_t want = ACCESS_BATCH;
		long n;

		if (o->accesses && src->is_trace)
			want = (size_t)MIN((u64)ACCESS_BATCH, o->accesses - fed);
		n = source_next(src, buf, want);

		g1 = now();
		rep->gen_seconds += g1 - g0;
		if (n < 0) {
			snprintf(err, errlen, "%s", src->tr.err);
			return EXIT_RUNTIME;
		}
		if (n == 0)
			break;
		if (o->accesses && (u64)n > o->accesses - fed)
			n = (long)(o->accesses - fed);
		for (size_t i = 0; i < nsims && !o->gen_only; i++)
			if (sim_feed(&sims[i], buf, (size_t)n, err, errlen))
				return EXIT_RUNTIME;
		fed += (u64)n;
		progress_tick(&pr, fed);
	}
	progress_end(&pr);
	rep->accesses = fed;
	rep->seconds = now() - t0;
	rep->jobs = nsims ? 1 : 0;
	return 0;
}

static long jobs_source_next(void *ctx, struct access *buf, size_t max, char *err, size_t errlen)
{
	struct source *src = ctx;
	long n = source_next(src, buf, max);

	if (n < 0)
		snprintf(err, errlen, "%s", src->tr.err);
	return n;
}

static void jobs_progress(void *ctx, u64 done)
{
	progress_tick(ctx, done);
}

/* The loop with --jobs N > 1: the configurations on N threads (jobs.h). */
static int run_jobs(const struct options *o, struct source *src, unsigned threads,
		    struct layout *lay, struct sim *sims, size_t nsims, struct report *rep,
		    struct jobs **jp, char *err, size_t errlen)
{
	struct jobs *j = NULL;
	struct jobs_run out = {0};
	struct progress pr = {.tty = isatty(STDERR_FILENO) && !o->quiet,
			      .quiet = o->quiet,
			      .total = o->accesses,
			      .threads = threads};
	int rc;

	rc = jobs_setup(&j, threads, o->configs, nsims, lay, &o->sim, sims, err, errlen);
	if (rc == 0) {
		pr.start = pr.last = now();
		rc = jobs_run(j, jobs_source_next, src, jobs_progress, &pr, o->accesses,
			      src->is_trace, &out, err, errlen);
		progress_end(&pr);
	}
	rep->accesses = out.accesses;
	rep->seconds = now() - pr.start;
	rep->gen_seconds = out.gen_seconds;
	rep->jobs = threads;
	*jp = j; /* freed after the results are out: they read the sims' tables */
	return rc ? EXIT_RUNTIME : 0;
}

/* Threads for --jobs: as asked, else one per core; never more than
 * configurations. One with --pwc: a faulting walk fills the page-walk
 * caches, so a configuration must fault exactly where it would on one
 * thread, which tables that other threads are still filling cannot
 * promise (jobs.h). */
static unsigned jobs_threads(const struct options *o)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	u64 t = o->jobs ? o->jobs : (u64)(cores > 0 ? cores : 1);

	if (o->sim.pwc)
		return 1;
	return (unsigned)MIN(t, (u64)o->nconfigs);
}

static int emit(const struct options *o, struct report *rep, struct sim *sims, size_t nsims,
		struct sim_result *res, char *err, size_t errlen)
{
	const struct sim_result *base = NULL;
	int rc;

	for (size_t i = 0; i < nsims; i++)
		sim_result(&sims[i], &o->sim, &res[i]);
	for (size_t i = 0; i < nsims; i++)
		if (strcmp(o->configs[i].name, CONFIG_BASELINE) == 0)
			base = &res[i];
	for (size_t i = 0; i < nsims; i++)
		sim_result_overhead(&res[i], base);
	rep->res = res;
	rep->nres = nsims;
	if (o->json)
		report_json(stdout, rep);
	else
		report_table(stdout, rep);
	if (o->csv && (rc = report_csv(o->csv, rep))) {
		snprintf(err, errlen, "--csv %s: %s", o->csv, strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (o->plot && plot_png(o->plot, rep, err, errlen))
		return EXIT_RUNTIME;
	return 0;
}

static int generate_only(const struct options *o, struct source *src, char *err, size_t errlen)
{
	struct report rep = {.o = o};
	int rc = run(o, src, NULL, 0, &rep, err, errlen);

	if (rc)
		return rc;
	if (o->json)
		printf("{\"workload\":\"%s\",\"accesses\":%llu,\"generate_seconds\":%.6f,"
		       "\"accesses_per_second\":%.1f}\n",
		       o->workload ? o->workload : "trace", (unsigned long long)rep.accesses,
		       rep.gen_seconds,
		       rep.gen_seconds > 0 ? (double)rep.accesses / rep.gen_seconds : 0);
	else
		printf("generated %llu accesses in %.3f s: %.1f M accesses/s\n",
		       (unsigned long long)rep.accesses, rep.gen_seconds,
		       rep.gen_seconds > 0 ? (double)rep.accesses / rep.gen_seconds / 1e6 : 0);
	return 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct source src;
	static struct layout lay;
	static struct sim sims[CONFIG_MAX + 1];
	static struct sim_result res[CONFIG_MAX + 1];
	struct report rep;
	char err[512] = "";
	size_t nsims = 0;
	unsigned threads;
	int rc = 0;

	switch (cli_parse(argc, argv, &o, err, sizeof(err))) {
	case CLI_EXIT:
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "mmusim: %s\n(mmusim --help lists the options)\n", err);
		return EXIT_USAGE;
	case CLI_RUN:
		break;
	}
	if (source_open(&src, &o, err, sizeof(err))) {
		fprintf(stderr, "mmusim: %s\n", err);
		return o.trace ? EXIT_RUNTIME : EXIT_USAGE;
	}
	if (o.gen_only) {
		rc = generate_only(&o, &src, err, sizeof(err));
		goto out_source;
	}
	if (layout_for(&lay, &o, &src, err, sizeof(err))) {
		rc = EXIT_USAGE;
		goto out_source;
	}
	rep = (struct report){.o = &o,
			      .desc = src.is_trace ? NULL : src.wl.desc,
			      .trace = src.is_trace ? &src.tr : NULL,
			      .geo = &lay.geo};
	threads = jobs_threads(&o);
	if (threads > 1) {
		struct jobs *j = NULL;

		rc = run_jobs(&o, &src, threads, &lay, sims, o.nconfigs, &rep, &j, err,
			      sizeof(err));
		if (rc == 0)
			rc = emit(&o, &rep, sims, o.nconfigs, res, err, sizeof(err));
		jobs_fini(j);
		layout_fini(&lay);
		goto out_source;
	}
	for (; nsims < o.nconfigs; nsims++) {
		if (sim_init(&sims[nsims], &o.configs[nsims], &lay, &o.sim, err, sizeof(err))) {
			rc = EXIT_RUNTIME;
			goto out_sims;
		}
	}
	rc = run(&o, &src, sims, nsims, &rep, err, sizeof(err));
	if (rc == 0)
		rc = emit(&o, &rep, sims, nsims, res, err, sizeof(err));
out_sims:
	for (size_t i = 0; i < nsims; i++)
		sim_fini(&sims[i]);
	layout_fini(&lay);
out_source:
	source_close(&src);
	if (rc)
		fprintf(stderr, "mmusim: %s\n", err);
	return rc;
}
