/* wl-gups, wl-chase, wl-stream: the workloads (guest/workloads/) as tests.
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
static bool place(struct test *t, struct wl_place *p)
{
	unsigned level = options.outside ? 1 : primary_level;
	u64 align = level_size(level) > WL_ARRAY_ALIGN ? level_size(level) : WL_ARRAY_ALIGN;
	u64 size = ALIGN_UP(options.size, align);

	if (!mapped_size) {
		if (!test_check(t, pick_gpa(t, size, align, &mapped_gpa),
				"no free guest RAM for a %lu KiB region", size >> 10))
			return false;
		if (!test_expect(t, "mapping the region",
				 paging_map_in(paging_root(), WL_VA_BASE, mapped_gpa, size,
					       X86_PTE_RW, level),
				 0))
			return false;
		mapped_size = size;
		if (t->dimvisor && !options.outside &&
		    (dv_hc_features() & DV_HC_FEATURE_GUEST_SEGMENT) &&
		    !test_expect(t, "registering the primary region",
				 dv_hc_guest_segment_set(WL_VA_BASE, WL_VA_BASE + size,
							 mapped_gpa - WL_VA_BASE),
				 0))
			return false;
	}
	*p = (struct wl_place){.va = WL_VA_BASE, .view = mapped_gpa, .size = mapped_size};
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

	/* below the workloads' region when there is one, so it stays intact */
	bool room = mapped_size ? (p.view = mapped_gpa - MISWIRED_SIZE) >= paging_reserved_end()
				: pick_gpa(t, MISWIRED_SIZE, PAGE_SIZE, &p.view);

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
