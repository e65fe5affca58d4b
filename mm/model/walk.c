/* Native, EPT and 2D page walks over tables read through an accessor. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/walk.h"

#define X86_RIGHTS (X86_PTE_RW | X86_PTE_US | X86_PTE_NX)

/* Count the reads of levels top down to bottom (top >= bottom), once per
 * walk rather than per level: the counters are bytes, and a byte store may
 * alias anything, so counting inside the loop made the compiler reload the
 * tables and the environment after every level. */
static void walk_count(struct walk_refs *refs, unsigned base, unsigned top, unsigned bottom)
{
	unsigned lvl;

	for (lvl = bottom; lvl <= top; lvl++)
		refs->n[WALK_REF(base, lvl)]++;
	refs->total += (u8)(top + 1 - bottom);
}

static int walk_fail(struct walk_fault *f, u8 kind, u8 stage, u8 level, u32 code)
{
	f->kind = kind;
	f->stage = stage;
	f->level = level;
	f->error_code = code;
	return -DV_EFAULT;
}

/* ---- x86-64 paging ---------------------------------------------------- */

/* #PF error code bits that describe the access. SDM Vol. 3A 4.7. */
static u32 x86_acc_code(u32 acc, const struct walk_env *env)
{
	u32 code = 0;

	if (acc & WALK_ACC_WRITE)
		code |= WALK_PF_W;
	if (acc & WALK_ACC_USER)
		code |= WALK_PF_U;
	if ((acc & WALK_ACC_EXEC) && env->nxe)
		code |= WALK_PF_I;
	return code;
}

/* Are the effective rights enough for acc? SDM Vol. 3A 4.6 (SMEP, SMAP and
 * protection keys off). */
static bool x86_allows(u64 rights, u32 acc, const struct walk_env *env)
{
	bool user = acc & WALK_ACC_USER;

	if (user && !(rights & X86_PTE_US))
		return false;
	if ((acc & WALK_ACC_WRITE) && !(rights & X86_PTE_RW) && (user || env->wp))
		return false;
	if ((acc & WALK_ACC_EXEC) && (rights & X86_PTE_NX))
		return false;
	return true;
}

/* Translate the gPA of a guest paging structure (or the final gPA) through
 * the nested hook, completing the fault record the hook leaves. */
static int walk_through_nested(const struct walk_nested *nested, u64 gva, u64 gpa, bool is_table,
			       u32 acc, struct walk_refs *refs, struct walk_leaf *out,
			       struct walk_fault *f)
{
	int err = nested->translate(nested->ctx, gpa, is_table, acc, refs, out, f);

	if (err) {
		f->va = gva;
		f->on_table = is_table;
		if (f->stage == WALK_STAGE_NESTED && f->kind != WALK_RESERVED)
			f->error_code |=
				WALK_EPT_QUAL_GLA_VALID | (is_table ? 0 : WALK_EPT_QUAL_FINAL);
	}
	return err;
}

/* The x86 walk, native when nested is NULL. Reads every level from the
 * root (or from the deepest paging-structure-cache hit) to the leaf. */
static int walk_x86_common(const struct walk_tables *t, const struct walk_nested *nested, u64 va,
			   u32 acc, const struct walk_env *env, struct pwc *pwc,
			   struct walk_refs *refs, struct walk_leaf *leaf, struct walk_fault *f)
{
	u64 table = t->root & PTE_ADDR_MASK, rights = X86_PTE_RW | X86_PTE_US, pte, pa;
	u64 rsvd = walk_rsvd_phys(env);
	unsigned lvl = 4, top;
	bool skip_nested = false, nxe = env->nxe;
	struct walk_leaf nl;
	int err;

