/* Table, JSON and CSV output; see report.h and docs/mmusim.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mm/model/walk.h"
#include "report.h"
#include "units.h"

static const char *source_name(const struct report *r)
{
	return r->o->workload ? r->o->workload : "trace";
}

void report_table(FILE *f, const struct report *r)
{
	char fp[32];

	units_format_size(r->o->footprint, fp, sizeof(fp));
	if (r->trace)
		fprintf(f, "mmusim: trace %s (%s), ", r->o->trace,
			trace_format_name(r->trace->format));
	else
		fprintf(f, "mmusim: %s, footprint %s, ", r->o->workload, fp);
	fprintf(f, "%llu accesses, TLB %s, page-walk caches %s, seed %llu\n",
		(unsigned long long)r->accesses, r->o->sim.tlb, r->o->sim.pwc ? "on" : "off",
		(unsigned long long)r->o->seed);
	if (r->desc)
		fprintf(f, "%s\n", r->desc);
	if (r->trace) {
		const struct trace_stats *s = &r->trace->stats;

		fprintf(f,
			"trace: %llu data accesses (%llu loads, %llu stores, %llu modifies), "
			"%llu instruction fetches (%s)\n",
			(unsigned long long)trace_data_accesses(s), (unsigned long long)s->loads,
			(unsigned long long)s->stores, (unsigned long long)s->modifies,
			(unsigned long long)s->ifetches,
			r->o->ifetch ? "simulated" : "counted, not simulated");
	}
	fprintf(f, "\n%-18s %12s %8s %8s %11s %9s %4s %11s %7s %12s %12s %9s\n", "config",
		"accesses", "L1 MPKA", "L2 MPKA", "walks", "refs/walk", "max", "seg hits", "esc FP",
		"cycles(lin)", "cycles(ref)", "overhead");
	for (size_t i = 0; i < r->nres; i++) {
		const struct sim_result *x = &r->res[i];

		if (r->o->configs[i].hidden)
			continue;
		fprintf(f,
			"%-18s %12llu %8.2f %8.2f %11llu %9.2f %4llu %11llu %7llu %12.4g %12.4g "
			"%8.3fx\n",
			x->name, (unsigned long long)x->st.accesses, x->l1_mpka, x->l2_mpka,
			(unsigned long long)x->st.walks, x->refs_per_walk_avg,
			(unsigned long long)x->st.walk_refs_max,
			(unsigned long long)x->st.segment_hits,
			(unsigned long long)x->st.escape_false_positives, x->cycles_linear,
			x->cycles_per_ref_model, x->overhead_vs_native_4k);
	}
	fprintf(f,
		"\nMPKA: misses per thousand accesses. cycles: page-walk cycles, linear = "
		"Table IV, ref = %u/reference + %u/segment add. overhead: cycles(ref) / "
		"native-4k's.\n",
		r->o->sim.ref.cycles_per_ref, r->o->sim.ref.cycles_per_add);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_u64(FILE *f, const char *k, u64 v, bool comma)
{
	fprintf(f, "\"%s\":%llu%s", k, (unsigned long long)v, comma ? "," : "");
}

/* Doubles with enough digits to round-trip the tests' checks. */
static void json_dbl(FILE *f, const char *k, double v, bool comma)
{
	fprintf(f, "\"%s\":%.10g%s", k, v, comma ? "," : "");
}

static void json_refs(FILE *f, const struct model_stats *st)
{
	static const struct {
		const char *name;
		unsigned base;
	} kinds[] = {
		{"guest", WALK_REF_GUEST}, {"nested", WALK_REF_NESTED}, {"final", WALK_REF_FINAL}};

	fprintf(f, "\"refs_by_level\":{");
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		fprintf(f, "\"%s\":[", kinds[k].name);
		for (unsigned lvl = 1; lvl <= 4; lvl++)
			fprintf(f, "%llu%s",
				(unsigned long long)st->refs[WALK_REF(kinds[k].base, lvl)],
				lvl < 4 ? "," : "");
		fprintf(f, "]%s", k + 1 < ARRAY_SIZE(kinds) ? "," : "");
	}
	fprintf(f, "},");
}

