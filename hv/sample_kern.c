/* TLB-miss sampling applied to the VM: the policy of hv/sample.c over the
 * EPT's poisoned-but-present leaves (pt_poison) and the EPT-violation exit. */
#include "hv/sample.h"
#include "arch/x86_64/cpu.h"
#include "hv/mode.h"
#include "hv/sample_model.h"
#include "hv/vcpu.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/model/cost.h"
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>

_Static_assert((int)DV_DESIGN_GUEST_DIRECT == (int)COST_GUEST_DIRECT &&
		       (int)DV_DESIGNS == (int)COST_DESIGNS,
	       "the ABI's designs are the model's, in its order");

static struct sampler sampler;
static bool ever_ran;
static bool stepping;	  /* the monitor trap flag is set for a sampled access */
static u64 single_steps;  /* monitor trap exits taken */
static bool stepped_ever; /* the flag was set at least once */

/* Large EPT leaves split for sampling, to merge back at the end: a miss is
 * sampled per 4 KiB page, whatever the mode maps with. */
#define SAMPLE_SPLITS_MAX 4096
static struct {
	u64 gpa;
	unsigned level;
} splits[SAMPLE_SPLITS_MAX];
static unsigned nsplits;
static u64 unsplit_bytes; /* left in large leaves: no table, or no room in splits[] */

static int poison_leaf(void *ctx, u64 gpa, bool on)
{
	struct guestmem *gm = ctx;

	return pt_poison(&gm->ept, gpa, on, NULL);
}

/* Every leaf that maps guest memory, leaf by leaf. */
static void poison_guest_memory(struct guestmem *gm, bool on)
{
	for (const struct extent *x = extent_next(&gm->map, 0); x;
	     x = extent_next(&gm->map, x->gpa + x->len)) {
		if (!(EXTENT_GUEST_MEMORY & EXTENT_KIND_BIT(x->kind)))
			continue;
		for (u64 gpa = x->gpa, leaf = 0; gpa < x->gpa + x->len;) {
			int level = pt_poison(&gm->ept, gpa, on, &leaf);

			gpa = level > 0 ? leaf + PT_LEVEL_SIZE(level) : gpa + PAGE_SIZE;
		}
	}
}

/* Every large leaf of guest memory split down to 4 KiB leaves: a poisoned 2 MiB
 * or 1 GiB leaf would sample one miss per leaf until it is poisoned again.
 * Splitting keeps every translation (no flush). */
static void split_guest_memory(struct guestmem *gm)
{
	nsplits = 0;
	unsplit_bytes = 0;
	for (const struct extent *x = extent_next(&gm->map, 0); x;
	     x = extent_next(&gm->map, x->gpa + x->len)) {
		if (!(EXTENT_GUEST_MEMORY & EXTENT_KIND_BIT(x->kind)))
			continue;
		for (u64 gpa = x->gpa; gpa < x->gpa + x->len;) {
			unsigned level = 1;
			u64 base;

			if (pt_translate(&gm->ept, gpa, NULL, NULL, &level) < 0 || level == 1) {
				gpa += PAGE_SIZE;
				continue;
			}
			base = gpa & ~(PT_LEVEL_SIZE(level) - 1);
			if (nsplits == SAMPLE_SPLITS_MAX || pt_split(&gm->ept, base, level) < 0) {
				unsplit_bytes += base + PT_LEVEL_SIZE(level) - gpa;
				gpa = base + PT_LEVEL_SIZE(level);
				continue;
			}
			splits[nsplits].gpa = base;
			splits[nsplits++].level = level;
		}
	}
	if (unsplit_bytes)
		kprintf("sample: %lu KiB of guest memory stay in large EPT leaves (no table or "
			"too many splits): sampled per leaf there\n",
			unsplit_bytes >> 10);
}

/* Undo the splits, last first (a 1 GiB leaf's 2 MiB children before it). A
 * merge that cannot be (an escape split the range meanwhile) leaves the tables
 * as they are: correct, only smaller leaves. The caller flushes. */
static void merge_guest_memory(struct guestmem *gm)
{
	unsigned kept = 0;

	pt_defer_frees(&gm->ept, &gm->deferred);
	while (nsplits--)
		kept += pt_merge(&gm->ept, splits[nsplits].gpa, splits[nsplits].level) < 0;
	pt_defer_frees(&gm->ept, NULL);
	nsplits = 0;
	if (kept)
		kinfo("sample: %u split EPT leaves could not be merged back (the memory "
		      "changed meanwhile)\n",
		      kept);
}

