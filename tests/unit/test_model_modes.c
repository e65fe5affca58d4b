/* mm/model/model.c: the modes of PAPER.md, Table I cell by cell, the
 * reference counts of a TLB miss in every mode, the escape filter, faults
 * with lazy mapping, and the optional page-walk caches. Expected numbers are
 * worked out by hand in the comments.
 *
 * The layout (all 4 KiB pages unless said otherwise):
 *   guest segment  gVA [1 GiB, 2 GiB)     -> gPA + 1 GiB = [2 GiB, 3 GiB)
 *   VMM segment    gPA [2.5 GiB, 4 GiB)   -> hPA + 4 GiB = [6.5 GiB, 8 GiB)
 *   EPT maps every gPA it is given to hPA = gPA + 128 GiB, so the hPA tells
 *   which path translated.
 *   Table I columns, one gVA each:
 *     BOTH  gVA 0x60000000 (in the guest segment) -> gPA 0xa0000000 (in the VMM segment)
 *     GONLY gVA 0x40000000 (in the guest segment) -> gPA 0x80000000 (outside)
 *     VONLY gVA 0x10000000 -> guest tables -> gPA 0xc0000000 (in the VMM segment)
 *     NEITH gVA 0x20000000 -> guest tables -> gPA 0x01000000 (outside)
 *   The guest tables sit at gPA 0xf0000000 (inside the VMM segment) or at
 *   gPA 0x100000 (outside), depending on the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "mm/model/model.h"
#include "test_model_tables.h"

#define GSEG_BASE  0x40000000ULL
#define GSEG_LIMIT 0x80000000ULL
#define GSEG_OFF   0x40000000ULL
#define VSEG_BASE  0xa0000000ULL
#define VSEG_LIMIT 0x100000000ULL
#define VSEG_OFF   0x100000000ULL
#define HOFF	   0x2000000000ULL

#define BOTH	  0x60000000ULL
#define GONLY	  0x40000000ULL
#define VONLY	  0x10000000ULL
#define NEITH	  0x20000000ULL
#define BOTH_GPA  0xa0000000ULL
#define GONLY_GPA 0x80000000ULL
#define VONLY_GPA 0xc0000000ULL
#define NEITH_GPA 0x01000000ULL

#define TABLES_IN  0xf0000000ULL
#define TABLES_OUT 0x100000ULL
#define EPT_ROOT   0x3000000000ULL

struct fx {
	struct tmem *gm, *hm;
	u64 groot;
	unsigned ept_done; /* guest table pages already mapped in EPT */
	struct model_config c;
	struct model *m;
};

static void fx_map_ept(struct fx *f, u64 gpa, unsigned lvl)
{
	u64 sz = PT_LEVEL_SIZE(lvl);

	tmap_ept(f->hm, EPT_ROOT, ALIGN_DOWN(gpa, sz), ALIGN_DOWN(gpa, sz) + HOFF, lvl);
}

/* Guest mapping gva -> gpa; new guest table pages get EPT mappings too. */
static void fx_map_guest(struct fx *f, u64 gva, u64 gpa, unsigned lvl)
{
	tmap_x86(f->gm, f->groot, gva, gpa, lvl);
	for (; f->ept_done < f->gm->n; f->ept_done++)
		fx_map_ept(f, f->gm->pa[f->ept_done], 1);
}

/* The standard layout in mode, with the guest tables in or out of the VMM
 * segment. Every column's data page is mapped in EPT (4 KiB); the guest
 * tables also map BOTH and GONLY consistently with the guest segment. */
static struct fx *fx_new_cfg(enum model_mode mode, u64 tables, unsigned guest_lvl, unsigned ept_lvl,
			     bool pwc)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->gm = tmem_new(tables + 0x1000);
	f->hm = tmem_new(EPT_ROOT + 0x1000);
	f->groot = tmem_page_at(f->gm, tables);
	tmem_page_at(f->hm, EPT_ROOT);
	fx_map_guest(f, VONLY, VONLY_GPA, guest_lvl);
	fx_map_guest(f, NEITH, NEITH_GPA, guest_lvl);
	fx_map_guest(f, GONLY, GONLY_GPA, guest_lvl);
	fx_map_guest(f, BOTH, BOTH_GPA, guest_lvl);
	fx_map_ept(f, VONLY_GPA, ept_lvl);
	fx_map_ept(f, NEITH_GPA, ept_lvl);
	fx_map_ept(f, GONLY_GPA, ept_lvl);
	fx_map_ept(f, BOTH_GPA, ept_lvl);
	model_config_init(&f->c, mode);
	f->c.guest = tmem_tables(f->gm, f->groot);
	f->c.nested = tmem_tables(f->hm, EPT_ROOT);
	f->c.gseg = (struct segment){GSEG_BASE, GSEG_LIMIT, GSEG_OFF};
	f->c.vseg = (struct segment){VSEG_BASE, VSEG_LIMIT, VSEG_OFF};
	f->c.pwc = pwc;
	f->m = malloc(sizeof(*f->m));
	assert_int_equal(model_init(f->m, &f->c), 0);
	return f;
}

static struct fx *fx_new(enum model_mode mode, u64 tables)
{
	return fx_new_cfg(mode, tables, 1, 1, false);
}

static void fx_free(struct fx *f)
{
	tmem_free(f->gm);
	tmem_free(f->hm);
	free(f->m);
	free(f);
}

/* Translate a user read of gva; it must succeed. */
static struct model_xlat xl(struct fx *f, u64 gva)
{
	struct model_xlat x;

	assert_int_equal(model_translate(f->m, gva, WALK_ACC_USER, &x), 0);
	return x;
}

static unsigned refs_of(const struct model_xlat *x, enum walk_ref_base base)
{
	unsigned n = 0;

	for (unsigned lvl = 1; lvl <= 4; lvl++)
		n += x->refs.n[WALK_REF(base, lvl)];
	return n;
}

/* Push gva out of L1 (not L2): four more pages in its L1 set. The Sandy
 * Bridge L1 4 KiB array has 16 sets of 4 ways, so pages 64 KiB apart share
 * a set; in the 512-entry L2 (128 sets) they do not. Each needs a mapping
 * like gva's: give the gPA of gva, and whether guest tables or only EPT map. */
static void fx_evict_l1_4k(struct fx *f, u64 gva, u64 gpa, bool guest_tables)
{
	for (u64 k = 1; k <= 4; k++) {
		if (guest_tables)
			fx_map_guest(f, gva + k * 0x10000, gpa + k * 0x10000, 1);
		if (!segment_contains(&f->c.vseg, gpa) || !guest_tables)
			fx_map_ept(f, gpa + k * 0x10000, 1);
		xl(f, gva + k * 0x10000);
	}
}

/* ==== Table I, row by row and column by column ==================================== */

/* --- Row "L1 TLB hit": translation complete, in every column. --- */
static void check_l1_hit(u64 gva, u64 tables)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, tables);
	struct model_xlat first = xl(f, gva), again = xl(f, gva + 8);

	assert_int_not_equal(first.path, MODEL_PATH_L1);
	assert_int_equal(again.path, MODEL_PATH_L1);
	assert_int_equal(again.refs.total, 0);
	assert_int_equal(again.pa, first.pa + 8);
	assert_int_equal(model_stats(f->m)->accesses, 2);
	assert_int_equal(model_stats(f->m)->l1_misses, 1);
	fx_free(f);
}

static void table1_l1_hit_both(void **state)
{
	check_l1_hit(BOTH, TABLES_IN);
}

static void table1_l1_hit_vmm_only(void **state)
{
	check_l1_hit(VONLY, TABLES_IN);
}

static void table1_l1_hit_guest_only(void **state)
{
	check_l1_hit(GONLY, TABLES_IN);
}

static void table1_l1_hit_neither(void **state)
{
	check_l1_hit(NEITH, TABLES_OUT);
}

/* --- Row "L1 TLB miss". --- */

/* Both: hPA = gVA + OFFSET_g + OFFSET_v, an L1 entry is inserted, no L2. */
static void table1_l1_miss_both(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, BOTH + 0x123);

	assert_int_equal(x.path, MODEL_PATH_SEGMENT);
	/* 0x60000123 + 0x40000000 + 0x100000000 */
	assert_int_equal(x.pa, 0x1a0000123ULL);
	assert_int_equal(x.refs.total, 0);
	assert_int_equal(x.refs.seg_adds, 2);
	assert_int_equal(x.cls, MODEL_IN_GSEG | MODEL_IN_VSEG);
	/* The entry is 2 MiB: the guest segment is 1 GiB aligned around the
	 * gVA, but the VMM segment starts at 2.5 GiB, so only the 2 MiB block
	 * around gPA 0xa0000000 lies inside both. */
	assert_int_equal(x.shift, 21);
	assert_int_equal(xl(f, BOTH + 0x1ff000).path, MODEL_PATH_L1);
	assert_int_equal(model_stats(f->m)->segment_l1, 1);
	assert_int_equal(model_stats(f->m)->l2_hits + model_stats(f->m)->l2_misses, 0);
	fx_free(f);
}

/* Other columns: L1 miss -> L2 lookup. Seen as an L2 hit once the entry
 * was pushed out of L1 but not out of L2. */
