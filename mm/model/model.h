/* The MMU model: TLBs, optional page-walk caches, native and 2D page walks,
 * the guest and VMM direct segments with the escape filter, and the counts
 * the cost models need. Portable C, no allocation: struct model holds all
 * its storage (a few hundred KiB; allocate it statically or on the heap, and
 * do not copy it: its TLB points into itself).
 *
 * Typical use (mmusim):
 *	struct model_config c;
 *	model_config_init(&c, MODEL_VMM_DIRECT);
 *	c.guest = (struct walk_tables){ .root = gcr3, .read = rd, .ctx = mem };
 *	c.nested = (struct walk_tables){ .root = eptp_root, .read = rd, .ctx = mem };
 *	c.vseg = (struct segment){ base, limit, offset };
 *	model_init(m, &c);
 *	while (...) {
 *		int r = model_access(m, gva, is_write);
 *		if (r == -DV_EFAULT && model_fault(m)->kind == WALK_NOT_PRESENT) {
 *			map what model_fault(m) names, then model_access again;
 *		}
 *	}
 *	model_stats(m)->walks ...
 *
 * A faulting access changes no counter but stats.faults and inserts nothing
 * in the TLBs, so materialising tables on first touch and retrying counts
 * exactly as if the tables had existed (the optional page-walk caches do
 * keep what the faulting walk read, as hardware does). See docs/model.md. */
#ifndef MM_MODEL_MODEL_H
#define MM_MODEL_MODEL_H

#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "mm/model/cost.h"
#include "mm/model/escape.h"
#include "mm/model/pwc.h"
#include "mm/model/segment.h"
#include "mm/model/tlb.h"
#include "mm/model/walk.h"

/* The modes of PAPER.md. A mode says which hardware is active; a segment
 * the mode uses but that is disabled (BASE = LIMIT) is simply never hit, so
 * Dual Direct with BASE_g = LIMIT_g behaves as VMM Direct and with
 * BASE_v = LIMIT_v as Guest Direct, as in the paper. Segments configured in a
 * mode that does not use them only classify misses for the linear model. */
enum model_mode {
	MODEL_NATIVE = 0,   /* native paging: 1D walk of the (guest) tables */
	MODEL_NATIVE_DS,    /* native direct segment: the guest segment maps VA -> PA */
	MODEL_BASE_VIRT,    /* 2D walk through guest tables and EPT */
	MODEL_DUAL_DIRECT,  /* guest segment + VMM segment */
	MODEL_VMM_DIRECT,   /* guest tables, every gPA through the VMM segment */
	MODEL_GUEST_DIRECT, /* guest segment, then the nested walk */
	MODEL_MODES,
};

struct model_config {
	enum model_mode mode;
	struct tlb_geometry tlb;	/* default: tlb_preset("sandybridge") */
	bool pwc;			/* paging-structure caches and nested TLB */
	struct pwc_geometry pwc_geom;	/* per dimension, used when pwc */
	struct tlb_array_geometry ntlb; /* nested TLB gPA -> hPA, used when pwc */
	struct walk_tables guest;	/* native or guest tables (root: CR3) */
	struct walk_tables nested;	/* EPT (root: EPTP's table address) */
	struct segment gseg;		/* BASE_g, LIMIT_g, OFFSET_g */
	struct segment vseg;		/* BASE_v, LIMIT_v, OFFSET_v */
	u32 escape_bits;		/* Bloom filter size, default 256 */
	u32 escape_hashes;		/* default 4 */
	struct walk_env env;		/* default: MAXPHYADDR 46, NXE, WP */
	bool user;			/* model_access is CPL 3 (default true) */
};

/* How a translation was obtained. */
enum model_path {
	MODEL_PATH_L1 = 0,  /* L1 TLB hit */
	MODEL_PATH_SEGMENT, /* L1 miss completed by segments alone (Table I "Both") */
	MODEL_PATH_L2,	    /* L2 TLB hit */
	MODEL_PATH_WALK,    /* page walk (possibly shortened by segments) */
};

/* Classification bits of a miss: where its data address lies. */
#define MODEL_IN_GSEG 1u /* gVA inside the guest segment */
#define MODEL_IN_VSEG 2u /* gPA inside the VMM segment and not escaped */

