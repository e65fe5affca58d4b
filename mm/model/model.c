/* The MMU model: Table I of PAPER.md on top of the TLBs, walkers, segments
 * and escape filter. model_access's L1-hit path is inline in model.h; this
 * file is the rest: L1 lookup, segment translation at L1 miss, L2, walks. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/model.h"
#include "lib/string.h"

/* ---- modes ---------------------------------------------------------------- */

/* clang-format off */
static const char *const model_mode_names[MODEL_MODES] = {
	[MODEL_NATIVE] = "native",
	[MODEL_NATIVE_DS] = "native-ds",
	[MODEL_BASE_VIRT] = "base",
	[MODEL_DUAL_DIRECT] = "dual-direct",
	[MODEL_VMM_DIRECT] = "vmm-direct",
	[MODEL_GUEST_DIRECT] = "guest-direct",
};
/* clang-format on */

const char *model_mode_name(enum model_mode mode)
{
	return (unsigned)mode < MODEL_MODES ? model_mode_names[mode] : "?";
}

static bool model_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int model_mode_parse(const char *s, enum model_mode *mode)
{
	unsigned i;

	for (i = 0; i < MODEL_MODES; i++) {
		if (model_streq(s, model_mode_names[i])) {
			*mode = (enum model_mode)i;
			return 0;
		}
	}
	return -DV_EINVAL;
}

static bool mode_is_virt(enum model_mode mode)
{
	return mode >= MODEL_BASE_VIRT;
}

static bool mode_has_gseg(enum model_mode mode)
{
	return mode == MODEL_NATIVE_DS || mode == MODEL_DUAL_DIRECT || mode == MODEL_GUEST_DIRECT;
}

static bool mode_has_vseg(enum model_mode mode)
{
	return mode == MODEL_DUAL_DIRECT || mode == MODEL_VMM_DIRECT;
}

enum model_mode model_effective_mode(const struct model *m)
{
	if (!m->virt)
		return m->use_gseg ? MODEL_NATIVE_DS : MODEL_NATIVE;
	if (m->use_gseg && m->use_vseg)
		return MODEL_DUAL_DIRECT;
	if (m->use_gseg)
		return MODEL_GUEST_DIRECT;
	if (m->use_vseg)
		return MODEL_VMM_DIRECT;
	return MODEL_BASE_VIRT;
}

/* TLB rights of a translation through a segment (segments carry no rights:
 * Basu et al. give the primary region read-write user access). */
#define MODEL_SEG_RIGHTS (X86_PTE_RW | X86_PTE_US)

/* Which TLB entries an access acc may use, as masks (model_rights_allow):
 * the guest's x86 rights (SDM Vol. 3A 4.6) and the nested dimension's
 * denials. A user access needs U/S; a write needs R/W unless a supervisor
 * write with CR0.WP clear; a fetch is denied by NX or EPT's X, a write by
 * EPT's W, a read by EPT's R. */
static void model_rights_init(struct model *m)
{
	for (u32 acc = 0; acc < ARRAY_SIZE(m->rights); acc++) {
		bool user = acc & WALK_ACC_USER, exec = acc & WALK_ACC_EXEC;
		bool write = (acc & WALK_ACC_WRITE) && !exec;
		u64 need = (user ? X86_PTE_US : 0) |
			   (write && (user || m->cfg.env.wp) ? X86_PTE_RW : 0);
		u64 deny = exec ? X86_PTE_NX | TLB_NO_EXEC : write ? TLB_NO_WRITE : TLB_NO_READ;

		m->rights[acc] = (struct model_rights){need | deny, need};
	}
}

/* Can an access acc use a TLB entry with these rights (model_rights_init)?
 * A miss on rights re-walks, as hardware does before it faults. */
static inline bool model_rights_allow(const struct model *m, u64 data, u32 acc)
{
	const struct model_rights *r = &m->rights[acc & (ARRAY_SIZE(m->rights) - 1)];

	return (data & r->mask) == r->need;
}

/* model_fast's ok for an L1 entry with data: 0 if it does not allow a read,
 * 2 if it allows writes too, else 1. */
static inline u8 model_fast_ok(const struct model *m, u64 data)
{
	if (!model_rights_allow(m, data, m->acc_base))
		return 0;
	return model_rights_allow(m, data, m->acc_base | WALK_ACC_WRITE) ? 2 : 1;
}

/* The key of a's 1 GiB region in the memories of upper levels and of the
 * look-ahead (0: an empty slot). */
static inline u64 model_region_key(u64 a)
{
	return (a >> PAGE_1G_SHIFT) + 1;
}

/* The slot of a's 1 GiB region in such a memory of slots entries (a power
 * of two). */
static inline unsigned model_region_slot(u64 a, unsigned slots)
{
	return (unsigned)(a >> PAGE_1G_SHIFT) & (slots - 1);
}

/* Forget what the memories of upper levels and of the look-ahead keep. */
static void model_regions_forget(struct model *m)
{
	memset(m->ahead, 0, sizeof(m->ahead));
	memset(m->upper, 0, sizeof(m->upper));
}

static void model_pend_fold(struct model *m);

/* The addresses of s whose whole 1 GiB block it translates to an aligned
 * block, [*lo, *hi) (empty: lo = hi), within the canonical lower half. */
static void model_seg1g_range(const struct segment *s, u64 *lo, u64 *hi)
{
	u64 top = MIN(s->limit, 1ULL << 47);

	*lo = ALIGN_UP(s->base, PAGE_1G);
	*hi = ALIGN_DOWN(top, PAGE_1G);
	if (!segment_enabled(s) || !IS_ALIGNED(s->offset, PAGE_1G) || *hi <= *lo || *lo < s->base)
		*lo = *hi = 0;
}

/* Which hardware translates: the mode's segments, when enabled. */
static void model_apply_mode(struct model *m)
{
	model_pend_fold(m);
	m->virt = mode_is_virt(m->cfg.mode);
	m->use_gseg = mode_has_gseg(m->cfg.mode) && segment_enabled(&m->cfg.gseg);
	m->use_vseg = mode_has_vseg(m->cfg.mode) && segment_enabled(&m->cfg.vseg);
	m->guess_gpa = m->virt && !m->use_gseg && !m->use_vseg && segment_enabled(&m->cfg.gseg);
	m->acc_base = m->cfg.user ? WALK_ACC_USER : 0;
	model_rights_init(m);
	model_seg1g_range(&m->cfg.vseg, &m->vseg1g_lo, &m->vseg1g_hi);
}

/* model_segment_1g applies where the segment path fills the 1 GiB L1 array
 * (the blocks of both segments' ranges) and that array holds 1 GiB pages
 * only, so no other size of the lookup can be found in it; and it is 4-way,
 * as in every preset (no call for other set sizes on its path). */
static void model_seg1g_update(struct model *m)
{
	struct model_seg1g *z = &m->seg1g;
	struct tlb_array *a = m->tlb.l1_of[TLB_1G];
	u64 lo, hi, v_lo, v_hi, offset = m->cfg.gseg.offset;

	*z = (struct model_seg1g){0}; /* lo = hi: model_seg1g_covers says no */
	if (a && a->pinned)
		tlb_array_pin(&m->tlb, a, false);
	if (!m->fast_seg || !a || a->sizes != TLB_SIZE_BIT(TLB_1G) || a->ways != 4)
		return;
	model_seg1g_range(&m->cfg.gseg, &lo, &hi);
	if (m->virt) {
		/* The gVAs whose gPA the VMM segment's range holds: one range
		 * of gVAs unless it wraps (then not this path). */
		model_seg1g_range(&m->cfg.vseg, &v_lo, &v_hi);
		if (v_lo == v_hi || v_lo - offset > v_hi - offset)
			return;
		lo = MAX(lo, v_lo - offset);
		hi = MIN(hi, v_hi - offset);
	}
	if (lo >= hi)
		return;
	*z = (struct model_seg1g){
		.array = a,
		.lo = lo,
		.hi = hi,
		.ok = model_fast_ok(m, MODEL_SEG_RIGHTS),
	};
	/* Its misses fill it with tlb_array_put, not asking whether that
	 * made it live: it is kept live instead. */
	tlb_array_pin(&m->tlb, a, true);
}

/* Which paths written for the configuration model_access takes: the
 * segment path of native-ds and dual-direct (with the fast walkers on, in
 * those modes, while no page is escaped: the filter would have to be
 * asked), its one-array form (model_seg1g_update), and the lean miss path
 * (fast walkers on, no walk memo). */
static void model_fast_paths_update(struct model *m)
{
	enum model_mode e = model_effective_mode(m);

	m->fast_seg = m->fast_walk == MODEL_FAST_ON && escape_empty(&m->escape) &&
		      (e == MODEL_NATIVE_DS || e == MODEL_DUAL_DIRECT);
	m->lean = m->fast_walk == MODEL_FAST_ON && !m->memo;
	model_seg1g_update(m);
}

/* ---- set-up ------------------------------------------------------------------ */

void model_config_init(struct model_config *c, enum model_mode mode)
{
	*c = (struct model_config){0};
	c->mode = mode;
	tlb_preset("sandybridge", &c->tlb);
	/* Paging-structure caches when enabled: PML4E 2, PDPTE 4, PDE 32
	 * entries per dimension and a 32-entry 4-way nested TLB. dimvisor's
	 * choice, in the range the literature reports for Intel's caches
	 * (docs/model.md); not measured, not the paper's. */
	c->pwc_geom = (struct pwc_geometry){{2, 4, 32}};
	c->ntlb = (struct tlb_array_geometry){32, 4, TLB_ALL_SIZES};
	c->escape_bits = ESCAPE_DEFAULT_BITS;
	c->escape_hashes = ESCAPE_DEFAULT_HASHES;
	c->env.maxphyaddr = 46; /* Xeon E5-2430: 46-bit physical addresses */
	c->env.nxe = true;
	c->env.wp = true;
	c->user = true;
}

int model_init(struct model *m, const struct model_config *c)
{
	int err;

	if ((unsigned)c->mode >= MODEL_MODES || c->env.maxphyaddr < 32 || c->env.maxphyaddr > 52)
		return -DV_EINVAL;
	if (segment_check(&c->gseg) || segment_check(&c->vseg))
		return -DV_EINVAL;
	m->cfg = *c;
	err = tlb_init(&m->tlb, &c->tlb);
	if (!err)
		err = pwc_init(&m->gpwc, &c->pwc_geom);
	if (!err)
		err = pwc_init(&m->npwc, &c->pwc_geom);
	if (!err)
		err = tlb_array_init(&m->ntlb, &c->ntlb);
	if (!err)
		err = escape_init(&m->escape, c->escape_bits, c->escape_hashes);
	if (err)
		return err;
	model_stats_reset(m); /* before model_apply_mode, which folds pending counts */
	model_apply_mode(m);
	/* All of it: model_access compares base and mask before it looks at ok. */
	m->fast = (struct model_fast){0};
	m->nrecent = 0;
	m->recent_next = 0;
	m->memo = NULL;
	m->memo_mask = 0;
	m->memo_gen = 1;
	m->tcache = NULL;
	m->tcache_mask = 0;
	m->tcache_gen = 1;
	m->path = NULL;
	m->path_mask = 0;
	m->path_gen = 1;
	model_regions_forget(m);
	m->fault = (struct walk_fault){0};
	m->fast_checked = 0;
	m->fast_mismatches = 0;
	model_set_fast(m, MODEL_FAST_ON);
	return 0;
}

