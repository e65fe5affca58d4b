/* wl-gups, wl-chase, wl-stream, wl-kvs: the workloads (guest/workloads/) as tests.
 * The data region, gVA WL_VA_BASE up, is mapped onto free guest RAM with the
 * primary region's pages (gseg=) and registered as the guest segment where
 * dimvisor offers one, or with 4 KiB pages and no segment (wl-data=outside).
 * A test passes when its workload's verification finds no error. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "guest/workloads/workload.h"
#include "lib/string.h"
#include "lib/wl_layout.h"

static struct wl_options options = {.size = 16 * MiB, .seed = 1, .ops = 1000000};
static unsigned primary_level = 2;
static u64 mapped_gpa, mapped_size; /* the region, once mapped (all workloads share it) */

void test_workloads_configure(const struct wl_options *o, unsigned gseg_level)
{
	options = *o;
	primary_level = gseg_level;
}

static u64 level_size(unsigned level)
{
	return level == 3 ? PAGE_1G : level == 2 ? PAGE_2M : PAGE_SIZE;
}

/* Free guest RAM for size bytes aligned to align: the top of the highest
 * region that has room above the guest's own tables. */
static bool pick_gpa(const struct test *t, u64 size, u64 align, u64 *gpa)
{
	for (unsigned i = t->boot->nregions; i-- > 0;) {
		const struct boot_region *r = &t->boot->regions[i];
		u64 end = r->base + r->length, at;

		if (r->type != BOOT_RAM_TYPE || r->length < size)
			continue;
		at = (end - size) & ~(align - 1);
		if (at >= r->base && at >= paging_reserved_end())
			return (*gpa = at), true;
	}
	return false;
}

/* Map the region (once) and register it as the guest segment when it is the
 * primary region and dimvisor offers one. */
static u64 data_offset; /* of the workloads' data in the region (1 GiB pages: past the kernel) */

/* The region as the guest segment: gVA WL_VA_BASE up onto its gPA. */
static s64 register_region(void)
{
	return dv_hc_guest_segment_set(WL_VA_BASE, WL_VA_BASE + mapped_size,
				       mapped_gpa - WL_VA_BASE);
}

/* Where the region goes: free RAM at the top, aligned to its pages. With
 * 1 GiB pages and no free gigabyte (under dimvisor in Bochs, mem=1G: more RAM
 * than that is more than Bochs can touch safely), gPA [0, 1 GiB) as the gseg
 * test has it, the data past the kernel and its tables. */
static bool pick_region(struct test *t, unsigned level, u64 size, u64 align)
{
	data_offset = 0;
	if (level == 3 && !pick_gpa(t, size, align, &mapped_gpa)) {
		mapped_gpa = 0;
		data_offset = ALIGN_UP(paging_reserved_end(), WL_ARRAY_ALIGN);
		return test_check(t,
				  t->boot->regions[0].base == 0 &&
					  t->boot->regions[0].length >= PAGE_1G &&
					  data_offset + options.size <= PAGE_1G,
				  "1 GiB pages: gPA [0, 1 GiB) is not all RAM");
	}
	return test_check(t, level == 3 || pick_gpa(t, size, align, &mapped_gpa),
			  "no free guest RAM for a %lu KiB region", size >> 10);
}

static bool place(struct test *t, struct wl_place *p)
{
	unsigned level = options.outside ? 1 : primary_level;
	u64 align = level_size(level) > WL_ARRAY_ALIGN ? level_size(level) : WL_ARRAY_ALIGN;
	u64 size = ALIGN_UP(options.size, align);

	if (!mapped_size) {
		if (!pick_region(t, level, size, align))
			return false;
		if (!test_expect(t, "mapping the region",
				 paging_map_in(paging_root(), WL_VA_BASE, mapped_gpa, size,
					       X86_PTE_RW, level),
				 0))
			return false;
		mapped_size = size;
		if (t->dimvisor && !options.outside &&
		    (dv_hc_features() & DV_HC_FEATURE_GUEST_SEGMENT) &&
		    !test_expect(t, "registering the primary region", register_region(), 0))
			return false;
	}
	*p = (struct wl_place){.va = WL_VA_BASE + data_offset,
			       .view = mapped_gpa + data_offset,
			       .size = mapped_size - data_offset};
	return true;
}

