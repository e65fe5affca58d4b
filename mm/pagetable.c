/* Page-table engine: x86-64 4-level paging (SDM Vol. 3A 4.5) and EPT (SDM Vol. 3C 29.3).
 *
 * Range operations (map, unmap, protect) run one recursive walker (depth <= 4) that
 * visits each table once, twice over: a dry pass that writes nothing and counts the
 * tables the operation will need (and finds holes for protect), then, once that many
 * tables are reserved, the real pass, which cannot fail. That is what makes every range
 * operation all-or-nothing, -DV_ENOMEM included. The dry pass never reads level-1
 * tables except for protect, so it costs about 1/512 of the real one. */
#include "mm/pagetable.h"

#include <dimvisor/errno.h>

#define VA_SPACE     (1ULL << 48) /* 4-level paging and 4-level EPT: 48-bit input */
#define PA_LIMIT     (1ULL << 52) /* MAXPHYADDR is at most 52 (SDM Vol. 3A 4.1.4) */
#define PT_PERMS_ALL (PT_R | PT_W | PT_X | PT_USER | PT_GLOBAL | PT_UC)

/* --- entry encoding ---------------------------------------------------------------- */

/* A poisoned EPT leaf (pt_poison): R=W=X=0, so the CPU faults on it, with its rights
 * kept in bits 54:52 and the mark in bit 11, all three ignored by the CPU (SDM Vol. 3C
 * Table 29-6). To the engine it is a present leaf with those rights. */
#define EPT_POISON	(1ULL << 11)
#define EPT_SAVED_SHIFT 52
#define EPT_SAVED_MASK	(EPT_RWX << EPT_SAVED_SHIFT)

static inline bool entry_present(enum pt_format fmt, u64 e)
{
	/* EPT has no present bit: an entry with R=W=X=0 is not present (SDM Vol. 3C 29.3.2)
	 * to the CPU; a poisoned leaf still is to the engine. */
	return fmt == PT_FMT_EPT ? (e & (EPT_RWX | EPT_POISON)) != 0 : (e & X86_PTE_P) != 0;
}

/* The R, W, X bits of an EPT entry, the saved ones when it is poisoned. */
static inline u64 ept_rights(u64 e)
{
	return e & EPT_POISON ? (e >> EPT_SAVED_SHIFT) & EPT_RWX : e & EPT_RWX;
}

/* Bit 7 is PS in PDPTEs and PDEs of both formats; in a PTE it is PAT (x86) or
 * ignored (EPT), and a present PTE is always a leaf. A PML4E is never a leaf. */
static inline bool entry_is_leaf(enum pt_format fmt, u64 e, unsigned level)
{
	if (!entry_present(fmt, e) || level == PT_LEVELS)
		return false;
	return level == 1 || (e & X86_PTE_PS) != 0;
}

static inline bool entry_is_table(enum pt_format fmt, u64 e, unsigned level)
{
	return level > 1 && entry_present(fmt, e) && !entry_is_leaf(fmt, e, level);
}

static inline u64 entry_addr(enum pt_format fmt, u64 e, unsigned level)
{
	if (level > 1 && entry_is_leaf(fmt, e, level))
		return e & PTE_ADDR_MASK & ~(PT_LEVEL_SIZE(level) - 1);
	return e & PTE_ADDR_MASK;
}

/* Accessed and dirty bits, which the hardware owns and the engine carries over. */
static inline u64 ad_mask(enum pt_format fmt)
{
	return fmt == PT_FMT_EPT ? EPT_A | EPT_D : X86_PTE_A | X86_PTE_D;
}

static u64 x86_leaf_bits(unsigned perms, unsigned level)
{
	u64 e = X86_PTE_P;

	if (perms & PT_W)
		e |= X86_PTE_RW;
	if (perms & PT_USER)
		e |= X86_PTE_US;
	if (!(perms & PT_X))
		e |= X86_PTE_NX;
	if (perms & PT_GLOBAL)
		e |= X86_PTE_G;
	if (perms & PT_UC) /* PAT index 3: UC in the power-on PAT (SDM Vol. 3A, PAT) */
		e |= X86_PTE_PCD | X86_PTE_PWT;
	if (level > 1)
		e |= X86_PTE_PS;
	return e;
}