void model_set_fast(struct model *m, enum model_fast_mode mode)
{
	/* The page-walk caches make a walk change more than its counts: only
	 * the generic walkers fill them. */
	m->fast_walk = m->cfg.pwc ? MODEL_FAST_OFF : mode;
	model_fast_paths_update(m);
	m->fast_rsvd = walk_rsvd_phys(&m->cfg.env);
	m->fast_rsvd_x = m->fast_rsvd | (m->cfg.env.nxe ? 0 : X86_PTE_NX);
}

u64 model_fast_mismatches(const struct model *m, u64 *checked)
{
	if (checked)
		*checked = m->fast_checked;
	return m->fast_mismatches;
}

/* ---- caller's caches (walk memo, table cache, path cache) -------------------------- */

/* Set up a caller's cache of n slots of size bytes, each starting with its
 * key: every key empty (0), generation 1. slots NULL turns the cache off;
 * otherwise n must be a power of two (-DV_EINVAL). */
static int model_cache_set(void *slots, u64 n, size_t size, u64 *mask, u64 *gen)
{
	if (slots && (n == 0 || (n & (n - 1))))
		return -DV_EINVAL;
	*mask = slots ? n - 1 : 0;
	*gen = 1;
	for (u64 i = 0; slots && i < n; i++)
		*(u64 *)((u8 *)slots + i * size) = 0;
	return 0;
}

/* The next generation of a cache's keys; true when it would not fit in
 * bits, and the cache must be cleared and start again from 1. */
static bool model_gen_wraps(u64 *gen, unsigned bits)
{
	return ++*gen >= (1ULL << bits);
}

/* ---- walk memo ---------------------------------------------------------------- */

#define MEMO_PAGE_MASK ((1ULL << 36) - 1) /* gVA bits 47:12 name a canonical page */
#define MEMO_SEG_DATA  4u

int model_set_memo(struct model *m, struct model_memo_slot *slots, u64 n)
{
	int err = model_cache_set(slots, n, sizeof(*slots), &m->memo_mask, &m->memo_gen);

	if (err)
		return err;
	m->memo = slots;
	model_fast_paths_update(m);
	return 0;
}

/* Forget every memo entry: a new generation makes old keys unequal. */
static void model_memo_forget(struct model *m)
{
	if (model_gen_wraps(&m->memo_gen, 27))
		model_set_memo(m, m->memo, m->memo_mask + 1);
}

/* ---- table-translation cache ------------------------------------------------ */

#define TCACHE_GEN_BITS 24

int model_set_table_cache(struct model *m, struct model_tcache_slot *slots, u64 n)
{
	int err = model_cache_set(slots, n, sizeof(*slots), &m->tcache_mask, &m->tcache_gen);

	if (!err)
		m->tcache = slots;
	return err;
}

/* Forget every slot: a new generation makes old keys unequal. */
static void model_tcache_forget(struct model *m)
{
	if (model_gen_wraps(&m->tcache_gen, TCACHE_GEN_BITS))
		model_set_table_cache(m, m->tcache, m->tcache_mask + 1);
}

/* ---- path cache --------------------------------------------------------------- */

#define PATH_GEN_BITS	 24
#define PATH_BLOCK_SHIFT 21 /* a leaf table maps 2 MiB */

int model_set_path_cache(struct model *m, struct model_path_slot *slots, u64 n)
{
	int err = model_cache_set(slots, n, sizeof(*slots), &m->path_mask, &m->path_gen);

	if (!err)
		m->path = slots;
	return err;
}

/* Forget every slot: a new generation makes old keys unequal. */
static void model_path_forget(struct model *m)
{
	if (model_gen_wraps(&m->path_gen, PATH_GEN_BITS))
		model_set_path_cache(m, m->path, m->path_mask + 1);
}

/* The key of gva's 2 MiB block: its bits 47:21 (a canonical gVA's bits
 * 63:48 copy bit 47) and the generation. */
static inline u64 model_path_key(const struct model *m, u64 gva)
{
	return ((gva & ((1ULL << 48) - 1)) >> PATH_BLOCK_SHIFT) << PATH_GEN_BITS | m->path_gen;
}

/* The slot of gva's block (the cache must exist). */
static inline struct model_path_slot *model_path_slot(const struct model *m, u64 gva)
{
	return &m->path[(gva >> PATH_BLOCK_SHIFT) & m->path_mask];
}

/* An entry was filled or flushed: a recent hit may be gone, or no longer
 * the first the lookup finds. */
static void model_forget_recent(struct model *m)
{
	m->nrecent = 0;
}

void model_flush(struct model *m)
{
	m->fast.ok = 0;
	model_forget_recent(m);
	model_regions_forget(m);
	if (m->memo)
		model_memo_forget(m);
	if (m->tcache)
		model_tcache_forget(m);
	if (m->path)
		model_path_forget(m);
	tlb_flush(&m->tlb);
	pwc_flush(&m->gpwc);
	pwc_flush(&m->npwc);
	tlb_array_flush(&m->ntlb);
}

/* INVLPG drops the page's TLB entries and, per SDM Vol. 3A 4.10.4.1, every
 * paging-structure-cache entry; EPT's caches and the nested TLB stay (only
 * INVEPT, i.e. model_flush, clears those). The walk memo and the path cache are
 * forgotten. */
void model_flush_page(struct model *m, u64 gva)
{
	m->fast.ok = 0;
	model_forget_recent(m);
	tlb_flush_va(&m->tlb, gva);
	pwc_flush(&m->gpwc);
	memset(m->upper[0], 0, sizeof(m->upper[0])); /* the guest's, as the caches above */
	if (m->memo)
		model_memo_forget(m);
	if (m->path)
		model_path_forget(m);
}

int model_set_mode(struct model *m, enum model_mode mode)
{
	if ((unsigned)mode >= MODEL_MODES)
		return -DV_EINVAL;
	m->cfg.mode = mode;
	model_apply_mode(m);
	model_fast_paths_update(m);
	model_flush(m);
	return 0;
}

int model_set_segments(struct model *m, const struct segment *gseg, const struct segment *vseg)
{
	if (segment_check(gseg) || segment_check(vseg))
		return -DV_EINVAL;
	m->cfg.gseg = *gseg;
	m->cfg.vseg = *vseg;
	model_apply_mode(m);
	model_fast_paths_update(m);
	model_flush(m);
	return 0;
}

void model_set_tables(struct model *m, const struct walk_tables *guest,
		      const struct walk_tables *nested)
{
	m->cfg.guest = *guest;
	m->cfg.nested = *nested;
	model_flush(m);
}

void model_move_tables(struct model *m, const struct walk_tables *guest,
		       const struct walk_tables *nested)
{
	m->cfg.guest = *guest;
	m->cfg.nested = *nested;
}

int model_escape_page(struct model *m, u64 gpa)
{
	int err = escape_add(&m->escape, gpa);

	/* Entries made through the segment may cover the new hole. */
	if (!err) {
		model_fast_paths_update(m);
		model_flush(m);
	}
	return err;
}

const struct walk_fault *model_fault(const struct model *m)
{
	return &m->fault;
}

const struct model_stats *model_stats(struct model *m)
{
	model_pend_fold(m);
	return &m->stats;
}

void model_stats_reset(struct model *m)
{
	m->stats = (struct model_stats){0};
	m->pend_seg_misses = 0;
	m->pend_lo = 0;
	m->pend_hi = 0;
	m->pend_total = 0;
}

/* ---- translation pieces ---------------------------------------------------------- */

/* EPT rights as TLB denial bits. */
static u64 model_ept_denials(u64 ept_rights)
{
	u64 d = 0;

	if (!(ept_rights & EPT_R))
		d |= TLB_NO_READ;
	if (!(ept_rights & EPT_W))
		d |= TLB_NO_WRITE;
	if (!(ept_rights & EPT_X))
		d |= TLB_NO_EXEC;
	return d;
}

static unsigned model_size_of_shift(u8 shift)
{
	return shift >= PAGE_1G_SHIFT ? TLB_1G : shift >= PAGE_2M_SHIFT ? TLB_2M : TLB_4K;
}

/* Does the VMM segment translate gpa? Inside [BASE_v, LIMIT_v) and not
 * flagged by the escape filter. A flagged page goes to the nested walk; the
 * exact list says whether that was a real escape or a false positive. */
__attribute__((always_inline)) static inline bool model_vseg_hit(const struct model *m, u64 gpa,
								 struct walk_refs *refs)
{
	if (!segment_contains(&m->cfg.vseg, gpa))
		return false;
	/* An empty filter has every bit clear: no call to ask it. */
	if (!escape_empty(&m->escape) && escape_may_contain(&m->escape, gpa)) {
		if (escape_contains(&m->escape, gpa))
			refs->escape_hits++;
		else
			refs->escape_fp++;
		return false;
	}
	return true;
}

/* Page shift of a VMM-segment translation of gpa: the segment's span, cut
 * down until the block holds no escaped page (a hole must stay a hole). */
static __attribute__((noinline)) u8 model_vseg_shift_cut(const struct model *m, u64 gpa)
{
	u8 shift = segment_span_shift(&m->cfg.vseg, gpa, PAGE_1G_SHIFT);

	while (shift > PAGE_SHIFT && !escape_empty(&m->escape)) {
		u64 blk = ALIGN_DOWN(gpa, 1ULL << shift);

		if (!escape_any_in(&m->escape, blk, blk + (1ULL << shift)))
			break;
		shift = shift == PAGE_1G_SHIFT ? PAGE_2M_SHIFT : PAGE_SHIFT;
	}
	return shift;
}

/* model_vseg_shift_cut, inline where the answer is known: a 1 GiB block
 * the VMM segment maps whole, with no escaped page anywhere. */
__attribute__((always_inline)) static inline u8 model_vseg_shift(const struct model *m, u64 gpa)
{
	if (gpa - m->vseg1g_lo < m->vseg1g_hi - m->vseg1g_lo && escape_empty(&m->escape))
		return PAGE_1G_SHIFT;
	return model_vseg_shift_cut(m, gpa);
}

/* Classification of a miss for the linear model, by the configured segment
 * registers whatever the mode uses (the paper measured F on runs without the
 * hardware). The VMM bit follows what the filter would answer. */