/* The mode in effect, for the note: what the run's translations went through. */
static const char *mode_now(const struct test *t)
{
	static const char *const names[] = {"base", "vmm-direct", "guest-direct", "dual-direct"};
	struct dv_segment_info i;

	if (!t->dimvisor || dv_hc_segment_info((u64)&i, sizeof(i)) < (s64)sizeof(i) ||
	    i.mode_effect > 3)
		return "native";
	return names[i.mode_effect];
}

static void run(struct test *t, const char *name, u64 (*bytes)(u64),
		void (*fn)(const struct wl_place *, const struct wl_options *, struct wl_result *))
{
	struct wl_place p;
	struct wl_result r = {0};

	if (!place(t, &p))
		return;
	if (!test_check(t, bytes(options.size) <= p.size, "%s needs %lu bytes, the region has %lu",
			name, bytes(options.size), p.size))
		return;
	fn(&p, &options, &r);
	test_note(t, "%s, seed %lu, data %s (gVA 0x%lx -> gPA 0x%lx, %s): %lu errors", r.what,
		  options.seed,
		  options.outside ? "outside the primary region" : "in the primary region", p.va,
		  p.view, mode_now(t), r.errors);
	test_check(t, r.errors == 0, "%lu errors in the verification through the identity map",
		   r.errors);
}

void test_wl_gups(struct test *t)
{
	run(t, "gups", wl_gups_bytes, wl_gups_run);
}

void test_wl_chase(struct test *t)
{
	run(t, "chase", wl_chase_bytes, wl_chase_run);
}

void test_wl_stream(struct test *t)
{
	run(t, "stream", wl_stream_bytes, wl_stream_run);
}

void test_wl_kvs(struct test *t)
{
	wl_kvs_fpu_enable();
	run(t, "kvs", wl_kvs_bytes, wl_kvs_run);
}

/* wl-miswired: the verification must catch a wrong translation. A 64 KiB
 * region whose first two pages are swapped in the guest's own tables, as a
 * broken translation would swap them: gups and chase through it must each
 * report errors. */
#define MISWIRED_VA   0x0000020000000000UL /* a PML4 slot of its own */
#define MISWIRED_SIZE (64 * KiB)

void test_wl_miswired(struct test *t)
{
	struct wl_options o = {.size = MISWIRED_SIZE, .seed = options.seed, .ops = 20000};
	struct wl_place p = {.va = MISWIRED_VA, .size = MISWIRED_SIZE};
	struct wl_result gups = {0}, chase = {0};
	u64 *root = paging_root();

	/* clear of the workloads' data when there is some, so it stays intact:
	 * below the region, or (1 GiB pages from gPA 0) past the data */
	bool room = pick_gpa(t, MISWIRED_SIZE, PAGE_SIZE, &p.view);

	if (mapped_size && mapped_gpa >= paging_reserved_end() + MISWIRED_SIZE)
		p.view = mapped_gpa - MISWIRED_SIZE;
	else if (mapped_size)
		p.view = ALIGN_UP(mapped_gpa + data_offset + options.size, PAGE_SIZE);
	room = room && p.view + MISWIRED_SIZE <= t->boot->ram_top;

	if (!test_check(t, room, "no free guest RAM for the region"))
		return;
	if (!test_expect(t, "mapping page 0 onto frame 1",
			 paging_map_in(root, p.va, p.view + PAGE_SIZE, PAGE_SIZE, X86_PTE_RW, 1),
			 0) ||
	    !test_expect(t, "mapping page 1 onto frame 0",
			 paging_map_in(root, p.va + PAGE_SIZE, p.view, PAGE_SIZE, X86_PTE_RW, 1),
			 0) ||
	    !test_expect(t, "mapping the rest",
			 paging_map_in(root, p.va + 2 * PAGE_SIZE, p.view + 2 * PAGE_SIZE,
				       MISWIRED_SIZE - 2 * PAGE_SIZE, X86_PTE_RW, 1),
			 0))
		return;
	wl_gups_run(&p, &o, &gups);
	wl_chase_run(&p, &o, &chase);
	test_note(t, "two pages swapped: gups found %lu errors, chase %lu", gups.errors,
		  chase.errors);
	test_check(t, gups.errors > 0, "gups's verification missed two swapped pages");
	test_check(t, chase.errors > 0, "chase's verification missed two swapped pages");
}

