/* TLBs: set-associative arrays with true LRU, grouped into a first level
 * (one array per page size, probed in parallel) and a second, unified level.
 * An entry caches a whole translation (native VA -> PA, or under
 * virtualization the combined gVA -> hPA), the page size, and the effective
 * rights. Storage is fixed-size inside the struct: no allocation.
 *
 * True LRU by age stamps: every lookup hit or fill stamps its entry with the
 * array's clock; a fill evicts an empty way, else the way with the oldest
 * stamp. A hit is a single store, whatever the associativity. */
#ifndef MM_MODEL_TLB_H
#define MM_MODEL_TLB_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"

enum tlb_size {
	TLB_4K = 0,
	TLB_2M = 1,
	TLB_1G = 2,
	TLB_NSIZES = 3,
};
#define TLB_SIZE_BIT(s) (1u << (s))
#define TLB_ALL_SIZES	7u

#define TLB_MAX_ENTRIES 2048 /* per array: Skylake's STLB has 1536 */
#define TLB_MAX_WAYS	64
#define TLB_L1_ARRAYS	3
#define TLB_L2_ARRAYS	2

/* One array: entries / ways sets (a power of two), holding the page sizes in
 * the mask sizes. entries = 0: the array does not exist. Fully associative
 * is ways = entries. */
struct tlb_array_geometry {
	u16 entries;
	u16 ways;
	u8 sizes; /* TLB_SIZE_BIT(TLB_4K) | ... */
};

struct tlb_geometry {
	struct tlb_array_geometry l1[TLB_L1_ARRAYS];
	struct tlb_array_geometry l2[TLB_L2_ARRAYS];
};

/* tag = (address >> page shift) << 3 | size << 1 | 1 (valid); 0 = empty.
 * data = physical page base | rights: the guest's X86_PTE_RW, X86_PTE_US,
 * X86_PTE_NX, and what the nested dimension denies (TLB_NO_*, bits the page
 * base never uses). */
#define TLB_NO_READ  (1ULL << 9)  /* EPT denies reads */
#define TLB_NO_WRITE (1ULL << 10) /* EPT denies writes */
#define TLB_NO_EXEC  (1ULL << 11) /* EPT denies fetches */
#define TLB_RIGHTS   (X86_PTE_RW | X86_PTE_US | X86_PTE_NX | TLB_NO_READ | TLB_NO_WRITE | TLB_NO_EXEC)

/* Tags, data and stamps in separate runs: a lookup compares the tags of one
 * set, which then lie side by side (32 bytes for 4 ways) and are read
 * without touching data or stamps. The runs are packed for the array's own
 * size at the start of mem (after a colour, below), not spread over the
 * room for the largest array: fixed runs of TLB_MAX_ENTRIES put entry i's
 * tag, data and stamp, and the header, 16 or 8 KiB apart, so in the same
 * set of the host's L1 data cache for every array, and a few small arrays
 * then evicted one another on every access. */
#define TLB_ARRAY_WORDS	 (TLB_MAX_ENTRIES * 5 / 2) /* tag + data + stamp/2 per entry */
#define TLB_COLOUR_WORDS (4096 / 8)		   /* a host page of shift at most */
/* An array and a TLB point into themselves (their runs, their arrays), so
 * they work where tlb_array_init or tlb_init made them and must not be
 * copied: the lookups then find their runs with one load each, not by
 * computing offsets into a 45 KiB structure. */
struct tlb_array {
	u32 set_mask;
	u16 ways;
	u8 sizes;
	u32 clock;   /* last stamp given; 0 marks an empty way */
	u32 valid;   /* entries in use: an empty array is not probed */
	bool pinned; /* in the live probe lists even when empty (tlb_array_pin) */
	u64 *tags;   /* the runs in mem, after the colour */
	u64 *data;   /* ... */
	u32 *stamps; /* ... */
	u64 mem[TLB_ARRAY_WORDS + TLB_COLOUR_WORDS];
};