static inline u8 model_classify(const struct model *m, u64 gva, u64 gpa, bool have_gpa)
{
	u8 cls = 0;

	if (segment_contains(&m->cfg.gseg, gva))
		cls |= MODEL_IN_GSEG;
	if (m->virt && have_gpa && segment_contains(&m->cfg.vseg, gpa) &&
	    (escape_empty(&m->escape) || !escape_may_contain(&m->escape, gpa)))
		cls |= MODEL_IN_VSEG;
	return cls;
}

/* EPT rights an access needs (SDM Vol. 3C 29.3.3.2): R for reads, including
 * the walker's reads of guest tables, W for writes, X for fetches. */
static u64 ept_needed_rights(u32 acc)
{
	if (acc & WALK_ACC_EXEC)
		return EPT_X;
	return acc & WALK_ACC_WRITE ? EPT_W : EPT_R;
}

/* State of one walk the nested hook needs besides the model. */
struct model_walk {
	struct model *m;
	bool final_by_vseg; /* the final gPA went through the VMM segment */
	bool skip_vseg;	    /* the final gPA is already known to miss it */
};

/* gPA -> hPA inside a walk, Table I row "PTW: gPA -> hPA": the VMM segment
 * (an add), else the nested TLB, else the nested walk (with its caches). */
static int model_nested_walk(struct model_walk *w, u64 gpa, bool is_table, u32 acc,
			     struct walk_refs *refs, struct walk_leaf *out, struct walk_fault *f)
{
	struct model *m = w->m;
	u64 *e;
	int err;

	if (m->use_vseg && !(w->skip_vseg && !is_table) && model_vseg_hit(m, gpa, refs)) {
		refs->seg_adds++;
		out->pa = gpa + m->cfg.vseg.offset;
		out->shift = model_vseg_shift(m, gpa);
		out->rights = EPT_RWX;
		out->level = 0;
		if (!is_table)
			w->final_by_vseg = true;
		return 0;
	}
	if (m->cfg.pwc && m->ntlb.ways) {
		unsigned s;

		for (s = 0; s < TLB_NSIZES; s++) {
			e = tlb_array_lookup(&m->ntlb, gpa, s);
			if (e && (*e & ept_needed_rights(acc)) == ept_needed_rights(acc)) {
				refs->ntlb_hits++;
				out->shift = tlb_shift[s];
				out->pa = (*e & PTE_ADDR_MASK) | (gpa & ((1ULL << out->shift) - 1));
				out->rights = *e & EPT_RWX;
				out->level = 0;
				return 0;
			}
		}
	}
	err = walk_ept(&m->cfg.nested, gpa, acc, &m->cfg.env,
		       is_table ? WALK_REF_NESTED : WALK_REF_FINAL, m->cfg.pwc ? &m->npwc : NULL,
		       refs, out, f);
	if (!err && m->cfg.pwc && m->ntlb.ways)
		tlb_array_fill(&m->ntlb, gpa, model_size_of_shift(out->shift),
			       ALIGN_DOWN(out->pa, 1ULL << out->shift) | out->rights);
	return err;
}

/* The table-translation cache's slot data: what a successful translation
 * of a guest table's gPA added to the references and what it produced.
 *   bits 2:0   EPT rights          bits 4:3  level of the leaf (0: segment)
 *   bits 6:5   page size (TLB_*)   bit 7     a VMM-segment add
 *   bit 8      a real escape       bit 9     an escape-filter false positive
 *   bits 63:12 hPA of the page (bits 51:12 of an address, shifted up 12)
 * The EPT reads are levels 4 down to the leaf's level, when it is not 0. */
#define TC_LEVEL_SHIFT 3
#define TC_SIZE_SHIFT  5
#define TC_SEG_ADD     (1ULL << 7)
#define TC_ESC_HIT     (1ULL << 8)
#define TC_ESC_FP      (1ULL << 9)

static u64 model_tcache_key(const struct model *m, u64 gpa)
{
	return ((gpa >> PAGE_SHIFT) << TCACHE_GEN_BITS) | m->tcache_gen;
}

static struct model_tcache_slot *model_tcache_slot(const struct model *m, u64 gpa)
{
	/* Table pages are allocated one after another: the page number's low
	 * bits spread them over the slots without a hash. */
	return &m->tcache[(gpa >> PAGE_SHIFT) & m->tcache_mask];
}

/* Pack what one translation did; before is refs as it was ahead of it. */
static u64 model_tcache_pack(const struct walk_refs *before, const struct walk_refs *after,
			     const struct walk_leaf *out)
{
	u64 d = (out->rights & EPT_RWX) | (u64)out->level << TC_LEVEL_SHIFT |
		(u64)model_size_of_shift(out->shift) << TC_SIZE_SHIFT |
		(ALIGN_DOWN(out->pa, PAGE_SIZE) << PAGE_SHIFT);

	if (after->seg_adds != before->seg_adds)
		d |= TC_SEG_ADD;
	if (after->escape_hits != before->escape_hits)
		d |= TC_ESC_HIT;
	if (after->escape_fp != before->escape_fp)
		d |= TC_ESC_FP;
	return d;
}

/* Replay a packed translation of gpa: the same counts, the same result. */
static void model_tcache_replay(u64 d, u64 gpa, struct walk_refs *refs, struct walk_leaf *out)
{
	unsigned leaf = (d >> TC_LEVEL_SHIFT) & 3, lvl;

	out->rights = d & EPT_RWX;
	out->level = (u8)leaf;
	out->shift = tlb_shift[(d >> TC_SIZE_SHIFT) & 3];
	out->pa = (d >> PAGE_SHIFT & ~(PAGE_SIZE - 1)) | (gpa & (PAGE_SIZE - 1));
	out->gpa = gpa;
	refs->seg_adds += (d & TC_SEG_ADD) != 0;
	refs->escape_hits += (d & TC_ESC_HIT) != 0;
	refs->escape_fp += (d & TC_ESC_FP) != 0;
	if (!leaf)
		return;
	for (lvl = leaf; lvl <= 4; lvl++)
		refs->n[WALK_REF(WALK_REF_NESTED, lvl)]++;
	refs->total += (u8)(5 - leaf);
}

/* The translation of a guest table's gPA, through the cache when the
 * model has one and no page-walk cache is on (a walk then changes nothing
 * but the counts). Everything it counts or produces is a function of the
 * page of gpa: the EPT walk reads no bit below 12, the segment and escape
 * filter work on 4 KiB pages. */
static int model_table_translate(struct model_walk *w, u64 gpa, struct walk_refs *refs,
				 struct walk_leaf *out, struct walk_fault *f)
{
	struct model *m = w->m;
	struct model_tcache_slot *s;
	struct walk_refs before;
	int err;

	if (!m->tcache || m->cfg.pwc)
		return model_nested_walk(w, gpa, true, 0, refs, out, f);
	s = model_tcache_slot(m, gpa);
	if (s->key == model_tcache_key(m, gpa)) {
		model_tcache_replay(s->data, gpa, refs, out);
		return 0;
	}
	before = *refs;
	err = model_nested_walk(w, gpa, true, 0, refs, out, f);
	if (!err) {
		s->key = model_tcache_key(m, gpa);
		s->data = model_tcache_pack(&before, refs, out);
	}
	return err;
}

/* The walker's hook: a guest table's gPA (through the cache) or the final
 * gPA. */
static int model_nested_translate(void *ctx, u64 gpa, bool is_table, u32 acc,
				  struct walk_refs *refs, struct walk_leaf *out,
				  struct walk_fault *f)
{
	struct model_walk *w = ctx;

	if (is_table)
		return model_table_translate(w, gpa, refs, out, f);
	return model_nested_walk(w, gpa, false, acc, refs, out, f);
}

/* ---- the translation ----------------------------------------------------------------- */

/* What a TLB miss produced, committed to the counters only on success. */
struct model_miss {
	u64 pa;
	u64 gpa;
	u64 data; /* TLB entry data */
	u8 shift;
	u8 path;
	u8 cls; /* MODEL_IN_* of the data address */
	bool have_gpa;
	bool seg_data; /* a segment translated the data address */
	struct walk_refs refs;
};

/* Table I row "L1 TLB miss": an address in both segments (or, natively, in
 * the direct segment) is translated by additions alone and goes to L1. */
static bool model_l1_segments(struct model *m, u64 gva, struct model_miss *r)
{
	const struct segment *g = &m->cfg.gseg;
	u64 gpa;

	if (!m->use_gseg || !segment_contains(g, gva))
		return false;
	gpa = gva + g->offset;
	if (!m->virt) {
		r->pa = gpa;
		r->refs.seg_adds = 1;
		r->shift = segment_span_shift(g, gva, PAGE_1G_SHIFT);
	} else {
		if (!m->use_vseg || !model_vseg_hit(m, gpa, &r->refs))
			return false;
		r->pa = gpa + m->cfg.vseg.offset; /* hPA = gVA + OFFSET_g + OFFSET_v */
		r->gpa = gpa;
		r->have_gpa = true;
		r->refs.seg_adds = 2;
		r->shift = MIN(segment_span_shift(g, gva, PAGE_1G_SHIFT), model_vseg_shift(m, gpa));
	}
	r->data = ALIGN_DOWN(r->pa, 1ULL << r->shift) | MODEL_SEG_RIGHTS;
	r->path = MODEL_PATH_SEGMENT;
	r->seg_data = true;
	return true;
}

/* Table I "Guest segment only": gPA = gVA + OFFSET_g, then the nested walk
 * of that gPA (in Dual Direct the VMM segment already missed at L1). */
static int model_walk_gseg(struct model *m, u64 gva, u32 acc, struct model_walk *w,
			   struct model_miss *r, struct walk_fault *f)
{
	u64 gpa = gva + m->cfg.gseg.offset;
	struct walk_leaf nl;
	int err;

	r->refs.seg_adds++;
	w->skip_vseg = m->use_vseg;
	err = model_nested_walk(w, gpa, false, acc, &r->refs, &nl, f);
	if (err) {
		f->va = gva;
		f->on_table = false;
		if (f->kind != WALK_RESERVED)
			f->error_code |= WALK_EPT_QUAL_GLA_VALID | WALK_EPT_QUAL_FINAL;
		return err;
	}
	r->pa = nl.pa;
	r->gpa = gpa;
	r->shift = MIN(segment_span_shift(&m->cfg.gseg, gva, PAGE_1G_SHIFT), nl.shift);
	r->data = MODEL_SEG_RIGHTS | model_ept_denials(nl.rights);
	r->seg_data = true;
	return 0;
}

/* ---- specialised walks ---------------------------------------------------------- */

/* With the page-walk caches off, a walk reads the tables and changes
 * nothing but its counts (and the table cache, whose every slot is exact),
 * so it can be done by code written for the configuration: levels without
 * per-level bookkeeping, the nested translations inline rather than through
 * the walkers' hook, counts in locals. These walkers produce exactly what
 * model_walk would for a walk that succeeds, and give up, having changed
 * nothing the counts see, on anything else (a fault of any kind): model_walk
 * then walks again with the generic walkers, which produce the fault. Faults
 * only happen while mmusim materialises its tables. */