static void json_config(FILE *f, const struct report *r, size_t i)
{
	const struct sim_result *x = &r->res[i];
	const struct config_spec *c = &r->o->configs[i];
	const struct model_stats *st = &x->st;

	fprintf(f, "{\"name\":");
	json_str(f, x->name);
	fprintf(f,
		",\"mode\":\"%s\",\"guest_pages\":\"%s\",\"ept_pages\":", model_mode_name(c->mode),
		page_policy_name(c->guest));
	if (c->virt)
		fprintf(f, "\"%s\",", page_policy_name(c->ept));
	else
		fprintf(f, "null,");
	json_u64(f, "accesses", st->accesses, true);
	json_u64(f, "l1_misses", st->l1_misses, true);
	json_u64(f, "l2_hits", st->l2_hits, true);
	json_u64(f, "l2_misses", st->l2_misses, true);
	json_dbl(f, "l1_mpka", x->l1_mpka, true);
	json_dbl(f, "l2_mpka", x->l2_mpka, true);
	json_u64(f, "walks", st->walks, true);
	json_u64(f, "walk_refs", st->walk_refs, true);
	json_dbl(f, "refs_per_walk_avg", x->refs_per_walk_avg, true);
	json_u64(f, "refs_per_walk_max", st->walk_refs_max, true);
	json_refs(f, st);
	json_u64(f, "segment_l1", st->segment_l1, true);
	json_u64(f, "segment_hits", st->segment_hits, true);
	json_u64(f, "segment_adds", st->seg_adds, true);
	json_u64(f, "escape_hits", st->escape_hits, true);
	json_u64(f, "escape_false_positives", st->escape_false_positives, true);
	json_u64(f, "pwc_hits", st->pwc_hits, true);
	json_u64(f, "ntlb_hits", st->ntlb_hits, true);
	fprintf(f, "\"misses\":{");
	json_u64(f, "m_n", st->miss.m_n, true);
	json_u64(f, "guest_only", st->miss.guest_only, true);
	json_u64(f, "vmm_only", st->miss.vmm_only, true);
	json_u64(f, "both", st->miss.both, false);
	fprintf(f, "},");
	json_dbl(f, "cycles_linear", x->cycles_linear, true);
	json_dbl(f, "cycles_per_ref_model", x->cycles_per_ref_model, true);
	json_dbl(f, "overhead_vs_native_4k", x->overhead_vs_native_4k, true);
	json_dbl(f, "overhead_linear_vs_native_4k", x->overhead_linear_vs_native_4k, true);
	json_u64(f, "tables_guest", x->tables_guest, true);
	json_u64(f, "tables_ept", x->tables_ept, true);
	json_dbl(f, "sim_seconds", x->seconds, true);
	json_dbl(f, "sim_cpu_seconds", x->cpu_seconds, true);
	json_dbl(f, "accesses_per_cpu_second", x->cpu_rate, true);
	json_dbl(f, "accesses_per_second", x->rate, false);
	fprintf(f, "}");
}

/* The offset as a signed number: it wraps modulo 2^64, and a negative
 * offset printed unsigned would not survive a double-based JSON reader. */
static void json_segment(FILE *f, const char *k, const struct segment *s, bool comma)
{
	fprintf(f, "\"%s\":{\"base\":%llu,\"limit\":%llu,\"offset\":%lld}%s", k,
		(unsigned long long)s->base, (unsigned long long)s->limit, (long long)s->offset,
		comma ? "," : "");
}