static void check_l1_miss_looks_up_l2(u64 gva, u64 gpa, u64 tables, bool guest_tables)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, tables);
	struct model_xlat first = xl(f, gva), x;

	assert_int_equal(first.path, MODEL_PATH_WALK);
	fx_evict_l1_4k(f, gva, gpa, guest_tables);
	x = xl(f, gva);
	assert_int_equal(x.path, MODEL_PATH_L2);
	assert_int_equal(x.refs.total, 0);
	assert_int_equal(x.pa, first.pa);
	assert_int_equal(model_stats(f->m)->l2_hits, 1);
	fx_free(f);
}

static void table1_l1_miss_vmm_only(void **state)
{
	check_l1_miss_looks_up_l2(VONLY, VONLY_GPA, TABLES_IN, true);
}

static void table1_l1_miss_guest_only(void **state)
{
	check_l1_miss_looks_up_l2(GONLY, GONLY_GPA, TABLES_IN, false);
}

static void table1_l1_miss_neither(void **state)
{
	check_l1_miss_looks_up_l2(NEITH, NEITH_GPA, TABLES_OUT, true);
}

/* --- Row "L2 TLB hit": insert L1 entry. --- */
static void check_l2_hit_fills_l1(u64 gva, u64 gpa, u64 tables, bool guest_tables)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, tables);

	xl(f, gva);
	fx_evict_l1_4k(f, gva, gpa, guest_tables);
	assert_int_equal(xl(f, gva).path, MODEL_PATH_L2);
	assert_int_equal(xl(f, gva).path, MODEL_PATH_L1);
	fx_free(f);
}

static void table1_l2_hit_vmm_only(void **state)
{
	check_l2_hit_fills_l1(VONLY, VONLY_GPA, TABLES_IN, true);
}

static void table1_l2_hit_guest_only(void **state)
{
	check_l2_hit_fills_l1(GONLY, GONLY_GPA, TABLES_IN, false);
}

static void table1_l2_hit_neither(void **state)
{
	check_l2_hit_fills_l1(NEITH, NEITH_GPA, TABLES_OUT, true);
}

/* Both: the rows L2 hit, L2 miss and PTW are "—": even when its L1 entry
 * was evicted, a Both address never reaches the L2 TLB or the walker. */
static void table1_l2_and_walker_rows_never_reached_for_both(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);

	xl(f, BOTH);
	/* Evict its 2 MiB L1 entry: the 2 MiB array has 8 sets of 4 ways, so
	 * 2 MiB pages 16 MiB apart share a set. All are in both segments. */
	for (u64 k = 1; k <= 4; k++)
		assert_int_equal(xl(f, BOTH + k * 0x1000000).path, MODEL_PATH_SEGMENT);
	assert_int_equal(xl(f, BOTH).path, MODEL_PATH_SEGMENT);
	assert_int_equal(model_stats(f->m)->segment_l1, 6);
	assert_int_equal(model_stats(f->m)->l2_hits, 0);
	assert_int_equal(model_stats(f->m)->walks, 0);
	assert_int_equal(model_stats(f->m)->walk_refs, 0);
	fx_free(f);
}

/* --- Row "L2 TLB miss": invoke the page-table walker. --- */
static void check_l2_miss_walks(u64 gva, u64 tables)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, tables);
	struct model_xlat x = xl(f, gva);

	assert_int_equal(x.path, MODEL_PATH_WALK);
	assert_int_equal(model_stats(f->m)->l2_misses, 1);
	assert_int_equal(model_stats(f->m)->walks, 1);
	fx_free(f);
}

static void table1_l2_miss_vmm_only(void **state)
{
	check_l2_miss_walks(VONLY, TABLES_IN);
}

static void table1_l2_miss_guest_only(void **state)
{
	check_l2_miss_walks(GONLY, TABLES_IN);
}

static void table1_l2_miss_neither(void **state)
{
	check_l2_miss_walks(NEITH, TABLES_OUT);
}

/* --- Row "PTW: gVA -> gPA". --- */

/* VMM segment only: walk the guest page table (4 guest reads). */
static void table1_ptw_gva_vmm_only(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, VONLY + 0x10);

	for (unsigned lvl = 1; lvl <= 4; lvl++)
		assert_int_equal(x.refs.n[WALK_REF(WALK_REF_GUEST, lvl)], 1);
	assert_int_equal(x.gpa, VONLY_GPA + 0x10);
	fx_free(f);
}

/* Guest segment only: gPA = gVA + OFFSET_g, no guest table read. */
static void table1_ptw_gva_guest_only(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, GONLY + 0x10);

	assert_int_equal(refs_of(&x, WALK_REF_GUEST), 0);
	assert_int_equal(x.gpa, 0x80000010ULL); /* 0x40000010 + 0x40000000 */
	assert_int_equal(x.refs.seg_adds, 1);
	fx_free(f);
}

/* Neither: walk the guest page table. */
static void table1_ptw_gva_neither(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_OUT);
	struct model_xlat x = xl(f, NEITH + 0x10);

	assert_int_equal(refs_of(&x, WALK_REF_GUEST), 4);
	assert_int_equal(x.gpa, NEITH_GPA + 0x10);
	fx_free(f);
}

/* --- Row "PTW: gPA -> hPA". --- */

/* VMM segment only, guest tables in the VMM segment: every gPA (4 tables +
 * the data) is translated by an add: 4 refs and 5 adds, hPA = gPA + OFFSET_v. */
static void table1_ptw_gpa_vmm_only(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, VONLY + 0x10);

	assert_int_equal(refs_of(&x, WALK_REF_NESTED), 0);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 0);
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.refs.seg_adds, 5);
	assert_int_equal(x.pa, 0x1c0000010ULL); /* 0xc0000010 + 0x100000000 */
	assert_int_equal(x.cls, MODEL_IN_VSEG);
	fx_free(f);
}

/* VMM segment only, guest tables outside it: "or walk nested page table" for
 * those gPAs: 4 guest reads + 4 nested walks of 4, the data by an add:
 * 20 refs, 1 add. */
static void table1_ptw_gpa_vmm_only_tables_outside(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_OUT);
	struct model_xlat x = xl(f, VONLY);

	assert_int_equal(refs_of(&x, WALK_REF_NESTED), 16);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 0);
	assert_int_equal(x.refs.total, 20);
	assert_int_equal(x.refs.seg_adds, 1);
	assert_int_equal(x.pa, 0x1c0000000ULL);
	fx_free(f);
}

/* Guest segment only: walk the nested page table for the gPA (4 refs). */
static void table1_ptw_gpa_guest_only(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, GONLY + 0x10);

	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.pa, 0x80000010ULL + HOFF); /* EPT, not the segment */
	assert_int_equal(x.cls, MODEL_IN_GSEG);
	fx_free(f);
}

/* Neither: for each gPA, walk the nested page table: 24 refs. */
static void table1_ptw_gpa_neither(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_OUT);
	struct model_xlat x = xl(f, NEITH + 0x10);

	assert_int_equal(refs_of(&x, WALK_REF_NESTED), 16);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	assert_int_equal(x.refs.total, 24);
	assert_int_equal(x.refs.seg_adds, 0);
	assert_int_equal(x.pa, NEITH_GPA + 0x10 + HOFF);
	assert_int_equal(x.cls, 0);
	fx_free(f);
}

/* Neither, but the guest tables lie in the VMM segment: the hardware checks
 * every gPA against the segment (it cannot know the column before the walk
 * ends), so the table reads go through it: 4 guest reads + 4 adds, then the
 * data's nested walk of 4: 8 refs, 4 adds. */
static void table1_ptw_gpa_neither_tables_in_vmm_segment(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, NEITH);

	assert_int_equal(x.refs.total, 8);
	assert_int_equal(x.refs.seg_adds, 4);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	fx_free(f);
}

/* --- Row "PTW: End": insert L1 TLB entry. --- */
static void check_ptw_end_fills_l1(u64 gva, u64 tables)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, tables);

	assert_int_equal(xl(f, gva).path, MODEL_PATH_WALK);
	assert_int_equal(xl(f, gva + 0x40).path, MODEL_PATH_L1);
	assert_int_equal(model_stats(f->m)->walks, 1);
	fx_free(f);
}

static void table1_ptw_end_vmm_only(void **state)
{
	check_ptw_end_fills_l1(VONLY, TABLES_IN);
}

static void table1_ptw_end_guest_only(void **state)
{
	check_ptw_end_fills_l1(GONLY, TABLES_IN);
}

static void table1_ptw_end_neither(void **state)
{
	check_ptw_end_fills_l1(NEITH, TABLES_OUT);
}

/* ==== Reference counts of a walking TLB miss, per mode ================================ */

static unsigned miss_refs(enum model_mode mode, u64 tables, u64 gva)
{
	struct fx *f = fx_new(mode, tables);
	unsigned refs = xl(f, gva).refs.total;

	fx_free(f);
	return refs;
}

/* A TLB miss on LARGE (PML4 slot 1, away from the columns) -> gPA 1 GiB,
 * with a guest leaf at level g_lvl and the data's EPT leaf at level h_lvl.
 * The guest tables stay EPT-mapped with 4 KiB pages. */
