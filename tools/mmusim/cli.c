/* Parsing mmusim's options: a table of options, each with a handler. */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "cli.h"
#include "units.h"
#include "workload.h"

#define DEFAULT_FOOTPRINT (1ULL << 30)
#define DEFAULT_ACCESSES  10000000ULL

struct cli_option {
	const char *name;
	bool has_arg;
	const char *arg; /* for the usage text */
	const char *help;
	int (*set)(struct options *o, const char *arg, char *err, size_t errlen);
};

static int bad_value(const char *opt, const char *arg, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "--%s: '%s' is not %s", opt, arg, what);
	return -DV_EINVAL;
}

static int set_workload(struct options *o, const char *a, char *err, size_t errlen)
{
	if (!workload_find(a)) {
		snprintf(err, errlen, "--workload: unknown workload '%s' (see --list)", a);
		return -DV_EINVAL;
	}
	o->workload = a;
	return 0;
}

static int set_trace(struct options *o, const char *a, char *err, size_t errlen)
{
	o->trace = a;
	return 0;
}

static int set_footprint(struct options *o, const char *a, char *err, size_t errlen)
{
	if (units_parse_size(a, &o->footprint) || o->footprint == 0)
		return bad_value("footprint", a, "a size like 64G", err, errlen);
	return 0;
}

static int set_accesses(struct options *o, const char *a, char *err, size_t errlen)
{
	if (units_parse_count(a, &o->accesses) || o->accesses == 0)
		return bad_value("accesses", a, "a count like 100M", err, errlen);
	o->accesses_given = true;
	return 0;
}

static int set_config(struct options *o, const char *a, char *err, size_t errlen)
{
	o->config_list = a;
	return 0;
}

static int set_tlb(struct options *o, const char *a, char *err, size_t errlen)
{
	struct tlb_geometry g;

	if (tlb_preset(a, &g))
		return bad_value("tlb", a, "a TLB preset (sandybridge, skylake)", err, errlen);
	o->sim.tlb = a;
	return 0;
}

static int set_u64(const char *opt, const char *a, u64 *v, char *err, size_t errlen)
{
	if (units_parse_count(a, v))
		return bad_value(opt, a, "a number", err, errlen);
	return 0;
}

static int set_seed(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u64("seed", a, &o->seed, err, errlen);
}

static int set_scale(struct options *o, const char *a, char *err, size_t errlen)
{
	u64 v;

	if (set_u64("scale", a, &v, err, errlen) || v < 1 || v > 64)
		return bad_value("scale", a, "a Kronecker scale (e.g. 20)", err, errlen);
	o->scale = (u32)v;
	return 0;
}

/* START-END or START+SIZE, each a size (hex with 0x). */
static int set_primary(struct options *o, const char *a, char *err, size_t errlen)
{
	const char *sep = strpbrk(a, "-+");
	char lo[64];
	u64 x, y;

	if (!sep || (size_t)(sep - a) >= sizeof(lo))
		return bad_value("primary", a, "START-END or START+SIZE", err, errlen);
	memcpy(lo, a, (size_t)(sep - a));
	lo[sep - a] = '\0';
	if (units_parse_size(lo, &x) || units_parse_size(sep + 1, &y))
		return bad_value("primary", a, "START-END or START+SIZE", err, errlen);
	if (*sep == '+')
		y += x;
	if (y <= x)
		return bad_value("primary", a, "a non-empty range", err, errlen);
	o->primary_base = x;
	o->primary_limit = y;
	o->primary_given = true;
	return 0;
}

static int set_escape(struct options *o, const char *a, char *err, size_t errlen)
{
	u64 v;

	if (set_u64("escape", a, &v, err, errlen) || v > ESCAPE_MAX_PAGES)
		return bad_value("escape", a, "a page count up to 1024", err, errlen);
	o->escaped = (unsigned)v;
	return 0;
}

