/* mmusim's layout and model glue: tables built lazily on first touch give
 * exactly the walks the paper's counts predict, page policies choose the
 * page sizes they should, and escaped pages are remapped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "tools/mmusim/layout.h"
#include "tools/mmusim/sim.h"

#define PRIMARY_BASE (1ULL << 40)
#define PRIMARY_SIZE (4ULL << 30)
#define OUTSIDE	     (PRIMARY_BASE + PRIMARY_SIZE + (16ULL << 30))

static struct layout lay;

static void setup_layout(unsigned nescaped)
{
	struct layout_params p = {.primary_base = PRIMARY_BASE,
				  .primary_limit = PRIMARY_BASE + PRIMARY_SIZE,
				  .nescaped = nescaped,
				  .seed = 1};
	char err[200];

	assert_int_equal(layout_init(&lay, &p, err, sizeof(err)), 0);
}

static void make_sim(struct sim *s, const char *name)
{
	struct config_spec c;
	struct sim_options o;
	char err[200];

	sim_options_default(&o);
	assert_int_equal(config_parse(name, &c, err, sizeof(err)), 0);
	if (sim_init(s, &c, &lay, &o, err, sizeof(err)))
		fail_msg("%s", err);
}

/* Walk references of one access to va on a cold TLB (tables built on the
 * way), checked to be a single walk. */
static u64 refs_of_first_access(const char *config, u64 va)
{
	struct access a = {.va = va, .size = 8, .kind = ACCESS_READ};
	struct sim s;
	char err[200];
	u64 refs;

	make_sim(&s, config);
	assert_int_equal(sim_feed(&s, &a, 1, err, sizeof(err)), 0);
	assert_int_equal(model_stats(s.m)->accesses, 1);
	refs = model_stats(s.m)->walk_refs;
	if (refs)
		assert_int_equal(model_stats(s.m)->walks, 1);
	sim_fini(&s);
	return refs;
}

static u64 refs_of(const char *config)
{
	return refs_of_first_access(config, PRIMARY_BASE + 0x12345678);
}

static int setup(void **state)
{
	setup_layout(0);
	return 0;
}

static int teardown(void **state)
{
	layout_fini(&lay);
	return 0;
}

/* (g + 1)(h + 1) - 1 for g guest and h nested levels, g or h natively. */
static void base_virtualized_counts(void **state)
{
	assert_int_equal(refs_of("4k+4k"), 24);
	assert_int_equal(refs_of("2m+2m"), 15);
	assert_int_equal(refs_of("1g+1g"), 8);
	assert_int_equal(refs_of("4k+2m"), 19);
	assert_int_equal(refs_of("2m+4k"), 19);
	assert_int_equal(refs_of("4k+1g"), 14);
	assert_int_equal(refs_of("1g+4k"), 14);
	assert_int_equal(refs_of("2m+1g"), 11);
	assert_int_equal(refs_of("1g+2m"), 11);
}

static void native_counts(void **state)
{
	assert_int_equal(refs_of("native-4k"), 4);
	assert_int_equal(refs_of("native-2m"), 3);
	assert_int_equal(refs_of("native-1g"), 2);
	assert_int_equal(refs_of("native-ds"), 0);
}

static void segment_mode_counts(void **state)
{
	assert_int_equal(refs_of("dual-direct"), 0);
	assert_int_equal(refs_of("vmm-direct"), 4);
	assert_int_equal(refs_of("guest-direct"), 4);
	assert_int_equal(refs_of("vmm-direct:2m+2m"), 3);
	assert_int_equal(refs_of("guest-direct:4k+1g"), 2);
}

/* Outside the guest segment, Guest Direct walks in 2D; native direct
 * segment walks natively; Dual Direct falls back to VMM Direct. */