static u64 ept_leaf_bits(unsigned perms, unsigned level)
{
	u64 memtype = (perms & PT_UC) ? EPT_MEMTYPE_UC : EPT_MEMTYPE_WB;
	u64 e = memtype << EPT_MEMTYPE_SHIFT; /* SDM Vol. 3C Table 29-6: bits 5:3 */

	if (perms & PT_R)
		e |= EPT_R;
	if (perms & PT_W)
		e |= EPT_W;
	if (perms & PT_X)
		e |= EPT_X;
	if (level > 1)
		e |= EPT_PS;
	return e;
}

u64 pt_make_leaf(enum pt_format fmt, u64 pa, unsigned perms, unsigned level)
{
	u64 bits;

	if (level < 1 || level >= PT_LEVELS)
		return 0;
	bits = fmt == PT_FMT_EPT ? ept_leaf_bits(perms, level) : x86_leaf_bits(perms, level);
	return (pa & PTE_ADDR_MASK & ~(PT_LEVEL_SIZE(level) - 1)) | bits;
}

/* Non-leaf entries grant everything: access rights are the intersection along the
 * walk (SDM Vol. 3A 4.6, Vol. 3C 29.3.3.2), so permissions live at the leaf only. */
u64 pt_make_table_entry(enum pt_format fmt, u64 table_phys)
{
	u64 bits = fmt == PT_FMT_EPT ? EPT_RWX : X86_PTE_P | X86_PTE_RW | X86_PTE_US;

	return (table_phys & PTE_ADDR_MASK) | bits;
}

static unsigned entry_perms(enum pt_format fmt, u64 e)
{
	unsigned p = 0;

	if (fmt == PT_FMT_EPT) {
		u64 rights = ept_rights(e);

		p |= (rights & EPT_R) ? PT_R : 0;
		p |= (rights & EPT_W) ? PT_W : 0;
		p |= (rights & EPT_X) ? PT_X : 0;
		if (((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT) == EPT_MEMTYPE_UC)
			p |= PT_UC;
		return p;
	}
	p = PT_R;
	p |= (e & X86_PTE_RW) ? PT_W : 0;
	p |= (e & X86_PTE_US) ? PT_USER : 0;
	p |= (e & X86_PTE_NX) ? 0 : PT_X;
	p |= (e & X86_PTE_G) ? PT_GLOBAL : 0;
	p |= (e & X86_PTE_PCD) ? PT_UC : 0;
	return p;
}

bool pt_entry_present(enum pt_format fmt, u64 entry)
{
	return entry_present(fmt, entry);
}

bool pt_entry_is_leaf(enum pt_format fmt, u64 entry, unsigned level)
{
	return level >= 1 && level <= PT_LEVELS && entry_is_leaf(fmt, entry, level);
}

u64 pt_entry_addr(enum pt_format fmt, u64 entry, unsigned level)
{
	return entry_addr(fmt, entry, level);
}

unsigned pt_entry_perms(enum pt_format fmt, u64 entry)
{
	return entry_perms(fmt, entry);
}

/* Whether perms can be expressed in fmt. Write without read is not expressible in
 * x86 and is an EPT misconfiguration (SDM Vol. 3C 29.3.3.1). */
static bool perms_valid(enum pt_format fmt, unsigned perms)
{
	if (perms & ~PT_PERMS_ALL)
		return false;
	if ((perms & PT_W) && !(perms & PT_R))
		return false;
	if (fmt == PT_FMT_X86)
		return (perms & PT_R) != 0;
	return !(perms & (PT_USER | PT_GLOBAL)) && (perms & (PT_R | PT_X));
}

/* Whether replacing leaf old by new (0 = unmap) can leave a stale TLB entry that
 * grants more than new: a different frame, a lost right, another memory type, a lost
 * G bit. U/S counts both ways: gaining it removes supervisor access under SMEP/SMAP.
 * SDM Vol. 3A 4.10.4.2. */
static bool leaf_weakened(enum pt_format fmt, u64 old, u64 new, unsigned level)
{
	unsigned op, np;

	if (!entry_present(fmt, new) || entry_addr(fmt, old, level) != entry_addr(fmt, new, level))
		return true;
	op = entry_perms(fmt, old);
	np = entry_perms(fmt, new);
	return (op & ~np & (PT_R | PT_W | PT_X | PT_GLOBAL)) || ((op ^ np) & (PT_USER | PT_UC));
}

/* --- table memory ------------------------------------------------------------------ */

static inline u64 *table_at(const struct pagetable *pt, u64 phys)
{
	if (pt->ops.table_ptr)
		return pt->ops.table_ptr(pt->ops.ctx, phys);
	return (u64 *)(uintptr_t)(phys + pt->ops.window);
}

/* Store an entry the hardware may be walking: one 8-byte store, after every earlier
 * store (a new table must be filled before it is linked; x86 keeps store order). */
static inline void entry_set(u64 *slot, u64 value)
{
	__asm__ volatile("" ::: "memory");
	*(volatile u64 *)slot = value;
}

static void table_zero(u64 *t)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = 0;
}