/* One translation in detail (model_translate). */
struct model_xlat {
	u64 pa;		       /* hPA (PA natively) */
	u64 gpa;	       /* gPA when virtualized and known, else 0 */
	u8 shift;	       /* page size of the TLB entry used or made */
	u8 path;	       /* enum model_path */
	u8 cls;		       /* MODEL_IN_* for misses (path != L1/L2) */
	struct walk_refs refs; /* walk references and segment adds */
};

/* Per-run totals. l1 hits = accesses - l1_misses. */
struct model_stats {
	u64 accesses; /* completed accesses (a faulting attempt is not one) */
	u64 l1_misses;
	u64 l2_hits;
	u64 l2_misses;		    /* L2 lookups that missed; each starts a walk */
	u64 segment_l1;		    /* L1 misses completed by segments (Dual Direct "Both",
				     * native direct segment): no L2 lookup, no walk */
	u64 walks;		    /* = l2_misses */
	u64 walk_refs;		    /* memory references of all walks */
	u64 walk_refs_max;	    /* most references of one walk */
	u64 refs[WALK_REF_KINDS];   /* by kind and level, see enum walk_ref_base */
	u64 seg_adds;		    /* segment additions (guest + VMM segment) */
	u64 segment_hits;	    /* TLB misses whose data address a segment translated */
	u64 escape_hits;	    /* gPAs in the VMM segment sent to the walk by a real escape */
	u64 escape_false_positives; /* ... by a Bloom-filter false positive */
	u64 pwc_hits;
	u64 ntlb_hits;
	u64 faults;		      /* faulting attempts (not in the counts above) */
	struct cost_miss_counts miss; /* M_n and the F numerators */
};

/* One slot of the optional walk memo (model_set_memo): the outcome of a
 * successful walk of one 4 KiB gVA page. 32 bytes. */
struct model_memo_slot {
	u64 key;    /* gVA bits 47:12 | generation << 36; 0 = empty */
	u64 data;   /* TLB entry data: page base | rights */
	u8 refs[6]; /* references by kind, one nibble each */
	u8 shift;   /* TLB entry page size */
	u8 cls;	    /* MODEL_IN_* | 4 if a segment translated the data */
	u8 seg_adds;
	u8 escapes; /* real escapes (bits 3:0), false positives (bits 7:4) */
	u8 pad[6];
};

/* One slot of the optional table-translation cache (model_set_table_cache):
 * how the gPA -> hPA translation of one 4 KiB page of guest page tables
 * went, packed (see model.c). 16 bytes. */
struct model_tcache_slot {
	u64 key;  /* gPA bits 51:12 << 24 | generation; 0 = empty */
	u64 data; /* hPA page, its page size, rights, and the references made */
};

/* One slot of the optional path cache (model_set_path_cache): the way a
 * fast walk of the guest (or native) tables went down to a 4 KiB leaf table
 * for one 2 MiB-aligned block of gVAs: the leaf table, the rights of the
 * levels above it and what reading them counted. 32 bytes. */
struct model_path_slot {
	u64 key;    /* gVA bits 47:21 << 24 | generation; 0 = empty */
	u64 table;  /* gPA (PA natively) of the leaf table */
	u64 rights; /* RW, US and NX of the upper levels */
	u32 nested; /* a 2D walk: the nested reads of the guest tables (lanes) */
	u32 misc;   /* their segment adds and escape-filter answers (model.c) */
};

/* Everything below is private to mm/model; read it through the functions. */
struct model_fast {
	u64 base; /* page base of the last L1 hit, which is MRU in its set */
	u64 mask; /* ~(page size - 1) */
	u8 ok;	  /* 0 = invalid, 1 = reads allowed, 2 = reads and writes */
};

/* Slots of the look-ahead's memory of level-2 tables, per dimension. */
#define MODEL_AHEAD_SLOTS 16

/* The fast walkers' memory of upper levels (model.c, model_upper_find): for
 * a 1 GiB region whose levels 4 and 3 a walk read as valid, the region's
 * number plus one, the level-2 table (or the level-3 entry, where that is
 * the leaf) and the rights of those levels. Exact as the path cache is:
 * with the page-walk caches off those levels read the same entries until
 * the tables change, and a change of a valid entry is followed by
 * model_flush. */
#define MODEL_UPPER_SLOTS 16
struct model_upper {
	u64 key, entry, rights;
	bool leaf;
};

/* A recent L1 hit. While no entry is filled or flushed, the entry is still
 * there and still the first one the L1 lookup would find for its page, so
 * hitting it again only has to renew its LRU stamp, as the lookup would. */