int sample_start(struct vcpu *v, u64 flags)
{
	if (flags)
		return -DV_EINVAL;
	if (sampler.active)
		return -DV_EBUSY;
	sample_reset(&sampler);
	sample_model_reset();
	single_steps = 0;
	split_guest_memory(v->mem);
	poison_guest_memory(v->mem, true);
	v->mem->generation++;
	vcpu_flush_nested(v); /* every translation misses once from here */
	sampler.active = true;
	ever_ran = true;
	kinfo("sample: TLB-miss sampling started: %u large EPT leaves split, every leaf of "
	      "guest memory poisoned\n",
	      nsplits);
	return 0;
}

int sample_stop(struct vcpu *v)
{
	if (!sampler.active)
		return -DV_ENOENT;
	if (stepping) {
		vcpu_monitor_trap(v, false);
		stepping = false;
	}
	poison_guest_memory(v->mem, false);
	merge_guest_memory(v->mem);
	vcpu_flush_nested(v);
	guestmem_release_deferred(v->mem);
	v->mem->generation++;
	sampler.active = false;
	kinfo("sample: stopped after %lu data misses\n", sampler.stats.data_misses);
	return 0;
}

/* Table IV's parameters: the model's defaults for 4-level guest and nested
 * walks (docs/model.md). */
static struct cost_linear_int table_iv_params(void)
{
	struct cost_ref_params r;
	struct cost_linear_int p;

	cost_ref_params_default(&r);
	cost_linear_int_from_refs(&p, &r, 4, 4);
	return p;
}

static void estimates(const struct sample_stats *st, u64 out[DV_DESIGNS])
{
	struct cost_miss_counts c = {.m_n = st->data_misses,
				     .guest_only = st->by_class[SAMPLE_GUEST_ONLY],
				     .vmm_only = st->by_class[SAMPLE_VMM_ONLY],
				     .both = st->by_class[SAMPLE_BOTH]};
	struct cost_linear_int p = table_iv_params();

	for (unsigned d = 0; d < DV_DESIGNS; d++)
		out[d] = cost_linear_int_cycles(&p, (enum cost_design)d, &c);
}

void sample_read(struct dv_sample *out)
{
	const struct sample_stats *st = &sampler.stats;

	out->active = sampler.active;
	out->misses = st->data_misses;
	out->guest_only = st->by_class[SAMPLE_GUEST_ONLY];
	out->vmm_only = st->by_class[SAMPLE_VMM_ONLY];
	out->both = st->by_class[SAMPLE_BOTH];
	out->neither = st->by_class[SAMPLE_NEITHER];
	out->fetch_misses = st->fetch_misses;
	out->table_faults = st->table_faults;
	out->exits = st->exits;
	out->tsc = st->tsc;
	out->rearms = st->rearms;
	out->f_gd_ppm = sample_ppm_gd(st);
	out->f_vd_ppm = sample_ppm_vd(st);
	out->f_dd_ppm = sample_ppm_dd(st);
	estimates(st, out->estimate);
	out->single_steps = single_steps;
	out->walked = sample_model_totals()->walked;
	for (unsigned m = 0; m < 4; m++) {
		out->walk_refs[m] = sample_model_totals()->refs[m];
		out->walk_adds[m] = sample_model_totals()->adds[m];
	}
}

/* Where the access lies by the triples in effect now. */
static enum sample_class classify(const struct vcpu *v, u64 gva, u64 gpa)
{
	const struct guestmem *gm = v->mem;
	const struct segment *guest =
		guest_segments_lookup(&mode_state()->guest, vcpu_get(v, VCPU_CR3));
	const struct segment *vmm = gm->vseg_active ? &gm->vseg.regs : NULL;

	return sample_classify(guest, vmm, vmm && vmm_segment_has_hole(&gm->vseg, gpa), gva, gpa);
}

