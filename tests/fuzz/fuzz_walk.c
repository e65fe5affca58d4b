/* libFuzzer target: the MMU model's walkers (mm/model/walk.c: walk_x86,
 * walk_ept, walk_2d) against a reference walker written here from the SDM
 * (Vol. 3A 4.5-4.7 for x86-64 paging, Vol. 3C 29.3 and 27.2.1 for EPT),
 * sharing no code with the model.
 *
 * Input: byte 0: the walk (x86, EPT or 2D) and whether tables are read
 * through the flat fast path; byte 1: the access (read, write, fetch; user);
 * byte 2: MAXPHYADDR (36..48); byte 3: EFER.NXE, CR0.WP; bytes 4..11: the
 * address; bytes 12..19: the x86 root (CR3), 20..27: the EPT root (EPTP);
 * 28..31: see below. The rest is K 8-byte entries: physical memory is those entries repeated,
 * the 8 bytes at pa being entry (pa / 8) mod K, so every address a walk
 * reaches holds a fuzzed entry.
 *
 * Checks: success or fault as the reference says; on success pa, gPA, page
 * size, leaf level and rights; on a fault its kind, stage, level, error code
 * or exit qualification, failing gPA and whether it hit a guest table; and
 * the memory references counted by kind and level. With data[3] bit 2, the
 * x86 and EPT walks are repeated through a paging-structure cache (bytes
 * 28..30 give its geometry): same outcome, no more reads. */
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "mm/model/walk.h"

#define HDR	     32
#define FLAT_SIZE    0x10000
#define BIT(n)	     (1ULL << (n))
#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & ~(BIT(lo) - 1)) /* bits hi..lo set */
#define ADDR	     BITS(51, 12)

/* --- memory ----------------------------------------------------------------- */

static const u8 *entries;
static size_t nentries;
static u8 flat[FLAT_SIZE];

static u64 mem_read(void *ctx, u64 pa)
{
	u64 v = 0;

	(void)ctx;
	if (nentries)
		memcpy(&v, entries + ((pa >> 3) % nentries) * 8, 8);
	return v;
}

/* --- the reference walker ------------------------------------------------------ */

struct ref {
	bool ok;
	u8 kind, stage, level;
	bool on_table;
	u32 code;
	u64 fault_pa;
	u64 pa, gpa, rights, nested_rights;
	unsigned shift, leaf_level;
	unsigned refs[12]; /* as walk_refs.n: guest 0..3, nested 4..7, final 8..11 by level */
};

struct env {
	unsigned maxphy;
	bool nxe, wp, user, write, exec;
	u64 cr3, eptp;
};

static u64 idx(u64 a, unsigned lvl)
{
	return (a >> (12 + 9 * (lvl - 1))) & 511;
}