/* The fast walks count references in byte lanes, lane k for WALK_REF
 * kind k: kinds 0-7 (guest, nested) in one u64, 8-11 (final) in a u32, so
 * that "one read per level from 4 down to lvl" is one add of a constant
 * (no lane reaches 256: a walk makes at most 24 reads). */
struct model_lanes {
	u64 lo; /* lanes 0-7: WALK_REF_GUEST and WALK_REF_NESTED levels 1-4 */
	u32 hi; /* lanes 8-11: WALK_REF_FINAL levels 1-4 */
};

/* The references in all lanes: the sum of the bytes (each < 256, and so
 * is their sum). */
static inline u64 model_lanes_total(const struct model_lanes *l)
{
	return ((l->lo * 0x0101010101010101ULL) >> 56) + ((l->hi * 0x01010101u) >> 24);
}

/* Lanes of levels lvl..4 of one kind (index: lvl; 0: none). */
static const u32 model_down_from[5] = {0, 0x01010101u, 0x01010100u, 0x01010000u, 0x01000000u};

/* An x86 entry the fast walk accepts: present and not reserved, by the
 * generic walkers' own predicate. rsvd_x has XD when NXE is off, so NXE
 * need not be asked again. */
__attribute__((always_inline)) static inline bool model_x86_entry_ok(u64 pte, unsigned lvl,
								     u64 rsvd_x)
{
	return (pte & X86_PTE_P) && !walk_x86_reserved(pte, lvl, rsvd_x, true);
}

/* An EPT entry the fast walk accepts: readable (so present, and not W
 * without R) and not misconfigured, by the generic walkers' predicate.
 * Entries without R are rare (execute-only) and left to the generic
 * walker. */
__attribute__((always_inline)) static inline bool model_ept_entry_ok(u64 pte, unsigned lvl,
								     bool leaf, u64 rsvd)
{
	/* The same predicate in fewer tests: with R set, W without R cannot
	 * be, so a table entry is good exactly when R is the only one of R,
	 * the reserved bits and those walk_ept_misconfigured wants clear at
	 * its level; a leaf, when that holds for R and the reserved bits and
	 * its memory type and large-page bits pass (gups over 8 GiB, 4k+4k:
	 * 1.8% fewer instructions). */
	if (!leaf)
		return (pte & (rsvd | EPT_R | (lvl == 4 ? 0xf8ULL : 0x78ULL))) == EPT_R;
	return (pte & (rsvd | EPT_R)) == EPT_R &&
	       !walk_ept_misconfigured(pte | EPT_R, lvl, true, 0);
}

/* The slot of mem for a's 1 GiB region, and whether it holds the region. */
static inline struct model_upper *model_upper_find(struct model_upper *mem, u64 a, bool *hit)
{
	struct model_upper *u = &mem[model_region_slot(a, MODEL_UPPER_SLOTS)];

	*hit = u->key == model_region_key(a);
	return u;
}

/* Keep in u, for a's region, the level-2 table and the rights above it,
 * or (leaf) the level-3 entry mapping it and the rights down to it. */
static inline void model_upper_keep(struct model_upper *u, u64 a, u64 entry, u64 rights, bool leaf)
{
	*u = (struct model_upper){model_region_key(a), entry, rights, leaf};
}

/* What u keeps, for a walk to start from: *rights, and the level-3 leaf
 * entry (*pte; true) or the level-2 table (*table; false). */
__attribute__((always_inline)) static inline bool model_upper_use(const struct model_upper *u,
								  u64 *table, u64 *pte, u64 *rights)
{
	*rights = u->rights;
	if (u->leaf) {
		*pte = u->entry;
		return true;
	}
	*table = u->entry;
	return false;
}

/* The address a translates to through the leaf entry pte at level lvl
 * (1 to 3). Level 1, the common one, without computing a page mask. */
__attribute__((always_inline)) static inline u64 model_leaf_pa(u64 pte, u64 a, unsigned lvl)
{
	u64 mask;

	if (__builtin_expect(lvl == 1, 1))
		return (pte & PTE_ADDR_MASK) | (a & (PAGE_SIZE - 1));
	/* cppcheck-suppress shiftTooManyBits */
	mask = (1ULL << (PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1))) - 1;
	return (pte & PTE_ADDR_MASK & ~mask) | (a & mask);
}

/* walk_ept without page-walk caches, unrolled, for the fast walkers: the
 * leaf's level (0: left to the generic walker, which walks again and
 * produces the fault), its translation and rights. Levels 4 and 3 come
 * from mem (model_upper) when it has gpa's region: they are counted all
 * the same (the caller counts levels 4 down to the leaf's). gups over
 * 8 GiB, 2 M accesses: 4k+4k 3%, 2m+2m 4%, guest-direct 4% fewer
 * instructions. */
__attribute__((always_inline)) static inline unsigned model_ept_fast(const struct walk_tables *t,
								     struct model_upper *mem,
								     u64 gpa, u64 need, u64 rsvd,
								     u64 *pa, u64 *rights_out)
{
	u64 table, rights, pte;
	unsigned lvl;
	bool known;
	struct model_upper *u = model_upper_find(mem, gpa, &known);

	if (known) {
		if (model_upper_use(u, &table, &pte, &rights)) {
			lvl = 3;
			goto leaf;
		}
	} else {
		table = t->root & PTE_ADDR_MASK;
		rights = EPT_RWX;
		pte = walk_read(t, table + PT_INDEX(gpa, 4) * sizeof(u64));
		if (!model_ept_entry_ok(pte, 4, false, rsvd))
			return 0;
		rights &= pte;
		table = pte & PTE_ADDR_MASK;
		pte = walk_read(t, table + PT_INDEX(gpa, 3) * sizeof(u64));
		if (!model_ept_entry_ok(pte, 3, pte & EPT_PS, rsvd))
			return 0;
		rights &= pte;
		if (pte & EPT_PS) {
			model_upper_keep(u, gpa, pte, rights, true);
			lvl = 3;
			goto leaf;
		}
		table = pte & PTE_ADDR_MASK;
		model_upper_keep(u, gpa, table, rights, false);
	}
#pragma GCC unroll 2
	for (lvl = 2; lvl >= 1; lvl--) {
		bool leaf;

		pte = walk_read(t, table + PT_INDEX(gpa, lvl) * sizeof(u64));
		leaf = lvl == 1 || (pte & EPT_PS);
		if (!model_ept_entry_ok(pte, lvl, leaf, rsvd))
			return 0;
		rights &= pte;
		if (leaf)
			break;
		table = pte & PTE_ADDR_MASK;
	}
leaf:
	rights &= EPT_RWX;
	if ((rights & need) != need)
		return 0;
	/* lvl is 1..3 here: level 1 is always a leaf, so the loop breaks
	 * before lvl reaches 0 (cppcheck cannot see that) */
	*pa = model_leaf_pa(pte, gpa, lvl);
	*rights_out = rights;
	return lvl;
}

/* The table-cache data (model_tcache_pack's format) of the nested
 * translation of the guest table page at gpa, made as model_nested_walk
 * makes it (VMM segment, else EPT) and kept in the cache if there is one.
 * False where it would fault. Out of line: the cache answers nearly every
 * call. */
static __attribute__((noinline)) bool model_table_make(struct model *m, u64 gpa, u64 *d)
{
	struct walk_refs before = {0}, after = {0};
	struct walk_leaf out;
	u64 rights, pa;
	unsigned lvl;

	if (m->use_vseg && model_vseg_hit(m, gpa, &after)) {
		after.seg_adds++;
		out.pa = gpa + m->cfg.vseg.offset;
		out.shift = model_vseg_shift(m, gpa);
		out.rights = EPT_RWX;
		out.level = 0;
	} else {
		lvl = model_ept_fast(&m->cfg.nested, m->upper[1], gpa, EPT_R, m->fast_rsvd, &pa,
				     &rights);
		if (!lvl)
			return false;
		out.pa = pa;
		out.shift = (u8)(PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1));
		out.rights = rights;
		out.level = (u8)lvl;
	}
	*d = model_tcache_pack(&before, &after, &out);
	if (m->tcache) {
		struct model_tcache_slot *s = model_tcache_slot(m, gpa);

		s->key = model_tcache_key(m, gpa);
		s->data = *d;
	}
	return true;
}

/* Counts of one walk besides the lanes: segment adds, escape-filter hits
 * and false positives in bytes 0, 1 and 2 of misc (a walk makes a few of
 * each), so that the common walk without any costs one test to count them
 * (model_commit_lanes) and a path-cache hit one addition to replay them. */
struct model_fast_counts {
	struct model_lanes lanes;
	u32 misc;
};

#define MISC_SEG_ADD 1u
#define MISC_ESC_HIT (1u << 8)
#define MISC_ESC_FP  (1u << 16)

/* misc of the table cache's bits TC_SEG_ADD, TC_ESC_HIT, TC_ESC_FP. */
static const u32 model_misc_of_tc[8] = {
	0,
	MISC_SEG_ADD,
	MISC_ESC_HIT,
	MISC_SEG_ADD | MISC_ESC_HIT,
	MISC_ESC_FP,
	MISC_SEG_ADD | MISC_ESC_FP,
	MISC_ESC_HIT | MISC_ESC_FP,
	MISC_SEG_ADD | MISC_ESC_HIT | MISC_ESC_FP,
};

/* The nested translation of a guest table's gPA, counted as
 * model_tcache_replay counts it. */
__attribute__((always_inline)) static inline bool model_table_fast(struct model *m, u64 gpa,
								   struct model_fast_counts *c)
{
	u64 d;

	if (m->tcache) {
		const struct model_tcache_slot *s = model_tcache_slot(m, gpa);

		if (s->key == model_tcache_key(m, gpa)) {
			d = s->data;
			goto replay;
		}
	}
	if (!model_table_make(m, gpa, &d))
		return false;
replay:
	c->lanes.lo += (u64)model_down_from[(d >> TC_LEVEL_SHIFT) & 3] << 32;
	c->misc += model_misc_of_tc[(d / TC_SEG_ADD) & 7];
	return true;
}

/* The final gPA's nested translation inside a walk (model_nested_walk with
 * is_table false, no page-walk caches): the VMM segment unless skip_vseg,
 * else EPT. *by_vseg says which; *shift is the translation's page size. */
__attribute__((always_inline)) static inline bool
model_final_fast(struct model *m, u64 gpa, u32 acc, bool skip_vseg, struct model_fast_counts *c,
		 u64 *pa, u64 *rights, u8 *shift, bool *by_vseg)
{
	struct walk_refs esc = {0};
	unsigned lvl;

	*by_vseg = false;
	if (m->use_vseg && !skip_vseg) {
		bool hit = model_vseg_hit(m, gpa, &esc);

		c->misc += esc.escape_hits * MISC_ESC_HIT + esc.escape_fp * MISC_ESC_FP;
		if (hit) {
			c->misc += MISC_SEG_ADD;
			*pa = gpa + m->cfg.vseg.offset;
			*shift = model_vseg_shift(m, gpa);
			*rights = EPT_RWX;
			*by_vseg = true;
			return true;
		}
	}
	lvl = model_ept_fast(&m->cfg.nested, m->upper[1], gpa, ept_needed_rights(acc), m->fast_rsvd,
			     pa, rights);
	if (!lvl)
		return false;
	c->lanes.hi += model_down_from[lvl];
	*shift = (u8)(PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1));
	return true;
}