bool sample_nested_fault(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	struct sample_leaf_ops ops = {poison_leaf, v->mem};
	struct sample_fault f;
	u64 t0;

	if (!sampler.active || !pt_poisoned(&v->mem->ept, e->nested.gpa))
		return false;
	t0 = rdtsc();
	f = (struct sample_fault){.gpa = e->nested.gpa,
				  .gva = e->nested.gva,
				  .rip = vcpu_get(v, VCPU_RIP),
				  .gva_valid = e->nested.gva_valid,
				  .final = e->nested.final,
				  .fetch = e->nested.fetch};
	f.cls = f.gva_valid ? classify(v, f.gva, f.gpa) : SAMPLE_NEITHER;
	sample_fault(&sampler, &f, &ops);
	/* where the CPU can single-step, re-arm right after the access */
	if (!stepping && vcpu_monitor_trap(v, true))
		stepping = stepped_ever = true;
	/* the model's walks cost four times the sampling exit itself: every
	 * SAMPLE_MODEL_EVERY-th data miss is enough for per-miss averages */
	if (f.gva_valid && f.final && !f.fetch &&
	    sampler.stats.data_misses % SAMPLE_MODEL_EVERY == 1)
		sample_model_miss(v, f.gva, e->nested.write);
	sampler.stats.tsc += rdtsc() - t0;
	return true;
}

void sample_single_step(struct vcpu *v)
{
	struct sample_leaf_ops ops = {poison_leaf, v->mem};
	u64 t0 = rdtsc();

	vcpu_monitor_trap(v, false);
	stepping = false;
	single_steps++;
	if (sampler.active)
		sample_rearm_all(&sampler, &ops);
	sampler.stats.tsc += rdtsc() - t0;
}

/* A fraction in ppm as 0.xxx. */
static void print_fraction(const char *name, u64 ppm)
{
	kprintf(" %s %lu.%03lu", name, ppm / 1000000, ppm / 1000 % 1000);
}

/* n / d with two decimals. */
static void print_ratio(u64 n, u64 d)
{
	u64 h = d ? n * 100 / d : 0;

	kprintf("%lu.%02lu", h / 100, h % 100);
}

/* The model's walks of the sampled misses, per mode. */
static void report_walks(void)
{
	const struct sample_model_totals *w = sample_model_totals();

	kprintf("report: sampling: the model's walks of %lu misses (%lu not walkable), references "
		"+ segment additions per miss:",
		w->walked, w->unwalkable);
	for (unsigned m = 0; m < 4; m++) {
		kprintf(" %s ", config_mode_name((enum dv_mode)m)); /* dv_mode_id's order */
		print_ratio(w->refs[m], w->walked);
		kprintf(" + ");
		print_ratio(w->adds[m], w->walked);
	}
	kprintf("\n");
}

void sample_report(void)
{
	static const char *const names[DV_DESIGNS] = {"native",		  "direct-segment",
						      "base-virtualized", "dual-direct",
						      "vmm-direct",	  "guest-direct"};
	const struct sample_stats *st = &sampler.stats;
	struct cost_linear_int p = table_iv_params();
	u64 est[DV_DESIGNS];

	if (!ever_ran)
		return;
	kprintf("report: sampling: %lu data TLB misses sampled (guest segment only %lu, VMM "
		"segment only %lu, both %lu, neither %lu); %lu fetch misses, %lu walks of "
		"poisoned guest tables\n",
		st->data_misses, st->by_class[SAMPLE_GUEST_ONLY], st->by_class[SAMPLE_VMM_ONLY],
		st->by_class[SAMPLE_BOTH], st->by_class[SAMPLE_NEITHER], st->fetch_misses,
		st->table_faults);
	kprintf("report: sampling: fractions");
	print_fraction("F_GD", sample_ppm_gd(st));
	print_fraction("F_VD", sample_ppm_vd(st));
	print_fraction("F_DD", sample_ppm_dd(st));
	kprintf("\n");
	kprintf("report: sampling: cost %lu exits and %lu single steps, %lu TSC ticks in "
		"dimvisor, %lu leaves re-armed %s%s\n",
		st->exits, single_steps, st->tsc, st->rearms,
		single_steps ? "after each access (monitor trap flag)"
		: stepped_ever
			? "when 64 were held: the CPU took the monitor trap flag but never "
			  "single-stepped (Bochs 2.7 acts on it only for an injected MTF event)"
			: "when 64 were held (no monitor trap flag)",
		sampler.active ? " (still sampling)" : "");
	report_walks();
	estimates(st, est);
	kprintf("report: sampling: Table IV (C_n %lu, C_v %lu, Delta_VD %lu, Delta_GD %lu "
		"cycles) per design, cycles:",
		p.c_n, p.c_v, p.delta_vd, p.delta_gd);
	for (unsigned d = 0; d < DV_DESIGNS; d++)
		kprintf(" %s %lu", names[d], est[d]);
	kprintf("\n");
}