/* EPT walk of gpa (SDM Vol. 3C 29.3.2, 29.3.3). acc_read: a guest table read. */
static bool ref_ept(const struct env *e, u64 gpa, bool table_read, unsigned base, struct ref *r,
		    u64 *hpa, u64 *rights_out, unsigned *shift_out)
{
	u64 table = e->eptp & ADDR, rights = 7, ent = 0, need;
	unsigned lvl;
	u32 acc_bits = table_read ? 1 : e->exec ? 4 : e->write ? 2 : 1;

	for (lvl = 4; lvl >= 1; lvl--) {
		bool leaf;
		u64 mt;

		ent = mem_read(NULL, table + idx(gpa, lvl) * 8);
		r->refs[base + lvl - 1]++;
		if ((ent & 7) == 0) { /* not present: a violation, rights AND to 0 */
			r->kind = WALK_NOT_PRESENT, r->code = acc_bits;
			goto fault;
		}
		leaf = lvl == 1 || (lvl <= 3 && (ent & BIT(7)));
		mt = (ent >> 3) & 7;
		if (((ent & 2) && !(ent & 1)) || (e->maxphy < 52 && (ent & BITS(51, e->maxphy))) ||
		    (lvl == 4 && (ent & BITS(7, 3))) || (!leaf && (ent & BITS(6, 3))) ||
		    (leaf && (mt == 2 || mt == 3 || mt == 7)) ||
		    (leaf && lvl == 3 && (ent & BITS(29, 12))) ||
		    (leaf && lvl == 2 && (ent & BITS(20, 12)))) {
			r->kind = WALK_RESERVED, r->code = 0; /* misconfiguration */
			goto fault;
		}
		rights &= ent & 7;
		if (leaf)
			break;
		table = ent & ADDR;
	}
	need = table_read ? 1 : e->exec ? 4 : e->write ? 2 : 1;
	if (!(rights & need)) {
		r->kind = WALK_PROTECTION, r->code = acc_bits | (u32)rights << 3;
		goto fault;
	}
	*shift_out = 12 + 9 * (lvl - 1);
	*hpa = (ent & ADDR & ~(BIT(*shift_out) - 1)) | (gpa & (BIT(*shift_out) - 1));
	*rights_out = rights;
	r->leaf_level = lvl;
	return true;
fault:
	r->ok = false;
	r->stage = WALK_STAGE_NESTED;
	r->level = (u8)lvl;
	r->fault_pa = gpa;
	return false;
}

/* #PF error code bits of the access (SDM Vol. 3A 4.7). */
static u32 pf_bits(const struct env *e)
{
	return (e->write ? WALK_PF_W : 0) | (e->user ? WALK_PF_U : 0) |
	       (e->exec && e->nxe ? WALK_PF_I : 0);
}

/* A nested fault inside a 2D walk: completes what the exit qualification says
 * about the linear address (Vol. 3C Table 27-7 bits 7 and 8). */
static void nested_fault(struct ref *r, bool on_table)
{
	r->on_table = on_table;
	if (r->kind != WALK_RESERVED)
		r->code |= WALK_EPT_QUAL_GLA_VALID | (on_table ? 0 : WALK_EPT_QUAL_FINAL);
}

/* x86-64 4-level walk of va; 2D when nested (SDM Vol. 3A 4.5, 4.6). */
static void ref_x86(const struct env *e, u64 va, bool nested, struct ref *r)
{
	u64 table = e->cr3 & ADDR, ent = 0, hpa, nr;
	bool rw = true, us = true, xd = false;
	unsigned lvl, nshift;

	memset(r, 0, sizeof(*r));
	r->stage = WALK_STAGE_GUEST;
	if ((u64)((s64)(va << 16) >> 16) != va) {
		r->kind = WALK_NONCANONICAL;
		return;
	}
	for (lvl = 4; lvl >= 1; lvl--) {
		u64 at = table + idx(va, lvl) * 8;
		bool leaf;

		if (nested && !ref_ept(e, at, true, WALK_REF_NESTED, r, &hpa, &nr, &nshift)) {
			nested_fault(r, true);
			return;
		}
		ent = mem_read(NULL, at); /* guest tables are read by gPA (walk.h) */
		r->refs[WALK_REF_GUEST + lvl - 1]++;
		r->level = (u8)lvl;
		if (!(ent & 1)) {
			r->kind = WALK_NOT_PRESENT, r->code = pf_bits(e);
			return;
		}
		leaf = lvl == 1 || (lvl <= 3 && (ent & BIT(7)));
		if ((e->maxphy < 52 && (ent & BITS(51, e->maxphy))) ||
		    ((ent & BIT(63)) && !e->nxe) || (lvl == 4 && (ent & BIT(7))) ||
		    (leaf && lvl == 3 && (ent & BITS(29, 13))) ||
		    (leaf && lvl == 2 && (ent & BITS(20, 13)))) {
			r->kind = WALK_RESERVED, r->code = WALK_PF_P | WALK_PF_RSVD | pf_bits(e);
			return;
		}
		rw = rw && (ent & 2);
		us = us && (ent & 4);
		xd = xd || (ent & BIT(63));
		if (leaf)
			break;
		table = ent & ADDR;
	}
	if ((e->user && !us) || (e->write && !rw && (e->user || e->wp)) || (e->exec && xd)) {
		r->kind = WALK_PROTECTION, r->code = WALK_PF_P | pf_bits(e);
		return;
	}
	r->shift = 12 + 9 * (lvl - 1);
	r->leaf_level = lvl;
	r->pa = (ent & ADDR & ~(BIT(r->shift) - 1)) | (va & (BIT(r->shift) - 1));
	r->rights = (rw ? BIT(1) : 0) | (us ? BIT(2) : 0) | (xd ? BIT(63) : 0); /* R/W, U/S, XD */
	if (nested) {
		r->gpa = r->pa;
		if (!ref_ept(e, r->gpa, false, WALK_REF_FINAL, r, &hpa, &nr, &nshift)) {
			nested_fault(r, false);
			return;
		}
		r->leaf_level = lvl;
		r->pa = hpa;
		r->nested_rights = nr;
		if (nshift < r->shift)
			r->shift = nshift;
	}
	r->ok = true;
}