	f->va = va;
	f->pa = 0;
	f->on_table = false;
	if (!walk_canonical(va))
		return walk_fail(f, WALK_NONCANONICAL, WALK_STAGE_GUEST, 0, 0);
	if (pwc) {
		lvl = pwc_lookup(pwc, va, &table, &rights);
		if (lvl < 4) {
			refs->pwc_hits++;
			skip_nested = true; /* combined entry: the table's hPA is known */
		} else {
			rights = X86_PTE_RW | X86_PTE_US;
		}
	}
	for (top = lvl;; lvl--) {
		u64 entry = table + PT_INDEX(va, lvl) * sizeof(u64);

		if (nested && !skip_nested) {
			err = walk_through_nested(nested, va, entry, true, 0, refs, &nl, f);
			if (err) {
				if (lvl < top)
					walk_count(refs, WALK_REF_GUEST, top, lvl + 1);
				return err;
			}
		}
		skip_nested = false;
		pte = walk_read(t, entry);
		if (!(pte & X86_PTE_P)) {
			walk_count(refs, WALK_REF_GUEST, top, lvl);
			return walk_fail(f, WALK_NOT_PRESENT, WALK_STAGE_GUEST, lvl,
					 x86_acc_code(acc, env));
		}
		if (walk_x86_reserved(pte, lvl, rsvd, nxe)) {
			walk_count(refs, WALK_REF_GUEST, top, lvl);
			return walk_fail(f, WALK_RESERVED, WALK_STAGE_GUEST, lvl,
					 WALK_PF_P | WALK_PF_RSVD | x86_acc_code(acc, env));
		}
		rights &= pte | X86_PTE_NX;
		rights |= pte & X86_PTE_NX;
		if (lvl == 1 || (pte & X86_PTE_PS))
			break;
		table = pte & PTE_ADDR_MASK;
		if (pwc)
			pwc_fill(pwc, lvl, va, table, rights);
	}
	walk_count(refs, WALK_REF_GUEST, top, lvl);
	if (!x86_allows(rights, acc, env))
		return walk_fail(f, WALK_PROTECTION, WALK_STAGE_GUEST, lvl,
				 WALK_PF_P | x86_acc_code(acc, env));
	leaf->shift = PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1);
	leaf->level = lvl;
	leaf->rights = rights;
	pa = (pte & PTE_ADDR_MASK & ~((1ULL << leaf->shift) - 1)) |
	     (va & ((1ULL << leaf->shift) - 1));
	leaf->pa = pa;
	leaf->gpa = 0;
	leaf->nested_rights = 0;
	if (!nested)
		return 0;
	err = walk_through_nested(nested, va, pa, false, acc, refs, &nl, f);
	if (err)
		return err;
	leaf->gpa = pa;
	leaf->pa = nl.pa;
	leaf->nested_rights = nl.rights;
	leaf->shift = MIN(leaf->shift, nl.shift);
	return 0;
}

int walk_x86(const struct walk_tables *t, u64 va, u32 acc, const struct walk_env *env,
	     struct pwc *pwc, struct walk_refs *refs, struct walk_leaf *leaf, struct walk_fault *f)
{
	return walk_x86_common(t, NULL, va, acc, env, pwc, refs, leaf, f);
}

int walk_x86_nested(const struct walk_tables *guest, const struct walk_nested *nested, u64 gva,
		    u32 acc, const struct walk_env *env, struct pwc *pwc, struct walk_refs *refs,
		    struct walk_leaf *leaf, struct walk_fault *f)
{
	return walk_x86_common(guest, nested, gva, acc, env, pwc, refs, leaf, f);
}

/* ---- EPT ------------------------------------------------------------------ */

/* EPT rights an access needs: R for reads (guest table reads included), W for
 * writes, X for fetches. */
static u64 ept_needed(u32 acc)
{
	if (acc & WALK_ACC_EXEC)
		return EPT_X;
	if (acc & WALK_ACC_WRITE)
		return EPT_W;
	return EPT_R;
}