#define LARGE	  0x0000008000000000ULL
#define LARGE_GPA 0x40000000ULL

static unsigned large_miss_refs(enum model_mode mode, unsigned g_lvl, unsigned h_lvl)
{
	struct fx *f = fx_new(mode, TABLES_OUT);
	unsigned refs;

	fx_map_guest(f, LARGE, LARGE_GPA, g_lvl);
	fx_map_ept(f, LARGE_GPA, h_lvl);
	refs = xl(f, LARGE + 0x234).refs.total;
	fx_free(f);
	return refs;
}

static void native_walks_cost_4_3_2_refs(void **state)
{
	/* Natively the "guest" tables are the only tables. */
	assert_int_equal(large_miss_refs(MODEL_NATIVE, 1, 1), 4);
	assert_int_equal(large_miss_refs(MODEL_NATIVE, 2, 1), 3);
	assert_int_equal(large_miss_refs(MODEL_NATIVE, 3, 1), 2);
}

static void native_direct_segment_costs_0_refs_inside(void **state)
{
	struct fx *f = fx_new(MODEL_NATIVE_DS, TABLES_OUT);
	struct model_xlat in = xl(f, GONLY + 0x10), out = xl(f, NEITH);

	assert_int_equal(in.path, MODEL_PATH_SEGMENT);
	assert_int_equal(in.refs.total, 0);
	assert_int_equal(in.refs.seg_adds, 1);
	assert_int_equal(in.pa, 0x80000010ULL); /* VA + OFFSET: a PA natively */
	assert_int_equal(out.refs.total, 4);
	fx_free(f);
}

static void base_virtualized_4k_4k_costs_24_refs(void **state)
{
	/* Segments are configured but base mode does not use them. */
	assert_int_equal(miss_refs(MODEL_BASE_VIRT, TABLES_IN, BOTH), 24);
	assert_int_equal(miss_refs(MODEL_BASE_VIRT, TABLES_OUT, NEITH), 24);
	assert_int_equal(large_miss_refs(MODEL_BASE_VIRT, 1, 1), 24);
}

/* g guest levels; the g table gPAs take 4-level nested walks (tables are
 * EPT-mapped with 4 KiB pages here) and the data gPA an h-level one:
 * g + 4g + h references. (The walker tests cover (g+1)(h+1)-1 with every
 * gPA on the same EPT page size: 15 for 2M+2M, 8 for 1G+1G.) */
static void base_virtualized_large_pages(void **state)
{
	/* guest 2M, EPT 4K: 3 + 12 + 4 = 19 = (3+1)(4+1)-1 */
	assert_int_equal(large_miss_refs(MODEL_BASE_VIRT, 2, 1), 19);
	/* guest 1G, EPT 4K: 2 + 8 + 4 = 14 = (2+1)(4+1)-1 */
	assert_int_equal(large_miss_refs(MODEL_BASE_VIRT, 3, 1), 14);
	/* guest 4K, data EPT 2M: 4 + 16 + 3 = 23 */
	assert_int_equal(large_miss_refs(MODEL_BASE_VIRT, 1, 2), 23);
	/* guest 2M, data EPT 1G: 3 + 12 + 2 = 17 */
	assert_int_equal(large_miss_refs(MODEL_BASE_VIRT, 2, 3), 17);
}

static void dual_direct_costs_0_refs_when_both_segments_hit(void **state)
{
	assert_int_equal(miss_refs(MODEL_DUAL_DIRECT, TABLES_OUT, BOTH), 0);
}

static void vmm_direct_costs_4_refs(void **state)
{
	struct fx *f = fx_new(MODEL_VMM_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, VONLY);

	/* 4 guest reads, 5 adds (4 table gPAs + the data gPA). */
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.refs.seg_adds, 5);
	assert_int_equal(x.pa, VONLY_GPA + VSEG_OFF);
	/* VMM Direct ignores the guest segment: BOTH is walked through tables. */
	x = xl(f, BOTH);
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.pa, BOTH_GPA + VSEG_OFF);
	fx_free(f);
}

static void guest_direct_costs_4_refs(void **state)
{
	struct fx *f = fx_new(MODEL_GUEST_DIRECT, TABLES_IN);
	struct model_xlat x = xl(f, GONLY);

	/* 1 add, then the 4-level nested walk of the gPA. */
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	assert_int_equal(x.refs.seg_adds, 1);
	/* In Guest Direct a gPA in the VMM segment is still walked by EPT. */
	x = xl(f, BOTH);
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.pa, BOTH_GPA + HOFF);
	fx_free(f);
}

static void guest_direct_outside_guest_segment_costs_24_refs(void **state)
{
	/* Tables in the (unused) VMM segment region change nothing here. */
	assert_int_equal(miss_refs(MODEL_GUEST_DIRECT, TABLES_IN, VONLY), 24);
	assert_int_equal(miss_refs(MODEL_GUEST_DIRECT, TABLES_OUT, NEITH), 24);
}

/* ==== Modes switched live ====================================================== */

static void disabling_a_segment_turns_dual_direct_into_the_others(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct segment off = {0, 0, 0};
	struct segment g = f->c.gseg, v = f->c.vseg;

	assert_int_equal(model_effective_mode(f->m), MODEL_DUAL_DIRECT);
	/* BASE_g = LIMIT_g: VMM Direct. BOTH is now walked: 4 refs. */
	assert_int_equal(model_set_segments(f->m, &off, &v), 0);
	assert_int_equal(model_effective_mode(f->m), MODEL_VMM_DIRECT);
	assert_int_equal(xl(f, BOTH).refs.total, 4);
	/* BASE_v = LIMIT_v: Guest Direct. BOTH: add + nested walk = 4 refs. */
	assert_int_equal(model_set_segments(f->m, &g, &off), 0);
	assert_int_equal(model_effective_mode(f->m), MODEL_GUEST_DIRECT);
	assert_int_equal(xl(f, BOTH).refs.total, 4);
	assert_int_equal(xl(f, BOTH).pa, BOTH_GPA + HOFF);
	/* Both disabled: base virtualized. */
	assert_int_equal(model_set_segments(f->m, &off, &off), 0);
	assert_int_equal(model_effective_mode(f->m), MODEL_BASE_VIRT);
	assert_int_equal(xl(f, BOTH).refs.total, 24);
	fx_free(f);
}

static void set_mode_flushes_and_switches(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);

	assert_int_equal(xl(f, BOTH).refs.total, 24);
	assert_int_equal(model_set_mode(f->m, MODEL_DUAL_DIRECT), 0);
	assert_int_equal(xl(f, BOTH).path, MODEL_PATH_SEGMENT);
	assert_int_equal(model_set_mode(f->m, MODEL_MODES), -DV_EINVAL);
	fx_free(f);
}

/* ==== Escape filter ============================================================ */

static void escaped_data_page_is_walked_in_vmm_direct(void **state)
{
	struct fx *f = fx_new(MODEL_VMM_DIRECT, TABLES_IN);
	struct model_xlat x;

	assert_int_equal(model_escape_page(f->m, VONLY_GPA), 0);
	x = xl(f, VONLY + 0x20);
	/* 4 guest reads (tables via the segment: 4 adds) + the data's nested
	 * walk (4): 8 refs. The hPA is EPT's, never gPA + OFFSET_v. */
	assert_int_equal(x.refs.total, 8);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	assert_int_equal(x.refs.seg_adds, 4);
	assert_int_equal(x.pa, VONLY_GPA + 0x20 + HOFF);
	assert_int_equal(x.cls, 0);
	assert_int_equal(model_stats(f->m)->escape_hits, 1);
	assert_int_equal(model_stats(f->m)->escape_false_positives, 0);
	fx_free(f);
}

static void escaped_page_is_never_translated_by_the_segment(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);

	/* Escape BOTH's page: it becomes a "guest segment only" address. Every
	 * byte of the page, after any flush, goes to EPT. */
	assert_int_equal(model_escape_page(f->m, BOTH_GPA), 0);
	for (u64 off = 0; off < 4096; off += 512) {
		struct model_xlat x = xl(f, BOTH + off);

		assert_int_equal(x.pa, BOTH_GPA + off + HOFF);
		model_flush(f->m);
	}
	/* The neighbouring page still uses both segments, with a 4 KiB entry:
	 * a larger one would cover the hole. */
	struct model_xlat n = xl(f, BOTH + 0x1000);

	assert_int_equal(n.path, MODEL_PATH_SEGMENT);
	assert_int_equal(n.shift, 12);
	assert_int_equal(n.pa, BOTH_GPA + 0x1000 + VSEG_OFF);
	fx_free(f);
}

static void escaped_page_in_dual_direct_takes_the_guest_only_path(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_IN);
	struct model_xlat x;

	assert_int_equal(model_escape_page(f->m, BOTH_GPA), 0);
	x = xl(f, BOTH);
	/* 1 add (guest segment) + nested walk 4. */
	assert_int_equal(x.path, MODEL_PATH_WALK);
	assert_int_equal(x.refs.total, 4);
	assert_int_equal(x.refs.seg_adds, 1);
	assert_int_equal(x.cls, MODEL_IN_GSEG);
	fx_free(f);
}