#define MODEL_RECENT 4
struct model_recent {
	u64 base; /* page base */
	u64 mask; /* ~(page size - 1) */
	struct tlb_array *array;
	u32 index; /* of the entry in array */
	u8 ok;	   /* as in model_fast */
};

/* The walkers written for the configuration (model_set_fast). */
enum model_fast_mode {
	MODEL_FAST_OFF = 0, /* generic walkers only */
	MODEL_FAST_ON,	    /* the fast walkers where they apply (the default) */
	MODEL_FAST_CHECK,   /* both, every outcome compared (a test mode) */
};

struct model {
	struct model_fast fast; /* first: the hit path touches little else */
	/* Where the segment path reduces to one L1 array (model.c,
	 * model_segment_1g): that array, or NULL; the gVAs whose 1 GiB block
	 * the segments translate, [lo, hi); and model_fast's ok for the
	 * entries the segments make. */
	struct model_seg1g {
		struct tlb_array *array;
		u64 lo, hi;
		u8 ok;
	} seg1g;
	struct model_recent recent[MODEL_RECENT];
	unsigned nrecent;     /* valid entries of recent[] */
	unsigned recent_next; /* slot the next L1 hit replaces when it is full */
	struct model_stats stats;
	/* Reference counts of lean-path walks not yet in stats.refs: the sum
	 * of their byte lanes (model.c), folded in before a lane could
	 * overflow and by model_stats. */
	u64 pend_lo;
	u32 pend_hi;
	u32 pend_total;		  /* references in the pending lanes */
	u64 pend_seg_misses;	  /* model_segment_1g's misses not yet in stats */
	bool virt;		  /* mode has a nested dimension */
	bool use_gseg;		  /* mode translates through the guest segment */
	bool use_vseg;		  /* mode translates through the VMM segment */
	bool guess_gpa;		  /* 2D paging: the look-ahead guesses gPAs by the guest segment */
	u32 acc_base;		  /* WALK_ACC_USER when cfg.user */
	u64 vseg1g_lo, vseg1g_hi; /* the gPAs whose 1 GiB block the VMM segment maps whole */
	/* The rights check of a TLB entry for each acc (WALK_ACC_* bits) as
	 * two masks: the entry's data allows acc when (data & mask) == need. */
	struct model_rights {
		u64 mask, need;
	} rights[8];
	struct model_config cfg;
	struct walk_fault fault;
	struct tlb tlb;
	struct pwc gpwc;       /* guest (or native) paging-structure caches */
	struct pwc npwc;       /* EPT paging-structure caches */
	struct tlb_array ntlb; /* nested TLB */
	struct escape_filter escape;
	struct model_memo_slot *memo;	  /* caller's storage, or NULL */
	u64 memo_mask;			  /* slots - 1 */
	u64 memo_gen;			  /* generation in keys, from 1 */
	struct model_tcache_slot *tcache; /* caller's storage, or NULL */
	u64 tcache_mask;		  /* slots - 1 */
	u64 tcache_gen;			  /* generation in keys, from 1 */
	struct model_path_slot *path;	  /* caller's storage, or NULL */
	u64 path_mask;			  /* slots - 1 */
	u64 path_gen;			  /* generation in keys, from 1 */
	/* The look-ahead's memory of level-2 tables (model_prefetch_far and
	 * model_prefetch_near): for the 1 GiB regions it walked last, in the
	 * guest's tables [0] and in EPT [1], the region's number plus one and
	 * its PD table. A hint only: a stale one costs a useless prefetch,
	 * never a count. */
	struct model_ahead {
		u64 key, pd;
	} ahead[2][MODEL_AHEAD_SLOTS];
	/* The fast walkers' memory of upper levels: native x86 walks [0],
	 * EPT walks [1]. */
	struct model_upper upper[2][MODEL_UPPER_SLOTS];
	u8 fast_walk;	     /* enum model_fast_mode in effect */
	bool fast_seg;	     /* the native-ds / dual-direct segment path */
	bool lean;	     /* model_access's miss path without a miss record */
	u64 fast_rsvd;	     /* walk_rsvd_phys(&cfg.env) */
	u64 fast_rsvd_x;     /* ... and XD when NXE is off */
	u64 fast_checked;    /* walks compared in MODEL_FAST_CHECK */
	u64 fast_mismatches; /* ... that differed */
};