static bool table_empty(const struct pagetable *pt, const u64 *t)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (entry_present(pt->fmt, t[i]))
			return false;
	return true;
}

/* Entry i of the table that replaces leaf (or non-present entry) parent, one level up
 * from child_level: the same translation in 512 pieces, or nothing. */
static u64 split_child(const struct pagetable *pt, u64 parent, unsigned child_level, unsigned i)
{
	u64 base, bits;

	if (!entry_present(pt->fmt, parent))
		return 0;
	base = entry_addr(pt->fmt, parent, child_level + 1);
	bits = pt_make_leaf(pt->fmt, 0, entry_perms(pt->fmt, parent), child_level);
	return (base + i * PT_LEVEL_SIZE(child_level)) | bits | (parent & ad_mask(pt->fmt));
}

/* Fill a fresh table at child_level so that it translates exactly as parent did. */
static void table_fill(struct pagetable *pt, u64 *t, u64 parent, unsigned child_level)
{
	u64 step = PT_LEVEL_SIZE(child_level);
	u64 e;

	if (!entry_present(pt->fmt, parent)) {
		table_zero(t);
		return;
	}
	e = split_child(pt, parent, child_level, 0);
	for (unsigned i = 0; i < PT_ENTRIES; i++, e += step)
		t[i] = e;
	pt->leaves[child_level + 1]--;
	pt->leaves[child_level] += PT_ENTRIES;
}

/* A table has just been unlinked: free it, or queue it for the caller's flush. */
static void table_release(struct pagetable *pt, u64 phys, unsigned level)
{
	struct pt_deferred *d = pt->deferred;

	if (d) {
		table_at(pt, phys)[0] = d->count ? d->head : 0; /* non-present either way */
		d->head = phys;
		d->count++;
	} else {
		pt->ops.free_table(pt->ops.ctx, phys);
	}
	pt->tables[level]--;
	pt->needs_flush = true; /* paging-structure caches may point at it (SDM Vol. 3A 4.10.3) */
}

/* Free the table at level and everything below it, keeping the counters. */
static void free_subtree(struct pagetable *pt, u64 phys, unsigned level)
{
	u64 *t = table_at(pt, phys);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		u64 e = t[i];

		if (!entry_present(pt->fmt, e))
			continue;
		if (entry_is_leaf(pt->fmt, e, level))
			pt->leaves[level]--;
		else
			free_subtree(pt, entry_addr(pt->fmt, e, level), level - 1);
	}
	table_release(pt, phys, level);
}

/* Overwrite the entry at level with leaf new (or 0), freeing whatever table it
 * pointed to and keeping the counters and needs_flush. */
static void entry_replace(struct pagetable *pt, u64 *slot, unsigned level, u64 new)
{
	u64 old = *slot;

	entry_set(slot, new);
	if (entry_is_leaf(pt->fmt, old, level)) {
		pt->leaves[level]--;
		if (leaf_weakened(pt->fmt, old, new, level))
			pt->needs_flush = true;
	} else if (entry_present(pt->fmt, old)) {
		free_subtree(pt, entry_addr(pt->fmt, old, level), level - 1);
	}
	if (entry_present(pt->fmt, new))
		pt->leaves[level]++;
}

/* --- address checks ---------------------------------------------------------------- */

/* x86: bits 63:47 all equal (SDM Vol. 3A 4.5); EPT: guest-physical below 2^48. */
static bool va_valid(const struct pagetable *pt, u64 va)
{
	u64 top = va >> 47;

	if (pt->fmt == PT_FMT_EPT)
		return va < VA_SPACE;
	return top == 0 || top == (1ULL << 17) - 1;
}

/* Check [va, va+len) and return it as a range of the 48-bit index space (the
 * sign extension stripped), which the walker works in. */