static int set_u32_opt(const char *opt, const char *a, u32 lo, u32 hi, u32 *out, char *err,
		       size_t errlen)
{
	u64 v;

	if (units_parse_count(a, &v) || v < lo || v > hi)
		return bad_value(opt, a, "in range", err, errlen);
	*out = (u32)v;
	return 0;
}

static int set_escape_bits(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u32_opt("escape-bits", a, 1, ESCAPE_MAX_BITS, &o->sim.escape_bits, err, errlen);
}

static int set_escape_hashes(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u32_opt("escape-hashes", a, 1, ESCAPE_MAX_HASHES, &o->sim.escape_hashes, err,
			   errlen);
}

static int set_cycles_ref(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u32_opt("cycles-per-ref", a, 0, 1000000, &o->sim.ref.cycles_per_ref, err,
			   errlen);
}

static int set_cycles_add(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u32_opt("cycles-per-add", a, 0, 1000000, &o->sim.ref.cycles_per_add, err,
			   errlen);
}

static int set_lin(const char *opt, const char *a, double *v, char *err, size_t errlen)
{
	if (units_parse_double(a, v))
		return bad_value(opt, a, "a number of cycles >= 0", err, errlen);
	return 0;
}

static int set_cn(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_lin("cn", a, &o->sim.lin.c_n, err, errlen);
}

static int set_cv(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_lin("cv", a, &o->sim.lin.c_v, err, errlen);
}

static int set_dvd(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_lin("dvd", a, &o->sim.lin.delta_vd, err, errlen);
}

static int set_dgd(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_lin("dgd", a, &o->sim.lin.delta_gd, err, errlen);
}

static int set_pwc(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.pwc = true;
	return 0;
}

static int set_ifetch(struct options *o, const char *a, char *err, size_t errlen)
{
	o->ifetch = true;
	return 0;
}

static int set_json(struct options *o, const char *a, char *err, size_t errlen)
{
	o->json = true;
	return 0;
}

static int set_csv(struct options *o, const char *a, char *err, size_t errlen)
{
	o->csv = a;
	return 0;
}

static int set_plot(struct options *o, const char *a, char *err, size_t errlen)
{
	o->plot = a;
	return 0;
}

static int set_quiet(struct options *o, const char *a, char *err, size_t errlen)
{
	o->quiet = true;
	return 0;
}

static int set_memo(struct options *o, const char *a, char *err, size_t errlen)
{
	u64 v;

	if (units_parse_count(a, &v) || (v & (v - 1)) || v > (1ULL << 30))
		return bad_value("memo", a, "0 or a power of two up to 2^30", err, errlen);
	o->sim.memo_slots = v;
	return 0;
}

static int set_no_prefetch(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.prefetch = 0;
	return 0;
}

static int set_no_fast(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.fast = MODEL_FAST_OFF;
	return 0;
}

static int set_check_fast(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.fast = MODEL_FAST_CHECK;
	return 0;
}

static int set_no_table_cache(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.table_cache_slots = 0;
	return 0;
}

static int set_no_path_cache(struct options *o, const char *a, char *err, size_t errlen)
{
	o->sim.path_cache_slots = 0;
	return 0;
}

static int set_prefetch_distance(struct options *o, const char *a, char *err, size_t errlen)
{
	u32 v;
	int rc = set_u32_opt("prefetch-distance", a, 2, SIM_PREFETCH_MAX, &v, err, errlen);

	_Static_assert(SIM_PREFETCH_MAX == 256, "the message below names the bound");
	if (rc == 0 && (v & 1))
		return bad_value("prefetch-distance", a, "an even number from 2 to 256", err,
				 errlen);
	if (rc == 0)
		o->sim.prefetch = v;
	return rc;
}

static int set_jobs(struct options *o, const char *a, char *err, size_t errlen)
{
	return set_u32_opt("jobs", a, 1, CLI_MAX_JOBS, &o->jobs, err, errlen);
}

