/* The results of a run: the table on stdout, or one JSON object (field
 * names documented in docs/mmusim.md and kept stable), and CSV. */
#ifndef MMUSIM_REPORT_H
#define MMUSIM_REPORT_H

#include <stdio.h>

#include <dimvisor/types.h>
#include "cli.h"
#include "layout.h"
#include "sim.h"
#include "trace.h"

struct report {
	const struct options *o;
	const char *desc;	   /* what the workload built, or NULL */
	const struct trace *trace; /* NULL for a synthetic workload */
	const struct layout_geometry *geo;
	u64 accesses;		      /* accesses fed to every configuration */
	double seconds;		      /* wall time of the simulation loop */
	double gen_seconds;	      /* of which producing the accesses */
	unsigned jobs;		      /* threads that ran the configurations */
	const struct sim_result *res; /* per configuration, hidden ones included */
	size_t nres;
};

void report_table(FILE *f, const struct report *r);
void report_json(FILE *f, const struct report *r);
/* 0, or -errno. */
int report_csv(const char *path, const struct report *r);

#endif