static int range_check(const struct pagetable *pt, u64 va, u64 len, u64 *start, u64 *end)
{
	u64 last = va + len - 1;

	if (!IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE) || !va_valid(pt, va))
		return -DV_EINVAL;
	if (pt->root == PT_NO_TABLE)
		return -DV_EINVAL;
	if (len == 0) {
		*start = *end = 0;
		return 0;
	}
	/* no wrap-around; x86: both ends in the same canonical half */
	if (last < va || !va_valid(pt, last))
		return -DV_EINVAL;
	if (pt->fmt == PT_FMT_X86 && (va >> 47) != (last >> 47))
		return -DV_EINVAL;
	*start = va & (VA_SPACE - 1);
	*end = *start + len;
	return 0;
}

/* --- the range walker -------------------------------------------------------------- */

enum range_kind { RANGE_MAP, RANGE_UNMAP, RANGE_PROTECT };
enum range_action { ACT_SKIP, ACT_WRITE, ACT_DESCEND, ACT_ENOENT };

struct range_op {
	enum range_kind kind;
	bool dry;	    /* counting pass: nothing is written */
	u64 start, end;	    /* [start, end) in the 48-bit index space */
	u64 pa;		    /* frame mapped at start (map) */
	unsigned perms;	    /* map, protect */
	unsigned max_level; /* map: largest leaf level the caller allows */
	u64 need;	    /* dry pass: tables the real pass will take */
	u64 reserve;	    /* real pass: chain of reserved tables, linked through word 0 */
};

static bool leaf_allowed(const struct pagetable *pt, unsigned level)
{
	return level < PT_LEVELS && (pt->page_sizes & (1u << level));
}

/* The level of a PT_SIZE_* bit (PT_SIZE_4K is bit 1), or 0 if it is not exactly one. */
static unsigned size_level(unsigned size)
{
	if (size == PT_SIZE_4K || size == PT_SIZE_2M || size == PT_SIZE_1G)
		return (unsigned)__builtin_ctz(size);
	return 0;
}

/* What to do with entry e at level covering [eb, eb + size): leave it, overwrite it
 * with *leaf, or go down into a table (existing, new, or split from a leaf). */
static enum range_action range_decide(const struct pagetable *pt, const struct range_op *op, u64 e,
				      unsigned level, u64 eb, bool full, u64 *leaf)
{
	enum pt_format fmt = pt->fmt;
	u64 size = PT_LEVEL_SIZE(level);
	u64 pa;

	switch (op->kind) {
	case RANGE_MAP:
		pa = op->pa + (eb - op->start); /* frame for eb; wraps harmlessly when eb < start */
		if (full && leaf_allowed(pt, level) && level <= op->max_level &&
		    IS_ALIGNED(pa, size)) {
			*leaf = pt_make_leaf(fmt, pa, op->perms, level);
			return (e & ~ad_mask(fmt)) == *leaf ? ACT_SKIP : ACT_WRITE;
		}
		/* a leaf already mapping this piece the same way needs no split,
		 * unless it is larger than the caller's cap */
		if (level <= op->max_level && entry_is_leaf(fmt, e, level) &&
		    entry_addr(fmt, e, level) == pa && entry_perms(fmt, e) == op->perms)
			return ACT_SKIP;
		return ACT_DESCEND;
	case RANGE_UNMAP:
		if (!entry_present(fmt, e))
			return ACT_SKIP;
		*leaf = 0;
		return full ? ACT_WRITE : ACT_DESCEND;
	case RANGE_PROTECT:
		if (!entry_present(fmt, e))
			return ACT_ENOENT;
		if (!entry_is_leaf(fmt, e, level))
			return ACT_DESCEND;
		if (entry_perms(fmt, e) == op->perms)
			return ACT_SKIP;
		if (!full)
			return ACT_DESCEND;
		*leaf = pt_make_leaf(fmt, entry_addr(fmt, e, level), op->perms, level) |
			(e & ad_mask(fmt));
		return ACT_WRITE;
	}
	return ACT_SKIP;
}

/* A table reserved before the real pass; alloc_table only if the dry count was short,
 * which would be a bug in the count. */
static u64 reserve_take(struct pagetable *pt, struct range_op *op)
{
	u64 phys = op->reserve;

	if (phys == PT_NO_TABLE)
		return pt->ops.alloc_table(pt->ops.ctx);
	op->reserve = table_at(pt, phys)[0];
	return phys;
}

static void reserve_release(struct pagetable *pt, struct range_op *op)
{
	while (op->reserve != PT_NO_TABLE) {
		u64 phys = op->reserve;

		op->reserve = table_at(pt, phys)[0];
		pt->ops.free_table(pt->ops.ctx, phys);
	}
}