static int set_gen_only(struct options *o, const char *a, char *err, size_t errlen)
{
	o->gen_only = true;
	return 0;
}

static const struct cli_option cli_options[] = {
	{"workload", true, "NAME", "synthetic workload (see --list)", set_workload},
	{"trace", true, "FILE|-", "lackey text or qtrace binary trace (auto-detected)", set_trace},
	{"footprint", true, "SIZE", "workload's virtual footprint, e.g. 64G (default 1G)",
	 set_footprint},
	{"accesses", true, "N", "accesses to simulate, e.g. 100M = 10^8 (default 10M; traces: all)",
	 set_accesses},
	{"config", true, "LIST", "configurations, comma-separated (see --list)", set_config},
	{"tlb", true, "PRESET", "TLB geometry: sandybridge (default), skylake", set_tlb},
	{"pwc", false, NULL, "enable page-walk caches and the nested TLB", set_pwc},
	{"seed", true, "N", "random seed (default 1)", set_seed},
	{"scale", true, "N", "bfs: Kronecker scale to build (default: automatic, <= 20)",
	 set_scale},
	{"primary", true, "LO-HI|LO+SIZE",
	 "primary region (guest segment): a trace's, or a guest's layout", set_primary},
	{"escape", true, "N", "escape N random 4 KiB pages of the VMM segment", set_escape},
	{"escape-bits", true, "N", "escape filter size in bits (default 256)", set_escape_bits},
	{"escape-hashes", true, "N", "escape filter hash functions (default 4)", set_escape_hashes},
	{"cn", true, "CYCLES", "linear model C_n (default: per configuration, see docs)", set_cn},
	{"cv", true, "CYCLES", "linear model C_v", set_cv},
	{"dvd", true, "CYCLES", "linear model Delta_VD", set_dvd},
	{"dgd", true, "CYCLES", "linear model Delta_GD", set_dgd},
	{"cycles-per-ref", true, "N", "per-reference model: cycles per walk reference (12)",
	 set_cycles_ref},
	{"cycles-per-add", true, "N", "per-reference model: cycles per segment add (1)",
	 set_cycles_add},
	{"ifetch", false, NULL, "traces: feed instruction fetches to the model too", set_ifetch},
	{"json", false, NULL, "print one JSON object instead of the table", set_json},
	{"csv", true, "FILE", "also write the table as CSV", set_csv},
	{"plot", true, "FILE.png", "also draw a grouped bar chart with gnuplot", set_plot},
	{"quiet", false, NULL, "no progress line on stderr", set_quiet},
	{"memo", true, "SLOTS",
	 "model walk memo slots per configuration (speed only, same counts; default 0 = off)",
	 set_memo},
	{"jobs", true, "N",
	 "threads running configurations (default: the number of cores; same counts)", set_jobs},
	{"no-prefetch", false, NULL, "no pipelined walks (speed only, same counts)",
	 set_no_prefetch},
	{"no-fast", false, NULL, "generic walkers only (speed only, same counts)", set_no_fast},
	{"check-fast", false, NULL,
	 "walk with the fast and the generic walkers, fail if they differ (a test)",
	 set_check_fast},
	{"no-table-cache", false, NULL,
	 "2D walks re-walk EPT for every guest table (speed only, same counts)",
	 set_no_table_cache},
	{"no-path-cache", false, NULL,
	 "2D walks read every guest level, not only the leaf table (speed only, same counts)",
	 set_no_path_cache},
	{"prefetch-distance", true, "N",
	 "pipelined walks: prefetch N accesses ahead (even; default 16)", set_prefetch_distance},
	{"generate-only", false, NULL, "only produce the access stream (speed baseline)",
	 set_gen_only},
};

