/* One page-table engine for x86-64 4-level paging (SDM Vol. 3A 4.5) and Intel EPT
 * (SDM Vol. 3C 29.3). It builds, edits, walks and frees the tables of the hypervisor's
 * own map, the guest's EPT, the guest kernel's tables and the MMU model's walkers.
 *
 * Table memory is pluggable (struct pt_ops), so the same code runs over the buddy
 * allocator in the hypervisor and over a host buffer in tests and tools.
 *
 * Addresses: x86 virtual addresses must be canonical (bits 63:47 equal); EPT
 * guest-physical addresses must be below 2^48; physical addresses below 2^52.
 * The engine owns every bit of the entries it writes, except the accessed and dirty
 * bits, which it carries over when it splits, merges or re-protects a leaf. */
#ifndef MM_PAGETABLE_H
#define MM_PAGETABLE_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"

enum pt_format {
	PT_FMT_X86, /* IA-32e 4-level paging */
	PT_FMT_EPT, /* extended page tables, 4-level walk */
};

/* Abstract permissions and attributes, translated to each format's bits.
 * x86: PT_R is mandatory (a present page is readable); EPT: at least PT_R or PT_X,
 * and no PT_USER / PT_GLOBAL (EPT has no such bits). PT_W needs PT_R in both. */
#define PT_R	  (1u << 0)
#define PT_W	  (1u << 1)
#define PT_X	  (1u << 2)
#define PT_USER	  (1u << 3) /* x86 only: U/S */
#define PT_GLOBAL (1u << 4) /* x86 only: G */
#define PT_UC	  (1u << 5) /* uncached: PCD|PWT on x86, memory type UC in EPT; default WB */
#define PT_RW	  (PT_R | PT_W)
#define PT_RX	  (PT_R | PT_X)
#define PT_RWX	  (PT_R | PT_W | PT_X)

/* Leaf sizes a table may use (struct pagetable.page_sizes): bit n = leaves at level n.
 * 4 KiB is mandatory; 1 GiB requires 2 MiB (a split must have somewhere to go). */
#define PT_SIZE_4K  (1u << 1)
#define PT_SIZE_2M  (1u << 2)
#define PT_SIZE_1G  (1u << 3)
#define PT_SIZE_ALL (PT_SIZE_4K | PT_SIZE_2M | PT_SIZE_1G)

#define PT_NO_TABLE (~0ULL) /* alloc_table failure; root of a destroyed table */

/* Tables unlinked while frees are deferred (pt_defer_frees), waiting for the caller's
 * flush. A zeroed struct is an empty list. The tables are chained through their word 0,
 * which then holds a 4 KiB-aligned address: a non-present entry in both formats (bit 0
 * clear: x86 P, EPT R; SDM Vol. 3A 4.5, Vol. 3C 29.3.2), so a stale walk through a
 * cached pointer faults instead of translating. The rest of each table is untouched. */
struct pt_deferred {
	u64 head;  /* most recently unlinked table; meaningless when count is 0 */
	u64 count; /* tables on the list */
};

/* Where table pages come from. The engine zeroes (or fills) a table after
 * alloc_table, so the allocator need not. free_table is called once a table is
 * unlinked; the hardware may still cache it until the caller's flush (see
 * needs_flush); a caller editing live tables defers the frees (pt_defer_frees).
 * Tables are read and written through table_ptr(ctx, phys); when table_ptr is NULL,
 * at (void *)(phys + window) instead (0 for an identity map), which saves an
 * indirect call per level on the translate path. */
struct pt_ops {
	u64 (*alloc_table)(void *ctx); /* phys of a 4 KiB page, or PT_NO_TABLE */
	void (*free_table)(void *ctx, u64 phys);
	void *(*table_ptr)(void *ctx, u64 phys);
	u64 window;
	void *ctx;
};

struct pagetable {
	enum pt_format fmt;
	u64 root; /* phys of the level-4 table (CR3 / EPTP address) */
	struct pt_ops ops;
	unsigned page_sizes;	      /* PT_SIZE_* allowed for leaves */
	u64 tables[PT_LEVELS + 1];    /* tables in use by level: [4] = root, [1] = PTs */
	u64 leaves[PT_LEVELS + 1];    /* present leaves by level: [1] 4K, [2] 2M, [3] 1G */
	bool needs_flush;	      /* a change removed, redirected or weakened a translation,
				       * or freed a table: INVLPG/INVEPT, then clear it */
	struct pt_deferred *deferred; /* non-NULL: unlinked tables go here, not to free_table */
};

/* The entry path of one walk, root first, for tests and the MMU model. */
struct pt_walk {
	unsigned n;		 /* entries read (1..4) */
	unsigned level;		 /* level of the last entry read: the leaf, or the
				  * non-present entry that ended the walk */
	u64 entry_pa[PT_LEVELS]; /* physical address of each entry read */
	u64 entry[PT_LEVELS];	 /* its value */
};

/* Lifecycle. pt_init allocates the root: -DV_EINVAL for a bad format, page_sizes
 * or ops, -DV_ENOMEM if the root cannot be allocated. pt_destroy frees every table. */
int pt_init(struct pagetable *pt, enum pt_format fmt, unsigned page_sizes,
	    const struct pt_ops *ops);
void pt_destroy(struct pagetable *pt);

/* Range operations. va, pa and len are page-aligned, len may be 0 (no-op).
 * All three are all-or-nothing: on any error, including -DV_ENOMEM, the tables,
 * counters and needs_flush are exactly as before the call. */