/* The runs of a: tags (0 = empty), data (page base | rights), stamps (when
 * each entry was last used). */
static inline u64 *tlb_tags(struct tlb_array *a)
{
	return a->tags;
}

static inline u64 *tlb_data(struct tlb_array *a)
{
	return a->data;
}

static inline u32 *tlb_stamps(struct tlb_array *a)
{
	return a->stamps;
}

struct tlb_probe {
	struct tlb_array *array;
	u8 size;
	u8 shift; /* tlb_shift[size], kept at hand for the lookup */
};

struct tlb {
	u8 nprobe_l1, nprobe_l2; /* (array, size) pairs to look up */
	struct tlb_probe probe_l1[TLB_L1_ARRAYS * TLB_NSIZES];
	struct tlb_probe probe_l2[TLB_L2_ARRAYS * TLB_NSIZES];
	/* The probes whose arrays hold entries, in the same order: what the
	 * lookups go through. Arrays a configuration never fills (the
	 * large-page arrays of a 4 KiB one) then cost nothing, where a test
	 * of each array's count cost a fifth of an L1 miss's lookup (gups
	 * over 8 GiB, 4k+4k). Made again by tlb_live_update whenever an
	 * array may have become empty or stopped being empty; a superset
	 * would only cost probes, a subset would lose hits. */
	u8 nlive_l1, nlive_l2;
	struct tlb_probe live_l1[TLB_L1_ARRAYS * TLB_NSIZES];
	struct tlb_probe live_l2[TLB_L2_ARRAYS * TLB_NSIZES];
	struct tlb_array *l1_of[TLB_NSIZES]; /* L1 array holding a size, or NULL */
	struct tlb_array *l2_of[TLB_NSIZES]; /* L2 array holding a size, or NULL */
	struct tlb_array l1[TLB_L1_ARRAYS];
	struct tlb_array l2[TLB_L2_ARRAYS];
};

/* A hit: the entry's data and page size, and where it is. */
struct tlb_hit {
	u64 data;
	u8 size;
	struct tlb_array *array;
	u32 index; /* in array's tags, data and stamps */
};

extern const u8 tlb_shift[TLB_NSIZES]; /* 12, 21, 30 */

/* Fill g with a named preset: "sandybridge" (the paper's machine, the
 * default) or "skylake". -DV_ENOENT for an unknown name. */
int tlb_preset(const char *name, struct tlb_geometry *g);
/* Names of the presets, NULL-terminated. */
extern const char *const tlb_preset_names[];

/* Empty TLB of geometry g. -DV_EINVAL if an array is larger than
 * TLB_MAX_ENTRIES, has more than TLB_MAX_WAYS ways, a set count that is not a
 * power of two, or no sizes; or if no L1 array holds 4 KiB pages. */
int tlb_init(struct tlb *t, const struct tlb_geometry *g);
void tlb_flush(struct tlb *t);
/* Drop every entry, of any size, that translates va (INVLPG). */
void tlb_flush_va(struct tlb *t, u64 va);

/* Renumber the stamps when the clock is about to wrap (every 2^32 uses). */
void tlb_array_renumber(struct tlb_array *a);

/* The next stamp of a. */
static inline u32 tlb_array_tick(struct tlb_array *a)
{
	if (__builtin_expect(a->clock == 0xffffffffu, 0))
		tlb_array_renumber(a);
	return ++a->clock;
}

/* Bit w set when way w of the set holds tag. ways is a constant where it
 * pays (the common 4-way arrays), so the compares unroll into a few
 * branch-free instructions: on random hits a branch per way is
 * mispredicted. */
static inline u64 tlb_set_match(const u64 *set, u64 tag, unsigned ways)
{
	u64 hits = 0;
	unsigned w;

	/* -O2 does not unroll even a constant 4 iterations by itself. */
#pragma GCC unroll 4
	for (w = 0; w < ways; w++)
		hits |= (u64)(set[w] == tag) << w;
	return hits;
}

/* The tag of va's page of size in an array, and the index of the first way
 * of its set (*base). */