void report_json(FILE *f, const struct report *r)
{
	const struct options *o = r->o;
	bool first = true;

	fprintf(f, "{\"workload\":");
	json_str(f, source_name(r));
	fprintf(f, ",\"workload_desc\":");
	json_str(f, r->desc ? r->desc : "");
	fprintf(f, ",");
	if (r->trace) {
		const struct trace_stats *s = &r->trace->stats;

		fprintf(f, "\"trace\":{\"path\":");
		json_str(f, o->trace);
		fprintf(f, ",\"format\":\"%s\",", trace_format_name(r->trace->format));
		json_u64(f, "data_accesses", trace_data_accesses(s), true);
		json_u64(f, "loads", s->loads, true);
		json_u64(f, "stores", s->stores, true);
		json_u64(f, "modifies", s->modifies, true);
		json_u64(f, "ifetches", s->ifetches, true);
		fprintf(f, "\"ifetch_simulated\":%s},", o->ifetch ? "true" : "false");
	} else {
		json_u64(f, "footprint", o->footprint, true);
	}
	json_u64(f, "seed", o->seed, true);
	fprintf(f, "\"tlb\":\"%s\",\"pwc\":%s,", o->sim.tlb, o->sim.pwc ? "true" : "false");
	json_u64(f, "accesses", r->accesses, true);
	fprintf(f, "\"layout\":{");
	json_u64(f, "primary_base", r->geo->primary_base, true);
	json_u64(f, "primary_limit", r->geo->primary_limit, true);
	json_segment(f, "guest_segment", &r->geo->gseg, true);
	json_segment(f, "vmm_segment", &r->geo->vseg, true);
	json_u64(f, "escaped_pages", r->geo->nescaped, false);
	fprintf(f, "},\"cost\":{");
	json_u64(f, "cycles_per_ref", o->sim.ref.cycles_per_ref, true);
	json_u64(f, "cycles_per_add", o->sim.ref.cycles_per_add, false);
	fprintf(f, "},");
	json_dbl(f, "seconds", r->seconds, true);
	json_dbl(f, "generate_seconds", r->gen_seconds, true);
	json_u64(f, "jobs", r->jobs, true);
	json_u64(f, "prefetch", r->o->sim.prefetch, true);
	json_u64(f, "table_cache", r->o->sim.table_cache_slots, true);
	json_u64(f, "path_cache", r->o->sim.path_cache_slots, true);
	fprintf(f, "\"configs\":[");
	for (size_t i = 0; i < r->nres; i++) {
		if (o->configs[i].hidden)
			continue;
		if (!first)
			fprintf(f, ",");
		first = false;
		json_config(f, r, i);
	}
	fprintf(f, "]}\n");
}

int report_csv(const char *path, const struct report *r)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "workload,name,mode,accesses,l1_misses,l2_misses,walks,walk_refs,"
		   "refs_per_walk_avg,refs_per_walk_max,segment_hits,escape_false_positives,"
		   "cycles_linear,cycles_per_ref_model,overhead_vs_native_4k,"
		   "overhead_linear_vs_native_4k\n");
	for (size_t i = 0; i < r->nres; i++) {
		const struct sim_result *x = &r->res[i];

		if (r->o->configs[i].hidden)
			continue;
		fprintf(f,
			"%s,%s,%s,%llu,%llu,%llu,%llu,%llu,%.6f,%llu,%llu,%llu,%.6g,%.6g,%.6f,%."
			"6f\n",
			source_name(r), x->name, model_mode_name(r->o->configs[i].mode),
			(unsigned long long)x->st.accesses, (unsigned long long)x->st.l1_misses,
			(unsigned long long)x->st.l2_misses, (unsigned long long)x->st.walks,
			(unsigned long long)x->st.walk_refs, x->refs_per_walk_avg,
			(unsigned long long)x->st.walk_refs_max,
			(unsigned long long)x->st.segment_hits,
			(unsigned long long)x->st.escape_false_positives, x->cycles_linear,
			x->cycles_per_ref_model, x->overhead_vs_native_4k,
			x->overhead_linear_vs_native_4k);
	}
	if (fclose(f))
		return -errno;
	return 0;
}