/* Reserve op->need tables, or none and -DV_ENOMEM. */
static int reserve_fill(struct pagetable *pt, struct range_op *op)
{
	op->reserve = PT_NO_TABLE;
	for (u64 n = 0; n < op->need; n++) {
		u64 phys = pt->ops.alloc_table(pt->ops.ctx);

		if (phys == PT_NO_TABLE) {
			reserve_release(pt, op);
			return -DV_ENOMEM;
		}
		table_at(pt, phys)[0] = op->reserve;
		op->reserve = phys;
	}
	return 0;
}

static int range_table(struct pagetable *pt, struct range_op *op, u64 *tbl, u64 parent,
		       unsigned level, u64 base);

/* Go down from table entry e at level (stored at *slot) into its table, which covers
 * [eb, eb + size); after an unmap, free the table if that left it empty. */
static int range_descend_table(struct pagetable *pt, struct range_op *op, u64 *slot, u64 e,
			       unsigned level, u64 eb)
{
	u64 phys = entry_addr(pt->fmt, e, level);
	u64 *child;
	int err;

	/* level-1 entries never need a table; only protect must look for holes */
	if (op->dry && level - 1 == 1 && op->kind != RANGE_PROTECT)
		return 0;
	child = table_at(pt, phys);
	err = range_table(pt, op, child, 0, level - 1, eb);
	if (!err && !op->dry && op->kind == RANGE_UNMAP && table_empty(pt, child)) {
		entry_set(slot, 0);
		table_release(pt, phys, level - 1);
	}
	return err;
}

/* Go down from leaf or non-present entry e at level through a new table that keeps
 * e's translation (split, or empty). In the dry pass the table is only counted and
 * slot may be NULL (e itself lies in a table not built yet). */
static int range_descend_new(struct pagetable *pt, struct range_op *op, u64 *slot, u64 e,
			     unsigned level, u64 eb)
{
	u64 *child;
	u64 phys;

	if (op->dry) {
		op->need++;
		/* below: no table at level 1, no holes under a split leaf */
		if (level - 1 == 1)
			return 0;
		return range_table(pt, op, NULL, e, level - 1, eb);
	}
	phys = reserve_take(pt, op);
	if (phys == PT_NO_TABLE)
		return -DV_ENOMEM;
	child = table_at(pt, phys);
	table_fill(pt, child, e, level - 1);
	pt->tables[level - 1]++;
	entry_set(slot, pt_make_table_entry(pt->fmt, phys));
	return range_table(pt, op, child, 0, level - 1, eb);
}

/* The level-1 entries [first, last] of a map, in the table whose entry 0 maps base:
 * range_decide's answer worked out once for all of them. Each is a whole 4 KiB page
 * (the range is page-aligned), and 4 KiB leaves are always allowed and never larger
 * than the cap, so each is written as a leaf unless it already is that leaf. A loop of
 * a few instructions per entry: mmusim maps a whole table page on every first touch,
 * and the general loop cost it over 100. */
static void range_map_ptes(struct pagetable *pt, const struct range_op *op, u64 *tbl,
			   unsigned first, unsigned last, u64 base)
{
	u64 bits = pt_make_leaf(pt->fmt, 0, op->perms, 1);
	u64 pa = op->pa + (base + first * PAGE_SIZE - op->start);
	u64 ad = ad_mask(pt->fmt);

	for (unsigned i = first; i <= last; i++, pa += PAGE_SIZE) {
		u64 leaf = (pa & PTE_ADDR_MASK) | bits, e = tbl[i];

		if ((e & ~ad) == leaf)
			continue;
		if (entry_present(pt->fmt, e)) {
			entry_replace(pt, &tbl[i], 1, leaf);
			continue;
		}
		entry_set(&tbl[i], leaf);
		pt->leaves[1]++;
	}
}

/* Apply op to the entries of the table at level whose entry 0 maps base. In a dry
 * pass tbl may be NULL: a table not built yet, whose entries are split_child(parent). */