/* --- the harness ------------------------------------------------------------------ */

/* cached: the walk used a paging-structure cache, so it may read fewer entries. */
static void compare(int rc, const struct ref *r, const struct walk_leaf *leaf,
		    const struct walk_fault *f, const struct walk_refs *refs, bool nested_walk,
		    bool cached)
{
	unsigned total = 0;

	CHECK(rc == 0 || rc == -DV_EFAULT);
	CHECK((rc == 0) == r->ok);
	if (r->ok) {
		CHECK(leaf->pa == r->pa && leaf->shift == r->shift);
		CHECK(leaf->level == r->leaf_level && leaf->rights == r->rights);
		if (nested_walk)
			CHECK(leaf->gpa == r->gpa && leaf->nested_rights == r->nested_rights);
	} else {
		CHECK(f->kind == r->kind && f->stage == r->stage);
		if (r->kind != WALK_NONCANONICAL)
			CHECK(f->level == r->level);
		CHECK(f->error_code == r->code);
		if (r->stage == WALK_STAGE_NESTED)
			CHECK(f->pa == r->fault_pa);
		if (nested_walk && r->stage == WALK_STAGE_NESTED)
			CHECK(f->on_table == r->on_table);
	}
	for (unsigned i = 0; i < 12; i++) {
		CHECK(cached ? refs->n[i] <= r->refs[i] : refs->n[i] == r->refs[i]);
		total += r->refs[i];
	}
	CHECK(cached ? refs->total <= total : refs->total == total);
}

/* With a paging-structure cache (mm/model/pwc.c), a walk ends exactly as it
 * would without one, only with fewer reads: walk va (filling the cache), a
 * neighbour that shares upper levels, then va again. */