/* Defaults for mode: Sandy Bridge TLBs, caches off, segments disabled,
 * escape filter 256 bits / 4 hashes, MAXPHYADDR 46 (the Xeon E5-2430 of the
 * paper), NXE and WP set, user accesses. Tables are left empty. */
void model_config_init(struct model_config *c, enum model_mode mode);

/* Build m from c (c is copied). -DV_EINVAL for a bad geometry, segment or
 * filter size, or a mode out of range. */
int model_init(struct model *m, const struct model_config *c);

/* Translate one access. 0 on success; -DV_EFAULT on a fault, described by
 * model_fault(m). The L1-hit path is inline and touches one set. */
int model_access_slow(struct model *m, u64 gva, bool is_write);
static inline int model_access(struct model *m, u64 gva, bool is_write)
{
	/* The last L1 hit's entry is most recently used in its set, so hitting
	 * it again changes no LRU state: skip the lookup. Invalidated by every
	 * fill and flush. */
	if (((gva ^ m->fast.base) & m->fast.mask) == 0 && (unsigned)is_write < m->fast.ok) {
		m->stats.accesses++;
		return 0;
	}
	return model_access_slow(m, gva, is_write);
}

/* As model_access, with WALK_ACC_* bits (USER is taken from acc, not from
 * the configuration) and the details in *x (may be NULL). */
int model_translate(struct model *m, u64 gva, u32 acc, struct model_xlat *x);

/* Optional walk memo, a pure speed-up: the outcome of each successful walk
 * is kept in slots (a power of two, caller's storage, no allocation here),
 * keyed by gVA page; a later walk of that page replays it (same counts, same
 * TLB fills) instead of reading the tables again. Used only with the
 * page-walk caches off, where a walk's outcome depends on the tables alone.
 * Cleared by every flush: call model_flush (EPT or guest change) or
 * model_flush_page (guest change) after changing an existing mapping; adding
 * one needs nothing, as only successful walks are kept. slots = NULL
 * turns it off. -DV_EINVAL if n is not a power of two. */
int model_set_memo(struct model *m, struct model_memo_slot *slots, u64 n);

/* Optional cache of the nested translations of guest page-table pages, a
 * pure speed-up: a 2D walk translates the gPA of each guest table it reads
 * (16 of the 24 references of a 4 KiB + 4 KiB walk), and those pages are
 * few and read over and over. A slot keeps how one page's translation went
 * (its references, segment add, escape-filter outcome, hPA) and a later
 * walk adds the same counts without reading EPT. Used only with the
 * page-walk caches off, where that translation depends on the tables, the
 * VMM segment and the escape filter alone. The same contract as the TLBs:
 * model_flush (which every change of segments, escapes or tables makes)
 * forgets it; adding mappings needs nothing, as only translations that
 * succeeded are kept. slots (a power of two, caller's storage) = NULL turns
 * it off. -DV_EINVAL if n is not a power of two. */
int model_set_table_cache(struct model *m, struct model_tcache_slot *slots, u64 n);

/* Optional path cache, a pure speed-up for the fast walkers (model_set_fast)
 * with 4 KiB guest leaf tables: for each 2 MiB block of gVAs a walk went
 * through, the leaf table it reached, the rights of the levels above and
 * their counts, with the nested translations of a 2D walk's guest tables.
 * A later walk in that block starts at the leaf table and adds the same
 * counts: with the page-walk caches off the levels above read the same
 * entries every time, until something changes them. The same contract as
 * the table cache: model_flush (every change of tables, segments or
 * escapes makes one) and model_flush_page forget it; only upper levels
 * that read as valid are kept, so adding mappings needs nothing. slots (a
 * power of two, caller's storage) = NULL turns it off. -DV_EINVAL if n is
 * not a power of two. It pays where it replaces the guest tables' nested
 * translations (2D walks, VMM Direct); a native walk saves three cached
 * reads and pays a host cache miss on its slot. */
int model_set_path_cache(struct model *m, struct model_path_slot *slots, u64 n);

/* Walks (L2 misses) by walkers written for the configuration: the 2D walk
 * and the native walk without page-walk caches, with the guest tables' and
 * the final gPA's nested translations inline. A pure speed-up: a walk that
 * would fault is made again by the generic walkers, which produce the
 * fault. MODEL_FAST_ON by default; with page-walk caches always off.
 * MODEL_FAST_CHECK makes every walk both ways and counts the walks whose
 * outcomes (references, translation, rights) differ. */
void model_set_fast(struct model *m, enum model_fast_mode mode);
/* Walks that differed in MODEL_FAST_CHECK; *checked (may be NULL) gets the
 * walks compared. */