/* Keep in ps the way a walk of a went down to its leaf table: the table,
 * the rights of the levels above, and what the walk counted from c0 to c
 * (the nested translations of the guest tables; the guest's own reads of
 * levels 4 to 2 are the same for every such walk). */
static inline void model_path_keep(struct model *m, struct model_path_slot *ps, u64 a, u64 table,
				   u64 rights, const struct model_fast_counts *c0,
				   const struct model_fast_counts *c)
{
	ps->key = model_path_key(m, a);
	ps->table = table;
	ps->rights = rights;
	ps->nested = (u32)((c->lanes.lo - c0->lanes.lo) >> 32);
	ps->misc = c->misc - c0->misc; /* no byte of c's is below c0's */
}

/* One upper level (4 to 2) of model_x86_fast, from *table: 1 = go on at
 * the next *table, 2 = *pte is a leaf, 0 = left to the generic walker. */
__attribute__((always_inline)) static inline int model_x86_upper(struct model *m, u64 gva,
								 unsigned lvl, bool nested,
								 struct model_fast_counts *c,
								 u64 *table, u64 *rights, u64 *pte)
{
	u64 entry = *table + PT_INDEX(gva, lvl) * sizeof(u64);

	if (nested && !model_table_fast(m, entry, c))
		return 0;
	*pte = walk_read(&m->cfg.guest, entry);
	if (!model_x86_entry_ok(*pte, lvl, m->fast_rsvd_x))
		return 0;
	*rights &= *pte | X86_PTE_NX;
	*rights |= *pte & X86_PTE_NX;
	if (*pte & X86_PTE_PS)
		return 2;
	*table = *pte & PTE_ADDR_MASK;
	return 1;
}

/* The x86 walk of gva (native, or the guest dimension of a 2D walk with
 * each table's gPA translated as model_table_fast does), as
 * walk_x86_common makes it without page-walk caches. On success *pte is
 * the leaf entry, *rights the effective rights and the return value the
 * leaf's level; 0 where walk_x86_common would fault (or an entry is one
 * the fast walk leaves to it). With a path cache, a walk to a 4 KiB page
 * whose block it knows starts at the leaf table; a native walk whose 1 GiB
 * region its memory of upper levels (model_upper) knows starts at level 2
 * (gups over 8 GiB, native-4k: 2% fewer instructions). */
__attribute__((always_inline)) static inline unsigned model_x86_fast(struct model *m, u64 gva,
								     u32 acc, bool nested,
								     struct model_fast_counts *c,
								     u64 *pte_out, u64 *rights_out)
{
	const struct walk_tables *g = &m->cfg.guest;
	u64 table, rights, pte = 0;
	u64 rsvd_x = m->fast_rsvd_x;
	struct model_path_slot *ps = NULL;
	struct model_upper *u = NULL;
	struct model_fast_counts c0 = *c;
	unsigned lvl;

	/* What walk_x86_common leaves in the fault record on any walk. */
	m->fault.va = gva;
	m->fault.pa = 0;
	m->fault.on_table = false;
	if (m->path) {
		ps = model_path_slot(m, gva);
		if (ps->key == model_path_key(m, gva)) {
			table = ps->table;
			rights = ps->rights;
			c->lanes.lo += (u64)ps->nested << 32;
			c->misc += ps->misc;
			lvl = 1;
			goto leaf;
		}
	}
	table = g->root & PTE_ADDR_MASK;
	rights = X86_PTE_RW | X86_PTE_US;
	if (!nested) {
		bool known;

		u = model_upper_find(m->upper[0], gva, &known);
		if (known) {
			if (model_upper_use(u, &table, &pte, &rights)) {
				lvl = 3;
				goto done;
			}
			goto level2;
		}
	}
#pragma GCC unroll 2
	for (lvl = 4; lvl >= 3; lvl--) {
		int st = model_x86_upper(m, gva, lvl, nested, c, &table, &rights, &pte);

		if (!st)
			return 0;
		if (st == 2) {
			if (u && lvl == 3)
				model_upper_keep(u, gva, pte, rights, true);
			goto done;
		}
	}
	if (u)
		model_upper_keep(u, gva, table, rights, false);
level2:
	lvl = 2;
	switch (model_x86_upper(m, gva, 2, nested, c, &table, &rights, &pte)) {
	case 0:
		return 0;
	case 2:
		goto done;
	}
	lvl = 1;
	if (nested && !model_table_fast(m, table + PT_INDEX(gva, 1) * sizeof(u64), c))
		return 0;
	if (ps)
		model_path_keep(m, ps, gva, table, rights, &c0, c);
leaf:
	pte = walk_read(g, table + PT_INDEX(gva, 1) * sizeof(u64));
	if (!model_x86_entry_ok(pte, 1, rsvd_x))
		return 0;
	rights &= pte | X86_PTE_NX;
	rights |= pte & X86_PTE_NX;
done:
	if (!model_rights_allow(m, rights, acc))
		return 0;
	c->lanes.lo += model_down_from[lvl];
	*pte_out = pte;
	*rights_out = rights;
	return lvl;
}

/* The walk's counts into refs (which were zero). */
static inline void model_fast_refs(const struct model_fast_counts *c, struct walk_refs *refs)
{
	u64 lo = c->lanes.lo;
	u32 hi = c->lanes.hi;

	__builtin_memcpy(&refs->n[0], &lo, sizeof(lo));
	__builtin_memcpy(&refs->n[8], &hi, sizeof(hi));
	refs->total = (u8)model_lanes_total(&c->lanes);
	refs->seg_adds = (u8)c->misc;
	refs->escape_hits = (u8)(c->misc >> 8);
	refs->escape_fp = (u8)(c->misc >> 16);
}

/* What a fast walk produced: its counts in lanes and the translation. */
struct model_fast_walk {
	struct model_fast_counts c;
	u64 pa, gpa;
	u64 data; /* TLB entry data */
	u8 shift;
	bool seg_data; /* a segment translated the data address */
};

/* The walk of gva by the fast walkers: true with *w filled, or false
 * (nothing the counts see changed) where model_walk must walk. */
__attribute__((always_inline)) static inline bool
model_walk_lanes(struct model *m, u64 gva, u32 acc, struct model_fast_walk *w)
{
	u64 pte, rights, gpa, data, pa, nrights;
	unsigned lvl;
	bool by_vseg;
	u8 shift, nshift;

	w->c = (struct model_fast_counts){{0, 0}, 0};
	w->seg_data = false;
	if (m->use_gseg && segment_contains(&m->cfg.gseg, gva)) {
		/* model_walk_gseg: the nested walk of gVA + OFFSET_g. */
		if (!m->virt)
			return false; /* the L1-miss path translated it */
		gpa = gva + m->cfg.gseg.offset;
		w->c.misc = MISC_SEG_ADD;
		if (!model_final_fast(m, gpa, acc, true, &w->c, &pa, &nrights, &nshift, &by_vseg))
			return false;
		shift = MIN(segment_span_shift(&m->cfg.gseg, gva, PAGE_1G_SHIFT), nshift);
		data = MODEL_SEG_RIGHTS | model_ept_denials(nrights);
		w->seg_data = true;
	} else if (m->virt) {
		lvl = model_x86_fast(m, gva, acc, true, &w->c, &pte, &rights);
		if (!lvl)
			return false;
		shift = (u8)(PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1));
		gpa = model_leaf_pa(pte, gva, lvl);
		if (!model_final_fast(m, gpa, acc, false, &w->c, &pa, &nrights, &nshift, &by_vseg))
			return false;
		data = rights | model_ept_denials(nrights);
		shift = MIN(shift, nshift);
		w->seg_data = by_vseg;
	} else {
		lvl = model_x86_fast(m, gva, acc, false, &w->c, &pte, &rights);
		if (!lvl)
			return false;
		shift = (u8)(PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1));
		pa = model_leaf_pa(pte, gva, lvl);
		gpa = 0;
		data = rights;
	}
	w->pa = pa;
	w->gpa = gpa;
	w->shift = shift;
	w->data = data | ALIGN_DOWN(pa, 1ULL << shift);
	return true;
}

/* model_walk by the fast walkers: 0 with *r as model_walk makes it, or
 * -DV_EFAULT (r untouched) where model_walk must walk. The byte order of
 * walk_refs' lanes is the host's: little-endian x86 in both builds. */
static int model_walk_fast(struct model *m, u64 gva, u32 acc, struct model_miss *r)
{
	struct model_fast_walk w;

	if (!model_walk_lanes(m, gva, acc, &w))
		return -DV_EFAULT;
	model_fast_refs(&w.c, &r->refs);
	r->path = MODEL_PATH_WALK;
	r->pa = w.pa;
	r->gpa = w.gpa;
	r->shift = w.shift;
	r->have_gpa = m->virt;
	r->data = w.data;
	r->seg_data = w.seg_data;
	return 0;
}

/* L2 miss: the page walk, Table I rows "PTW". */
static int model_walk_generic(struct model *m, u64 gva, u32 acc, struct model_miss *r)
{
	struct model_walk w = {m, false, false};
	struct walk_nested hook = {model_nested_translate, &w};
	struct pwc *pwc = m->cfg.pwc ? &m->gpwc : NULL;
	struct walk_leaf leaf;
	int err;

	if (m->fast_walk == MODEL_FAST_ON && !model_walk_fast(m, gva, acc, r))
		return 0;
	r->path = MODEL_PATH_WALK;
	if (m->use_gseg && segment_contains(&m->cfg.gseg, gva)) {
		err = model_walk_gseg(m, gva, acc, &w, r, &m->fault);
	} else if (!m->virt) {
		err = walk_x86(&m->cfg.guest, gva, acc, &m->cfg.env, pwc, &r->refs, &leaf,
			       &m->fault);
		r->data = leaf.rights;
	} else {
		err = walk_x86_nested(&m->cfg.guest, &hook, gva, acc, &m->cfg.env, pwc, &r->refs,
				      &leaf, &m->fault);
		r->data = leaf.rights | model_ept_denials(leaf.nested_rights);
		r->gpa = leaf.gpa;
		r->seg_data = w.final_by_vseg;
	}
	if (err)
		return err;
	if (!(m->use_gseg && segment_contains(&m->cfg.gseg, gva))) {
		r->pa = leaf.pa;
		r->shift = leaf.shift;
	}
	r->have_gpa = m->virt;
	r->data |= ALIGN_DOWN(r->pa, 1ULL << r->shift);
	return 0;
}