static inline u64 tlb_tag_shift(const struct tlb_array *a, u64 va, unsigned size, unsigned shift,
				u32 *base)
{
	u64 vpn = va >> shift;

	/* A multiply only for other than the common 4 ways. */
	if (__builtin_expect(a->ways == 4, 1))
		*base = (u32)(vpn & a->set_mask) * 4;
	else
		*base = (u32)(vpn & a->set_mask) * a->ways;
	return (vpn << 3) | ((u64)size << 1) | 1;
}

/* tlb_tag_shift with the page shift of size. */
static inline u64 tlb_tag_at(const struct tlb_array *a, u64 va, unsigned size, u32 *base)
{
	return tlb_tag_shift(a, va, size, tlb_shift[size], base);
}

/* tlb_set_match for 4 ways. With SSE4.1 (mmusim's build: x86-64-v2) two
 * 64-bit compares of two ways each and their sign masks: about half the
 * instructions of the scalar compares. The hypervisor's build has no SSE. */
#if defined(__SSE4_1__)
#include <smmintrin.h>
static inline u64 tlb_set_match4(const u64 *set, u64 tag)
{
	__m128i t = _mm_set1_epi64x((long long)tag);
	__m128i w01 = _mm_cmpeq_epi64(_mm_loadu_si128((const __m128i *)set), t);
	__m128i w23 = _mm_cmpeq_epi64(_mm_loadu_si128((const __m128i *)(set + 2)), t);

	return (u64)(_mm_movemask_pd(_mm_castsi128_pd(w01)) | _mm_movemask_pd(_mm_castsi128_pd(w23))
								      << 2);
}
#else
static inline u64 tlb_set_match4(const u64 *set, u64 tag)
{
	return tlb_set_match(set, tag, 4);
}
#endif

/* tlb_set_match for any number of ways, out of line: the inline paths are
 * written for the common 4-way arrays and stay small. */
u64 tlb_set_match_any(const u64 *set, u64 tag, unsigned ways);

/* The ways of a's set holding tag. */
__attribute__((always_inline)) static inline u64 tlb_match(const struct tlb_array *a,
							   const u64 *set, u64 tag)
{
	if (__builtin_expect(a->ways == 4, 1))
		return tlb_set_match4(set, tag);
	return tlb_set_match_any(set, tag, a->ways);
}

/* Look va up in one array for one page size; on a hit make the entry the
 * most recently used of its set and return its data (NULL on a miss). A
 * tag is in a set at most once (a refill replaces it in place). An empty
 * array is compared like any other: for callers that know it holds
 * entries (the live probe lists). */
static inline u64 *tlb_array_probe(struct tlb_array *a, u64 va, unsigned size, unsigned shift)
{
	u64 tag, hits;
	u32 base;
	unsigned way;

	tag = tlb_tag_shift(a, va, size, shift, &base);
	hits = tlb_match(a, &tlb_tags(a)[base], tag);
	if (!hits)
		return NULL;
	way = (unsigned)__builtin_ctzll(hits);
	tlb_stamps(a)[base + way] = tlb_array_tick(a);
	return &tlb_data(a)[base + way];
}

/* tlb_array_probe for an array that may well be empty (the nested TLB of
 * a configuration that never fills it): that costs a well-predicted
 * branch, not a set compare. */
static inline u64 *tlb_array_lookup(struct tlb_array *a, u64 va, unsigned size)
{
	if (!a->valid)
		return NULL;
	return tlb_array_probe(a, va, size, tlb_shift[size]);
}

/* Look va up in the n (array, size) pairs of one level, in order (a live
 * probe list: arrays with entries, or pinned). */
static inline bool tlb_lookup_level(const struct tlb_probe *probe, unsigned n, u64 va,
				    struct tlb_hit *hit)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct tlb_array *a = probe[i].array;
		u64 *e = tlb_array_probe(a, va, probe[i].size, probe[i].shift);

		if (e) {
			hit->data = *e;
			hit->size = probe[i].size;
			hit->array = a;
			hit->index = (u32)(e - tlb_data(a));
			return true;
		}
	}
	return false;
}