/* --- TLB-miss sampling (DV_HC_SAMPLE_*) ------------------------------------------ */

static const char *const design_names[DV_DESIGNS] = {"native",		 "direct-segment",
						     "base-virtualized", "dual-direct",
						     "vmm-direct",	 "guest-direct"};

static bool sample_read(struct test *t, struct dv_sample *s)
{
	return test_expect(t, "SAMPLE_READ", dv_hc_sample_read((u64)s, sizeof(*s)), sizeof(*s));
}

/* A fraction in ppm as 0.xxx, for notes. */
#define PPM_FMT	      "%lu.%03lu"
#define PPM_ARGS(ppm) (ppm) / 1000000, (ppm) / 1000 % 1000

/* What the sampled fractions must be in the mode in effect: the one F of the
 * mode's design near 1 (the gups table is the primary region, in the VMM
 * segment too where there is one), everything near 0 in base. */
static void check_fractions(struct test *t, const struct dv_sample *s, unsigned mode)
{
	const u64 high = 950000, low = 50000;

	switch (mode) {
	case DV_MODE_GUEST_DIRECT:
		test_check(t, s->f_gd_ppm >= high, "F_GD " PPM_FMT " < 0.95 in guest-direct",
			   PPM_ARGS(s->f_gd_ppm));
		break;
	case DV_MODE_VMM_DIRECT:
		test_check(t, s->f_vd_ppm >= high, "F_VD " PPM_FMT " < 0.95 in vmm-direct",
			   PPM_ARGS(s->f_vd_ppm));
		break;
	case DV_MODE_DUAL_DIRECT:
		test_check(t, s->f_dd_ppm >= high, "F_DD " PPM_FMT " < 0.95 in dual-direct",
			   PPM_ARGS(s->f_dd_ppm));
		break;
	default:
		test_check(t, s->f_gd_ppm <= low && s->f_vd_ppm <= low && s->f_dd_ppm <= low,
			   "fractions F_GD " PPM_FMT " F_VD " PPM_FMT " F_DD " PPM_FMT
			   " above 0.05 in base",
			   PPM_ARGS(s->f_gd_ppm), PPM_ARGS(s->f_vd_ppm), PPM_ARGS(s->f_dd_ppm));
	}
}

static const struct wl_phases sampled_workloads[] = {
	{"gups", wl_gups_fill, wl_gups_update, wl_gups_verify},
	{"chase", wl_chase_fill, wl_chase_work, wl_chase_verify},
};

/* The workload wl-sample= names, with sampling on over its work only
 * (filling and verifying walk the data in order, the verification outside
 * the region). False when a call failed; the workload's result in *r, the
 * samples in *s. */
static bool sample_workload(struct test *t, const struct wl_place *p, struct wl_result *r,
			    struct dv_sample *s)
{
	const struct wl_phases *w = &sampled_workloads[options.chase];

	w->fill(p, &options);
	if (!test_expect(t, "SAMPLE_START", dv_hc_sample_start(0), 0))
		return false;
	w->work(p, &options, r);
	test_expect(t, "SAMPLE_STOP", dv_hc_sample_stop(), 0);
	w->verify(p, &options, r);
	return sample_read(t, s);
}

/* n / d as x.yy. */
#define RATIO_FMT	 "%lu.%02lu"
#define RATIO_ARGS(n, d) ((d) ? (n)*100 / (d) : 0) / 100, ((d) ? (n)*100 / (d) : 0) % 100