void cli_usage(FILE *f)
{
	fprintf(f, "usage: mmusim (--workload NAME [--footprint SIZE] | --trace FILE|-) "
		   "[--accesses N] [--config LIST] [options]\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(cli_options); i++) {
		const struct cli_option *c = &cli_options[i];
		char left[48];

		snprintf(left, sizeof(left), "--%s%s%s", c->name, c->arg ? " " : "",
			 c->arg ? c->arg : "");
		fprintf(f, "  %-26s %s\n", left, c->help);
	}
	fprintf(f, "  %-26s %s\n  %-26s %s\n", "--list", "workloads, configurations, TLB presets",
		"--help", "this text");
}

static void cli_list(void)
{
	printf("workloads:\n");
	for (size_t i = 0; workload_table[i]; i++)
		printf("  %-8s %s\n", workload_table[i]->name, workload_table[i]->help);
	printf("configurations:\n"
	       "  G+E                base virtualized, guest pages G, EPT pages E\n"
	       "                     (G: 4k 2m 1g thp; E: 4k 2m 1g), e.g. 4k+4k 2m+2m 1g+1g 4k+2m\n"
	       "  native-G           native paging (4k 2m 1g thp)\n"
	       "  native-ds[:G]      native direct segment, pages G elsewhere\n"
	       "  dual-direct[:G+E]  guest + VMM segments\n"
	       "  vmm-direct[:G+E]   VMM segment\n"
	       "  guest-direct[:G+E] guest segment\n"
	       "  default list: %s\n"
	       "TLB presets:",
	       CONFIG_DEFAULT_LIST);
	for (size_t i = 0; tlb_preset_names[i]; i++)
		printf(" %s", tlb_preset_names[i]);
	printf("\n");
}

static const struct cli_option *cli_find(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cli_options); i++)
		if (strlen(cli_options[i].name) == len &&
		    strncmp(cli_options[i].name, name, len) == 0)
			return &cli_options[i];
	return NULL;
}

static void cli_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->footprint = DEFAULT_FOOTPRINT;
	o->seed = 1;
	o->config_list = CONFIG_DEFAULT_LIST;
	sim_options_default(&o->sim);
}

/* Cross-option checks and the configuration list. */
static enum cli_result cli_finish(struct options *o, char *err, size_t errlen)
{
	bool have_baseline = false;

	if (!o->workload == !o->trace) {
		snprintf(err, errlen, "give exactly one of --workload or --trace");
		return CLI_ERROR;
	}
	if (o->workload && !o->accesses_given)
		o->accesses = DEFAULT_ACCESSES;
	if (config_parse_list(o->config_list, o->configs, CONFIG_MAX, &o->nconfigs, err, errlen))
		return CLI_ERROR;
	for (size_t i = 0; i < o->nconfigs; i++)
		have_baseline |= strcmp(o->configs[i].name, CONFIG_BASELINE) == 0;
	if (!have_baseline) {
		/* The overhead column needs native 4 KiB: simulate it unlisted. */
		config_parse(CONFIG_BASELINE, &o->configs[o->nconfigs], err, errlen);
		o->configs[o->nconfigs++].hidden = true;
	}
	return CLI_RUN;
}

enum cli_result cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	cli_defaults(o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		const struct cli_option *c;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_usage(stdout);
			return CLI_EXIT;
		}
		if (strcmp(a, "--list") == 0) {
			cli_list();
			return CLI_EXIT;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s'", a);
			return CLI_ERROR;
		}
		a += 2;
		eq = strchr(a, '=');
		c = cli_find(a, eq ? (size_t)(eq - a) : strlen(a));
		if (!c) {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return CLI_ERROR;
		}
		if (c->has_arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, errlen, "--%s needs a value", c->name);
				return CLI_ERROR;
			}
		} else if (eq) {
			snprintf(err, errlen, "--%s takes no value", c->name);
			return CLI_ERROR;
		}
		if (c->set(o, val, err, errlen))
			return CLI_ERROR;
	}
	return cli_finish(o, err, errlen);
}