static int range_table(struct pagetable *pt, struct range_op *op, u64 *tbl, u64 parent,
		       unsigned level, u64 base)
{
	u64 size = PT_LEVEL_SIZE(level);
	unsigned first = PT_INDEX(MAX(op->start, base), level);
	unsigned last = PT_INDEX(MIN(op->end, base + size * PT_ENTRIES) - 1, level);

	if (level == 1 && op->kind == RANGE_MAP && !op->dry) {
		range_map_ptes(pt, op, tbl, first, last, base);
		return 0;
	}
	for (unsigned i = first; i <= last; i++) {
		u64 eb = base + i * size;
		bool full = op->start <= eb && eb + size <= op->end;
		u64 e = tbl ? tbl[i] : split_child(pt, parent, level, i);
		u64 leaf = 0;
		int err;

		switch (range_decide(pt, op, e, level, eb, full, &leaf)) {
		case ACT_SKIP:
			break;
		case ACT_ENOENT:
			return -DV_ENOENT;
		case ACT_WRITE:
			if (!op->dry)
				entry_replace(pt, &tbl[i], level, leaf);
			break;
		case ACT_DESCEND:
			if (entry_is_table(pt->fmt, e, level))
				err = range_descend_table(pt, op, &tbl[i], e, level, eb);
			else
				err = range_descend_new(pt, op, tbl ? &tbl[i] : NULL, e, level, eb);
			if (err)
				return err;
			break;
		}
	}
	return 0;
}

/* Dry pass, reservation, real pass: see the top of the file. */
static int range_run(struct pagetable *pt, struct range_op *op)
{
	u64 *root = table_at(pt, pt->root);
	int err;

	if (op->start == op->end)
		return 0;
	op->dry = true;
	op->need = 0;
	err = range_table(pt, op, root, 0, PT_LEVELS, 0);
	if (err)
		return err;
	err = reserve_fill(pt, op);
	if (err)
		return err;
	op->dry = false;
	err = range_table(pt, op, root, 0, PT_LEVELS, 0);
	reserve_release(pt, op);
	return err;
}

int pt_map_capped(struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned perms, unsigned max_size)
{
	struct range_op op = {
		.kind = RANGE_MAP, .pa = pa, .perms = perms, .max_level = size_level(max_size)};
	int err = range_check(pt, va, len, &op.start, &op.end);

	if (err)
		return err;
	if (!op.max_level || !perms_valid(pt->fmt, perms) || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    pa >= PA_LIMIT || len > PA_LIMIT - pa)
		return -DV_EINVAL;
	return range_run(pt, &op);
}

int pt_map(struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned perms)
{
	return pt_map_capped(pt, va, pa, len, perms, PT_SIZE_1G);
}

int pt_unmap(struct pagetable *pt, u64 va, u64 len)
{
	struct range_op op = {.kind = RANGE_UNMAP};
	int err = range_check(pt, va, len, &op.start, &op.end);

	return err ? err : range_run(pt, &op);
}

int pt_protect(struct pagetable *pt, u64 va, u64 len, unsigned perms)
{
	struct range_op op = {.kind = RANGE_PROTECT, .perms = perms};
	int err = range_check(pt, va, len, &op.start, &op.end);

	if (err)
		return err;
	if (!perms_valid(pt->fmt, perms))
		return -DV_EINVAL;
	return range_run(pt, &op);
}

/* --- single-entry operations ------------------------------------------------------- */

/* The level-`level` entry covering va, or NULL if the walk stops above it. */
static u64 *entry_slot(const struct pagetable *pt, u64 va, unsigned level)
{
	u64 *t = table_at(pt, pt->root);

	for (unsigned l = PT_LEVELS; l > level; l--) {
		u64 e = t[PT_INDEX(va, l)];

		if (!entry_is_table(pt->fmt, e, l))
			return NULL;
		t = table_at(pt, entry_addr(pt->fmt, e, l));
	}
	return &t[PT_INDEX(va, level)];
}

/* The slot of the leaf mapping va and its level, or NULL. */
static u64 *leaf_slot(const struct pagetable *pt, u64 va, unsigned *level)
{
	u64 *t = table_at(pt, pt->root);

	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		u64 *slot = &t[PT_INDEX(va, l)];

		if (entry_is_leaf(pt->fmt, *slot, l)) {
			*level = l;
			return slot;
		}
		if (!entry_is_table(pt->fmt, *slot, l))
			return NULL;
		t = table_at(pt, entry_addr(pt->fmt, *slot, l));
	}
	return NULL;
}

/* Neither direction sets needs_flush: curing grants what was there, and a poison
 * that cached translations outlive is the point (they are TLB hits, not misses). */