static bool model_refs_equal(const struct walk_refs *a, const struct walk_refs *b)
{
	for (unsigned k = 0; k < WALK_REF_KINDS; k++)
		if (a->n[k] != b->n[k])
			return false;
	return a->total == b->total && a->seg_adds == b->seg_adds && a->pwc_hits == b->pwc_hits &&
	       a->ntlb_hits == b->ntlb_hits && a->escape_fp == b->escape_fp &&
	       a->escape_hits == b->escape_hits;
}

/* The fast walk's outcome against the generic walk's. */
static bool model_miss_equal(const struct model_miss *a, const struct model_miss *b)
{
	return a->pa == b->pa && a->gpa == b->gpa && a->data == b->data && a->shift == b->shift &&
	       a->path == b->path && a->have_gpa == b->have_gpa && a->seg_data == b->seg_data &&
	       model_refs_equal(&a->refs, &b->refs);
}

/* The walk of an L2 miss: by the fast walkers where they apply, else (and
 * for every fault) by the generic ones. In check mode both, the generic
 * one's outcome used, and every difference counted (model_fast_mismatches). */
static int model_walk(struct model *m, u64 gva, u32 acc, struct model_miss *r)
{
	struct model_miss fr;
	int err, err_fast;

	if (m->fast_walk != MODEL_FAST_CHECK)
		return model_walk_generic(m, gva, acc, r);
	/* The fast walk first: tables another thread maps into (mmusim's
	 * --jobs) only gain entries, so the generic walk after a fast one
	 * that succeeded finds them too, where in the other order a fault of
	 * the first walk and a success of the second were no disagreement.
	 * The generic walk, last, leaves the fault record. */
	fr = *r;
	err_fast = model_walk_fast(m, gva, acc, &fr);
	err = model_walk_generic(m, gva, acc, r);
	if (!err_fast) {
		m->fast_checked++;
		if (err || !model_miss_equal(r, &fr))
			m->fast_mismatches++;
	}
	return err;
}

/* A miss that did not hit L2, by where its data address lies (the linear
 * model's M_n and F numerators). */
static inline void model_count_class(struct model_stats *s, u8 cls)
{
	s->miss.m_n++;
	if (cls == (MODEL_IN_GSEG | MODEL_IN_VSEG))
		s->miss.both++;
	else if (cls == MODEL_IN_GSEG)
		s->miss.guest_only++;
	else if (cls == MODEL_IN_VSEG)
		s->miss.vmm_only++;
}

static void model_commit(struct model *m, u64 gva, const struct model_miss *r)
{
	struct model_stats *s = &m->stats;
	unsigned i;

	s->accesses++;
	s->l1_misses++;
	s->seg_adds += r->refs.seg_adds;
	s->escape_hits += r->refs.escape_hits;
	s->escape_false_positives += r->refs.escape_fp;
	if (r->path == MODEL_PATH_L2) {
		s->l2_hits++;
		return;
	}
	if (r->path == MODEL_PATH_SEGMENT) {
		s->segment_l1++;
	} else {
		s->l2_misses++;
		s->walks++;
		s->walk_refs += r->refs.total;
		if (r->refs.total > s->walk_refs_max)
			s->walk_refs_max = r->refs.total;
		for (i = 0; i < WALK_REF_KINDS; i++)
			s->refs[i] += r->refs.n[i];
		s->pwc_hits += r->refs.pwc_hits;
		s->ntlb_hits += r->refs.ntlb_hits;
	}
	if (r->seg_data)
		s->segment_hits++;
	model_count_class(s, r->cls);
}

/* Walk memo: replay and store. */
static u64 model_memo_key(const struct model *m, u64 gva)
{
	return ((gva >> PAGE_SHIFT) & MEMO_PAGE_MASK) | (m->memo_gen << 36);
}

/* Replay a remembered walk of gva's page into r. False if none is kept or
 * its rights refuse acc (the real walk then produces the fault). */
static bool model_memo_replay(struct model *m, u64 gva, u32 acc, struct model_miss *r)
{
	const struct model_memo_slot *s = model_memo_slot_of(m, gva);
	unsigned k;

	if (s->key != model_memo_key(m, gva) || !model_rights_allow(m, s->data, acc))
		return false;
	for (k = 0; k < WALK_REF_KINDS; k++) {
		r->refs.n[k] = (s->refs[k / 2] >> (4 * (k % 2))) & 0xf;
		r->refs.total += r->refs.n[k];
	}
	r->refs.seg_adds = s->seg_adds;
	r->refs.escape_hits = s->escapes & 0xf;
	r->refs.escape_fp = s->escapes >> 4;
	r->data = s->data;
	r->shift = s->shift;
	r->cls = s->cls & (MODEL_IN_GSEG | MODEL_IN_VSEG);
	r->seg_data = s->cls & MEMO_SEG_DATA;
	r->path = MODEL_PATH_WALK;
	return true;
}

static void model_memo_store(struct model *m, u64 gva, const struct model_miss *r)
{
	struct model_memo_slot *s = model_memo_slot_of(m, gva);
	unsigned k;

	for (k = 0; k < WALK_REF_KINDS; k += 2)
		s->refs[k / 2] = (u8)(r->refs.n[k] | r->refs.n[k + 1] << 4);
	s->key = model_memo_key(m, gva);
	s->data = r->data;
	s->shift = r->shift;
	s->cls = r->cls | (r->seg_data ? MEMO_SEG_DATA : 0);
	s->seg_adds = r->refs.seg_adds;
	s->escapes = (u8)(r->refs.escape_hits | r->refs.escape_fp << 4);
}

/* Remember an L1 hit for the inline path of model_access. */
__attribute__((always_inline)) static inline void model_remember(struct model *m, u64 gva,
								 const struct tlb_hit *hit)
{
	u64 mask = ~((1ULL << tlb_shift[hit->size]) - 1);

	if (!model_rights_allow(m, hit->data, m->acc_base))
		return;
	m->fast.base = gva & mask;
	m->fast.mask = mask;
	m->fast.ok = model_fast_ok(m, hit->data);
	if (m->nrecent < MODEL_RECENT) {
		m->recent_next = m->nrecent++;
	} else {
		m->recent_next = (m->recent_next + 1) % MODEL_RECENT;
	}
	m->recent[m->recent_next] =
		(struct model_recent){m->fast.base, mask, hit->array, hit->index, m->fast.ok};
}

static void model_fill_xlat(struct model_xlat *x, u64 gva, u64 data, u8 shift, u8 path)
{
	x->shift = shift;
	x->path = path;
	x->pa = (data & PTE_ADDR_MASK & ~((1ULL << shift) - 1)) | (gva & ((1ULL << shift) - 1));
}

/* The walk of an L2 miss, or its replay from the memo. Escape-filter checks
 * made before (Dual Direct's L1-miss check) stay in r; the memo keeps only
 * the walk's own part. */
static int model_walk_or_replay(struct model *m, u64 gva, u32 acc, struct model_miss *r,
				bool use_memo)
{
	struct walk_refs before = r->refs;

	r->refs = (struct walk_refs){0};
	if (!use_memo || !model_memo_replay(m, gva, acc, r)) {
		if (model_walk(m, gva, acc, r))
			return -DV_EFAULT;
		r->cls = model_classify(m, gva, r->gpa, r->have_gpa);
		if (use_memo)
			model_memo_store(m, gva, r);
	}
	r->refs.escape_hits += before.escape_hits;
	r->refs.escape_fp += before.escape_fp;
	return 0;
}

/* The L1 lookup every access starts with. True when it hit with the rights
 * acc needs: counted, and for model_access (remember) kept for its inline
 * path. Otherwise *l1_any says whether an entry for gva was found without
 * those rights, and the recent hits are forgotten: every path after this
 * fills L1 (or faults). The lookup may reorder a set, so the inline path's
 * entry is only valid again if this access is itself an L1 hit. */
__attribute__((always_inline)) static inline bool
model_l1_access(struct model *m, u64 gva, u32 acc, bool remember, struct tlb_hit *hit, bool *l1_any)
{
	m->fast.ok = 0;
	*l1_any = tlb_lookup_l1(&m->tlb, gva, hit);
	if (*l1_any && model_rights_allow(m, hit->data, acc)) {
		m->stats.accesses++;
		if (remember)
			model_remember(m, gva, hit);
		return true;
	}
	model_forget_recent(m);
	return false;
}

/* Table I's last case: the walk (or its replay) and the fills of both
 * levels. 0, or -DV_EFAULT with the fault counted. */
static int model_walk_fill(struct model *m, u64 gva, u32 acc, struct model_miss *r, bool use_memo,
			   struct tlb_hit *filled)
{
	if (model_walk_or_replay(m, gva, acc, r, use_memo)) {
		m->stats.faults++;
		return -DV_EFAULT;
	}
	tlb_fill_l2(&m->tlb, gva, model_size_of_shift(r->shift), r->data);
	tlb_fill_l1_at(&m->tlb, gva, model_size_of_shift(r->shift), r->data, filled);
	return 0;
}

/* ---- the lean miss path ---------------------------------------------------------- */

/* The pending counts into stats: the lanes of model_commit_lanes, and the
 * segment misses (model_count_segment_miss), each an access, an L1 miss
 * finished by the segments (Table I "Both": a guest-only miss natively),
 * with one segment add per dimension. The mode cannot have changed since
 * they were counted: model_apply_mode folds first. */
static void model_pend_fold(struct model *m)
{
	struct model_stats *s = &m->stats;
	u64 lo = m->pend_lo, n = m->pend_seg_misses;
	u32 hi = m->pend_hi;
	unsigned k;

	if (n) {
		s->accesses += n;
		s->l1_misses += n;
		s->segment_l1 += n;
		s->segment_hits += n;
		s->miss.m_n += n;
		s->seg_adds += m->virt ? 2 * n : n;
		if (m->virt)
			s->miss.both += n;
		else
			s->miss.guest_only += n;
		m->pend_seg_misses = 0;
	}

	for (k = 0; k < 4; k++) {
		s->refs[WALK_REF_GUEST + k] += (lo >> (8 * k)) & 0xff;
		s->refs[WALK_REF_NESTED + k] += (lo >> (32 + 8 * k)) & 0xff;
		s->refs[WALK_REF_FINAL + k] += (hi >> (8 * k)) & 0xff;
	}
	m->pend_lo = 0;
	m->pend_hi = 0;
	m->pend_total = 0;
}

/* A fast walk's counts into the stats straight from its lanes: model_commit's
 * walk part without unpacking them into walk_refs. The lanes are added to
 * the pending ones as they are, twelve bytes in two additions, and unpacked
 * only when a lane could overflow: no lane of a sum exceeds the sum of the
 * walks' totals, so that is kept at most 255 (gups 8 GiB, 4k+4k: a tenth of
 * the instructions of a walk went into unpacking every walk). */