static void outside_the_primary_region(void **state)
{
	assert_int_equal(refs_of_first_access("guest-direct", OUTSIDE), 24);
	assert_int_equal(refs_of_first_access("native-ds", OUTSIDE), 4);
	assert_int_equal(refs_of_first_access("dual-direct", OUTSIDE), 4);
	assert_int_equal(refs_of_first_access("4k+4k", OUTSIDE), 24);
}

/* Tables built by one configuration serve the next: no new tables. */
static void tables_are_shared_and_reused(void **state)
{
	struct access a[64];
	struct sim x, y;
	char err[200];
	u64 tables;

	for (int i = 0; i < 64; i++)
		a[i] = (struct access){PRIMARY_BASE + (u64)i * 0x1234567, 8, ACCESS_WRITE};
	make_sim(&x, "4k+4k");
	make_sim(&y, "vmm-direct");
	assert_ptr_equal(x.g, y.g);
	assert_ptr_equal(x.e, y.e);
	assert_int_equal(sim_feed(&x, a, 64, err, sizeof(err)), 0);
	tables = arena_tables(&x.g->arena);
	assert_int_equal(sim_feed(&y, a, 64, err, sizeof(err)), 0);
	assert_int_equal(arena_tables(&x.g->arena), tables);
	assert_int_equal(model_stats(x.m)->walks, model_stats(y.m)->walks);
	assert_int_equal(model_stats(y.m)->walk_refs, 4 * model_stats(y.m)->walks);
	assert_int_equal(model_stats(x.m)->walk_refs, 24 * model_stats(x.m)->walks);
	sim_fini(&x);
	sim_fini(&y);
}

/* The primary region is mapped linearly: gPA = gVA + OFFSET_g, in the
 * tables as in the guest segment, and hPA = gPA + OFFSET_v. */
