/* TLB arrays, the two-level TLB and its presets. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/tlb.h"

const u8 tlb_shift[TLB_NSIZES] = {PAGE_SHIFT, PAGE_2M_SHIFT, PAGE_1G_SHIFT};

#define B4K TLB_SIZE_BIT(TLB_4K)
#define B2M TLB_SIZE_BIT(TLB_2M)
#define B1G TLB_SIZE_BIT(TLB_1G)

struct tlb_preset_def {
	const char *name;
	struct tlb_geometry g;
};

static const struct tlb_preset_def tlb_presets[] = {
	/* The paper's Xeon E5-2430 (Sandy Bridge), as PAPER.md lists it: L1 D-TLB
	 * 4 KiB 64 entries 4-way, 2 MiB 32 entries 4-way, 1 GiB 4 entries fully
	 * associative; L2 TLB 4 KiB 512 entries 4-way. */
	{"sandybridge", {.l1 = {{64, 4, B4K}, {32, 4, B2M}, {4, 4, B1G}}, .l2 = {{512, 4, B4K}}}},
	/* Skylake: Intel 64 and IA-32 Architectures Optimization Reference
	 * Manual (248966-045, Feb. 2022), Table 2-15 "TLB Parameters of the
	 * Skylake Microarchitecture": DTLB 4 KiB 64 entries 4-way, 2M/4M 32
	 * entries 4-way, 1 GiB 4 entries 4-way; STLB 4 KiB + 2 MiB shared 1536
	 * entries 12-way, 1 GiB 16 entries 4-way. (CPUID leaf 2 on Skylake-SP
	 * reports the STLB as 6-way; we follow the manual.) */
	{"skylake",
	 {.l1 = {{64, 4, B4K}, {32, 4, B2M}, {4, 4, B1G}},
	  .l2 = {{1536, 12, B4K | B2M}, {16, 4, B1G}}}},
};

const char *const tlb_preset_names[] = {"sandybridge", "skylake", NULL};

static bool tlb_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int tlb_preset(const char *name, struct tlb_geometry *g)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(tlb_presets); i++) {
		if (tlb_streq(name, tlb_presets[i].name)) {
			*g = tlb_presets[i].g;
			return 0;
		}
	}
	return -DV_ENOENT;
}

/* Entries of a (0 for an array that does not exist). */
static u32 tlb_array_entries(const struct tlb_array *a)
{
	return a->ways ? (a->set_mask + 1) * a->ways : 0;
}

void tlb_array_flush(struct tlb_array *a)
{
	u32 i, n = tlb_array_entries(a);

	for (i = 0; i < n; i++) {
		tlb_tags(a)[i] = 0;
		tlb_stamps(a)[i] = 0;
	}
	a->clock = 0;
	a->valid = 0;
}

/* Replace each set's stamps by their rank (1 = oldest), keeping the order,
 * and restart the clock above them. Empty ways keep stamp 0. */
void tlb_array_renumber(struct tlb_array *a)
{
	u32 sets = a->set_mask + 1, s, w, v;

	for (s = 0; s < sets; s++) {
		u32 *st = &tlb_stamps(a)[s * a->ways];
		u32 rank[TLB_MAX_WAYS];

		for (w = 0; w < a->ways; w++) {
			rank[w] = 0;
			if (!st[w])
				continue;
			for (v = 0; v < a->ways; v++)
				rank[w] += st[v] && st[v] <= st[w];
		}
		for (w = 0; w < a->ways; w++)
			st[w] = rank[w];
	}
	a->clock = a->ways;
}

/* Set up a with its runs packed from word colour of mem. */
static int tlb_array_init_at(struct tlb_array *a, const struct tlb_array_geometry *g, u32 colour)
{
	u32 sets;

	a->set_mask = 0;
	a->ways = 0;
	a->sizes = 0;
	a->valid = 0;
	a->pinned = false;
	a->clock = 0;
	a->tags = a->data = a->mem;
	a->stamps = (u32 *)a->mem;
	if (g->entries == 0)
		return 0;
	if (g->entries > TLB_MAX_ENTRIES || g->ways == 0 || g->ways > TLB_MAX_WAYS ||
	    g->entries % g->ways || (g->sizes & TLB_ALL_SIZES) == 0 || g->sizes & ~TLB_ALL_SIZES)
		return -DV_EINVAL;
	sets = g->entries / g->ways;
	if (sets & (sets - 1))
		return -DV_EINVAL; /* set index is a bit field of the address */
	a->set_mask = sets - 1;
	a->ways = g->ways;
	a->sizes = g->sizes;
	a->tags = &a->mem[colour % TLB_COLOUR_WORDS];
	a->data = a->tags + g->entries;
	a->stamps = (u32 *)(a->data + g->entries);
	tlb_array_flush(a);
	return 0;
}

int tlb_array_init(struct tlb_array *a, const struct tlb_array_geometry *g)
{
	return tlb_array_init_at(a, g, 0);
}

/* Bytes an array of g uses in its mem, in whole cache lines. */
static u32 tlb_array_bytes(const struct tlb_array_geometry *g)
{
	return (u32)ALIGN_UP((u32)g->entries * 20, 64);
}

/* The colour (word offset in mem) that starts a's runs packed bytes after
 * the first cache line of the first array's mem, modulo a host page: the
 * arrays of one TLB then lie in the host's caches as one block, rather than
 * each at the same page offset, sizeof(struct tlb_array) apart, and each
 * set of 4 tags in one cache line. (Only speed depends on the addresses.) */