static void escaped_guest_table_page_is_walked(void **state)
{
	struct fx *f = fx_new(MODEL_VMM_DIRECT, TABLES_IN);
	struct model_xlat x;

	/* The root (PML4) page of the guest tables is at TABLES_IN. */
	assert_int_equal(model_escape_page(f->m, TABLES_IN), 0);
	x = xl(f, VONLY);
	/* PML4 gPA by nested walk (4) + 4 guest reads; 3 tables + data by adds. */
	assert_int_equal(refs_of(&x, WALK_REF_NESTED), 4);
	assert_int_equal(x.refs.total, 8);
	assert_int_equal(x.refs.seg_adds, 4);
	fx_free(f);
}

/* A 16-bit, 1-hash filter with one escaped page: find a VMM-segment page
 * the filter flags but that was not escaped, and check it walks and counts. */
static void false_positive_walks_and_is_counted(void **state)
{
	struct fx *f;
	struct model_xlat x;
	u64 fp = 0;

	f = fx_new(MODEL_VMM_DIRECT, TABLES_IN);
	f->c.escape_bits = 16;
	f->c.escape_hashes = 1;
	assert_int_equal(model_init(f->m, &f->c), 0);
	assert_int_equal(model_escape_page(f->m, 0xd0000000ULL), 0);
	for (u64 p = VONLY_GPA + 0x1000; p < VONLY_GPA + 0x100000; p += 0x1000) {
		if (escape_may_contain(&f->m->escape, p)) {
			fp = p;
			break;
		}
	}
	assert_int_not_equal(fp, 0);
	fx_map_guest(f, VONLY + 0x100000, fp, 1);
	fx_map_ept(f, fp, 1);
	x = xl(f, VONLY + 0x100000);
	/* The filter says "escaped": nested walk of the data, 4 + 4 refs. */
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 4);
	assert_int_equal(x.pa, fp + HOFF);
	assert_int_equal(model_stats(f->m)->escape_false_positives, 1);
	assert_int_equal(model_stats(f->m)->escape_hits, 0);
	fx_free(f);
}

/* ==== Faults and lazy mapping ================================================== */

static void not_present_fault_then_lazy_map_counts_as_if_mapped(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const u64 gva = 0x0000300000000000ULL, gpa = 0x05000000ULL;
	const struct walk_fault *fault;
	int tries = 0;

	/* Fault, map what the fault names, retry, until it translates. */
	while (model_access(f->m, gva, true) == -DV_EFAULT) {
		fault = model_fault(f->m);
		assert_int_equal(fault->kind, WALK_NOT_PRESENT);
		if (fault->stage == WALK_STAGE_GUEST)
			fx_map_guest(f, gva, gpa, 1);
		else
			fx_map_ept(f, fault->pa, 1);
		assert_true(++tries < 4);
	}
	assert_int_equal(tries, 2); /* guest tables, then EPT for the data */
	/* Only the successful attempt counts, and it cost a full 2D walk. */
	assert_int_equal(model_stats(f->m)->faults, 2);
	assert_int_equal(model_stats(f->m)->accesses, 1);
	assert_int_equal(model_stats(f->m)->walks, 1);
	assert_int_equal(model_stats(f->m)->walk_refs, 24);
	assert_int_equal(model_stats(f->m)->l1_misses, 1);
	fx_free(f);
}

static void nested_fault_on_a_table_names_the_table(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const struct walk_fault *fault;

	/* Unmap the guest root page in EPT. */
	tmem_write(f->hm, tentry(f->hm, EPT_ROOT, TABLES_OUT, 1), 0);
	assert_int_equal(model_access(f->m, NEITH, false), -DV_EFAULT);
	fault = model_fault(f->m);
	assert_int_equal(fault->stage, WALK_STAGE_NESTED);
	assert_true(fault->on_table);
	assert_int_equal(fault->pa & ~0xfffULL, TABLES_OUT);
	assert_int_equal(fault->va, NEITH);
	fx_free(f);
}

static void write_to_read_only_page_faults_after_a_read_hit(void **state)
{
	struct fx *f = fx_new(MODEL_NATIVE, TABLES_OUT);
	u64 pte = tentry(f->gm, f->groot, NEITH, 1);

	tmem_write(f->gm, pte, *tmem_find(f->gm, pte) & ~X86_PTE_RW);
	assert_int_equal(model_access(f->m, NEITH, false), 0);
	assert_int_equal(model_access(f->m, NEITH, false), 0); /* inline hit */
	assert_int_equal(model_access(f->m, NEITH, true), -DV_EFAULT);
	assert_int_equal(model_fault(f->m)->kind, WALK_PROTECTION);
	assert_int_equal(model_fault(f->m)->error_code, WALK_PF_P | WALK_PF_W | WALK_PF_U);
	assert_int_equal(model_stats(f->m)->accesses, 2);
	assert_int_equal(model_stats(f->m)->faults, 1);
	fx_free(f);
}

/* Whether an access may use a TLB entry, stated as the SDM states it (Vol. 3A
 * 4.6; EPT: Vol. 3C 29.3.3.2): a user access needs U/S, a write needs R/W
 * unless it is a supervisor write with CR0.WP clear, a fetch is refused by
 * NX (EFER.NXE set), and EPT must allow the read, write or fetch. */
static bool rights_rule(u64 pte, u64 ept, u32 acc, bool wp)
{
	bool user = acc & WALK_ACC_USER, exec = acc & WALK_ACC_EXEC;
	bool write = (acc & WALK_ACC_WRITE) && !exec;

	if (user && !(pte & X86_PTE_US))
		return false;
	if (exec)
		return !(pte & X86_PTE_NX) && (ept & EPT_X);
	if (write)
		return (ept & EPT_W) && ((pte & X86_PTE_RW) || (!user && !wp));
	return ept & EPT_R;
}

/* A TLB entry answers every kind of access as a walk of its rights would:
 * after a supervisor read fills it, an access it allows is an L1 hit, and
 * one it refuses walks again and faults. Every combination of the guest
 * leaf's R/W, U/S and NX, the EPT leaf's W and X (R set: a supervisor read
 * must fill the entry), CR0.WP and the eight kinds of access. */
static void tlb_rights_answer_as_the_walk(void **state)
{
	static const u64 guest_bits[] = {X86_PTE_RW, X86_PTE_US, X86_PTE_NX};
	static const u64 ept_bits[] = {EPT_W, EPT_X};
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	u64 pte = tentry(f->gm, f->groot, NEITH, 1), epte = tentry(f->hm, EPT_ROOT, NEITH_GPA, 1);
	u64 pte0 = *tmem_find(f->gm, pte) & ~(X86_PTE_RW | X86_PTE_US | X86_PTE_NX);
	u64 epte0 = *tmem_find(f->hm, epte) & ~(EPT_W | EPT_X);
	unsigned checked = 0, hits = 0;

	for (unsigned wp = 0; wp < 2; wp++) {
		f->c.env.wp = wp;
		assert_int_equal(model_init(f->m, &f->c), 0);
		for (unsigned g = 0; g < 8; g++) {
			for (unsigned e = 0; e < 4; e++) {
				u64 gr = 0, er = EPT_R;

				for (unsigned b = 0; b < 3; b++)
					gr |= (g >> b & 1) ? guest_bits[b] : 0;
				for (unsigned b = 0; b < 2; b++)
					er |= (e >> b & 1) ? ept_bits[b] : 0;
				tmem_write(f->gm, pte, pte0 | gr);
				tmem_write(f->hm, epte, epte0 | er);
				for (u32 acc = 0; acc < 8; acc++) {
					struct model_xlat x;
					bool ok = rights_rule(gr, er, acc, wp);
					int rc;

					model_flush(f->m);
					assert_int_equal(model_translate(f->m, NEITH, 0, &x), 0);
					rc = model_translate(f->m, NEITH, acc, &x);
					assert_int_equal(rc == 0, ok);
					if (ok)
						assert_int_equal(x.path, MODEL_PATH_L1);
					checked++;
					hits += ok;
				}
			}
		}
	}
	assert_int_equal(checked, 2 * 8 * 4 * 8);
	assert_true(hits > 0 && hits < checked);
	fx_free(f);
}

static void noncanonical_access_faults(void **state)
{
	struct fx *f = fx_new(MODEL_NATIVE, TABLES_OUT);

	assert_int_equal(model_access(f->m, 0x0000800000000000ULL, false), -DV_EFAULT);
	assert_int_equal(model_fault(f->m)->kind, WALK_NONCANONICAL);
	fx_free(f);
}

/* ==== The TLB under virtualization ===================================================== */

/* A combined gVA -> hPA entry covers the smaller of the two pages. */
static void combined_entry_is_the_smaller_page(void **state)
{
	struct fx *f;

	f = fx_new_cfg(MODEL_BASE_VIRT, TABLES_OUT, 2, 1, false); /* guest 2M, EPT 4K */
	assert_int_equal(xl(f, NEITH).shift, 12);
	fx_free(f);
	f = fx_new_cfg(MODEL_BASE_VIRT, TABLES_OUT, 1, 2, false); /* guest 4K, EPT 2M */
	assert_int_equal(xl(f, NEITH).shift, 12);
	fx_free(f);
	f = fx_new_cfg(MODEL_BASE_VIRT, TABLES_OUT, 2, 2, false); /* 2M + 2M */
	assert_int_equal(xl(f, NEITH).shift, 21);
	assert_int_equal(xl(f, NEITH + 0x1ff000).path, MODEL_PATH_L1);
	fx_free(f);
}