static void primary_region_is_linear(void **state)
{
	struct gtables *g = layout_guest(&lay, PAGES_4K);
	struct etables *e = layout_ept(&lay, PAGES_2M);
	u64 va = PRIMARY_BASE + 0x7654321, gpa, hpa;
	unsigned level;

	assert_int_equal(gtables_map(g, va), 0);
	assert_int_equal(pt_translate(&g->pt, va, &gpa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(gpa, va + lay.geo.gseg.offset);
	assert_int_equal(gpa, LAYOUT_GPA_PRIMARY + 0x7654321);
	assert_int_equal(etables_map(e, gpa), 0);
	assert_int_equal(pt_translate(&e->pt, gpa, &hpa, NULL, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(hpa, gpa + lay.geo.vseg.offset);
}

/* THP: a 2 MiB page where the aligned block lies inside one region, 4 KiB
 * pages for the block that sticks out. */
static void thp_uses_2m_only_for_whole_blocks(void **state)
{
	struct workload_region r[1] = {{"array", PRIMARY_BASE, 5 * PAGE_2M + 4096}};
	struct layout_params p = {.primary_base = PRIMARY_BASE,
				  .primary_limit = PRIMARY_BASE + PRIMARY_SIZE,
				  .regions = r,
				  .nregions = 1};
	struct layout l;
	struct gtables *g;
	unsigned level;
	char err[200];

	assert_int_equal(layout_init(&l, &p, err, sizeof(err)), 0);
	g = layout_guest(&l, PAGES_THP);
	assert_int_equal(gtables_map(g, PRIMARY_BASE + PAGE_2M + 5), 0);
	assert_int_equal(pt_translate(&g->pt, PRIMARY_BASE + PAGE_2M, NULL, NULL, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(gtables_map(g, PRIMARY_BASE + 5 * PAGE_2M + 5), 0);
	assert_int_equal(pt_translate(&g->pt, PRIMARY_BASE + 5 * PAGE_2M, NULL, NULL, &level), 0);
	assert_int_equal(level, 1);
	/* its whole block is mapped with 4 KiB pages at once */
	assert_int_equal(
		pt_translate(&g->pt, PRIMARY_BASE + 6 * PAGE_2M - 4096, NULL, NULL, &level), 0);
	assert_int_equal(level, 1);
	/* the next block is not touched yet */
	assert_int_equal(pt_translate(&g->pt, PRIMARY_BASE + 6 * PAGE_2M, NULL, NULL, NULL),
			 -DV_ENOENT);
	layout_fini(&l);
}

/* Pages outside the primary region get fresh gPAs in first-touch order. */
static void outside_pages_in_touch_order(void **state)
{
	struct gtables *g = layout_guest(&lay, PAGES_4K);
	u64 gpa1, gpa2;

	assert_int_equal(gtables_map(g, OUTSIDE + 0x5000), 0);
	assert_int_equal(gtables_map(g, OUTSIDE + 0x1000), 0);
	assert_int_equal(pt_translate(&g->pt, OUTSIDE + 0x5000, &gpa1, NULL, NULL), 0);
	assert_int_equal(pt_translate(&g->pt, OUTSIDE + 0x1000, &gpa2, NULL, NULL), 0);
	assert_int_equal(gpa1, lay.geo.gpa_other);
	assert_int_equal(gpa2, lay.geo.gpa_other + PAGE_SIZE);
}

/* A 1 GiB guest page outside the primary region would cover part of it:
 * it shrinks to 2 MiB. */
static void outside_large_page_does_not_shadow_primary(void **state)
{
	struct gtables *g = layout_guest(&lay, PAGES_1G);
	u64 va = PRIMARY_BASE + PRIMARY_SIZE + 0x3000; /* same 1 GiB block? no: */
	u64 below = PRIMARY_BASE - 0x3000;	       /* below the 1 GiB aligned base */
	unsigned level;

	assert_int_equal(gtables_map(g, va), 0);
	assert_int_equal(pt_translate(&g->pt, va, NULL, NULL, &level), 0);
	assert_int_equal(level, 3); /* the primary region ends on a 1 GiB boundary */
	assert_int_equal(gtables_map(g, below), 0);
	assert_int_equal(pt_translate(&g->pt, below, NULL, NULL, &level), 0);
	assert_int_equal(level, 3);
}

/* Escaped pages: EPT maps their block with 4 KiB pages, the escaped page
 * itself to a spare host page; VMM Direct sends them to the nested walk. */
static void escaped_pages(void **state)
{
	struct etables *e;
	u64 gpa, va, hpa, other;
	unsigned level;
	struct sim s;
	struct access a;
	char err[200];

	layout_fini(&lay);
	setup_layout(4);
	assert_int_equal(lay.geo.nescaped, 4);
	gpa = lay.geo.escaped[0];
	assert_true(gpa >= LAYOUT_GPA_PRIMARY && gpa < LAYOUT_GPA_PRIMARY + PRIMARY_SIZE);
	e = layout_ept(&lay, PAGES_2M);
	assert_int_equal(etables_map(e, gpa), 0);
	assert_int_equal(pt_translate(&e->pt, gpa, &hpa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(hpa, lay.geo.hpa_spare);
	other = ALIGN_DOWN(gpa, PAGE_2M) == ALIGN_DOWN(gpa + PAGE_SIZE, PAGE_2M) ? gpa + PAGE_SIZE
										 : gpa - PAGE_SIZE;
	assert_int_equal(etables_map(e, other), 0);
	assert_int_equal(pt_translate(&e->pt, other, &hpa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(hpa, other + lay.geo.hpa_offset);

	/* VMM Direct: 4 guest reads through the segment, then the escaped
	 * final gPA walks EPT (4 KiB leaf: 4 references). */
	va = gpa - lay.geo.gseg.offset;
	a = (struct access){va, 8, ACCESS_READ};
	make_sim(&s, "vmm-direct");
	assert_int_equal(sim_feed(&s, &a, 1, err, sizeof(err)), 0);
	assert_int_equal(model_stats(s.m)->escape_hits, 1);
	assert_int_equal(model_stats(s.m)->walk_refs, 8);
	sim_fini(&s);
	layout_fini(&lay);
	setup_layout(0);
}

/* With 1 GiB EPT pages, an escaped page splits its 1 GiB page into 2 MiB
 * pages and only its own 2 MiB page into 4 KiB pages. */
static void escape_splits_only_as_far_as_needed(void **state)
{
	struct etables *e;
	u64 gpa, far, hpa;
	unsigned level;

	layout_fini(&lay);
	setup_layout(1);
	gpa = lay.geo.escaped[0];
	e = layout_ept(&lay, PAGES_1G);
	assert_int_equal(etables_map(e, gpa), 0);
	assert_int_equal(pt_translate(&e->pt, gpa, &hpa, NULL, &level), 0);
	assert_int_equal(level, 1);
	assert_int_equal(hpa, lay.geo.hpa_spare);
	/* a page in another 2 MiB block of the same 1 GiB block */
	far = ALIGN_DOWN(gpa, PAGE_1G) + ((ALIGN_DOWN(gpa, PAGE_2M) + PAGE_2M) % PAGE_1G);
	assert_int_equal(pt_translate(&e->pt, far, &hpa, NULL, &level), 0);
	assert_int_equal(level, 2);
	assert_int_equal(hpa, far + lay.geo.hpa_offset);
	/* the next 1 GiB block keeps its 1 GiB page */
	far = ALIGN_DOWN(gpa, PAGE_1G) + PAGE_1G;
	assert_int_equal(etables_map(e, far), 0);
	assert_int_equal(pt_translate(&e->pt, far, NULL, NULL, &level), 0);
	assert_int_equal(level, 3);
}

/* Every entry a map call writes goes from not present to its final value,
 * escaped pages included (they are mapped around, not over and split):
 * with --jobs other threads walk the tables while they are made, and must
 * never see a translation that is about to change. A present entry
 * redirected or taken away would set needs_flush. */
static void escaped_pages_are_mapped_without_rewriting(void **state)
{
	static const enum page_policy pols[] = {PAGES_4K, PAGES_2M, PAGES_1G};

	layout_fini(&lay);
	setup_layout(4);
	for (unsigned p = 0; p < ARRAY_SIZE(pols); p++) {
		struct etables *e = layout_ept(&lay, pols[p]);

		for (unsigned i = 0; i < lay.geo.nescaped; i++) {
			u64 gpa = lay.geo.escaped[i], hpa;

			assert_int_equal(etables_map(e, gpa), 0);
			assert_false(e->pt.needs_flush);
			assert_int_equal(pt_translate(&e->pt, gpa, &hpa, NULL, NULL), 0);
			assert_int_equal(hpa, lay.geo.hpa_spare + (u64)i * PAGE_SIZE);
			assert_int_equal(pt_translate(&e->pt, gpa + PAGE_SIZE, &hpa, NULL, NULL),
					 0);
		}
	}
}

/* An address the tables can never map is a clear error, not a hang. */
static void non_canonical_access_is_an_error(void **state)
{
	struct access a = {0x0000800000000000ULL, 8, ACCESS_READ};
	struct sim s;
	char err[200] = "";

	make_sim(&s, "native-4k");
	assert_int_equal(sim_feed(&s, &a, 1, err, sizeof(err)), -DV_EFAULT);
	assert_non_null(strstr(err, "non-canonical"));
	sim_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(base_virtualized_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(native_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(segment_mode_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(outside_the_primary_region, setup, teardown),
		cmocka_unit_test_setup_teardown(tables_are_shared_and_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(primary_region_is_linear, setup, teardown),
		cmocka_unit_test(thp_uses_2m_only_for_whole_blocks),
		cmocka_unit_test_setup_teardown(outside_pages_in_touch_order, setup, teardown),
		cmocka_unit_test_setup_teardown(outside_large_page_does_not_shadow_primary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(escaped_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_pages_are_mapped_without_rewriting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(escape_splits_only_as_far_as_needed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(non_canonical_access_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