static u32 tlb_colour(const struct tlb *t, const struct tlb_array *a, u32 packed)
{
	u64 first = ALIGN_UP((u64)(uintptr_t)t->l1[0].mem, 64);

	return (u32)(((first + packed - (u64)(uintptr_t)a->mem) % 4096) / 8);
}

/* Build the probe list of one level and the size -> array map. */
static int tlb_level_init(struct tlb *t, struct tlb_array *arrays,
			  const struct tlb_array_geometry *g, unsigned n, struct tlb_probe *probe,
			  u8 *nprobe, struct tlb_array **of, u32 *packed)
{
	unsigned i, s;
	int err;

	*nprobe = 0;
	for (s = 0; s < TLB_NSIZES; s++)
		of[s] = NULL;
	for (i = 0; i < n; i++) {
		err = tlb_array_init_at(&arrays[i], &g[i], tlb_colour(t, &arrays[i], *packed));
		if (err)
			return err;
		*packed += tlb_array_bytes(&g[i]);
		for (s = 0; s < TLB_NSIZES; s++) {
			if (!(arrays[i].sizes & TLB_SIZE_BIT(s)))
				continue;
			if (of[s])
				return -DV_EINVAL; /* one array per size and level */
			of[s] = &arrays[i];
			probe[*nprobe].array = &arrays[i];
			probe[*nprobe].size = (u8)s;
			probe[*nprobe].shift = tlb_shift[s];
			(*nprobe)++;
		}
	}
	return 0;
}

int tlb_init(struct tlb *t, const struct tlb_geometry *g)
{
	u32 packed = 0;
	int err;

	err = tlb_level_init(t, t->l1, g->l1, TLB_L1_ARRAYS, t->probe_l1, &t->nprobe_l1, t->l1_of,
			     &packed);
	if (err)
		return err;
	err = tlb_level_init(t, t->l2, g->l2, TLB_L2_ARRAYS, t->probe_l2, &t->nprobe_l2, t->l2_of,
			     &packed);
	if (err)
		return err;
	if (!t->l1_of[TLB_4K])
		return -DV_EINVAL; /* every translation must fit somewhere in L1 */
	tlb_live_update(t);
	return 0;
}

/* The probes of probe[0..n) whose arrays hold entries, into live. */
static u8 tlb_live_level(const struct tlb_probe *probe, unsigned n, struct tlb_probe *live)
{
	u8 k = 0;

	for (unsigned i = 0; i < n; i++)
		if (probe[i].array->valid || probe[i].array->pinned)
			live[k++] = probe[i];
	return k;
}

void tlb_live_update(struct tlb *t)
{
	t->nlive_l1 = tlb_live_level(t->probe_l1, t->nprobe_l1, t->live_l1);
	t->nlive_l2 = tlb_live_level(t->probe_l2, t->nprobe_l2, t->live_l2);
}

void tlb_array_pin(struct tlb *t, struct tlb_array *a, bool on)
{
	a->pinned = on;
	tlb_live_update(t);
}

void tlb_flush(struct tlb *t)
{
	unsigned i;

	for (i = 0; i < TLB_L1_ARRAYS; i++)
		tlb_array_flush(&t->l1[i]);
	for (i = 0; i < TLB_L2_ARRAYS; i++)
		tlb_array_flush(&t->l2[i]);
	tlb_live_update(t);
}

void tlb_fill_l1(struct tlb *t, u64 va, unsigned size, u64 data)
{
	struct tlb_hit where;

	tlb_fill_l1_at(t, va, size, data, &where);
}

u64 tlb_set_match_any(const u64 *set, u64 tag, unsigned ways)
{
	return tlb_set_match(set, tag, ways);
}

/* The way a fill takes: a present tag is replaced in place (key 0);
 * otherwise the first empty way (stamp 0, key 1), else the least recently
 * used. Masks instead of branches, as in tlb_set_match. */
unsigned tlb_victim_any(struct tlb_array *a, u32 base, u64 tag)
{
	unsigned w, victim = 0, ways = a->ways;
	u64 best = ~0ULL;

	for (w = 0; w < ways; w++) {
		u64 same = -(u64)(tlb_tags(a)[base + w] == tag);
		u64 key = ~same & ((u64)tlb_stamps(a)[base + w] + 1);
		u64 lt = -(u64)(key < best);

		best = (best & ~lt) | (key & lt);
		victim = (unsigned)((victim & ~lt) | (w & lt));
	}
	return victim;
}

/* Remove va's entry of one size from one array. */
static void tlb_array_drop(struct tlb_array *a, u64 va, unsigned size)
{
	u32 base;
	u64 tag = tlb_tag_at(a, va, size, &base);
	unsigned w;

	for (w = 0; w < a->ways; w++) {
		if (tlb_tags(a)[base + w] == tag) {
			a->valid--;
			tlb_tags(a)[base + w] = 0;
			tlb_stamps(a)[base + w] = 0;
		}
	}
}

void tlb_flush_va(struct tlb *t, u64 va)
{
	unsigned i;

	for (i = 0; i < t->nprobe_l1; i++)
		tlb_array_drop(t->probe_l1[i].array, va, t->probe_l1[i].size);
	for (i = 0; i < t->nprobe_l2; i++)
		tlb_array_drop(t->probe_l2[i].array, va, t->probe_l2[i].size);
	tlb_live_update(t);
}