static void fast_path_counts_accesses_and_l1_hits(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const struct model_stats *s = model_stats(f->m);

	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(model_access(f->m, NEITH + (i % 8) * 8, i & 1), 0);
	assert_int_equal(s->accesses, 100);
	assert_int_equal(s->l1_misses, 1);
	assert_int_equal(s->walks, 1);
	assert_int_equal(s->walk_refs, 24);
	assert_int_equal(s->walk_refs_max, 24);
	model_flush(f->m);
	assert_int_equal(model_access(f->m, NEITH, false), 0);
	assert_int_equal(s->walks, 2);
	model_flush_page(f->m, NEITH + 0x10);
	assert_int_equal(model_access(f->m, NEITH, false), 0);
	assert_int_equal(s->walks, 3);
	model_stats_reset(f->m);
	assert_int_equal(s->accesses, 0);
	fx_free(f);
}

/* ==== Page-walk caches (off by default) ======================================== */

static void pwc_off_by_default(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);

	fx_map_guest(f, NEITH + 0x1000, NEITH_GPA + 0x1000, 1);
	fx_map_ept(f, NEITH_GPA + 0x1000, 1);
	assert_int_equal(xl(f, NEITH).refs.total, 24);
	assert_int_equal(xl(f, NEITH + 0x1000).refs.total, 24);
	fx_free(f);
}

static void pwc_shortens_the_next_walk(void **state)
{
	struct fx *f = fx_new_cfg(MODEL_NATIVE, TABLES_OUT, 1, 1, true);
	struct model_xlat x;

	fx_map_guest(f, NEITH + 0x1000, NEITH_GPA + 0x1000, 1);
	assert_int_equal(xl(f, NEITH).refs.total, 4);
	/* Same page table: the PDE cache gives it, one read remains. */
	x = xl(f, NEITH + 0x1000);
	assert_int_equal(x.refs.total, 1);
	assert_int_equal(x.refs.pwc_hits, 1);
	fx_free(f);
}

static void pwc_and_nested_tlb_shorten_2d_walks(void **state)
{
	struct fx *f = fx_new_cfg(MODEL_BASE_VIRT, TABLES_OUT, 1, 1, true);
	struct model_xlat x;

	fx_map_guest(f, NEITH + 0x1000, NEITH_GPA + 0x1000, 1);
	fx_map_ept(f, NEITH_GPA + 0x1000, 1);
	/* Even the first walk profits: the guest tables (gPA 0x100000..) share
	 * one EPT page table. Nested walk of the PML4 page 4, read 1; PDPT, PD
	 * and PT pages: EPT PDE-cache hit, 1 read each, plus the guest read;
	 * data gPA 16 MiB: EPT PDPTE-cache hit, 2 reads. 5 + 2 + 2 + 2 + 2 = 13. */
	assert_int_equal(xl(f, NEITH).refs.total, 13);
	/* Guest PDE cache (a combined entry: the PT's hPA is known) leaves one
	 * guest read; the data gPA is a new page (nested TLB miss) but its EPT
	 * PDE is cached: one EPT read. 2 refs. */
	x = xl(f, NEITH + 0x1000);
	assert_int_equal(refs_of(&x, WALK_REF_GUEST), 1);
	assert_int_equal(refs_of(&x, WALK_REF_NESTED), 0);
	assert_int_equal(refs_of(&x, WALK_REF_FINAL), 1);
	assert_int_equal(x.refs.total, 2);
	fx_free(f);
}

/* ==== Linear-model counts ============================================================ */

static void misses_are_classified_by_segment(void **state)
{
	struct fx *f = fx_new(MODEL_DUAL_DIRECT, TABLES_OUT);
	const struct model_stats *s = model_stats(f->m);

	xl(f, BOTH);
	xl(f, GONLY);
	xl(f, VONLY);
	xl(f, NEITH);
	xl(f, NEITH); /* L1 hit: not a miss */
	assert_int_equal(s->miss.m_n, 4);
	assert_int_equal(s->miss.both, 1);
	assert_int_equal(s->miss.guest_only, 1);
	assert_int_equal(s->miss.vmm_only, 1);
	assert_int_equal(s->segment_hits, 3);
	fx_free(f);
}

static void base_mode_classifies_without_using_segments(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const struct model_stats *s = model_stats(f->m);

	/* All four walk 24 refs, but F is measured as the paper did. */
	assert_int_equal(xl(f, BOTH).refs.total, 24);
	assert_int_equal(xl(f, GONLY).refs.total, 24);
	assert_int_equal(xl(f, VONLY).refs.total, 24);
	assert_int_equal(s->miss.m_n, 3);
	assert_int_equal(s->miss.both, 1);
	assert_int_equal(s->miss.guest_only, 1);
	assert_int_equal(s->miss.vmm_only, 1);
	assert_int_equal(s->segment_hits, 0);
	fx_free(f);
}

/* ==== Walk memo: a speed-up that must change nothing ================================ */

static u64 memo_rng = 0x853c49e6748fea9bULL;

static u64 memo_rnd(void)
{
	memo_rng ^= memo_rng << 13;
	memo_rng ^= memo_rng >> 7;
	memo_rng ^= memo_rng << 17;
	return memo_rng;
}

/* 48 pages per column; in the guest-table columns page 5 is read-only, so
 * writes to it fault (and are retried as reads). */
static void memo_layout(struct fx *f)
{
	static const u64 col[4][2] = {
		{VONLY, VONLY_GPA}, {NEITH, NEITH_GPA}, {GONLY, GONLY_GPA}, {BOTH, BOTH_GPA}};

	for (unsigned c = 0; c < 4; c++) {
		for (u64 k = 1; k < 48; k++) {
			fx_map_guest(f, col[c][0] + k * 0x1000, col[c][1] + k * 0x1000, 1);
			fx_map_ept(f, col[c][1] + k * 0x1000, 1);
		}
	}
	for (unsigned c = 0; c < 2; c++) {
		u64 pte = tentry(f->gm, f->groot, col[c][0] + 5 * 0x1000, 1);

		tmem_write(f->gm, pte, *tmem_find(f->gm, pte) & ~X86_PTE_RW);
	}
}

/* One side of a test that a speed-up changes no count: the memo layout in
 * mode, a small escape filter (false positives happen), a tiny TLB (pages
 * are walked again and again) and an escaped page. */
static struct fx *fx_speedup_twin(enum model_mode mode)
{
	struct fx *f = fx_new(mode, TABLES_IN);

	memo_layout(f);
	f->c.escape_bits = 32;
	f->c.tlb =
		(struct tlb_geometry){.l1 = {{8, 2, 1}, {4, 2, 2}, {2, 2, 4}}, .l2 = {{16, 4, 1}}};
	assert_int_equal(model_init(f->m, &f->c), 0);
	assert_int_equal(model_escape_page(f->m, VONLY_GPA + 3 * 0x1000), 0);
	return f;
}

/* One access: through model_access (its inline and recent-hit paths, the
 * memo), or through model_translate, which takes none of them. */
static int stream_access(struct model *m, u64 gva, bool w, bool plain)
{
	if (plain)
		return model_translate(m, gva, WALK_ACC_USER | (w ? WALK_ACC_WRITE : 0), NULL);
	return model_access(m, gva, w);
}

static void run_stream_via(struct model *m, struct fx *f, u64 seed, unsigned n, bool plain)
{
	static const u64 cols[4] = {VONLY, NEITH, GONLY, BOTH};

	memo_rng = seed;
	for (unsigned i = 0; i < n; i++) {
		u64 gva = cols[memo_rnd() % 4] + (memo_rnd() % 48) * 0x1000 + (memo_rnd() & 0xff8);
		bool w = memo_rnd() & 1;

		if (stream_access(m, gva, w, plain) == -DV_EFAULT)
			assert_int_equal(stream_access(m, gva, false, plain), 0);
		if (i % 4999 == 0)
			model_flush(m);
		if (i == n / 2) {
			/* Remap a page to another gPA, as the caller would: then flush. */
			u64 pte = tentry(f->gm, f->groot, NEITH + 7 * 0x1000, 1);

			tmem_write(f->gm, pte, (NEITH_GPA + 60 * 0x1000) | T_X86_LEAF);
			fx_map_ept(f, NEITH_GPA + 60 * 0x1000, 1);
			model_flush(m);
		}
	}
}

static void run_stream(struct model *m, struct fx *f, u64 seed, unsigned n)
{
	run_stream_via(m, f, seed, n, false);
}

/* Every mode, for the tests that a shortcut or speed-up counts the same. */
static const enum model_mode all_modes[] = {MODEL_NATIVE,     MODEL_NATIVE_DS,
					    MODEL_BASE_VIRT,  MODEL_DUAL_DIRECT,
					    MODEL_VMM_DIRECT, MODEL_GUEST_DIRECT};

/* The same stream through a and b (twins, one of them with a speed-up):
 * every count must be the same. */