static void note_samples(struct test *t, const struct wl_result *r, const struct dv_sample *s)
{
	const u64 w = s->walked;

	test_note(t,
		  "%s %s in %s: %lu data misses sampled (guest only %lu, VMM only %lu, both "
		  "%lu, neither %lu)",
		  sampled_workloads[options.chase].name, r->what, mode_now(t), s->misses,
		  s->guest_only, s->vmm_only, s->both, s->neither);
	test_note(t,
		  "F_GD " PPM_FMT " F_VD " PPM_FMT " F_DD " PPM_FMT
		  "; %lu exits, %lu TSC ticks, %lu re-armed, %lu fetch misses, %lu table walks",
		  PPM_ARGS(s->f_gd_ppm), PPM_ARGS(s->f_vd_ppm), PPM_ARGS(s->f_dd_ppm), s->exits,
		  s->tsc, s->rearms, s->fetch_misses, s->table_faults);
	test_note(t,
		  "the model's walks of %lu misses, references per miss: base " RATIO_FMT
		  ", vmm-direct " RATIO_FMT ", guest-direct " RATIO_FMT ", dual-direct " RATIO_FMT,
		  w, RATIO_ARGS(s->walk_refs[0], w), RATIO_ARGS(s->walk_refs[1], w),
		  RATIO_ARGS(s->walk_refs[2], w), RATIO_ARGS(s->walk_refs[3], w));
}

/* What every sampled run must show, whatever the mode. */
static bool check_samples(struct test *t, const struct dv_sample *s)
{
	if (!test_check(t, s->misses >= options.ops / 2, "only %lu misses sampled for %lu updates",
			s->misses, options.ops))
		return false;
	test_check(t, s->misses == s->guest_only + s->vmm_only + s->both + s->neither,
		   "the classes do not add up to the misses");
	return test_check(t, s->estimate[DV_DESIGN_BASE_VIRT] > s->estimate[DV_DESIGN_NATIVE],
			  "2D walks estimated no dearer than native ones");
}

/* The model's walks of the misses: a segment only ever saves references
 * (the VMM segment the nested ones; the guest segment, once registered, the
 * guest's), and both together leave next to none. */
static void check_walks(struct test *t, const struct dv_sample *s, bool registered)
{
	const u64 *r = s->walk_refs;

	if (!test_check(t, s->walked * 32 >= s->misses, "the model walked %lu of %lu misses",
			s->walked, s->misses))
		return;
	test_check(t, r[DV_MODE_VMM_DIRECT] < r[DV_MODE_BASE],
		   "VMM Direct walks %lu references, base %lu", r[DV_MODE_VMM_DIRECT],
		   r[DV_MODE_BASE]);
	if (registered)
		test_check(t,
			   r[DV_MODE_GUEST_DIRECT] < r[DV_MODE_BASE] &&
				   r[DV_MODE_DUAL_DIRECT] * 10 < s->walked,
			   "with the guest segment: Guest Direct %lu references, base %lu, Dual "
			   "Direct %lu over %lu walks",
			   r[DV_MODE_GUEST_DIRECT], r[DV_MODE_BASE], r[DV_MODE_DUAL_DIRECT],
			   s->walked);
	else
		test_check(t, r[DV_MODE_GUEST_DIRECT] == r[DV_MODE_BASE],
			   "no guest segment, yet Guest Direct walks %lu references, base %lu",
			   r[DV_MODE_GUEST_DIRECT], r[DV_MODE_BASE]);
}

/* sample: gups over the primary region, without sampling and then with it:
 * the same result check both times (the guest never notices), and the
 * fractions the mode in effect implies; the Table IV estimates printed. */
void test_sample(struct test *t)
{
	struct dv_segment_info info;
	struct wl_result plain = {0}, sampled = {0};
	struct wl_place p;
	struct dv_sample s;

	if (!(dv_hc_features() & DV_HC_FEATURE_SAMPLE)) {
		test_skip(t, "sampling not offered");
		return;
	}
	if (!place(t, &p) || !test_segment_info(t, &info))
		return;
	if (options.chase)
		wl_chase_run(&p, &options, &plain);
	else
		wl_gups_run(&p, &options, &plain);
	if (!sample_workload(t, &p, &sampled, &s))
		return;
	test_check(t, plain.errors == 0 && sampled.errors == 0,
		   "the workload's check: %lu errors without sampling, %lu with", plain.errors,
		   sampled.errors);
	note_samples(t, &sampled, &s);
	for (unsigned d = 0; d < DV_DESIGNS; d++)
		test_note(t, "Table IV %-16s %lu cycles", design_names[d], s.estimate[d]);
	if (check_samples(t, &s))
		check_fractions(t, &s, info.mode_effect);
}