/* Look va up in every first-level array. */
static inline bool tlb_lookup_l1(struct tlb *t, u64 va, struct tlb_hit *hit)
{
	return tlb_lookup_level(t->live_l1, t->nlive_l1, va, hit);
}

/* Make the live probe lists again from the arrays' counts. */
void tlb_live_update(struct tlb *t);

/* Keep a, an array of t, in the live probe lists even when empty (on), or
 * as its entries say (off): for a caller that fills a directly, with
 * tlb_array_put, and would rather not ask tlb_live_filled each time. */
void tlb_array_pin(struct tlb *t, struct tlb_array *a, bool on);

/* After a fill of a, an array of t: a that holds one entry may have just
 * stopped being empty. */
static inline void tlb_live_filled(struct tlb *t, const struct tlb_array *a)
{
	if (__builtin_expect(a->valid == 1, 0))
		tlb_live_update(t);
}

/* Insert the translation of va (page of size, data = page base | rights) in
 * the first level. A size without an L1 array is splintered into the
 * largest smaller size that has one (the entry then covers va's sub-page). */
void tlb_fill_l1(struct tlb *t, u64 va, unsigned size, u64 data);
/* Low-level: set up one array. -DV_EINVAL as for tlb_init. */
int tlb_array_init(struct tlb_array *a, const struct tlb_array_geometry *g);
void tlb_array_flush(struct tlb_array *a);

/* Look va up in the second level. */
static inline bool tlb_lookup_l2(struct tlb *t, u64 va, struct tlb_hit *hit)
{
	return tlb_lookup_level(t->live_l2, t->nlive_l2, va, hit);
}

/* The way a fill takes in an array of any associativity (tlb.c). */
unsigned tlb_victim_any(struct tlb_array *a, u32 base, u64 tag);

/* The way of a 4-way set with the smallest stamp, the first of equals, by
 * a tournament of three compares that keeps the left way on ties rather
 * than a pass over the four: a short chain of dependent instructions. */
static inline unsigned tlb_oldest4_scalar(const u32 *stamps)
{
	unsigned w01 = stamps[1] < stamps[0], w23 = 2 + (stamps[3] < stamps[2]);
	u32 s01 = w01 ? stamps[1] : stamps[0];
	u32 s23 = stamps[3] < stamps[2] ? stamps[3] : stamps[2];

	return s23 < s01 ? w23 : w01;
}

/* The same way in fewer instructions, with SSE4.1 (mmusim's build): the
 * smallest stamp in every lane (two rounds of pairwise minima) and the
 * first way holding it (gups over 8 GiB: 4k+4k 1.8%, native-4k 2.5% fewer
 * instructions). Its chain is longer, though: where the next lookup reads
 * the set this fill writes, which is every time in an array of one set
 * (the 1 GiB array of native-ds and dual-direct), the lookup waited on it
 * (gups over 8 GiB, native-ds: 0.91x the speed of the scalar form). */
#if defined(__SSE4_1__)
static inline unsigned tlb_oldest4(const u32 *stamps)
{
	__m128i st = _mm_loadu_si128((const __m128i *)stamps);
	__m128i lo = _mm_min_epu32(st, _mm_shuffle_epi32(st, _MM_SHUFFLE(1, 0, 3, 2)));

	lo = _mm_min_epu32(lo, _mm_shuffle_epi32(lo, _MM_SHUFFLE(2, 3, 0, 1)));
	return (unsigned)__builtin_ctz(
		(unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(st, lo))));
}
#else
static inline unsigned tlb_oldest4(const u32 *stamps)
{
	return tlb_oldest4_scalar(stamps);
}
#endif