static void expect_same_counts(struct fx *a, struct fx *b, u64 seed)
{
	run_stream(a->m, a, seed, 20000);
	run_stream(b->m, b, seed, 20000);
	assert_memory_equal(model_stats(a->m), model_stats(b->m), sizeof(struct model_stats));
}

/* model_access's shortcuts for L1 hits (the last hit inline, the recent
 * hits, an entry just filled) renew LRU state exactly as the lookup does:
 * the same stream through model_translate, which takes none of them,
 * counts the same, in every mode, with a tiny TLB and with the default. */
static void l1_hit_shortcuts_change_no_count(void **state)
{
	for (unsigned t = 0; t < 2; t++) {
		for (unsigned i = 0; i < ARRAY_SIZE(all_modes); i++) {
			struct fx *a = fx_new(all_modes[i], TABLES_IN),
				  *b = fx_new(all_modes[i], TABLES_IN);

			memo_layout(a);
			memo_layout(b);
			if (t == 0) {
				a->c.tlb = (struct tlb_geometry){
					.l1 = {{8, 2, 1}, {4, 2, 2}, {2, 2, 4}},
					.l2 = {{16, 4, 1}}};
				b->c.tlb = a->c.tlb;
			}
			assert_int_equal(model_init(a->m, &a->c), 0);
			assert_int_equal(model_init(b->m, &b->c), 0);
			run_stream_via(a->m, a, 7 + i, 20000, false);
			run_stream_via(b->m, b, 7 + i, 20000, true);
			assert_memory_equal(model_stats(a->m), model_stats(b->m),
					    sizeof(struct model_stats));
			assert_true(model_stats(a->m)->accesses - model_stats(a->m)->l1_misses >
				    500);
			fx_free(a);
			fx_free(b);
		}
	}
}

/* Random reads and writes over the 1 GiB blocks of segments 16 GiB large,
 * the same for the same seed, with an access outside them every `outside`
 * accesses (0: none). */
static void run_blocks(struct model *m, u64 seed, unsigned n, unsigned outside, bool plain)
{
	memo_rng = seed;
	for (unsigned i = 0; i < n; i++) {
		u64 r = memo_rnd(), gva = (16ULL << 30) + (r >> 20) % (16ULL << 30);

		if (outside && i % outside == 0)
			gva = i / outside % 2 ? NEITH : VONLY;
		assert_int_equal(stream_access(m, gva, (r >> 13) & 1, plain), 0);
	}
}

/* Native-ds with segments that map whole 1 GiB blocks: the guest's gVAs
 * [16, 32) GiB to gPAs [32, 48), which the VMM segment (for Dual Direct)
 * maps to [96, 112). */
static struct fx *fx_seg1g(void)
{
	struct fx *f = fx_new(MODEL_NATIVE_DS, TABLES_OUT);

	f->c.gseg = (struct segment){16ULL << 30, 32ULL << 30, 16ULL << 30};
	f->c.vseg = (struct segment){32ULL << 30, 48ULL << 30, 64ULL << 30};
	assert_int_equal(model_init(f->m, &f->c), 0);
	return f;
}

/* The segment path on one L1 array (model_segment_1g: segments that map
 * whole 1 GiB blocks, the other L1 arrays empty) counts as the general
 * path does: model_access against model_translate, which never takes it,
 * over 16 blocks for 4 entries (most lookups miss), then with 4 KiB
 * entries in L1 (the path must step aside), after a flush (it applies
 * again), across a switch from native-ds to dual-direct (its pending
 * counts are folded in with the mode they were made in), and with a VMM
 * segment narrower than the guest's (it applies to the gVAs both
 * translate, and only to those). */
static void segment_1g_path_changes_no_count(void **state)
{
	struct fx *f[2] = {fx_seg1g(), fx_seg1g()};

	assert_non_null(f[0]->m->seg1g.array);
	for (unsigned phase = 0; phase < 4; phase++) {
		if (phase == 2) {
			model_flush(f[0]->m);
			model_flush(f[1]->m);
		}
		if (phase == 3) {
			/* No model_stats between these accesses and the switch. */
			for (unsigned k = 0; k < 2; k++) {
				run_blocks(f[k]->m, 50, 5000, 0, k == 1);
				assert_int_equal(model_set_mode(f[k]->m, MODEL_DUAL_DIRECT), 0);
			}
			assert_non_null(f[0]->m->seg1g.array);
		}
		for (unsigned k = 0; k < 2; k++)
			run_blocks(f[k]->m, 5 + phase, 5000, phase == 1 ? 50 : 0, k == 1);
		assert_memory_equal(model_stats(f[0]->m), model_stats(f[1]->m),
				    sizeof(struct model_stats));
	}
	/* A VMM segment holding only gPAs [36, 44) GiB of the guest segment's
	 * [32, 48): the path applies to gVAs [20, 28) GiB alone; on each side
	 * of that, gVAs whose gPA EPT does not map fault, as in the twin. */
	for (unsigned k = 0; k < 2; k++) {
		struct segment v = {36ULL << 30, 44ULL << 30, 64ULL << 30};

		assert_int_equal(model_set_segments(f[k]->m, &f[k]->c.gseg, &v), 0);
	}
	assert_int_equal(f[0]->m->seg1g.lo, 20ULL << 30);
	assert_int_equal(f[0]->m->seg1g.hi, 28ULL << 30);
	memo_rng = 77;
	for (unsigned i = 0; i < 4000; i++) {
		u64 r = memo_rnd(), gva = (19ULL << 30) + (r >> 20) % (10ULL << 30);

		if (i % 8 == 0)
			gva = (i / 8 % 2 ? 20ULL << 30 : 28ULL << 30) - 8 + (r & 8) * 2;
		assert_int_equal(stream_access(f[0]->m, gva, (r >> 13) & 1, false),
				 stream_access(f[1]->m, gva, (r >> 13) & 1, true));
	}
	assert_memory_equal(model_stats(f[0]->m), model_stats(f[1]->m), sizeof(struct model_stats));
	assert_true(model_stats(f[0]->m)->segment_l1 > 10000);
	assert_true(model_stats(f[0]->m)->miss.both > 2000);
	fx_free(f[0]);
	fx_free(f[1]);
}

/* A hit of model_segment_1g when its array's LRU clock is about to wrap:
 * the stamps are renumbered first, as the lookup does, and later fills
 * replace the least recently used entries. Six 1 GiB blocks for four
 * entries: the first four filled with the last stamps before the wrap, the
 * first hit at the wrap, then a sequence whose misses depend on the order
 * the renumbering kept (6 misses; 8 if the hit's stamp wrapped to 0);
 * through model_access and model_translate. */
static void segment_1g_path_clock_wrap(void **state)
{
	static const unsigned blocks[] = {0, 1, 2, 3, 0, 3, 4, 0, 5, 3};
	struct fx *f[2] = {fx_seg1g(), fx_seg1g()};

	for (unsigned k = 0; k < 2; k++) {
		f[k]->m->tlb.l1_of[TLB_1G]->clock = 0xffffffffu - 4;
		for (unsigned i = 0; i < ARRAY_SIZE(blocks); i++)
			assert_int_equal(stream_access(f[k]->m, (16ULL + blocks[i]) << 30 | 64,
						       false, k == 1),
					 0);
	}
	assert_non_null(f[0]->m->seg1g.array);
	assert_memory_equal(model_stats(f[0]->m), model_stats(f[1]->m), sizeof(struct model_stats));
	assert_int_equal(model_stats(f[0]->m)->l1_misses, 6);
	fx_free(f[0]);
	fx_free(f[1]);
}

/* model_access's recent hits when an LRU clock is about to wrap leave the
 * renumbering to the lookup: in every mode, twins of fx_speedup_twin (a
 * tiny TLB) with each L1 array's clock started 1 to 40 stamps before the
 * wrap (so that it wraps at every point of the stream, recent hits
 * included), the same stream through model_access and model_translate
 * counts the same. */
static void lru_clock_wrap_changes_no_count(void **state)
{
	static const u64 cols[4] = {VONLY, NEITH, GONLY, BOTH};

	for (unsigned i = 0; i < ARRAY_SIZE(all_modes); i++) {
		for (u32 before = 1; before <= 40; before++) {
			struct fx *f[2] = {fx_speedup_twin(all_modes[i]),
					   fx_speedup_twin(all_modes[i])};

			for (unsigned k = 0; k < 2; k++) {
				for (unsigned a = 0; a < TLB_L1_ARRAYS; a++)
					f[k]->m->tlb.l1[a].clock = 0xffffffffu - before;
				memo_rng = 99 + before;
				for (unsigned n = 0; n < 120; n++) {
					u64 gva = cols[memo_rnd() % 4] + (memo_rnd() % 6) * 0x1000;
					bool w = memo_rnd() & 1;

					if (stream_access(f[k]->m, gva, w, k == 1) == -DV_EFAULT)
						assert_int_equal(
							stream_access(f[k]->m, gva, false, k == 1),
							0);
				}
			}
			assert_memory_equal(model_stats(f[0]->m), model_stats(f[1]->m),
					    sizeof(struct model_stats));
			fx_free(f[0]);
			fx_free(f[1]);
		}
	}
}

/* The look-ahead (model_prefetch_far and model_prefetch_near) keeps, per
 * dimension, the level-2 table of the 1 GiB region it walked (its next
 * look-ahead there starts at it) and counts nothing; model_flush forgets
 * what it kept. */
