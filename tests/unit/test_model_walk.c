/* mm/model/walk.c against page tables built by hand: reference counts of
 * native, EPT and 2D walks, faults like the hardware's (SDM Vol. 3A 4.7, Vol.
 * 3C 29.3.3), and a differential test against a deliberately simple second
 * walker written here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "mm/model/walk.h"
#include "test_model_tables.h"

static const struct walk_env env46 = {.maxphyaddr = 46, .nxe = true, .wp = true};

#define USER  WALK_ACC_USER
#define WRITE WALK_ACC_WRITE
#define EXEC  WALK_ACC_EXEC

/* Tables of the native tests: root at 0x1000, tables from 0x2000. */
struct native {
	struct tmem *m;
	struct walk_tables t;
};

static struct native native_new(void)
{
	struct native n;

	n.m = tmem_new(0x2000);
	tmem_page_at(n.m, 0x1000);
	n.t = tmem_tables(n.m, 0x1000);
	return n;
}

static int nwalk(struct native *n, u64 va, u32 acc, struct walk_refs *r, struct walk_leaf *l,
		 struct walk_fault *f)
{
	*r = (struct walk_refs){0};
	return walk_x86(&n->t, va, acc, &env46, NULL, r, l, f);
}

/* ---- native reference counts ---------------------------------------------- */

static void native_4k_miss_costs_4_refs(void **state)
{
	struct native n = native_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;

	tmap_x86(n.m, 0x1000, 0x00007f1234567000ULL, 0xabcde000ULL, 1);
	assert_int_equal(nwalk(&n, 0x00007f1234567abcULL, USER, &r, &l, &f), 0);
	assert_int_equal(r.total, 4);
	for (unsigned lvl = 1; lvl <= 4; lvl++)
		assert_int_equal(r.n[WALK_REF(WALK_REF_GUEST, lvl)], 1);
	assert_int_equal(l.pa, 0xabcdeabcULL);
	assert_int_equal(l.shift, 12);
	assert_int_equal(l.level, 1);
	assert_int_equal(n.m->reads, 4);
	tmem_free(n.m);
}

static void native_2m_miss_costs_3_refs(void **state)
{
	struct native n = native_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;

	tmap_x86(n.m, 0x1000, 0x40000000ULL, 0x80000000ULL, 2);
	assert_int_equal(nwalk(&n, 0x40123456ULL, USER, &r, &l, &f), 0);
	assert_int_equal(r.total, 3);
	assert_int_equal(r.n[WALK_REF(WALK_REF_GUEST, 1)], 0);
	assert_int_equal(l.pa, 0x80123456ULL);
	assert_int_equal(l.shift, 21);
	assert_int_equal(l.level, 2);
	tmem_free(n.m);
}

static void native_1g_miss_costs_2_refs(void **state)
{
	struct native n = native_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;

	tmap_x86(n.m, 0x1000, 0x8000000000ULL, 0x1c0000000ULL, 3);
	assert_int_equal(nwalk(&n, 0x8012345678ULL, USER, &r, &l, &f), 0);
	assert_int_equal(r.total, 2);
	assert_int_equal(l.pa, 0x1d2345678ULL);
	assert_int_equal(l.shift, 30);
	assert_int_equal(l.level, 3);
	tmem_free(n.m);
}

static void flat_accessor_reads_like_the_callback(void **state)
{
	u64 *flat = calloc(4, 4096);
	struct walk_tables t = {.root = 0, .flat = (const u8 *)flat, .flat_size = 4 * 4096};
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;

	/* PML4 at 0, PDPT at 0x1000, PD at 0x2000 with a 2 MiB leaf. */
	flat[0] = 0x1000 | T_X86_TABLE;
	flat[512 + 0] = 0x2000 | T_X86_TABLE;
	flat[1024 + 3] = 0x600000 | T_X86_LEAF | X86_PTE_PS;
	assert_int_equal(walk_x86(&t, 0x654321, USER, &env46, NULL, &r, &l, &f), 0);
	assert_int_equal(l.pa, 0x654321);
	assert_int_equal(r.total, 3);
	free(flat);
}

/* ---- native faults ----------------------------------------------------------- */

/* Clearing the entry of level lvl makes the walk stop there with a not-present
 * #PF after 5 - lvl reads; the error code has P = 0 and says user write. */