int pt_poison(struct pagetable *pt, u64 va, bool poison, u64 *leaf_va)
{
	unsigned level;
	u64 *slot, e;

	if (pt->fmt != PT_FMT_EPT || pt->root == PT_NO_TABLE || !va_valid(pt, va))
		return -DV_EINVAL;
	slot = leaf_slot(pt, va, &level);
	if (!slot)
		return -DV_ENOENT;
	e = *slot;
	if (poison && !(e & EPT_POISON))
		e = (e & ~EPT_RWX) | EPT_POISON | ((e & EPT_RWX) << EPT_SAVED_SHIFT);
	else if (!poison && (e & EPT_POISON))
		e = (e & ~(EPT_POISON | EPT_SAVED_MASK)) | ept_rights(e);
	entry_set(slot, e);
	if (leaf_va)
		*leaf_va = va & ~(PT_LEVEL_SIZE(level) - 1);
	return (int)level;
}

u64 pt_ept_unpoisoned(u64 entry)
{
	if (!(entry & EPT_POISON))
		return entry;
	return (entry & ~(EPT_POISON | EPT_SAVED_MASK)) | ept_rights(entry);
}

bool pt_poisoned(const struct pagetable *pt, u64 va)
{
	unsigned level;
	const u64 *slot;

	if (pt->fmt != PT_FMT_EPT || pt->root == PT_NO_TABLE || !va_valid(pt, va))
		return false;
	slot = leaf_slot(pt, va, &level);
	return slot && (*slot & EPT_POISON);
}

/* Splitting keeps every translation, so it does not set needs_flush: a stale large
 * TLB entry still agrees with the new tables (SDM Vol. 3A 4.10.2.3). */
int pt_split(struct pagetable *pt, u64 va, unsigned level)
{
	u64 *slot;
	u64 phys;

	if (level < 2 || level > 3 || pt->root == PT_NO_TABLE || !va_valid(pt, va))
		return -DV_EINVAL;
	slot = entry_slot(pt, va, level);
	if (!slot || !entry_is_leaf(pt->fmt, *slot, level))
		return -DV_ENOENT;
	phys = pt->ops.alloc_table(pt->ops.ctx);
	if (phys == PT_NO_TABLE)
		return -DV_ENOMEM;
	table_fill(pt, table_at(pt, phys), *slot, level - 1);
	pt->tables[level - 1]++;
	entry_set(slot, pt_make_table_entry(pt->fmt, phys));
	return 0;
}

struct merge_run {
	u64 base;	/* frame of the first page */
	unsigned perms; /* common permissions */
	u64 ad;		/* OR of the accessed/dirty bits */
};

/* Whether the table at level maps one physically contiguous range aligned to the
 * table's span with one set of permissions, descending into child tables. */
static bool table_uniform(const struct pagetable *pt, u64 phys, unsigned level,
			  struct merge_run *run)
{
	const u64 *t = table_at(pt, phys);
	u64 size = PT_LEVEL_SIZE(level);

	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		u64 e = t[i];
		struct merge_run r;

		if (entry_is_leaf(pt->fmt, e, level)) {
			r.base = entry_addr(pt->fmt, e, level);
			r.perms = entry_perms(pt->fmt, e);
			r.ad = e & ad_mask(pt->fmt);
		} else if (!entry_is_table(pt->fmt, e, level) ||
			   !table_uniform(pt, entry_addr(pt->fmt, e, level), level - 1, &r)) {
			return false;
		}
		if (i == 0) {
			if (!IS_ALIGNED(r.base, size * PT_ENTRIES))
				return false;
			*run = r;
		} else if (r.base != run->base + i * size || r.perms != run->perms) {
			return false;
		}
		run->ad |= r.ad;
	}
	return true;
}

int pt_merge(struct pagetable *pt, u64 va, unsigned level)
{
	struct merge_run run;
	u64 *slot;

	if (level < 2 || level > 3 || pt->root == PT_NO_TABLE || !va_valid(pt, va) ||
	    !leaf_allowed(pt, level))
		return -DV_EINVAL;
	slot = entry_slot(pt, va, level);
	if (!slot || !entry_present(pt->fmt, *slot))
		return -DV_ENOENT;
	if (entry_is_leaf(pt->fmt, *slot, level))
		return 0;
	if (!table_uniform(pt, entry_addr(pt->fmt, *slot, level), level - 1, &run))
		return -DV_EBUSY;
	entry_replace(pt, slot, level, pt_make_leaf(pt->fmt, run.base, run.perms, level) | run.ad);
	return 0;
}

/* --- walking ----------------------------------------------------------------------- */