/* The way a fill takes in a 4-way set: the tag's way if the set holds it
 * (unless the caller knows it is absent: its lookup just missed), else the
 * way with the smallest stamp, the first of equals. An empty way has stamp 0
 * (fills stamp from 1; flushes, drops and renumbering give 0 to empty ways
 * only), so the smallest stamp is the first empty way, else the least
 * recently used: the way tlb_victim_any picks. one_set: the array has a
 * single set (tlb_oldest4's note). */
__attribute__((always_inline)) static inline unsigned
tlb_victim4(const u64 *tags, const u32 *stamps, u64 tag, bool absent, bool one_set)
{
	u64 same = absent ? 0 : tlb_set_match4(tags, tag);

	if (same)
		return (unsigned)__builtin_ctzll(same);
	return one_set ? tlb_oldest4_scalar(stamps) : tlb_oldest4(stamps);
}

/* tlb_array_fill, told whether the caller knows the tag is absent from its
 * set (a lookup of it just missed, and nothing was filled since): then the
 * set's tags need not be compared again. */
__attribute__((always_inline)) static inline u32 tlb_array_put(struct tlb_array *a, u64 va,
							       unsigned size, u64 data, bool absent)
{
	u32 base;
	u64 tag = tlb_tag_at(a, va, size, &base);
	u64 *tags = tlb_tags(a) + base;
	u32 *stamps = tlb_stamps(a) + base;
	unsigned victim = __builtin_expect(a->ways == 4, 1)
				  ? tlb_victim4(tags, stamps, tag, absent, a->set_mask == 0)
				  : tlb_victim_any(a, base, tag);
	u32 stamp = tlb_array_tick(a);

	a->valid += tags[victim] == 0;
	tags[victim] = tag;
	tlb_data(a)[base + victim] = data;
	stamps[victim] = stamp;
	return base + victim;
}

/* Low-level: insert into one array (used for the nested TLB too); returns
 * the entry's index. */
static inline u32 tlb_array_fill(struct tlb_array *a, u64 va, unsigned size, u64 data)
{
	return tlb_array_put(a, va, size, data, false);
}

/* tlb_fill_l1_at, told whether the caller's L1 lookup of va just missed in
 * every array (tlb_array_put's absent). */
__attribute__((always_inline)) static inline void
tlb_fill_l1_put(struct tlb *t, u64 va, unsigned size, u64 data, struct tlb_hit *where, bool absent)
{
	unsigned s = size;
	struct tlb_array *a;

	while (!t->l1_of[s])
		s--; /* 4 KiB always has an array (tlb_init) */
	if (s != size) {
		/* Splinter: the entry maps va's 2^shift[s] sub-page of the page. */
		u64 off = va & ((1ULL << tlb_shift[size]) - 1) & ~((1ULL << tlb_shift[s]) - 1);

		data = ((data & PTE_ADDR_MASK) + off) | (data & ~PTE_ADDR_MASK);
	}
	a = t->l1_of[s];
	where->index = tlb_array_put(a, va, s, data, absent);
	tlb_live_filled(t, a);
	where->array = a;
	where->data = data;
	where->size = (u8)s;
}

/* tlb_fill_l1, and where the entry went: its array, index, data and the
 * size it was cached with (after splintering). */
static inline void tlb_fill_l1_at(struct tlb *t, u64 va, unsigned size, u64 data,
				  struct tlb_hit *where)
{
	tlb_fill_l1_put(t, va, size, data, where, false);
}

/* tlb_fill_l2, told whether the caller's L2 lookup of va just missed. */
__attribute__((always_inline)) static inline void
tlb_fill_l2_put(struct tlb *t, u64 va, unsigned size, u64 data, bool absent)
{
	struct tlb_array *a = t->l2_of[size];

	if (a) {
		tlb_array_put(a, va, size, data, absent);
		tlb_live_filled(t, a);
	}
}

/* Insert in the second level; sizes the L2 does not hold are not cached
 * there (Sandy Bridge's STLB holds only 4 KiB pages). */
static inline void tlb_fill_l2(struct tlb *t, u64 va, unsigned size, u64 data)
{
	tlb_fill_l2_put(t, va, size, data, false);
}

#endif