static void look_ahead_keeps_level2_tables(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const struct model_ahead *g = &f->m->ahead[0][(NEITH >> 30) % MODEL_AHEAD_SLOTS],
				 *e = &f->m->ahead[1][(NEITH_GPA >> 30) % MODEL_AHEAD_SLOTS];
	struct model_stats before = *model_stats(f->m);

	assert_int_equal(g->key, 0);
	model_prefetch_far(f->m, NEITH);
	assert_int_equal(g->key, (NEITH >> 30) + 1);
	assert_int_equal(g->pd, ALIGN_DOWN(tentry(f->gm, f->groot, NEITH, 2), PAGE_SIZE));
	model_prefetch_near(f->m, NEITH);
	assert_int_equal(e->key, (NEITH_GPA >> 30) + 1);
	assert_int_equal(e->pd, ALIGN_DOWN(tentry(f->hm, EPT_ROOT, NEITH_GPA, 2), PAGE_SIZE));
	model_prefetch_near(f->m, NEITH + 0x1000);
	assert_memory_equal(model_stats(f->m), &before, sizeof(before));
	model_flush(f->m);
	assert_int_equal(g->key, 0);
	assert_int_equal(e->key, 0);
	fx_free(f);
}

/* In 2D paging the far look-ahead step guesses the gPA of an address in the
 * guest segment's range from the segment's offset (the fixture's guest
 * tables map that range so) and fetches its EPT entry at once, leaving the
 * near step nothing to do there; elsewhere, and in every mode a segment
 * translates in, the near step stays. A hint: no count changes. */
static void look_ahead_guesses_gpa_by_guest_segment(void **state)
{
	static const enum model_mode segmented[] = {MODEL_NATIVE, MODEL_NATIVE_DS,
						    MODEL_GUEST_DIRECT, MODEL_VMM_DIRECT,
						    MODEL_DUAL_DIRECT};
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	const struct model_ahead *e = &f->m->ahead[1][(GONLY_GPA >> 30) % MODEL_AHEAD_SLOTS];
	struct model_stats before = *model_stats(f->m);

	assert_true(model_prefetch_near_done(f->m, GONLY));
	assert_false(model_prefetch_near_done(f->m, NEITH));
	assert_int_equal(e->key, 0);
	/* The far step says whether the near one has work left. */
	assert_false(model_prefetch_far(f->m, GONLY));
	assert_true(model_prefetch_far(f->m, NEITH));
	assert_int_equal(e->key, (GONLY_GPA >> 30) + 1);
	assert_int_equal(e->pd, ALIGN_DOWN(tentry(f->hm, EPT_ROOT, GONLY_GPA, 2), PAGE_SIZE));
	assert_memory_equal(model_stats(f->m), &before, sizeof(before));
	fx_free(f);
	for (unsigned k = 0; k < ARRAY_SIZE(segmented); k++) {
		f = fx_new(segmented[k], TABLES_OUT);
		assert_false(model_prefetch_near_done(f->m, GONLY));
		/* No nested walk after the guest's: natively, or where the
		 * guest segment translates. */
		if (segmented[k] == MODEL_NATIVE || segmented[k] == MODEL_NATIVE_DS)
			assert_false(model_prefetch_far(f->m, NEITH));
		if (segmented[k] != MODEL_VMM_DIRECT)
			assert_false(model_prefetch_far(f->m, GONLY));
		fx_free(f);
	}
}

/* Point the level-3 entry for a in the tables at root to the one a new
 * tree maps a to pa with (its own level-2 and level-1 tables), as a caller
 * replacing a table would; the caller then flushes. */
static void repoint_level3(struct tmem *tm, u64 root, u64 a, u64 pa, bool ept)
{
	u64 other = tmem_alloc(tm);

	if (ept)
		tmap_ept(tm, other, a, pa, 1);
	else
		tmap_x86(tm, other, a, pa, 1);
	tmem_write(tm, tentry(tm, root, a, 3), tmem_read(tm, tentry(tm, other, a, 3)));
}

/* The fast walkers' memory of upper levels (model_upper) is forgotten as
 * the paging-structure caches are: after a level-3 entry is pointed at
 * another level-2 table, the guest's natively (then INVLPG of the page,
 * model_flush_page, or model_flush) or EPT's under virtualization (then
 * model_flush), a walk of that 1 GiB region reads the new table. */
static void upper_memory_forgotten_by_flush(void **state)
{
	for (unsigned k = 0; k < 2; k++) {
		struct fx *f = fx_new(MODEL_NATIVE, TABLES_IN);
		u64 moved = NEITH_GPA + 0x40000 * (k + 1);

		assert_int_equal(xl(f, NEITH).pa, NEITH_GPA);
		repoint_level3(f->gm, f->groot, NEITH, moved, false);
		if (k == 0)
			model_flush(f->m);
		else
			model_flush_page(f->m, NEITH);
		assert_int_equal(xl(f, NEITH).pa, moved);
		fx_free(f);
	}

	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_IN);

	assert_int_equal(xl(f, NEITH).pa, NEITH_GPA + HOFF);
	repoint_level3(f->hm, EPT_ROOT, NEITH_GPA, NEITH_GPA + HOFF + 0x40000, true);
	model_flush(f->m);
	assert_int_equal(xl(f, NEITH).pa, NEITH_GPA + HOFF + 0x40000);
	fx_free(f);
}

static void walk_memo_changes_no_count(void **state)
{
	struct model_memo_slot *slots = calloc(64, sizeof(*slots)); /* small: collisions */

	for (unsigned i = 0; i < ARRAY_SIZE(all_modes); i++) {
		struct fx *a = fx_speedup_twin(all_modes[i]), *b = fx_speedup_twin(all_modes[i]);

		assert_int_equal(model_set_memo(b->m, slots, 64), 0);
		expect_same_counts(a, b, 42 + i);
		assert_true(model_stats(b->m)->walks > 5000);
		fx_free(a);
		fx_free(b);
	}
	free(slots);
}

/* Point the guest's PDE of NEITH's 2 MiB block at a new leaf table that maps
 * its first 48 pages 64 pages further on in gPA (mapped in EPT, as is the
 * new table page), as a guest rebuilding its tables would; the caller then
 * flushes. */
static void repoint_neith_block(struct fx *f)
{
	u64 pde = tentry(f->gm, f->groot, NEITH, 2), pt = tmem_alloc(f->gm);

	for (u64 k = 0; k < 48; k++) {
		tmem_write(f->gm, pt + k * 8, (NEITH_GPA + (64 + k) * 0x1000) | T_X86_LEAF);
		fx_map_ept(f, NEITH_GPA + (64 + k) * 0x1000, 1);
	}
	tmem_write(f->gm, pde, pt | T_X86_TABLE);
	for (; f->ept_done < f->gm->n; f->ept_done++)
		fx_map_ept(f, f->gm->pa[f->ept_done], 1);
}

/* The path cache (the fast walkers start at the leaf table of a block they
 * walked before) changes no count, in every mode, with a cache of 4 slots
 * (blocks collide) and the stream's flushes; and a flush
 * forgets a way the tables no longer take: after NEITH's PDE is pointed at
 * another leaf table, walks read the new one. */
static void path_cache_changes_no_count(void **state)
{
	struct model_path_slot *slots = calloc(4, sizeof(*slots));

	for (unsigned i = 0; i < ARRAY_SIZE(all_modes); i++) {
		struct fx *a = fx_speedup_twin(all_modes[i]), *b = fx_speedup_twin(all_modes[i]);
		struct model_xlat x;

		assert_int_equal(model_set_path_cache(b->m, slots, 4), 0);
		expect_same_counts(a, b, 7 + i);
		assert_true(model_stats(b->m)->walks > 5000);

		repoint_neith_block(a);
		repoint_neith_block(b);
		model_flush(a->m);
		model_flush(b->m);
		assert_int_equal(model_translate(b->m, NEITH + 3 * 0x1000, WALK_ACC_USER, &x), 0);
		if (all_modes[i] == MODEL_NATIVE || all_modes[i] == MODEL_NATIVE_DS)
			assert_int_equal(x.pa, NEITH_GPA + 67 * 0x1000);
		else
			assert_int_equal(x.gpa, NEITH_GPA + 67 * 0x1000);
		assert_int_equal(model_translate(a->m, NEITH + 3 * 0x1000, WALK_ACC_USER, &x), 0);
		expect_same_counts(a, b, 99 + i);
		fx_free(a);
		fx_free(b);
	}
	free(slots);
}

/* The walk memo, the table cache and the path cache take a power of two of
 * slots, or none (NULL turns them off). */
static void caches_reject_bad_sizes(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	struct model_memo_slot memo[8];
	struct model_tcache_slot tc[8];
	struct model_path_slot path[8];
	static const u64 sizes[] = {6, 0, 8};

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		int want = sizes[i] == 8 ? 0 : -DV_EINVAL;

		assert_int_equal(model_set_memo(f->m, memo, sizes[i]), want);
		assert_int_equal(model_set_table_cache(f->m, tc, sizes[i]), want);
		assert_int_equal(model_set_path_cache(f->m, path, sizes[i]), want);
	}
	assert_int_equal(model_set_memo(f->m, NULL, 0), 0);
	assert_int_equal(model_set_table_cache(f->m, NULL, 0), 0);
	assert_int_equal(model_set_path_cache(f->m, NULL, 0), 0);
	fx_free(f);
}