static void check_cached(const struct env *e, const struct walk_tables *t, bool ept_walk,
			 const struct walk_env *wenv, u32 acc, u64 va, u64 va2, const u8 *geo)
{
	const struct pwc_geometry g = {
		{(u16)(1 + geo[0] % 8), (u16)(geo[1] % 9), (u16)(geo[2] % 9)}};
	const u64 order[3] = {va, va2, va};
	struct pwc pwc;

	CHECK(pwc_init(&pwc, &g) == 0);
	for (unsigned i = 0; i < 3; i++) {
		struct walk_refs refs = {0};
		struct walk_leaf leaf = {0};
		struct walk_fault f = {0};
		struct ref r;
		int rc;

		if (ept_walk) {
			u64 hpa = 0, rights = 0;
			unsigned shift = 0;

			rc = walk_ept(t, order[i], acc, wenv, WALK_REF_FINAL, &pwc, &refs, &leaf,
				      &f);
			memset(&r, 0, sizeof(r));
			r.ok = ref_ept(e, order[i], false, WALK_REF_FINAL, &r, &hpa, &rights,
				       &shift);
			r.pa = hpa, r.rights = rights, r.shift = shift;
		} else {
			rc = walk_x86(t, order[i], acc, wenv, &pwc, &refs, &leaf, &f);
			ref_x86(e, order[i], false, &r);
		}
		compare(rc, &r, &leaf, &f, &refs, false, true);
	}
}

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk_tables guest = {0}, ept = {0};
	struct walk_env wenv;
	struct walk_refs refs;
	struct walk_leaf leaf;
	struct walk_fault f;
	struct env e;
	struct ref r;
	u32 acc;
	u64 va, neighbour;
	int rc;

	if (size < HDR)
		return 0;
	entries = data + HDR;
	nentries = (size - HDR) / 8;
	e.exec = data[1] % 3 == 2;
	e.write = data[1] % 3 == 1;
	e.user = data[1] & 0x80;
	e.maxphy = 36 + data[2] % 13;
	e.nxe = data[3] & 1;
	e.wp = data[3] & 2;
	va = get64(data + 4);
	/* data[3] bit 2: repeat the walk with a paging-structure cache; the
	 * neighbour differs from va in bits picked by data[3] and data[1] */
	neighbour = (u64)(data[3] >> 3) << (12 + 9 * ((data[1] >> 4) & 3));
	e.cr3 = get64(data + 12);
	e.eptp = get64(data + 20);
	acc = (e.write ? WALK_ACC_WRITE : 0) | (e.exec ? WALK_ACC_EXEC : 0) |
	      (e.user ? WALK_ACC_USER : 0);
	wenv = (struct walk_env){.maxphyaddr = (u8)e.maxphy, .nxe = e.nxe, .wp = e.wp};
	guest = (struct walk_tables){.root = e.cr3, .read = mem_read};
	ept = (struct walk_tables){.root = e.eptp, .read = mem_read};
	if (data[0] & 0x80) { /* the flat fast path, holding the same memory */
		for (u64 pa = 0; pa < FLAT_SIZE; pa += 8) {
			u64 v = mem_read(NULL, pa);

			memcpy(flat + pa, &v, 8);
		}
		guest.flat = ept.flat = flat;
		guest.flat_size = ept.flat_size = FLAT_SIZE;
	}
	memset(&refs, 0, sizeof(refs));
	memset(&leaf, 0, sizeof(leaf));
	memset(&f, 0, sizeof(f));

	switch (data[0] % 3) {
	case 0:
		rc = walk_x86(&guest, va, acc, &wenv, NULL, &refs, &leaf, &f);
		ref_x86(&e, va, false, &r);
		compare(rc, &r, &leaf, &f, &refs, false, false);
		if (data[3] & 4)
			check_cached(&e, &guest, false, &wenv, acc, va, va ^ neighbour, data + 28);
		break;
	case 1: {
		u64 hpa = 0, rights = 0;
		unsigned shift = 0;

		va &= BIT(48) - 1; /* a guest-physical address, below 2^48 */
		rc = walk_ept(&ept, va, acc, &wenv, WALK_REF_FINAL, NULL, &refs, &leaf, &f);
		memset(&r, 0, sizeof(r));
		r.ok = ref_ept(&e, va, false, WALK_REF_FINAL, &r, &hpa, &rights, &shift);
		r.pa = hpa, r.rights = rights, r.shift = shift;
		compare(rc, &r, &leaf, &f, &refs, false, false);
		if (rc == 0)
			CHECK(leaf.gpa == va);
		if (data[3] & 4)
			check_cached(&e, &ept, true, &wenv, acc, va,
				     (va ^ neighbour) & (BIT(48) - 1), data + 28);
		break;
	}
	default:
		rc = walk_2d(&guest, &ept, va, acc, &wenv, &refs, &leaf, &f);
		ref_x86(&e, va, true, &r);
		compare(rc, &r, &leaf, &f, &refs, true, false);
		break;
	}
	return 0;
}