/* sample-modes: the same, in each of the four modes in turn (live switches),
 * the primary region registered again where the mode has a guest segment. */
void test_sample_modes(struct test *t)
{
	static const char *const names[] = {"base", "vmm-direct", "guest-direct", "dual-direct"};
	const u32 need = DV_HC_FEATURE_SAMPLE | DV_HC_FEATURE_MODE_SET;
	struct wl_place p;

	if ((dv_hc_features() & need) != need) {
		test_skip(t, "sampling or live mode switches not offered");
		return;
	}
	if (!place(t, &p))
		return;
	for (unsigned m = DV_MODE_BASE; m <= DV_MODE_DUAL_DIRECT; m++) {
		struct dv_segment_info info;
		struct wl_result r = {0};
		struct dv_sample s;

		if (!test_expect(t, names[m], dv_hc_mode_set(m), m))
			return;
		if ((m == DV_MODE_GUEST_DIRECT || m == DV_MODE_DUAL_DIRECT) &&
		    !test_expect(t, "registering the primary region", register_region(), 0))
			return;
		if (!test_segment_info(t, &info) ||
		    !test_check(t, info.mode_effect == m, "in effect %u after MODE_SET(%s)",
				info.mode_effect, names[m]) ||
		    !sample_workload(t, &p, &r, &s))
			return;
		note_samples(t, &r, &s);
		test_check(t, r.errors == 0, "the workload's check in %s: %lu errors", names[m],
			   r.errors);
		check_walks(t, &s, m == DV_MODE_GUEST_DIRECT || m == DV_MODE_DUAL_DIRECT);
		if (check_samples(t, &s))
			check_fractions(t, &s, m);
	}
}

/* sample-bad: the calls misused, each answered as the ABI says; sampling is
 * left running at the end, so that a test after it (isolation) shows a real
 * EPT violation still reported as one while sampling. */
void test_sample_bad(struct test *t)
{
	static struct {
		struct dv_sample s;
		u8 after[16];
	} buf;
	const u64 unmapped = 0x0000700000000000UL;

	if (!(dv_hc_features() & DV_HC_FEATURE_SAMPLE)) {
		test_skip(t, "sampling not offered");
		return;
	}
	test_expect(t, "STOP while not sampling", dv_hc_sample_stop(), -DV_ENOENT);
	test_expect(t, "START with flags 1", dv_hc_sample_start(1), -DV_EINVAL);
	test_expect(t, "START with flags 2^63", dv_hc_sample_start(1ULL << 63), -DV_EINVAL);
	test_expect(t, "START", dv_hc_sample_start(0), 0);
	test_expect(t, "START again", dv_hc_sample_start(0), -DV_EBUSY);
	test_expect(t, "READ of 4 bytes", dv_hc_sample_read((u64)&buf, 4), -DV_EINVAL);
	test_expect(t, "READ into unmapped memory", dv_hc_sample_read(unmapped, sizeof(buf.s)),
		    -DV_EFAULT);
	memset(&buf, 0xa5, sizeof(buf));
	test_expect(t, "READ of 16 bytes", dv_hc_sample_read((u64)&buf, 16), 16);
	test_check(t, buf.s.size == 16 && buf.s.active == 1 && ((u8 *)&buf.s)[16] == 0xa5,
		   "a 16-byte READ: size %u, active %lu, byte 16 0x%x", buf.s.size, buf.s.active,
		   ((u8 *)&buf.s)[16]);
	test_expect(t, "READ of more than the struct", dv_hc_sample_read((u64)&buf, sizeof(buf)),
		    sizeof(buf.s));
	test_check(t, buf.after[0] == 0xa5, "READ wrote past sizeof(struct dv_sample)");
	test_expect(t, "STOP", dv_hc_sample_stop(), 0);
	test_expect(t, "STOP again", dv_hc_sample_stop(), -DV_ENOENT);
	if (sample_read(t, &buf.s))
		test_check(t, buf.s.active == 0, "READ after STOP says active");
	test_expect(t, "START for what follows", dv_hc_sample_start(0), 0);
}