static int ept_fail(struct walk_fault *f, u64 gpa, u8 kind, u8 level, u32 code)
{
	f->pa = gpa;
	return walk_fail(f, kind, WALK_STAGE_NESTED, level, code);
}

/* EPT-violation exit qualification bits 5:0. SDM Vol. 3C Table 27-7. */
static u32 ept_qual(u32 acc, u64 rights)
{
	u32 q = (u32)(rights & EPT_RWX) << 3;

	if (acc & WALK_ACC_EXEC)
		q |= WALK_EPT_QUAL_FETCH;
	else if (acc & WALK_ACC_WRITE)
		q |= WALK_EPT_QUAL_WRITE;
	else
		q |= WALK_EPT_QUAL_READ;
	return q;
}

int walk_ept(const struct walk_tables *t, u64 gpa, u32 acc, const struct walk_env *env,
	     enum walk_ref_base ref_base, struct pwc *pwc, struct walk_refs *refs,
	     struct walk_leaf *leaf, struct walk_fault *f)
{
	u64 table = t->root & PTE_ADDR_MASK, rights = EPT_RWX, pte;
	u64 rsvd = walk_rsvd_phys(env);
	unsigned lvl = 4, top;
	bool is_leaf;

	if (pwc) {
		lvl = pwc_lookup(pwc, gpa, &table, &rights);
		if (lvl < 4)
			refs->pwc_hits++;
		else
			rights = EPT_RWX;
	}
	for (top = lvl;; lvl--) {
		pte = walk_read(t, table + PT_INDEX(gpa, lvl) * sizeof(u64));
		if (!(pte & EPT_RWX)) {
			walk_count(refs, ref_base, top, lvl);
			return ept_fail(f, gpa, WALK_NOT_PRESENT, lvl, ept_qual(acc, 0));
		}
		is_leaf = lvl == 1 || (lvl <= 3 && (pte & EPT_PS));
		if (walk_ept_misconfigured(pte, lvl, is_leaf, rsvd)) {
			walk_count(refs, ref_base, top, lvl);
			return ept_fail(f, gpa, WALK_RESERVED, lvl, 0);
		}
		rights &= pte & EPT_RWX;
		if (is_leaf)
			break;
		table = pte & PTE_ADDR_MASK;
		if (pwc)
			pwc_fill(pwc, lvl, gpa, table, rights);
	}
	walk_count(refs, ref_base, top, lvl);
	if ((rights & ept_needed(acc)) != ept_needed(acc))
		return ept_fail(f, gpa, WALK_PROTECTION, lvl, ept_qual(acc, rights));
	leaf->shift = PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1);
	leaf->level = lvl;
	leaf->rights = rights;
	leaf->pa = (pte & PTE_ADDR_MASK & ~((1ULL << leaf->shift) - 1)) |
		   (gpa & ((1ULL << leaf->shift) - 1));
	leaf->gpa = gpa;
	return 0;
}

/* ---- plain 2D walk ------------------------------------------------------------ */

struct walk_2d_ctx {
	const struct walk_tables *ept;
	const struct walk_env *env;
};

static int walk_2d_translate(void *ctx, u64 gpa, bool is_table, u32 acc, struct walk_refs *refs,
			     struct walk_leaf *out, struct walk_fault *f)
{
	const struct walk_2d_ctx *c = ctx;

	return walk_ept(c->ept, gpa, acc, c->env, is_table ? WALK_REF_NESTED : WALK_REF_FINAL, NULL,
			refs, out, f);
}

int walk_2d(const struct walk_tables *guest, const struct walk_tables *ept, u64 gva, u32 acc,
	    const struct walk_env *env, struct walk_refs *refs, struct walk_leaf *leaf,
	    struct walk_fault *f)
{
	struct walk_2d_ctx c = {ept, env};
	struct walk_nested n = {walk_2d_translate, &c};

	return walk_x86_common(guest, &n, gva, acc, env, NULL, refs, leaf, f);
}