static inline void model_commit_lanes(struct model *m, const struct model_fast_counts *c)
{
	struct model_stats *s = &m->stats;
	u64 total = model_lanes_total(&c->lanes);

	s->walk_refs += total;
	if (total > s->walk_refs_max)
		s->walk_refs_max = total;
	if (m->pend_total + total > 0xff)
		model_pend_fold(m);
	m->pend_lo += c->lanes.lo;
	m->pend_hi += c->lanes.hi;
	m->pend_total += (u32)total;
	if (c->misc) {
		s->seg_adds += c->misc & 0xff;
		s->escape_hits += (c->misc >> 8) & 0xff;
		s->escape_false_positives += c->misc >> 16;
	}
}

/* A walk's fills of L2 and L1 (absent: as tlb_fill_*_put), and where the
 * L1 lookup found nothing for gva (l1_absent) the new entry kept for the
 * inline path (model_remember); one case per page size: with the size a
 * constant, so are the page shift, the L1 array, whether it splinters and
 * the page mask (gups over 8 GiB, 4k+4k: 2.7% fewer instructions; a single
 * case for 4 KiB cost the large sizes 1%). */
__attribute__((always_inline)) static inline void
model_fill_size(struct model *m, u64 gva, unsigned size, u64 data, bool l1_absent, bool l2_absent)
{
	struct tlb_hit filled;

	tlb_fill_l2_put(&m->tlb, gva, size, data, l2_absent);
	tlb_fill_l1_put(&m->tlb, gva, size, data, &filled, l1_absent);
	if (l1_absent)
		model_remember(m, gva, &filled);
}

__attribute__((always_inline)) static inline void
model_fill_both(struct model *m, u64 gva, unsigned size, u64 data, bool l1_absent, bool l2_absent)
{
	switch (size) {
	case TLB_4K:
		model_fill_size(m, gva, TLB_4K, data, l1_absent, l2_absent);
		break;
	case TLB_2M:
		model_fill_size(m, gva, TLB_2M, data, l1_absent, l2_absent);
		break;
	default:
		model_fill_size(m, gva, TLB_1G, data, l1_absent, l2_absent);
		break;
	}
}

/* model_do from the L2 lookup on, for model_access when the fast walkers
 * make the walks (no page-walk caches, no memo) and no segment translates
 * at L1: the same steps, the same counts, without the miss record. A walk
 * the fast walkers leave (a fault) goes the generic way. */
__attribute__((always_inline)) static inline int model_miss_lean(struct model *m, u64 gva, u32 acc,
								 bool l1_any)
{
	struct model_stats *s = &m->stats;
	struct model_fast_walk w;
	struct tlb_hit hit, filled;
	bool l2_any = tlb_lookup_l2(&m->tlb, gva, &hit);

	/* A lookup that found nothing leaves its tags absent for the fill. */
	if (l2_any && model_rights_allow(m, hit.data, acc)) {
		tlb_fill_l1_put(&m->tlb, gva, hit.size, hit.data, &filled, !l1_any);
		if (!l1_any)
			model_remember(m, gva, &filled);
		s->l2_hits++;
	} else if (model_walk_lanes(m, gva, acc, &w)) {
		/* remembers the new entry itself */
		model_fill_both(m, gva, model_size_of_shift(w.shift), w.data, !l1_any, !l2_any);
		s->l2_misses++;
		s->walks++;
		model_commit_lanes(m, &w.c);
		s->segment_hits += w.seg_data;
		model_count_class(s, model_classify(m, gva, w.gpa, m->virt));
	} else {
		struct model_miss r = {0};

		if (model_walk_fill(m, gva, acc, &r, false, &filled))
			return -DV_EFAULT;
		if (!l1_any)
			model_remember(m, gva, &filled);
		model_commit(m, gva, &r);
		return 0;
	}
	s->accesses++;
	s->l1_misses++;
	return 0;
}

/* One access: Table I from the L1 lookup down. memo: the caller is
 * model_access (keep the inline hit and use the walk memo). */
static int model_do(struct model *m, u64 gva, u32 acc, struct model_xlat *x, bool memo)
{
	struct model_miss r;
	struct tlb_hit hit, filled;
	bool l1_any;

	m->fast.ok = 0;
	if (x)
		*x = (struct model_xlat){0};
	if (!walk_canonical(gva)) {
		m->fault = (struct walk_fault){.kind = WALK_NONCANONICAL, .va = gva};
		m->stats.faults++;
		return -DV_EFAULT;
	}
	if (model_l1_access(m, gva, acc, memo, &hit, &l1_any)) {
		if (x)
			model_fill_xlat(x, gva, hit.data, tlb_shift[hit.size], MODEL_PATH_L1);
		return 0;
	}
	r = (struct model_miss){0};
	if (model_l1_segments(m, gva, &r)) {
		r.cls = model_classify(m, gva, r.gpa, r.have_gpa);
		tlb_fill_l1_at(&m->tlb, gva, model_size_of_shift(r.shift), r.data, &filled);
	} else if (tlb_lookup_l2(&m->tlb, gva, &hit) && model_rights_allow(m, hit.data, acc)) {
		r.path = MODEL_PATH_L2;
		r.shift = tlb_shift[hit.size];
		r.data = hit.data;
		tlb_fill_l1_at(&m->tlb, gva, hit.size, hit.data, &filled);
	} else if (model_walk_fill(m, gva, acc, &r, memo && m->memo && !m->cfg.pwc, &filled)) {
		return -DV_EFAULT;
	}
	/* The new entry is the only L1 entry for gva (the lookup found none)
	 * and the newest of its set: the next access to its page may take the
	 * inline path, as an L1 hit on it would. */
	if (memo && !l1_any)
		model_remember(m, gva, &filled);
	model_commit(m, gva, &r);
	if (x) {
		model_fill_xlat(x, gva, r.data, r.shift, r.path);
		x->gpa = r.have_gpa ? r.gpa : 0;
		x->refs = r.refs;
		if (r.path != MODEL_PATH_L2)
			x->cls = r.cls;
	}
	return 0;
}

/* The TLB data of a segment translation of gpa in an entry of 2^shift
 * bytes: the page's (h)PA and the segment's rights. */
static inline u64 model_segment_data(const struct model *m, u64 gpa, u8 shift)
{
	u64 pa = m->virt ? gpa + m->cfg.vseg.offset : gpa;

	return ALIGN_DOWN(pa, 1ULL << shift) | MODEL_SEG_RIGHTS;
}

/* A miss finished by the segments alone (Table I "Both"), counted: once in
 * model_pend_fold, which adds every such miss to the stats. */
static inline void model_count_segment_miss(struct model *m)
{
	m->pend_seg_misses++;
}

/* The L1 entry of a segment translation (model_l1_segments' data); absent:
 * the L1 lookup of gva just missed. */
__attribute__((always_inline)) static inline void
model_segment_fill(struct model *m, u64 gva, u64 gpa, struct tlb_hit *filled, bool absent)
{
	u8 shift = segment_span_shift(&m->cfg.gseg, gva, PAGE_1G_SHIFT);

	if (m->virt)
		shift = MIN(shift, segment_span_shift(&m->cfg.vseg, gpa, PAGE_1G_SHIFT));
	tlb_fill_l1_put(&m->tlb, gva, model_size_of_shift(shift), model_segment_data(m, gpa, shift),
			filled, absent);
}

/* The access of native-ds or dual-direct to an address both segments
 * translate (no escaped page): what model_do does, written for it. The L1
 * lookup as there; a miss is the segment path (Table I "Both"), filled in
 * L1 and counted with its classification known: in the guest segment, and
 * under virtualization in the VMM one. */
static int model_segment_access(struct model *m, u64 gva, u64 gpa, u32 acc)
{
	struct tlb_hit hit, filled;
	bool l1_any;

	if (model_l1_access(m, gva, acc, true, &hit, &l1_any))
		return 0;
	model_segment_fill(m, gva, gpa, &filled, !l1_any);
	if (!l1_any)
		model_remember(m, gva, &filled);
	model_count_segment_miss(m);
	return 0;
}

/* model_do for model_access where no segment can translate gva at L1 miss
 * (model_l1_segments would give up without asking the escape filter) and
 * the lean miss path applies: the L1 lookup, then model_miss_lean. */
__attribute__((always_inline)) static inline int model_access_lean(struct model *m, u64 gva,
								   u32 acc)
{
	struct tlb_hit hit;
	bool l1_any;

	if (model_l1_access(m, gva, acc, true, &hit, &l1_any))
		return 0;
	return model_miss_lean(m, gva, acc, l1_any);
}

/* Is gva in the range where model_segment_1g applies? */
static inline bool model_seg1g_covers(const struct model *m, u64 gva)
{
	return gva - m->seg1g.lo < m->seg1g.hi - m->seg1g.lo;
}

/* gva's 1 GiB entry, just hit or filled by model_segment_1g, becomes the
 * inline path's entry, with the segments' rights. */
static inline void model_seg1g_fast(struct model *m, u64 gva)
{
	m->fast.base = gva & ~(PAGE_1G - 1);
	m->fast.mask = ~(PAGE_1G - 1);
	m->fast.ok = m->seg1g.ok;
}

/* model_segment_1g's miss and its way out to model_segment_access (below). */
static __attribute__((noinline)) int model_segment_1g_miss(struct model *m, u64 gva);

/* model_segment_access from model_segment_1g, which has changed nothing. */
static __attribute__((noinline)) int model_segment_1g_general(struct model *m, u64 gva,
							      bool is_write)
{
	return model_segment_access(m, gva, gva + m->cfg.gseg.offset,
				    m->acc_base | (is_write ? WALK_ACC_WRITE : 0));
}

/* model_segment_access where it reduces to one L1 array: gva's 1 GiB block
 * is translated by the segments (model_seg1g_covers), so the entry of every
 * L1 fill for gva, whichever path made it, is a 1 GiB entry of the 1 GiB
 * array (a segment fill; no fill for it is made elsewhere while the
 * segments and mode stay, and changing them flushes), and the lookup can
 * find gva only there, with the segments' rights (seg1g.ok). The same
 * lookup, LRU update, fill and counts, on that one array: no probe list,
 * no size computation, no rights read from the entry, and no call but tail
 * calls. Its entries are not kept among the recent hits: the array, four
 * entries, is compared about as fast as they are (gups under native-ds:
 * 0.7x the instructions of the recent hits and then the array). An access
 * the segments' rights do not allow goes the general way, with nothing
 * changed. */