/* ==== Configuration ============================================================== */

static void bad_configurations_are_refused(void **state)
{
	struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
	struct model_config c = f->c;
	struct segment bad = {0x2000, 0x1000, 0};

	c.gseg = (struct segment){0x1000, 0x2800, 0}; /* limit not 4 KiB aligned */
	assert_int_equal(model_init(f->m, &c), -DV_EINVAL);
	c = f->c;
	c.vseg = bad; /* base > limit */
	assert_int_equal(model_init(f->m, &c), -DV_EINVAL);
	c = f->c;
	c.mode = MODEL_MODES;
	assert_int_equal(model_init(f->m, &c), -DV_EINVAL);
	c = f->c;
	c.escape_bits = 0;
	assert_int_equal(model_init(f->m, &c), -DV_EINVAL);
	assert_int_equal(model_set_segments(f->m, &bad, &bad), -DV_EINVAL);
	fx_free(f);
}

static void mode_names_round_trip(void **state)
{
	enum model_mode m;

	assert_string_equal(model_mode_name(MODEL_VMM_DIRECT), "vmm-direct");
	assert_int_equal(model_mode_parse("guest-direct", &m), 0);
	assert_int_equal(m, MODEL_GUEST_DIRECT);
	assert_int_equal(model_mode_parse("native-ds", &m), 0);
	assert_int_equal(m, MODEL_NATIVE_DS);
	assert_int_equal(model_mode_parse("dual", &m), -DV_EINVAL);
}

/* The fast walkers take an EPT entry exactly where the generic ones do. On
 * NEITH's data walk (4 KiB pages), one entry at a time is changed: bits
 * that make it misconfigured at its level, a read it does not allow, or
 * bits that are fine. Both walkers run on every walk (MODEL_FAST_CHECK);
 * they must agree (a fast walk that accepts what the generic one faults
 * on is a mismatch), and the access faults exactly as SDM Vol. 3C 29.3.3
 * says. */
static void fast_walkers_judge_ept_entries_as_the_generic_ones(void **state)
{
	static const struct {
		unsigned lvl;
		u64 clear, set;
		bool faults;
	} cases[] = {
		{1, 0, 0, false},
		{1, EPT_R, 0, true},			/* W without R */
		{1, EPT_R | EPT_W, 0, true},		/* execute-only: no read */
		{1, EPT_W | EPT_X, 0, false},		/* read-only */
		{1, EPT_MEMTYPE_MASK, 2ULL << 3, true}, /* memory types 2, 3, 7 */
		{1, EPT_MEMTYPE_MASK, 3ULL << 3, true},
		{1, EPT_MEMTYPE_MASK, 7ULL << 3, true},
		{1, EPT_MEMTYPE_MASK, 0, false}, /* UC, WT, WP */
		{1, EPT_MEMTYPE_MASK, 4ULL << 3, false},
		{1, EPT_MEMTYPE_MASK, 5ULL << 3, false},
		{1, 0, EPT_IGNORE_PAT, false},
		{1, 0, 1ULL << 50, true}, /* above MAXPHYADDR */
		{2, EPT_R, 0, true},
		{2, EPT_X, 0, false},
		{2, 0, 1ULL << 3, true}, /* bits 6:3 of a table entry */
		{2, 0, 1ULL << 6, true},
		{2, 0, 1ULL << 50, true},
		{3, EPT_R, 0, true},
		{3, 0, 1ULL << 5, true},
		{3, EPT_W, 0, false},
		{4, EPT_R, 0, true},
		{4, 0, EPT_PS, true}, /* bit 7 of a PML4E */
		{4, 0, 1ULL << 4, true},
		{4, 0, 1ULL << 51, true},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fx *f = fx_new(MODEL_BASE_VIRT, TABLES_OUT);
		u64 slot = tentry(f->hm, EPT_ROOT, NEITH_GPA, cases[i].lvl), checked;

		tmem_write(f->hm, slot, (*tmem_find(f->hm, slot) & ~cases[i].clear) | cases[i].set);
		model_set_fast(f->m, MODEL_FAST_CHECK);
		assert_int_equal(model_access(f->m, NEITH, false) != 0, cases[i].faults);
		assert_int_equal(model_fast_mismatches(f->m, &checked), 0);
		/* Where the access succeeds, the fast walker walked too. */
		if (!cases[i].faults)
			assert_true(checked > 0);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table1_l1_hit_both),
		cmocka_unit_test(table1_l1_hit_vmm_only),
		cmocka_unit_test(table1_l1_hit_guest_only),
		cmocka_unit_test(table1_l1_hit_neither),
		cmocka_unit_test(table1_l1_miss_both),
		cmocka_unit_test(table1_l1_miss_vmm_only),
		cmocka_unit_test(table1_l1_miss_guest_only),
		cmocka_unit_test(table1_l1_miss_neither),
		cmocka_unit_test(table1_l2_hit_vmm_only),
		cmocka_unit_test(table1_l2_hit_guest_only),
		cmocka_unit_test(table1_l2_hit_neither),
		cmocka_unit_test(table1_l2_and_walker_rows_never_reached_for_both),
		cmocka_unit_test(table1_l2_miss_vmm_only),
		cmocka_unit_test(table1_l2_miss_guest_only),
		cmocka_unit_test(table1_l2_miss_neither),
		cmocka_unit_test(table1_ptw_gva_vmm_only),
		cmocka_unit_test(table1_ptw_gva_guest_only),
		cmocka_unit_test(table1_ptw_gva_neither),
		cmocka_unit_test(table1_ptw_gpa_vmm_only),
		cmocka_unit_test(table1_ptw_gpa_vmm_only_tables_outside),
		cmocka_unit_test(table1_ptw_gpa_guest_only),
		cmocka_unit_test(table1_ptw_gpa_neither),
		cmocka_unit_test(table1_ptw_gpa_neither_tables_in_vmm_segment),
		cmocka_unit_test(table1_ptw_end_vmm_only),
		cmocka_unit_test(table1_ptw_end_guest_only),
		cmocka_unit_test(table1_ptw_end_neither),
		cmocka_unit_test(native_walks_cost_4_3_2_refs),
		cmocka_unit_test(native_direct_segment_costs_0_refs_inside),
		cmocka_unit_test(base_virtualized_4k_4k_costs_24_refs),
		cmocka_unit_test(base_virtualized_large_pages),
		cmocka_unit_test(dual_direct_costs_0_refs_when_both_segments_hit),
		cmocka_unit_test(vmm_direct_costs_4_refs),
		cmocka_unit_test(guest_direct_costs_4_refs),
		cmocka_unit_test(guest_direct_outside_guest_segment_costs_24_refs),
		cmocka_unit_test(disabling_a_segment_turns_dual_direct_into_the_others),
		cmocka_unit_test(set_mode_flushes_and_switches),
		cmocka_unit_test(escaped_data_page_is_walked_in_vmm_direct),
		cmocka_unit_test(escaped_page_is_never_translated_by_the_segment),
		cmocka_unit_test(escaped_page_in_dual_direct_takes_the_guest_only_path),
		cmocka_unit_test(escaped_guest_table_page_is_walked),
		cmocka_unit_test(false_positive_walks_and_is_counted),
		cmocka_unit_test(not_present_fault_then_lazy_map_counts_as_if_mapped),
		cmocka_unit_test(nested_fault_on_a_table_names_the_table),
		cmocka_unit_test(write_to_read_only_page_faults_after_a_read_hit),
		cmocka_unit_test(tlb_rights_answer_as_the_walk),
		cmocka_unit_test(noncanonical_access_faults),
		cmocka_unit_test(combined_entry_is_the_smaller_page),
		cmocka_unit_test(fast_path_counts_accesses_and_l1_hits),
		cmocka_unit_test(pwc_off_by_default),
		cmocka_unit_test(pwc_shortens_the_next_walk),
		cmocka_unit_test(pwc_and_nested_tlb_shorten_2d_walks),
		cmocka_unit_test(misses_are_classified_by_segment),
		cmocka_unit_test(base_mode_classifies_without_using_segments),
		cmocka_unit_test(segment_1g_path_changes_no_count),
		cmocka_unit_test(fast_walkers_judge_ept_entries_as_the_generic_ones),
		cmocka_unit_test(segment_1g_path_clock_wrap),
		cmocka_unit_test(lru_clock_wrap_changes_no_count),
		cmocka_unit_test(look_ahead_keeps_level2_tables),
		cmocka_unit_test(look_ahead_guesses_gpa_by_guest_segment),
		cmocka_unit_test(upper_memory_forgotten_by_flush),
		cmocka_unit_test(walk_memo_changes_no_count),
		cmocka_unit_test(l1_hit_shortcuts_change_no_count),
		cmocka_unit_test(path_cache_changes_no_count),
		cmocka_unit_test(caches_reject_bad_sizes),
		cmocka_unit_test(bad_configurations_are_refused),
		cmocka_unit_test(mode_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