static void check_not_present_at(unsigned lvl)
{
	struct native n = native_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;
	u64 va = 0x00001234567ff000ULL & 0x00007fffffffffffULL;

	tmap_x86(n.m, 0x1000, va, 0x5000000, 1);
	tmem_write(n.m, tentry(n.m, 0x1000, va, lvl), 0);
	assert_int_equal(nwalk(&n, va, USER | WRITE, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NOT_PRESENT);
	assert_int_equal(f.stage, WALK_STAGE_GUEST);
	assert_int_equal(f.level, lvl);
	assert_int_equal(f.va, va);
	assert_int_equal(f.error_code, WALK_PF_W | WALK_PF_U);
	assert_int_equal(r.total, 5 - lvl);
	tmem_free(n.m);
}

static void not_present_pml4e(void **state)
{
	check_not_present_at(4);
}

static void not_present_pdpte(void **state)
{
	check_not_present_at(3);
}

static void not_present_pde(void **state)
{
	check_not_present_at(2);
}

static void not_present_pte(void **state)
{
	check_not_present_at(1);
}

/* Set bits in the entry of level lvl of a mapping with a leaf at leaf_lvl;
 * return the fault kind (WALK_OK if the walk succeeded). */
static int walk_with_bits(unsigned leaf_lvl, unsigned lvl, u64 bits, const struct walk_env *env,
			  struct walk_fault *f)
{
	struct native n = native_new();
	struct walk_refs r = {0};
	struct walk_leaf l;
	u64 va = 0x40000000ULL, e;
	int err;

	tmap_x86(n.m, 0x1000, va, 0x80000000ULL, leaf_lvl);
	e = tentry(n.m, 0x1000, va, lvl);
	tmem_write(n.m, e, *tmem_find(n.m, e) | bits);
	*f = (struct walk_fault){0};
	err = walk_x86(&n.t, va, USER, env, NULL, &r, &l, f);
	tmem_free(n.m);
	return err ? f->kind : WALK_OK;
}

static void reserved_physical_address_bits(void **state)
{
	struct walk_fault f;

	/* MAXPHYADDR 46: bits 51:46 are reserved at every level. */
	assert_int_equal(walk_with_bits(1, 1, 1ULL << 46, &env46, &f), WALK_RESERVED);
	assert_int_equal(f.level, 1);
	assert_int_equal(f.error_code, WALK_PF_P | WALK_PF_RSVD | WALK_PF_U);
	assert_int_equal(walk_with_bits(1, 4, 1ULL << 51, &env46, &f), WALK_RESERVED);
	assert_int_equal(f.level, 4);
	/* Bit 45 is an address bit with MAXPHYADDR 46. */
	assert_int_equal(walk_with_bits(1, 2, 1ULL << 45, &env46, &f), WALK_NOT_PRESENT);
}

static void reserved_ps_in_pml4e(void **state)
{
	struct walk_fault f;

	assert_int_equal(walk_with_bits(1, 4, X86_PTE_PS, &env46, &f), WALK_RESERVED);
	assert_int_equal(f.level, 4);
}

static void reserved_low_bits_of_large_leaves(void **state)
{
	struct walk_fault f;

	/* 2 MiB leaf: bits 20:13 reserved, bit 12 is PAT. */
	assert_int_equal(walk_with_bits(2, 2, 1ULL << 13, &env46, &f), WALK_RESERVED);
	assert_int_equal(walk_with_bits(2, 2, 1ULL << 20, &env46, &f), WALK_RESERVED);
	assert_int_equal(walk_with_bits(2, 2, X86_PTE_PAT_LARGE, &env46, &f), WALK_OK);
	/* 1 GiB leaf: bits 29:13 reserved. */
	assert_int_equal(walk_with_bits(3, 3, 1ULL << 29, &env46, &f), WALK_RESERVED);
	assert_int_equal(f.level, 3);
	assert_int_equal(walk_with_bits(3, 3, X86_PTE_PAT_LARGE, &env46, &f), WALK_OK);
	/* A 4 KiB leaf has no such bits: 20:13 are address bits. */
	assert_int_equal(walk_with_bits(1, 1, 1ULL << 13, &env46, &f), WALK_OK);
}

static void xd_is_reserved_without_nxe(void **state)
{
	struct walk_env no_nxe = env46;
	struct walk_fault f;

	no_nxe.nxe = false;
	assert_int_equal(walk_with_bits(1, 3, X86_PTE_NX, &no_nxe, &f), WALK_RESERVED);
	assert_int_equal(walk_with_bits(1, 3, X86_PTE_NX, &env46, &f), WALK_OK);
}

/* ---- native permissions ------------------------------------------------------- */

static int perm_walk(unsigned lvl, u64 clear, u64 set, u32 acc, const struct walk_env *env,
		     struct walk_leaf *l, struct walk_fault *f)
{
	struct native n = native_new();
	struct walk_refs r = {0};
	u64 va = 0x7000ULL, e;
	int err;

	tmap_x86(n.m, 0x1000, va, 0x9000ULL, 1);
	e = tentry(n.m, 0x1000, va, lvl);
	tmem_write(n.m, e, (*tmem_find(n.m, e) & ~clear) | set);
	*f = (struct walk_fault){0};
	err = walk_x86(&n.t, va, acc, env, NULL, &r, l, f);
	assert_int_equal(r.total, 4); /* rights are checked after the whole walk */
	tmem_free(n.m);
	return err ? f->kind : WALK_OK;
}

static void user_access_to_supervisor_page_faults(void **state)
{
	struct walk_leaf l;
	struct walk_fault f;

	assert_int_equal(perm_walk(2, X86_PTE_US, 0, USER, &env46, &l, &f), WALK_PROTECTION);
	assert_int_equal(f.error_code, WALK_PF_P | WALK_PF_U);
	assert_int_equal(f.level, 1);
	assert_int_equal(perm_walk(2, X86_PTE_US, 0, 0, &env46, &l, &f), WALK_OK);
	assert_int_equal(l.rights & X86_PTE_US, 0);
}

static void write_to_read_only_page_faults(void **state)
{
	struct walk_env no_wp = env46;
	struct walk_leaf l;
	struct walk_fault f;

	no_wp.wp = false;
	assert_int_equal(perm_walk(3, X86_PTE_RW, 0, USER | WRITE, &env46, &l, &f),
			 WALK_PROTECTION);
	assert_int_equal(f.error_code, WALK_PF_P | WALK_PF_W | WALK_PF_U);
	assert_int_equal(perm_walk(3, X86_PTE_RW, 0, USER, &env46, &l, &f), WALK_OK);
	/* Supervisor writes ignore R/W when CR0.WP = 0. */
	assert_int_equal(perm_walk(1, X86_PTE_RW, 0, WRITE, &no_wp, &l, &f), WALK_OK);
	assert_int_equal(perm_walk(1, X86_PTE_RW, 0, WRITE, &env46, &l, &f), WALK_PROTECTION);
}

static void fetch_from_xd_page_faults(void **state)
{
	struct walk_leaf l;
	struct walk_fault f;

	assert_int_equal(perm_walk(4, 0, X86_PTE_NX, USER | EXEC, &env46, &l, &f), WALK_PROTECTION);
	assert_int_equal(f.error_code, WALK_PF_P | WALK_PF_U | WALK_PF_I);
	assert_int_equal(perm_walk(4, 0, X86_PTE_NX, USER, &env46, &l, &f), WALK_OK);
	assert_true(l.rights & X86_PTE_NX);
}

static void noncanonical_address_faults_without_reading(void **state)
{
	struct native n = native_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;

	assert_int_equal(nwalk(&n, 0x0000800000000000ULL, USER, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NONCANONICAL);
	assert_int_equal(r.total, 0);
	assert_int_equal(nwalk(&n, 0xfff0000000000000ULL, USER, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NONCANONICAL);
	/* The top of the upper half is canonical: an empty PML4 says not present. */
	assert_int_equal(nwalk(&n, 0xffff800000000000ULL, USER, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NOT_PRESENT);
	assert_int_equal(f.level, 4);
	tmem_free(n.m);
}

/* ---- EPT --------------------------------------------------------------------------- */

struct ept {
	struct tmem *m;
	struct walk_tables t;
};

static struct ept ept_new(void)
{
	struct ept e;

	e.m = tmem_new(0x10002000ULL);
	tmem_page_at(e.m, 0x10001000ULL);
	e.t = tmem_tables(e.m, 0x10001000ULL);
	return e;
}

static void ept_leaf_sizes_cost_4_3_2_refs(void **state)
{
	struct ept e = ept_new();
	struct walk_refs r;
	struct walk_leaf l;
	struct walk_fault f;

	tmap_ept(e.m, 0x10001000ULL, 0x1000, 0x77000, 1);
	tmap_ept(e.m, 0x10001000ULL, 0x40000000ULL, 0x600000000ULL, 2);
	tmap_ept(e.m, 0x10001000ULL, 0x8000000000ULL, 0x800000000ULL, 3);
	r = (struct walk_refs){0};
	assert_int_equal(walk_ept(&e.t, 0x1234, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f), 0);
	assert_int_equal(r.total, 4);
	assert_int_equal(r.n[WALK_REF(WALK_REF_FINAL, 1)], 1);
	assert_int_equal(l.pa, 0x77234);
	r = (struct walk_refs){0};
	assert_int_equal(
		walk_ept(&e.t, 0x40054321ULL, WRITE, &env46, WALK_REF_NESTED, NULL, &r, &l, &f), 0);
	assert_int_equal(r.total, 3);
	assert_int_equal(r.n[WALK_REF(WALK_REF_NESTED, 2)], 1);
	assert_int_equal(l.pa, 0x600054321ULL);
	r = (struct walk_refs){0};
	assert_int_equal(
		walk_ept(&e.t, 0x8000000042ULL, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f), 0);
	assert_int_equal(r.total, 2);
	assert_int_equal(l.pa, 0x800000042ULL);
	assert_int_equal(l.shift, 30);
	tmem_free(e.m);
}

static void ept_violation_when_not_present(void **state)
{
	struct ept e = ept_new();
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;

	tmap_ept(e.m, 0x10001000ULL, 0x1000, 0x77000, 1);
	assert_int_equal(walk_ept(&e.t, 0x3000, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NOT_PRESENT);
	assert_int_equal(f.stage, WALK_STAGE_NESTED);
	assert_int_equal(f.level, 1);
	assert_int_equal(f.pa, 0x3000);
	assert_int_equal(f.error_code, WALK_EPT_QUAL_READ);
	tmem_free(e.m);
}

static void ept_misconfigurations(void **state)
{
	struct ept e = ept_new();
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;
	u64 slot;

	tmap_ept(e.m, 0x10001000ULL, 0x1000, 0x77000, 1);
	slot = tentry(e.m, 0x10001000ULL, 0x1000, 1);
	/* Write without read. SDM Vol. 3C 29.3.3.1. */
	tmem_write(e.m, slot, 0x77000 | EPT_W | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
	assert_int_equal(walk_ept(&e.t, 0x1000, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.kind, WALK_RESERVED);
	assert_int_equal(f.level, 1);
	/* Memory type 2 is reserved. */
	tmem_write(e.m, slot, 0x77000 | EPT_RWX | (2ULL << EPT_MEMTYPE_SHIFT));
	assert_int_equal(walk_ept(&e.t, 0x1000, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.kind, WALK_RESERVED);
	/* PS (bit 7) is reserved in an EPT PML4E. */
	tmem_write(e.m, slot, 0x77000 | T_EPT_LEAF);
	slot = tentry(e.m, 0x10001000ULL, 0x1000, 4);
	tmem_write(e.m, slot, *tmem_find(e.m, slot) | EPT_PS);
	assert_int_equal(walk_ept(&e.t, 0x1000, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.kind, WALK_RESERVED);
	assert_int_equal(f.level, 4);
	tmem_free(e.m);
}

static void ept_write_to_read_only_page(void **state)
{
	struct ept e = ept_new();
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;

	tmap(e.m, 0x10001000ULL, 0x1000, 0x77000, 1, T_EPT_TABLE,
	     EPT_R | EPT_X | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
	assert_int_equal(walk_ept(&e.t, 0x1000, 0, &env46, WALK_REF_FINAL, NULL, &r, &l, &f), 0);
	assert_int_equal(walk_ept(&e.t, 0x1000, WRITE, &env46, WALK_REF_FINAL, NULL, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.kind, WALK_PROTECTION);
	/* Write access (bit 1), rights R and X granted (bits 3 and 5). */
	assert_int_equal(f.error_code, 0x2a);
	tmem_free(e.m);
}

/* ---- 2D walks ---------------------------------------------------------------------- */

/* A guest mapping gVA -> gPA 0x40000000 with a guest leaf at level g, guest
 * tables at gPA 0x100000.., and EPT leaves at level h for every guest table
 * page and the data: hPA = gPA + 8 GiB. */
struct twod {
	struct tmem *gm, *hm;
	struct walk_tables g, h;
};

#define GVA  0x00007f8040000000ULL /* 1 GiB aligned */
#define GPA  0x40000000ULL
#define HOFF 0x200000000ULL

static struct twod twod_new(unsigned g_lvl, unsigned h_lvl)
{
	struct twod d;

	d.gm = tmem_new(0x101000);
	d.hm = tmem_new(0x10002000ULL);
	tmem_page_at(d.gm, 0x100000);
	tmem_page_at(d.hm, 0x10001000ULL);
	tmap_x86(d.gm, 0x100000, GVA, GPA, g_lvl);
	for (unsigned i = 0; i < d.gm->n; i++) {
		u64 gpa = d.gm->pa[i];
		u64 sz = PT_LEVEL_SIZE(h_lvl);

		tmap_ept(d.hm, 0x10001000ULL, ALIGN_DOWN(gpa, sz), ALIGN_DOWN(gpa, sz) + HOFF,
			 h_lvl);
	}
	tmap_ept(d.hm, 0x10001000ULL, GPA, GPA + HOFF, h_lvl);
	d.g = tmem_tables(d.gm, 0x100000);
	d.h = tmem_tables(d.hm, 0x10001000ULL);
	return d;
}

static void twod_free(struct twod *d)
{
	tmem_free(d->gm);
	tmem_free(d->hm);
}

/* Walk GVA + 0x234 and return the references. */
static unsigned twod_refs(unsigned g_lvl, unsigned h_lvl, struct walk_refs *r)
{
	struct twod d = twod_new(g_lvl, h_lvl);
	struct walk_leaf l;
	struct walk_fault f;

	*r = (struct walk_refs){0};
	assert_int_equal(walk_2d(&d.g, &d.h, GVA + 0x234, USER, &env46, r, &l, &f), 0);
	assert_int_equal(l.pa, GPA + HOFF + 0x234);
	assert_int_equal(l.gpa, GPA + 0x234);
	assert_int_equal(l.shift, MIN(PAGE_SHIFT + 9 * (g_lvl - 1), PAGE_SHIFT + 9 * (h_lvl - 1)));
	twod_free(&d);
	return r->total;
}

/* With g guest levels and h nested levels, each of the g guest table reads
 * needs an h-step nested walk first, and so does the final gPA:
 * g + (g + 1) h = (g + 1)(h + 1) - 1 references. Written out per pair. */
static void base_4k_4k_costs_24_refs(void **state)
{
	struct walk_refs r;

	/* 4 guest reads + 5 nested walks of 4 = 24 */
	assert_int_equal(twod_refs(1, 1, &r), 24);
	for (unsigned lvl = 1; lvl <= 4; lvl++) {
		assert_int_equal(r.n[WALK_REF(WALK_REF_GUEST, lvl)], 1);
		assert_int_equal(r.n[WALK_REF(WALK_REF_NESTED, lvl)], 4);
		assert_int_equal(r.n[WALK_REF(WALK_REF_FINAL, lvl)], 1);
	}
}

static void base_2m_2m_costs_15_refs(void **state)
{
	struct walk_refs r;

	/* 3 guest reads (PML4E, PDPTE, PDE leaf) + 4 nested walks of 3 = 15 */
	assert_int_equal(twod_refs(2, 2, &r), 15);
	assert_int_equal(r.n[WALK_REF(WALK_REF_NESTED, 1)], 0);
	assert_int_equal(r.n[WALK_REF(WALK_REF_NESTED, 2)], 3);
	assert_int_equal(r.n[WALK_REF(WALK_REF_FINAL, 2)], 1);
}

static void base_1g_1g_costs_8_refs(void **state)
{
	struct walk_refs r;

	/* 2 guest reads + 3 nested walks of 2 = 8 */
	assert_int_equal(twod_refs(3, 3, &r), 8);
}

static void base_mixed_pairs(void **state)
{
	struct walk_refs r;

	/* guest 4K, EPT 2M: 4 + 5 * 3 = 19 */
	assert_int_equal(twod_refs(1, 2, &r), 19);
	/* guest 2M, EPT 4K: 3 + 4 * 4 = 19 */
	assert_int_equal(twod_refs(2, 1, &r), 19);
	/* guest 4K, EPT 1G: 4 + 5 * 2 = 14 */
	assert_int_equal(twod_refs(1, 3, &r), 14);
	/* guest 1G, EPT 4K: 2 + 3 * 4 = 14 */
	assert_int_equal(twod_refs(3, 1, &r), 14);
	/* guest 2M, EPT 1G: 3 + 4 * 2 = 11 */
	assert_int_equal(twod_refs(2, 3, &r), 11);
	/* guest 1G, EPT 2M: 2 + 3 * 3 = 11 */
	assert_int_equal(twod_refs(3, 2, &r), 11);
}

static void nested_fault_on_a_guest_table(void **state)
{
	struct twod d = twod_new(1, 1);
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;
	u64 pdpt = *tmem_find(d.gm, tentry(d.gm, 0x100000, GVA, 4)) & PTE_ADDR_MASK;

	/* Unmap the guest PDPT page in EPT. */
	tmem_write(d.hm, tentry(d.hm, 0x10001000ULL, pdpt, 1), 0);
	assert_int_equal(walk_2d(&d.g, &d.h, GVA, USER, &env46, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.kind, WALK_NOT_PRESENT);
	assert_int_equal(f.stage, WALK_STAGE_NESTED);
	assert_true(f.on_table);
	assert_int_equal(f.level, 1);
	assert_int_equal(f.pa, pdpt + PT_INDEX(GVA, 3) * 8);
	assert_int_equal(f.va, GVA);
	assert_int_equal(f.error_code, WALK_EPT_QUAL_READ | WALK_EPT_QUAL_GLA_VALID);
	/* PML4: nested walk (4) + read (1); PDPT: nested walk faulting at its 4th read. */
	assert_int_equal(r.total, 9);
	twod_free(&d);
}

static void nested_fault_on_the_final_gpa(void **state)
{
	struct twod d = twod_new(1, 1);
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;

	tmem_write(d.hm, tentry(d.hm, 0x10001000ULL, GPA, 1), 0);
	assert_int_equal(walk_2d(&d.g, &d.h, GVA + 8, USER | WRITE, &env46, &r, &l, &f),
			 -DV_EFAULT);
	assert_int_equal(f.stage, WALK_STAGE_NESTED);
	assert_false(f.on_table);
	assert_int_equal(f.pa, GPA + 8);
	assert_int_equal(f.error_code,
			 WALK_EPT_QUAL_WRITE | WALK_EPT_QUAL_GLA_VALID | WALK_EPT_QUAL_FINAL);
	assert_int_equal(r.total, 24);
	twod_free(&d);
}

static void guest_fault_inside_a_2d_walk(void **state)
{
	struct twod d = twod_new(1, 1);
	struct walk_refs r = {0};
	struct walk_leaf l;
	struct walk_fault f;

	tmem_write(d.gm, tentry(d.gm, 0x100000, GVA, 2), 0);
	assert_int_equal(walk_2d(&d.g, &d.h, GVA, USER, &env46, &r, &l, &f), -DV_EFAULT);
	assert_int_equal(f.stage, WALK_STAGE_GUEST);
	assert_int_equal(f.kind, WALK_NOT_PRESENT);
	assert_int_equal(f.level, 2);
	/* Three levels, each a nested walk of 4 and a read. */
	assert_int_equal(r.total, 15);
	twod_free(&d);
}

/* ---- differential test ------------------------------------------------------------------ */

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64* (Vigna): fixed seed, reproducible tables. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static bool chance(unsigned percent)
{
	return rnd() % 100 < percent;
}

#define RPAGES 192

/* Random tables in a flat buffer: page 0 is the root, pages are handed out
 * in order. Entries get random rights, sometimes a reserved bit; leaves sit
 * at random levels. vas[] collects the addresses the tables were built for. */
struct rtables {
	u64 *mem;
	unsigned used;
	u64 vas[256];
	unsigned nvas;
	bool ept;
	u64 leaf_base, leaf_span; /* leaves point into [base, base + span) */
};

static u64 random_bits_x86(unsigned lvl, bool leaf)
{
	u64 e = X86_PTE_P;

	if (chance(85))
		e |= X86_PTE_RW;
	if (chance(85))
		e |= X86_PTE_US;
	if (chance(15))
		e |= X86_PTE_NX;
	if (chance(30))
		e |= X86_PTE_A | X86_PTE_PCD;
	if (chance(4))
		e |= 1ULL << (46 + rnd() % 6); /* above MAXPHYADDR */
	if (leaf && lvl > 1 && chance(5))
		e |= 1ULL << (13 + rnd() % 8); /* in 20:13 */
	if (leaf && lvl > 1)
		e |= X86_PTE_PS;
	if (!leaf && lvl == 4 && chance(3))
		e |= X86_PTE_PS;
	return e;
}

static u64 random_bits_ept(unsigned lvl, bool leaf)
{
	u64 e = 0;

	if (chance(90))
		e |= EPT_R;
	if (chance(80))
		e |= EPT_W;
	if (chance(70))
		e |= EPT_X;
	if (!e)
		e = EPT_R;
	if (leaf)
		e |= (chance(5) ? 2ULL : EPT_MEMTYPE_WB) << EPT_MEMTYPE_SHIFT;
	if (chance(4))
		e |= 1ULL << (46 + rnd() % 6);
	if (leaf && lvl > 1)
		e |= EPT_PS;
	if (!leaf && chance(3))
		e |= 1ULL << (3 + rnd() % 4);
	return e;
}

static u64 random_canonical(void)
{
	u64 va = rnd() & 0x0000ffffffffffffULL;

	return (u64)((s64)(va << 16) >> 16);
}

static void rtables_build(struct rtables *t, bool ept, unsigned naddr, u64 leaf_base, u64 leaf_span)
{
	t->leaf_base = leaf_base;
	t->leaf_span = leaf_span;
	t->mem = calloc(RPAGES, 4096);
	t->used = 1;
	t->nvas = 0;
	t->ept = ept;
	for (unsigned i = 0; i < naddr; i++) {
		u64 va = ept ? rnd() & 0x00003fffffffffffULL : random_canonical();
		u64 table = 0;

		/* Half the addresses share upper levels with an earlier one. */
		if (t->nvas && chance(50))
			va = (t->vas[rnd() % t->nvas] & ~0x3fffffffULL) | (rnd() & 0x3ffff000ULL);
		t->vas[t->nvas++] = va;
		for (unsigned lvl = 4; lvl >= 1; lvl--) {
			u64 *e = &t->mem[table / 8 + PT_INDEX(va, lvl)];
			bool leaf = lvl == 1 || (lvl < 4 && chance(25));

			if (*e) {
				bool big = ept ? (*e & EPT_PS) : (*e & X86_PTE_PS);

				if (lvl == 1 || (lvl < 4 && big) || (*e & (0x3fULL << 46)))
					break;
				table = *e & PTE_ADDR_MASK;
				continue;
			}
			if (chance(5))
				break; /* leave it not present */
			if (!leaf && t->used == RPAGES)
				leaf = lvl < 4;
			if (!leaf && t->used == RPAGES)
				break;
			if (leaf) {
				*e = ((leaf_base + rnd() % leaf_span) & ~(PT_LEVEL_SIZE(lvl) - 1)) |
				     (ept ? random_bits_ept(lvl, true)
					  : random_bits_x86(lvl, true));
				break;
			}
			*e = ((u64)t->used++ * 4096) |
			     (ept ? random_bits_ept(lvl, false) : random_bits_x86(lvl, false));
			if (*e & (0x3fULL << 46))
				break; /* a reserved bit: the walk stops here */
			table = *e & PTE_ADDR_MASK;
		}
	}
}

static u64 random_address(const struct rtables *t)
{
	if (chance(80))
		return t->vas[rnd() % t->nvas] ^ (rnd() & 0xfffffULL);
	return t->ept ? rnd() & 0x00003fffffffffffULL : rnd();
}

/* The second implementation: one level per step, every bit named, no
 * shared helpers with walk.c. Returns the fault kind (0 = success). */
struct ref_result {
	int kind;
	unsigned level, refs;
	u64 pa, rights;
	unsigned shift;
	u32 code;
};

static u64 ref_entry(const u64 *mem, u64 table, u64 addr, unsigned lvl)
{
	unsigned index = (addr >> (12 + 9 * (lvl - 1))) % 512;

	return mem[(table + 8 * index) / 8];
}

static bool bit(u64 v, unsigned b)
{
	return (v >> b) & 1;
}

static bool any_bits(u64 v, unsigned lo, unsigned hi)
{
	for (unsigned b = lo; b <= hi; b++)
		if (bit(v, b))
			return true;
	return false;
}

static struct ref_result ref_walk_x86(const u64 *mem, u64 va, u32 acc, bool nxe, bool wp)
{
	struct ref_result r = {0};
	bool w = true, u = true, x = true;
	bool user = acc & USER, write = acc & WRITE, exec = acc & EXEC;
	u32 code = (write ? 2 : 0) | (user ? 4 : 0) | (exec && nxe ? 16 : 0);
	u64 table = 0, e = 0;
	unsigned lvl;

	if (va >> 47 != 0 && va >> 47 != 0x1ffff) {
		r.kind = WALK_NONCANONICAL;
		return r;
	}
	for (lvl = 4; lvl >= 1; lvl--) {
		bool large;

		e = ref_entry(mem, table, va, lvl);
		r.refs++;
		r.level = lvl;
		if (!bit(e, 0)) {
			r.kind = WALK_NOT_PRESENT;
			r.code = code;
			return r;
		}
		large = bit(e, 7) && (lvl == 2 || lvl == 3);
		if (any_bits(e, 46, 51) || (bit(e, 63) && !nxe) || (lvl == 4 && bit(e, 7)) ||
		    (lvl == 3 && large && any_bits(e, 13, 29)) ||
		    (lvl == 2 && large && any_bits(e, 13, 20))) {
			r.kind = WALK_RESERVED;
			r.code = 1 | 8 | code;
			return r;
		}
		w = w && bit(e, 1);
		u = u && bit(e, 2);
		x = x && !bit(e, 63);
		if (lvl == 1 || large)
			break;
		table = e & 0x000ffffffffff000ULL;
	}
	if ((user && !u) || (write && !w && (user || wp)) || (exec && !x)) {
		r.kind = WALK_PROTECTION;
		r.code = 1 | code;
		return r;
	}
	r.shift = 12 + 9 * (lvl - 1);
	r.pa = (e & 0x000ffffffffff000ULL) / (1ULL << r.shift) * (1ULL << r.shift) +
	       va % (1ULL << r.shift);
	r.rights = (w ? X86_PTE_RW : 0) | (u ? X86_PTE_US : 0) | (x ? 0 : X86_PTE_NX);
	return r;
}

static void compare(const struct ref_result *want, int err, const struct walk_refs *r,
		    const struct walk_leaf *l, const struct walk_fault *f)
{
	if (want->kind) {
		assert_int_equal(err, -DV_EFAULT);
		assert_int_equal(f->kind, want->kind);
		if (want->kind != WALK_NONCANONICAL) {
			assert_int_equal(f->level, want->level);
			assert_int_equal(f->error_code, want->code);
		}
	} else {
		assert_int_equal(err, 0);
		assert_int_equal(l->pa, want->pa);
		assert_int_equal(l->shift, want->shift);
		assert_int_equal(l->rights, want->rights);
	}
	assert_int_equal(r->total, want->refs);
}

static void differential_native_walks(void **state)
{
	unsigned seen[WALK_NONCANONICAL + 1] = {0};

	rng_state = 0x9e3779b97f4a7c15ULL;
	for (unsigned round = 0; round < 20; round++) {
		struct rtables t;
		struct walk_env env = {46, chance(70), chance(70)};
		struct walk_tables wt;

		rtables_build(&t, false, 120, 0, 1ULL << 46);
		wt = (struct walk_tables){
			.root = 0, .flat = (const u8 *)t.mem, .flat_size = RPAGES * 4096};
		for (unsigned i = 0; i < 2000; i++) {
			u64 va = random_address(&t);
			u32 acc = (u32)(rnd() % 8);
			struct ref_result want = ref_walk_x86(t.mem, va, acc, env.nxe, env.wp);
			struct walk_refs r = {0};
			struct walk_leaf l;
			struct walk_fault f;
			int err = walk_x86(&wt, va, acc, &env, NULL, &r, &l, &f);

			compare(&want, err, &r, &l, &f);
			seen[want.kind]++;
		}
		free(t.mem);
	}
	/* The random tables exercise every outcome. */
	for (unsigned k = 0; k <= WALK_NONCANONICAL; k++)
		assert_true(seen[k] > 100);
}

static struct ref_result ref_walk_ept(const u64 *mem, u64 gpa, u32 acc)
{
	struct ref_result r = {0};
	bool rd = true, wr = true, ex = true;
	u64 table = 0, e = 0;
	unsigned lvl;

	for (lvl = 4; lvl >= 1; lvl--) {
		bool leaf;
		unsigned mt;

		e = ref_entry(mem, table, gpa, lvl);
		r.refs++;
		r.level = lvl;
		if (!bit(e, 0) && !bit(e, 1) && !bit(e, 2)) {
			r.kind = WALK_NOT_PRESENT;
			return r;
		}
		leaf = lvl == 1 || ((lvl == 2 || lvl == 3) && bit(e, 7));
		mt = (e >> 3) & 7;
		if ((bit(e, 1) && !bit(e, 0)) || any_bits(e, 46, 51) ||
		    (lvl == 4 && any_bits(e, 3, 7)) || (!leaf && any_bits(e, 3, 6)) ||
		    (leaf && (mt == 2 || mt == 3 || mt == 7)) ||
		    (leaf && lvl == 3 && any_bits(e, 12, 29)) ||
		    (leaf && lvl == 2 && any_bits(e, 12, 20))) {
			r.kind = WALK_RESERVED;
			return r;
		}
		rd = rd && bit(e, 0);
		wr = wr && bit(e, 1);
		ex = ex && bit(e, 2);
		if (leaf)
			break;
		table = e & 0x000ffffffffff000ULL;
	}
	if ((acc & EXEC) ? !ex : (acc & WRITE) ? !wr : !rd) {
		r.kind = WALK_PROTECTION;
		return r;
	}
	r.shift = 12 + 9 * (lvl - 1);
	r.pa = (e & 0x000ffffffffff000ULL) / (1ULL << r.shift) * (1ULL << r.shift) +
	       gpa % (1ULL << r.shift);
	r.rights = (rd ? EPT_R : 0) | (wr ? EPT_W : 0) | (ex ? EPT_X : 0);
	return r;
}

static void differential_ept_walks(void **state)
{
	unsigned seen[WALK_RESERVED + 1] = {0};

	rng_state = 0x243f6a8885a308d3ULL;
	for (unsigned round = 0; round < 20; round++) {
		struct rtables t;
		struct walk_tables wt;

		rtables_build(&t, true, 120, 0, 1ULL << 46);
		wt = (struct walk_tables){
			.root = 0, .flat = (const u8 *)t.mem, .flat_size = RPAGES * 4096};
		for (unsigned i = 0; i < 2000; i++) {
			u64 gpa = random_address(&t);
			u32 acc = (u32)(rnd() % 8) & ~USER;
			struct ref_result want = ref_walk_ept(t.mem, gpa, acc);
			struct walk_refs r = {0};
			struct walk_leaf l;
			struct walk_fault f;
			int err = walk_ept(&wt, gpa, acc, &env46, WALK_REF_FINAL, NULL, &r, &l, &f);

			if (want.kind) {
				assert_int_equal(err, -DV_EFAULT);
				assert_int_equal(f.kind, want.kind);
				assert_int_equal(f.level, want.level);
			} else {
				assert_int_equal(err, 0);
				assert_int_equal(l.pa, want.pa);
				assert_int_equal(l.shift, want.shift);
				assert_int_equal(l.rights, want.rights);
			}
			assert_int_equal(r.total, want.refs);
			seen[want.kind]++;
		}
		free(t.mem);
	}
	for (unsigned k = 0; k <= WALK_RESERVED; k++)
		assert_true(seen[k] > 100);
}

/* 2D reference: the guest reference walk, where every guest table read is
 * preceded by a reference EPT walk of its gPA. Guest tables live in gPA
 * space; EPT maps every guest table page (sometimes not). */
struct ref2d_ctx {
	const u64 *gmem, *hmem;
	unsigned refs;
};

static bool ref2d_nested(struct ref2d_ctx *c, u64 gpa, u32 acc, u64 *hpa, unsigned *shift)
{
	struct ref_result n = ref_walk_ept(c->hmem, gpa, acc);

	c->refs += n.refs;
	*hpa = n.pa;
	*shift = n.shift;
	return n.kind == 0;
}

static void differential_2d_walks(void **state)
{
	unsigned ok_walks = 0, failed = 0;

	rng_state = 0xb7e151628aed2a6bULL;
	for (unsigned round = 0; round < 10; round++) {
		struct rtables g, h;
		struct walk_tables gt, ht;

		/* Guest leaves land in gPA [1 GiB, 1 GiB + 64 MiB), which EPT maps
		 * with 2 MiB pages (a few left out); EPT maps the guest table pages
		 * with 4 KiB pages (a few left out), and random things elsewhere. */
		rtables_build(&g, false, 60, 0x40000000ULL, 64 * MiB);
		rtables_build(&h, true, 40, 0, 1ULL << 46);
		for (u64 gpa = 0x40000000ULL; gpa < 0x40000000ULL + 64 * MiB; gpa += 2 * MiB) {
			u64 table = 0;

			for (unsigned lvl = 4; lvl > 2; lvl--) {
				u64 *e = &h.mem[table / 8 + PT_INDEX(gpa, lvl)];

				if (!*e && h.used < RPAGES)
					*e = ((u64)h.used++ * 4096) | EPT_RWX;
				table = *e & PTE_ADDR_MASK;
				if (!*e || (*e & EPT_PS) || table >= RPAGES * 4096ULL)
					table = 0; /* a random entry took the slot */
				if (!table)
					break;
			}
			if (table && !(h.mem[table / 8 + PT_INDEX(gpa, 2)] & EPT_PS) && chance(95))
				h.mem[table / 8 + PT_INDEX(gpa, 2)] =
					(gpa + 0x100000000ULL) | T_EPT_LEAF | EPT_PS;
		}
		for (unsigned p = 0; p < g.used; p++) {
			u64 gpa = (u64)p * 4096, table = 0;

			if (chance(5))
				continue;
			for (unsigned lvl = 4; lvl > 1; lvl--) {
				u64 *e = &h.mem[table / 8 + PT_INDEX(gpa, lvl)];

				if (!*e && h.used < RPAGES)
					*e = ((u64)h.used++ * 4096) | EPT_RWX;
				if (!*e || (*e & (EPT_PS | (0x3fULL << 46))) || !(*e & EPT_R))
					break;
				table = *e & PTE_ADDR_MASK;
				if (lvl == 2)
					h.mem[table / 8 + PT_INDEX(gpa, 1)] =
						(0x40000000ULL + gpa) | T_EPT_LEAF;
			}
		}
		gt = (struct walk_tables){
			.root = 0, .flat = (const u8 *)g.mem, .flat_size = RPAGES * 4096};
		ht = (struct walk_tables){
			.root = 0, .flat = (const u8 *)h.mem, .flat_size = RPAGES * 4096};
		for (unsigned i = 0; i < 1000; i++) {
			u64 va = random_address(&g), hpa, e = 0, table = 0;
			u32 acc = (u32)(rnd() % 4); /* no fetches: keep the reference short */
			struct ref2d_ctx c = {g.mem, h.mem, 0};
			struct walk_refs r = {0};
			struct walk_leaf l;
			struct walk_fault f;
			int err = walk_2d(&gt, &ht, va, acc, &env46, &r, &l, &f);
			struct ref_result guest = ref_walk_x86(g.mem, va, acc, true, true);
			bool ok = guest.kind != WALK_NONCANONICAL;
			unsigned lvl, shift = 0;

			/* Redo the guest walk, nested step by nested step. */
			for (lvl = 4; ok && lvl >= 1; lvl--) {
				u64 slot = table + PT_INDEX(va, lvl) * 8;

				ok = ref2d_nested(&c, slot, 0, &hpa, &shift);
				if (!ok)
					break;
				e = g.mem[slot / 8];
				c.refs++;
				if (lvl == guest.level && guest.kind)
					break;
				if (lvl == 1 || (bit(e, 7) && lvl < 4))
					break;
				table = e & PTE_ADDR_MASK;
			}
			if (ok && !guest.kind)
				ok = ref2d_nested(&c, guest.pa, acc & WRITE, &hpa, &shift);
			if (guest.kind == WALK_NONCANONICAL)
				c.refs = 0;
			assert_int_equal(r.total, c.refs);
			assert_int_equal(err == 0, ok && !guest.kind);
			if (!err) {
				assert_int_equal(l.pa, hpa);
				assert_int_equal(l.gpa, guest.pa);
				assert_int_equal(l.shift, MIN(shift, guest.shift));
				ok_walks++;
			} else {
				failed++;
			}
		}
		free(g.mem);
		free(h.mem);
	}
	assert_true(ok_walks > 100);
	assert_true(failed > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(native_4k_miss_costs_4_refs),
		cmocka_unit_test(native_2m_miss_costs_3_refs),
		cmocka_unit_test(native_1g_miss_costs_2_refs),
		cmocka_unit_test(flat_accessor_reads_like_the_callback),
		cmocka_unit_test(not_present_pml4e),
		cmocka_unit_test(not_present_pdpte),
		cmocka_unit_test(not_present_pde),
		cmocka_unit_test(not_present_pte),
		cmocka_unit_test(reserved_physical_address_bits),
		cmocka_unit_test(reserved_ps_in_pml4e),
		cmocka_unit_test(reserved_low_bits_of_large_leaves),
		cmocka_unit_test(xd_is_reserved_without_nxe),
		cmocka_unit_test(user_access_to_supervisor_page_faults),
		cmocka_unit_test(write_to_read_only_page_faults),
		cmocka_unit_test(fetch_from_xd_page_faults),
		cmocka_unit_test(noncanonical_address_faults_without_reading),
		cmocka_unit_test(ept_leaf_sizes_cost_4_3_2_refs),
		cmocka_unit_test(ept_violation_when_not_present),
		cmocka_unit_test(ept_misconfigurations),
		cmocka_unit_test(ept_write_to_read_only_page),
		cmocka_unit_test(base_4k_4k_costs_24_refs),
		cmocka_unit_test(base_2m_2m_costs_15_refs),
		cmocka_unit_test(base_1g_1g_costs_8_refs),
		cmocka_unit_test(base_mixed_pairs),
		cmocka_unit_test(nested_fault_on_a_guest_table),
		cmocka_unit_test(nested_fault_on_the_final_gpa),
		cmocka_unit_test(guest_fault_inside_a_2d_walk),
		cmocka_unit_test(differential_native_walks),
		cmocka_unit_test(differential_ept_walks),
		cmocka_unit_test(differential_2d_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