int pt_walk_path(const struct pagetable *pt, u64 va, struct pt_walk *walk)
{
	u64 phys = pt->root;

	walk->n = 0;
	walk->level = PT_LEVELS;
	if (pt->root == PT_NO_TABLE || !va_valid(pt, va))
		return -DV_EINVAL;
	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		unsigned idx = PT_INDEX(va, l);
		u64 e = table_at(pt, phys)[idx];

		walk->entry_pa[walk->n] = phys + idx * sizeof(u64);
		walk->entry[walk->n++] = e;
		walk->level = l;
		if (!entry_present(pt->fmt, e))
			return -DV_ENOENT;
		if (entry_is_leaf(pt->fmt, e, l))
			return 0;
		phys = entry_addr(pt->fmt, e, l);
	}
	return -DV_ENOENT; /* not reached: a present PTE is a leaf */
}

int pt_translate(const struct pagetable *pt, u64 va, u64 *pa, unsigned *perms, unsigned *level)
{
	u64 phys = pt->root;

	if (pt->root == PT_NO_TABLE || !va_valid(pt, va))
		return -DV_EINVAL;
	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		u64 e = table_at(pt, phys)[PT_INDEX(va, l)];

		if (!entry_present(pt->fmt, e))
			return -DV_ENOENT;
		if (entry_is_leaf(pt->fmt, e, l)) {
			if (pa)
				*pa = entry_addr(pt->fmt, e, l) | (va & (PT_LEVEL_SIZE(l) - 1));
			if (perms)
				*perms = entry_perms(pt->fmt, e);
			if (level)
				*level = l;
			return 0;
		}
		phys = entry_addr(pt->fmt, e, l);
	}
	return -DV_ENOENT;
}

/* One walk per leaf: a leaf that starts linear stays linear to its end. */
int pt_check_linear(const struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned min_size,
		    u64 *bad)
{
	unsigned min_level = size_level(min_size);
	u64 start, end, off = 0;
	int err = range_check(pt, va, len, &start, &end);

	if (err)
		return err;
	if (!min_level || !IS_ALIGNED(pa, PAGE_SIZE) || pa >= PA_LIMIT || len > PA_LIMIT - pa)
		return -DV_EINVAL;
	while (off < len) {
		u64 at = va + off, got;
		unsigned level;

		err = pt_translate(pt, at, &got, NULL, &level);
		if (!err && got != pa + off)
			err = -DV_EFAULT;
		else if (!err && level < min_level)
			err = -DV_ERANGE;
		if (err) {
			if (bad)
				*bad = at;
			return err;
		}
		off += PT_LEVEL_SIZE(level) - (at & (PT_LEVEL_SIZE(level) - 1));
	}
	return 0;
}

/* --- deferred frees ---------------------------------------------------------------- */

void pt_defer_frees(struct pagetable *pt, struct pt_deferred *d)
{
	pt->deferred = d;
}

u64 pt_release_deferred(struct pagetable *pt, struct pt_deferred *d)
{
	u64 n = d->count;

	for (u64 i = 0; i < n; i++) {
		u64 phys = d->head;

		d->head = table_at(pt, phys)[0];
		pt->ops.free_table(pt->ops.ctx, phys);
	}
	d->head = 0;
	d->count = 0;
	return n;
}

/* --- lifecycle --------------------------------------------------------------------- */

int pt_init(struct pagetable *pt, enum pt_format fmt, unsigned page_sizes, const struct pt_ops *ops)
{
	u64 root;

	*pt = (struct pagetable){.fmt = fmt, .root = PT_NO_TABLE, .page_sizes = page_sizes};
	if (fmt != PT_FMT_X86 && fmt != PT_FMT_EPT)
		return -DV_EINVAL;
	if ((page_sizes & ~PT_SIZE_ALL) || !(page_sizes & PT_SIZE_4K) ||
	    ((page_sizes & PT_SIZE_1G) && !(page_sizes & PT_SIZE_2M)))
		return -DV_EINVAL;
	if (!ops || !ops->alloc_table || !ops->free_table)
		return -DV_EINVAL;
	pt->ops = *ops;
	root = ops->alloc_table(ops->ctx);
	if (root == PT_NO_TABLE)
		return -DV_ENOMEM;
	table_zero(table_at(pt, root));
	pt->root = root;
	pt->tables[PT_LEVELS] = 1;
	return 0;
}

void pt_destroy(struct pagetable *pt)
{
	if (pt->root == PT_NO_TABLE)
		return;
	free_subtree(pt, pt->root, PT_LEVELS);
	pt->root = PT_NO_TABLE;
}