/* Map [va, va+len) to [pa, pa+len) with the largest leaves that the alignment of va
 * and pa and page_sizes allow, replacing any mapping in the range: large leaves
 * partly covered are split (the rest keeps its translation), tables wholly covered
 * by a new leaf are freed. Mapping what is already mapped identically is a no-op. */
int pt_map(struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned perms);
/* pt_map with leaves no larger than max_size (one of PT_SIZE_4K, _2M, _1G), so one table
 * can hold 1 GiB leaves in one range and 4 KiB leaves in the next. Within the range the
 * cap is a guarantee: a larger leaf already there, even an identical one, is split.
 * -DV_EINVAL if max_size is not one PT_SIZE_* bit; otherwise as pt_map. */
int pt_map_capped(struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned perms, unsigned max_size);
/* Unmap [va, va+len); holes are fine. Splits partly covered leaves, frees tables
 * left empty (never the root). */
int pt_unmap(struct pagetable *pt, u64 va, u64 len);
/* Set the permissions of every page in [va, va+len), keeping frames; splits leaves
 * partly covered unless they already have perms. -DV_ENOENT if any page is unmapped. */
int pt_protect(struct pagetable *pt, u64 va, u64 len, unsigned perms);

/* Split the leaf at level (2 or 3) covering va into 512 leaves one level down,
 * same frames, permissions and A/D. -DV_ENOENT if there is no leaf at that level. */
int pt_split(struct pagetable *pt, u64 va, unsigned level);
/* Replace the table under the level-`level` (2 or 3) entry covering va by one leaf,
 * if everything below maps one aligned, physically contiguous range with identical
 * permissions (through child tables too). 0 if it is a leaf already; -DV_EBUSY if
 * not mergeable (nothing changed); -DV_ENOENT if unmapped; -DV_EINVAL if page_sizes
 * forbids leaves at level. */
int pt_merge(struct pagetable *pt, u64 va, unsigned level);

/* Whether [va, va+len) maps linearly to [pa, pa+len) through leaves of at least
 * min_size (one PT_SIZE_* bit; PT_SIZE_4K accepts any leaf); leaves may extend past
 * the range. 0 if it does; else the first offending address goes to *bad (if not NULL)
 * and the result says why: -DV_ENOENT unmapped, -DV_EFAULT mapped elsewhere, -DV_ERANGE
 * a smaller leaf. -DV_EINVAL for misaligned or out-of-space arguments (*bad untouched).
 * Costs one walk per leaf. Permissions are not looked at. */
int pt_check_linear(const struct pagetable *pt, u64 va, u64 pa, u64 len, unsigned min_size,
		    u64 *bad);

/* Deferred frees, for a caller that edits live tables: between pt_defer_frees(pt, d)
 * and pt_defer_frees(pt, NULL), every table the engine unlinks (unmap, replacement by
 * a large leaf, merge, destroy) goes onto d instead of back to ops.free_table, so the
 * caller can flush (INVEPT / INVLPG / CR3 reload) before the memory is reused
 * (SDM Vol. 3A 4.10.3: paging-structure caches may still point at it). Tables
 * reserved by a range operation and never linked are freed at once. */
void pt_defer_frees(struct pagetable *pt, struct pt_deferred *d);
/* After the flush: give every table on d back through pt's ops.free_table and empty
 * d; returns how many. d may be attached to pt or not. */
u64 pt_release_deferred(struct pagetable *pt, struct pt_deferred *d);

/* EPT only: the poisoned-but-present state, for TLB-miss sampling (hv/sample.c).
 * pt_poison(pt, va, true, ...) makes the leaf that maps va fault (R=W=X=0 to the CPU)
 * while keeping its frame and rights, which the engine goes on seeing (pt_translate,
 * pt_check_linear and the counters treat it as the leaf it was); false cures it.
 * Any remap, re-protect or split of the leaf drops the poison. Returns the leaf's level
 * (1..3) and its first address in *leaf_va (may be NULL); -DV_ENOENT if nothing maps
 * va; -DV_EINVAL for x86 tables or a bad va. Sets no needs_flush either way: curing
 * only grants, and poisoning under translations the TLB already holds is the point. */
int pt_poison(struct pagetable *pt, u64 va, bool poison, u64 *leaf_va);
bool pt_poisoned(const struct pagetable *pt, u64 va);
/* An EPT entry as it was before its poison (itself when not poisoned): what a
 * walker that models the CPU reads to see the leaf the engine sees. */
u64 pt_ept_unpoisoned(u64 entry);

/* Translate va: -DV_ENOENT if unmapped, -DV_EINVAL if va is out of the format's
 * address space. Any output pointer may be NULL. */
int pt_translate(const struct pagetable *pt, u64 va, u64 *pa, unsigned *perms, unsigned *level);
/* Like pt_translate, recording every entry read. Same return values. */
int pt_walk_path(const struct pagetable *pt, u64 va, struct pt_walk *walk);

/* Entry encoding and decoding, exported so tests and the MMU model build and read
 * exactly what the engine does. pt_make_leaf returns 0 for a level outside 1..3. */
u64 pt_make_leaf(enum pt_format fmt, u64 pa, unsigned perms, unsigned level);
u64 pt_make_table_entry(enum pt_format fmt, u64 table_phys);
bool pt_entry_present(enum pt_format fmt, u64 entry);
bool pt_entry_is_leaf(enum pt_format fmt, u64 entry, unsigned level);
/* Frame of a leaf, or phys of the table an entry at level points to. */
u64 pt_entry_addr(enum pt_format fmt, u64 entry, unsigned level);
/* PT_* permissions of a present leaf. */
unsigned pt_entry_perms(enum pt_format fmt, u64 entry);

#endif