u64 model_fast_mismatches(const struct model *m, u64 *checked);

/* Slot of the memo for gva (private; used by model_prefetch). */
static inline struct model_memo_slot *model_memo_slot_of(const struct model *m, u64 gva)
{
	/* Fibonacci hashing of the page number (Knuth, TAOCP 6.4). */
	return &m->memo[((gva >> 12) * 0x9e3779b97f4a7c15ULL >> 20) & m->memo_mask];
}

/* Hint: gva will be accessed soon. Prefetches its memo slot, so a caller
 * that knows its addresses some accesses ahead (gups, a trace buffer) can
 * overlap the memo's cache misses. No effect on results. */
static inline void model_prefetch(const struct model *m, u64 gva)
{
	if (m->memo)
		__builtin_prefetch(model_memo_slot_of(m, gva));
}

/* Hints: gva will be accessed soon; prefetch (__builtin_prefetch) the
 * table entries its walk would read. A caller that reads its stream ahead
 * calls both for each access: first far ahead (model_prefetch_far: reads
 * the upper levels, which are usually cached, and prefetches the guest's
 * last-level entry and the EPT entry of its table page), then nearer
 * (model_prefetch_near: reads the guest entries, now cached, and prefetches
 * the EPT entry of the data's gPA), where the far step said the near one
 * has something to do (it returns false where no nested walk follows the
 * guest's, or it has fetched the data's EPT entry itself): a caller keeps
 * that answer rather than asking again (gups over 8 GiB, 4k+4k: 2% fewer
 * instructions than testing each address near). Two entry points rather
 * than one with a flag: each saves only the registers it uses. They read
 * the tables without counting, faulting or filling anything: no effect on
 * any result (they keep hints of their own). */
bool model_prefetch_far(struct model *m, u64 gva);
void model_prefetch_near(struct model *m, u64 gva);

/* Has model_prefetch_far already fetched what model_prefetch_near would
 * for gva? In 2D paging (no segment translates) the far step guesses
 * the data's gPA in the guest segment's range as if the guest mapped it
 * with the segment's offset, which is how mmusim's layout maps it, and
 * fetches its EPT entry at once; the near step then has nothing to do. A
 * guess that is wrong only costs a useless prefetch. */
static inline bool model_prefetch_near_done(const struct model *m, u64 gva)
{
	return m->guess_gpa && segment_contains(&m->cfg.gseg, gva);
}

/* The last fault: stage (guest tables or EPT), kind, level, addresses. */
const struct walk_fault *model_fault(const struct model *m);

/* Drop all cached translations: TLBs, paging-structure caches, nested TLB.
 * Call after changing an existing mapping (lazily adding one needs nothing). */
void model_flush(struct model *m);
/* INVLPG: drop the TLB entries of gva and the guest paging-structure
 * caches (EPT's caches and the nested TLB stay). */
void model_flush_page(struct model *m, u64 gva);

/* Live changes; each flushes the translation caches. */
int model_set_mode(struct model *m, enum model_mode mode);
int model_set_segments(struct model *m, const struct segment *gseg, const struct segment *vseg);
void model_set_tables(struct model *m, const struct walk_tables *guest,
		      const struct walk_tables *nested);
/* The same tables, now read at another host address or with a larger flat
 * window (a tool's table memory grew): no flush, nothing else changes. The
 * caller promises every entry reads as before. */
void model_move_tables(struct model *m, const struct walk_tables *guest,
		       const struct walk_tables *nested);
/* Escape the 4 KiB guest-physical page of gpa from the VMM segment. */
int model_escape_page(struct model *m, u64 gpa);

/* The totals so far (the lean miss path's pending reference counts are
 * folded in first, hence not const). */
const struct model_stats *model_stats(struct model *m);
void model_stats_reset(struct model *m);

/* The mode the hardware is effectively in: Dual Direct with a disabled
 * guest segment is VMM Direct, etc. */
enum model_mode model_effective_mode(const struct model *m);

/* "native", "native-ds", "base", "dual-direct", "vmm-direct", "guest-direct". */
const char *model_mode_name(enum model_mode mode);
/* Parse a name above; -DV_EINVAL if unknown. */
int model_mode_parse(const char *s, enum model_mode *mode);

static inline enum cost_design model_cost_design(enum model_mode mode)
{
	return (enum cost_design)mode;
}

#endif