__attribute__((always_inline)) static inline int model_segment_1g(struct model *m, u64 gva,
								  bool is_write)
{
	struct tlb_array *a = m->seg1g.array;
	u64 vpn = gva >> PAGE_1G_SHIFT, tag = vpn << 3 | (u64)TLB_1G << 1 | 1;
	u32 base = (u32)(vpn & a->set_mask) * 4, *stamp;
	const u64 *tags = tlb_tags(a) + base;
	unsigned w;

	if ((unsigned)is_write >= m->seg1g.ok)
		return model_segment_1g_general(m, gva, is_write);
	/* A branch per way rather than tlb_set_match4's vector compare: the
	 * branches are predicted, so the stamp's address is known at once,
	 * where the compare's mask made it wait (stream, whose three arrays
	 * hit in turn: 1.27x faster; gups no slower). The lookup's new stamp,
	 * unless it is already the newest: the order of the stamps, all LRU
	 * looks at, is the same. Renumbering when the clock wraps is the
	 * general way's (no call here: this saves no registers). */
	if (tags[0] == tag)
		w = 0;
	else if (tags[1] == tag)
		w = 1;
	else if (tags[2] == tag)
		w = 2;
	else if (tags[3] == tag)
		w = 3;
	else
		return model_segment_1g_miss(m, gva);
	stamp = &tlb_stamps(a)[base + w];
	if (*stamp != a->clock) {
		if (__builtin_expect(a->clock == 0xffffffffu, 0))
			return model_segment_1g_general(m, gva, is_write);
		*stamp = ++a->clock;
	}
	m->stats.accesses++;
	model_seg1g_fast(m, gva);
	return 0;
}

/* model_segment_1g's miss (the lookup of the tag for gva missed): the
 * segment fill, counted. */
static __attribute__((noinline)) int model_segment_1g_miss(struct model *m, u64 gva)
{
	u64 data = model_segment_data(m, gva + m->cfg.gseg.offset, PAGE_1G_SHIFT);

	model_forget_recent(m); /* they may hold the entry it replaces */
	tlb_array_put(m->seg1g.array, gva, TLB_1G, data, true); /* pinned live */
	model_count_segment_miss(m);
	model_seg1g_fast(m, gva);
	return 0;
}

/* model_access past the one-array segment path and the recent hits: the
 * segment path, the lean miss path, or model_do for everything else. */
static __attribute__((noinline)) int model_access_general(struct model *m, u64 gva, u32 acc)
{
	bool in_gseg = m->use_gseg && segment_contains(&m->cfg.gseg, gva);

	if (m->fast_seg && in_gseg && walk_canonical(gva)) {
		u64 gpa = gva + m->cfg.gseg.offset;

		/* Both segments translate it (no escape to ask about). */
		if (!m->virt || segment_contains(&m->cfg.vseg, gpa))
			return model_segment_access(m, gva, gpa, acc);
	}
	/* model_l1_segments translates (or asks the filter) only for an
	 * address in the guest segment, natively or with the VMM segment. */
	if (m->lean && walk_canonical(gva) && !(in_gseg && (!m->virt || m->use_vseg)))
		return model_access_lean(m, gva, acc);
	return model_do(m, gva, acc, NULL, true);
}

/* model_access past its inline entry, the one place that picks its path:
 * model_segment_1g where it applies (its array holds every entry a recent
 * hit could, for those addresses), else the recent hits, else
 * model_access_general. Neither path makes a call that is not a tail call,
 * so that none saves registers. */
__attribute__((always_inline)) static inline int model_access_recent(struct model *m, u64 gva,
								     bool is_write)
{
	/* A recent L1 hit again: what the lookup would do, renew its stamp
	 * (unless it is already the newest of its array), and it becomes the
	 * inline fast path's entry, MRU in its set. */
	for (struct model_recent *r = m->recent; r < m->recent + m->nrecent; r++) {
		if (((gva ^ r->base) & r->mask) == 0 && (unsigned)is_write < r->ok) {
			u32 *stamp = &tlb_stamps(r->array)[r->index];

			/* Renumbering when the clock wraps is the lookup's. */
			if (*stamp != r->array->clock) {
				if (__builtin_expect(r->array->clock == 0xffffffffu, 0))
					break;
				*stamp = ++r->array->clock;
			}
			m->fast.base = r->base;
			m->fast.mask = r->mask;
			m->fast.ok = r->ok;
			m->stats.accesses++;
			return 0;
		}
	}
	return model_access_general(m, gva, m->acc_base | (is_write ? WALK_ACC_WRITE : 0));
}

int model_access_slow(struct model *m, u64 gva, bool is_write)
{
	if (model_seg1g_covers(m, gva))
		return model_segment_1g(m, gva, is_write);
	return model_access_recent(m, gva, is_write);
}

int model_translate(struct model *m, u64 gva, u32 acc, struct model_xlat *x)
{
	return model_do(m, gva, acc, x, false);
}

/* ---- look-ahead ------------------------------------------------------------------- */

/* The tables a walk reads are spread over megabytes and miss the host's
 * caches; a caller that knows its addresses ahead prefetches them. Nothing
 * here changes the model: entries are read without counting, faulting or
 * filling anything, and a missing table simply ends the look-ahead. */

/* A prefetch needs no bounds check: it cannot fault, whatever the
 * address (an entry that leads outside the tables only wastes it), and the
 * address is made as an integer, never a pointer outside flat. */
static void model_prefetch_entry(const struct walk_tables *t, u64 pa)
{
	__builtin_prefetch((const void *)((uintptr_t)t->flat + pa));
}

/* Read the walk of a in t from the table at level top down to its last
 * level and prefetch that entry (the upper levels are few and usually
 * cached; the leaf is not). Returns the translation when every level, the
 * leaf included, could be read (read_leaf), else 0; *last gets the address
 * of the last-level table when the walk reached it (may be NULL); *keep,
 * when given, the level-2 table when the walk reached it. ept selects
 * EPT's present and leaf bits. */
__attribute__((always_inline)) static inline u64
model_look_ahead_from(const struct walk_tables *t, u64 a, bool ept, bool read_leaf, u64 *last,
		      u64 table, unsigned top, struct model_ahead *keep)
{
	unsigned lvl;

	/* Inline and unrolled: each caller's ept, read_leaf and top are
	 * constants, and so is lvl, which leaves little but the reads. */
#pragma GCC unroll 4
	for (lvl = top; lvl >= 1; lvl--) {
		u64 entry = table + PT_INDEX(a, lvl) * sizeof(u64), pte, shift;

		if (lvl == 2 && keep)
			*keep = (struct model_ahead){model_region_key(a), table};
		if (lvl == 1 && last)
			*last = table;
		if (lvl == 1 && !read_leaf) {
			model_prefetch_entry(t, entry);
			return 0;
		}
		pte = walk_read(t, entry);
		if (!(pte & (ept ? EPT_RWX : X86_PTE_P)))
			return 0;
		if (lvl == 4 || (lvl > 1 && !(pte & (ept ? EPT_PS : X86_PTE_PS)))) {
			table = pte & PTE_ADDR_MASK;
			continue;
		}
		shift = PAGE_SHIFT + PT_INDEX_BITS * (lvl - 1);
		return (pte & PTE_ADDR_MASK & ~((1ULL << shift) - 1)) | (a & ((1ULL << shift) - 1));
	}
	return 0; /* not reached: level 1 always returns */
}

/* model_look_ahead_from the root, keeping the level-2 table in s: out of
 * line, as it is rare (once per region and memory slot), so that the
 * common case saves fewer registers. */
static __attribute__((noinline)) u64 model_look_ahead_root(struct model_ahead *s,
							   const struct walk_tables *t, u64 a,
							   bool ept, bool read_leaf, u64 *last)
{
	return model_look_ahead_from(t, a, ept, read_leaf, last, t->root & PTE_ADDR_MASK, 4, s);
}

/* model_look_ahead_from the root, or from the level-2 table that mem (the
 * dimension's memory) keeps for a's 1 GiB region: the levels above it are
 * read once per region rather than on every look-ahead (gups over 8 GiB,
 * 4k+4k: two of the four reads of each of its two look-aheads). A kept
 * table the tables no longer lead to only misdirects a prefetch. */
__attribute__((always_inline)) static inline u64 model_look_ahead(struct model_ahead *mem,
								  const struct walk_tables *t,
								  u64 a, bool ept, bool read_leaf,
								  u64 *last)
{
	struct model_ahead *s = &mem[model_region_slot(a, MODEL_AHEAD_SLOTS)];

	if (__builtin_expect(s->key == model_region_key(a), 1))
		return model_look_ahead_from(t, a, ept, read_leaf, last, s->pd, 2, NULL);
	return model_look_ahead_root(s, t, a, ept, read_leaf, last);
}

/* Does the nested walk of gpa happen (no VMM-segment translation)? The
 * escape filter is left out: an escaped page only costs a useless hint. */
static bool model_nested_walks(const struct model *m, u64 gpa)
{
	return !(m->use_vseg && segment_contains(&m->cfg.vseg, gpa));
}

/* The guest's leaf table for gva when the path cache knows it, else ~0. */
static inline u64 model_path_table(const struct model *m, u64 gva)
{
	const struct model_path_slot *ps;

	if (!m->path)
		return ~0ULL;
	ps = model_path_slot(m, gva);
	return ps->key == model_path_key(m, gva) ? ps->table : ~0ULL;
}

bool model_prefetch_far(struct model *m, u64 gva)
{
	const struct walk_tables *g = &m->cfg.guest, *e = &m->cfg.nested;
	u64 gpa, pt = 0;

	if (m->use_gseg && segment_contains(&m->cfg.gseg, gva)) {
		gpa = gva + m->cfg.gseg.offset;
		if (m->virt && model_nested_walks(m, gpa))
			model_look_ahead(m->ahead[1], e, gpa, true, false, NULL);
		return false;
	}
	/* The guest's last-level entry, and the path-cache slot the walk will
	 * start from (random over the blocks, so it misses too); without one,
	 * the EPT entry that translates the table page holding the guest's
	 * entry; and the data's EPT entry where its gPA can be guessed. */
	model_look_ahead(m->ahead[0], g, gva, false, false, &pt);
	if (m->path)
		__builtin_prefetch(model_path_slot(m, gva));
	else if (m->virt && !m->use_vseg && pt)
		model_look_ahead(m->ahead[1], e, pt, true, false, NULL);
	if (model_prefetch_near_done(m, gva)) {
		model_look_ahead(m->ahead[1], e, gva + m->cfg.gseg.offset, true, false, NULL);
		return false;
	}
	return m->virt;
}

void model_prefetch_near(struct model *m, u64 gva)
{
	const struct walk_tables *g = &m->cfg.guest, *e = &m->cfg.nested;
	u64 gpa, pt;

	/* The guest entries are in cache now; the data's gPA is known, so its
	 * EPT entry can be fetched. The path cache, when it knows the block,
	 * saves reading the guest's upper levels again. */
	if (!m->virt || (m->use_gseg && segment_contains(&m->cfg.gseg, gva)) ||
	    model_prefetch_near_done(m, gva))
		return;
	pt = model_path_table(m, gva);
	if (pt != ~0ULL) {
		u64 pte = walk_read(g, pt + PT_INDEX(gva, 1) * sizeof(u64));

		gpa = pte & X86_PTE_P ? (pte & PTE_ADDR_MASK) | (gva & (PAGE_SIZE - 1)) : 0;
	} else {
		gpa = model_look_ahead(m->ahead[0], g, gva, false, true, NULL);
	}
	if (gpa && model_nested_walks(m, gpa))
		model_look_ahead(m->ahead[1], e, gpa, true, false, NULL);
}
