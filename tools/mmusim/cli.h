/* mmusim's command line. */
#ifndef MMUSIM_CLI_H
#define MMUSIM_CLI_H

#include <stdio.h>

#include <dimvisor/types.h>
#include "config.h"
#include "sim.h"

#define CLI_MAX_JOBS 64

struct options {
	const char *workload; /* NULL with --trace */
	const char *trace;    /* path or "-" */
	u64 footprint;
	u64 accesses; /* 0: all of a trace (required > 0 for workloads) */
	bool accesses_given;
	u64 seed;
	u32 scale;
	const char *config_list;
	struct config_spec configs[CONFIG_MAX + 1]; /* + the hidden baseline */
	size_t nconfigs;
	bool primary_given;
	u64 primary_base, primary_limit;
	unsigned escaped;
	bool ifetch;
	bool json;
	const char *csv;
	const char *plot;
	bool quiet;
	bool gen_only; /* generate the stream only (speed baseline) */
	u32 jobs;      /* threads running configurations; 0: one per core */
	struct sim_options sim;
};

enum cli_result {
	CLI_RUN,   /* options are complete */
	CLI_EXIT,  /* --help or --list was printed */
	CLI_ERROR, /* message in err */
};

enum cli_result cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void cli_usage(FILE *f);

#endif
