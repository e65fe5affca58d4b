/* libFuzzer target: the page-table engine (mm/pagetable.c) against a reference
 * of its own: an array of what every 4 KiB page of a 2 GiB window maps to
 * (frame and permissions, or nothing).
 *
 * Input: byte 0 picks the format (bit 0: EPT), the leaf sizes allowed
 * (bits 2:1) and, for x86, whether the window starts at 0 or at the bottom of
 * the upper canonical half (bit 3); byte 1 the number of table allocations
 * that succeed (255: all); then 8-byte operations: map, unmap, protect,
 * split, merge, or a call with bad arguments. Sizes and addresses come in
 * 4 KiB, 2 MiB or 1 GiB units so that large leaves, partial overlaps and
 * splits are common.
 *
 * Checks after every operation: its return value is the one the reference
 * predicts (-DV_ENOMEM allowed whenever a table may be needed); a failed call
 * changes nothing (counters, needs_flush, translations); needs_flush is set
 * whenever a translation was removed, redirected or weakened; translations
 * around the operation agree with the reference. At the end: every page of the
 * window agrees, the leaf counters match the leaves found, and pt_destroy
 * returns every table. */
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "mm/pagetable.h"

#define KB4	   0x1000ULL
#define MB2	   0x200000ULL
#define GB1	   0x40000000ULL
#define WIN	   (2 * GB1)
#define NPAGES	   (WIN / KB4)
#define ARENA_BASE 0x7000000000ULL
#define ARENA_MAX  2048
#define MAX_OPS	   64
#define ALL_PERMS  (PT_R | PT_W | PT_X | PT_USER | PT_GLOBAL | PT_UC)

/* --- table memory: a pool of host pages with a budget ---------------------------- */

struct arena {
	u8 *mem;
	u16 free_stack[ARENA_MAX];
	unsigned nfree;
	bool used[ARENA_MAX];
	int budget; /* allocations that still succeed; -1: all */
};
static struct arena arena;

static u64 arena_alloc(void *ctx)
{
	struct arena *a = ctx;
	u16 idx;

	if (a->budget == 0 || a->nfree == 0)
		return PT_NO_TABLE;
	if (a->budget > 0)
		a->budget--;
	idx = a->free_stack[--a->nfree];
	CHECK(!a->used[idx]);
	a->used[idx] = true;
	memset(a->mem + (size_t)idx * KB4, 0xa5, KB4); /* the engine must clear it */
	return ARENA_BASE + (u64)idx * KB4;
}

static size_t arena_index(u64 phys)
{
	CHECK(phys >= ARENA_BASE && phys % KB4 == 0 && (phys - ARENA_BASE) / KB4 < ARENA_MAX);
	return (phys - ARENA_BASE) / KB4;
}

static void arena_free(void *ctx, u64 phys)
{
	struct arena *a = ctx;
	size_t idx = arena_index(phys);

	CHECK(a->used[idx]); /* a double free or a free of something never allocated */
	a->used[idx] = false;
	a->free_stack[a->nfree++] = (u16)idx;
}

static void *arena_ptr(void *ctx, u64 phys)
{
	struct arena *a = ctx;
	size_t idx = arena_index(phys);

	CHECK(a->used[idx]); /* a table read after it was freed */
	return a->mem + idx * KB4;
}

static void arena_reset(void)
{
	if (!arena.mem)
		arena.mem = malloc(ARENA_MAX * KB4);
	arena.nfree = 0;
	for (unsigned i = ARENA_MAX; i-- > 0;) {
		arena.free_stack[arena.nfree++] = (u16)i;
		arena.used[i] = false;
	}
}

/* --- the reference: one entry per 4 KiB page of [0, WIN) ----------------------------- */

static u64 *ref_pa;		 /* frame of each page */
static u8 *ref_perms;		 /* its PT_* permissions; 0: unmapped */
static u16 ref_count[WIN / MB2]; /* mapped pages in each 2 MiB block */

static void ref_set(u64 i, u64 pa, unsigned perms)
{
	ref_count[i / 512] += (perms != 0) - (ref_perms[i] != 0);
	ref_pa[i] = pa;
	ref_perms[i] = (u8)perms;
}

/* Mapped pages in [va, va + len), va and len multiples of 2 MiB. */
static u64 ref_mapped_blocks(u64 va, u64 len)
{
	u64 n = 0;

	for (u64 b = va / MB2; b < (va + len) / MB2; b++)
		n += ref_count[b];
	return n;
}
static bool fmt_ept;	  /* the table's format */
static u64 vbase;	  /* where the window lies: 0, or the upper half (x86) */
static unsigned sizes_ok; /* PT_SIZE_* */

static bool perms_valid(unsigned perms)
{
	if (perms & ~ALL_PERMS)
		return false;
	if ((perms & PT_W) && !(perms & PT_R))
		return false;
	if (!fmt_ept)
		return perms & PT_R;
	return !(perms & (PT_USER | PT_GLOBAL)) && (perms & (PT_R | PT_X));
}

/* Would replacing (opa, op) by (npa, np) let a stale TLB entry grant more? */
static bool weakened(u64 opa, unsigned op, u64 npa, unsigned np)
{
	if (!op)
		return false;
	if (!np || opa != npa)
		return true;
	return (op & ~np & (PT_R | PT_W | PT_X | PT_GLOBAL)) || ((op ^ np) & (PT_UC | PT_USER));
}

/* pt_translate at va agrees with the reference. */
static void check_page(const struct pagetable *pt, u64 va)
{
	u64 pa, i = va / KB4;
	unsigned perms, level;
	int rc;

	if (va >= WIN)
		return;
	rc = pt_translate(pt, vbase + va, &pa, &perms, &level);
	if (!ref_perms[i]) {
		CHECK(rc == -DV_ENOENT);
		return;
	}
	CHECK(rc == 0);
	CHECK(pa == ref_pa[i] && perms == ref_perms[i]);
	CHECK(level >= 1 && level <= 3 && (sizes_ok & (1u << level)));
}

/* The pages around [va, va + len): the ends, their neighbours, the large-page
 * boundaries nearby. */
static void check_around(const struct pagetable *pt, u64 va, u64 len)
{
	const u64 points[] = {va, va + len - KB4, va - KB4, va + len};

	for (unsigned i = 0; i < 4; i++) {
		u64 p = points[i] & ~(KB4 - 1);

		check_page(pt, p);
		check_page(pt, p & ~(MB2 - 1));
		check_page(pt, (p & ~(MB2 - 1)) + MB2 - KB4);
		check_page(pt, p & ~(GB1 - 1));
	}
}

/* Every page of the window agrees with the reference, stepping leaf by leaf
 * (and hole by hole); leaves counted by level match the engine's counters. */
static void check_all(const struct pagetable *pt)
{
	u64 leaves[4] = {0}, va = 0;

	while (va < WIN) {
		struct pt_walk w;
		int rc = pt_walk_path(pt, vbase + va, &w);
		u64 span, i;

		CHECK(rc == 0 || rc == -DV_ENOENT);
		CHECK(w.level >= 1 && w.level <= 4);
		span = w.level == 4 ? WIN : 1ULL << (12 + 9 * (w.level - 1));
		CHECK(va % span == 0);
		if (rc == 0) {
			u64 base = pt_entry_addr(pt->fmt, w.entry[w.n - 1], w.level);
			unsigned perms = pt_entry_perms(pt->fmt, w.entry[w.n - 1]);

			CHECK(w.level <= 3);
			leaves[w.level]++;
			for (i = 0; i < span / KB4 && va + i * KB4 < WIN; i++) {
				CHECK(ref_perms[va / KB4 + i] == perms);
				CHECK(ref_pa[va / KB4 + i] == base + i * KB4);
			}
		} else if (span >= MB2) {
			CHECK(ref_mapped_blocks(va, span < WIN - va ? span : WIN - va) == 0);
		} else {
			CHECK(ref_perms[va / KB4] == 0);
		}
		va += span;
	}
	for (unsigned l = 1; l <= 3; l++)
		CHECK(pt->leaves[l] == leaves[l]);
}

/* Is [va, va+len) (inside the window) one block the engine can merge? */
static bool ref_mergeable(u64 va, u64 len)
{
	u64 i0 = va / KB4;

	if (!ref_perms[i0] || ref_pa[i0] % len)
		return false;
	for (u64 i = 1; i < len / KB4; i++)
		if (ref_perms[i0 + i] != ref_perms[i0] || ref_pa[i0 + i] != ref_pa[i0] + i * KB4)
			return false;
	return true;
}

/* --- operations ------------------------------------------------------------------ */

static const u64 units[4] = {KB4, MB2, GB1, KB4};

struct snapshot {
	u64 tables[PT_LEVELS + 1], leaves[PT_LEVELS + 1];
	bool needs_flush;
};

static void snap(const struct pagetable *pt, struct snapshot *s)
{
	memcpy(s->tables, pt->tables, sizeof(s->tables));
	memcpy(s->leaves, pt->leaves, sizeof(s->leaves));
	s->needs_flush = pt->needs_flush;
}

static void check_unchanged(const struct pagetable *pt, const struct snapshot *s)
{
	CHECK(memcmp(s->tables, pt->tables, sizeof(s->tables)) == 0);
	CHECK(memcmp(s->leaves, pt->leaves, sizeof(s->leaves)) == 0);
	CHECK(s->needs_flush == pt->needs_flush);
}

static void run_op(struct pagetable *pt, const u8 *op)
{
	u64 vunit = units[op[1] & 3], lunit = units[(op[1] >> 2) & 3];
	u64 punit = units[(op[1] >> 4) & 3];
	u64 va = ((u64)(op[2] | op[3] << 8) * vunit) % WIN;
	u64 len = (u64)(op[4] % 16 + 1) * lunit;
	u64 pa = (u64)(op[5] | op[6] << 8) * punit;
	unsigned perms = op[7] & 0x7f, level = 2 + (op[4] >> 7);
	bool flush_expected = false, may_enomem = true;
	struct snapshot before;
	int rc = 0, want = 0;

	/* 4 KiB leaves over gigabytes would make every check slow: maps that
	 * cannot use 2 MiB leaves stay below 32 MiB */
	if (lunit == GB1 && (va % MB2 || pa % MB2))
		len = (u64)(op[4] % 16 + 1) * MB2;
	if (len > WIN - va)
		len = WIN - va;
	pt->needs_flush = false;
	snap(pt, &before);
	switch (op[0] % 6) {
	case 0: /* map */
		if (!perms_valid(perms))
			want = -DV_EINVAL, may_enomem = false;
		rc = pt_map(pt, vbase + va, pa, len, perms);
		if (rc == 0) {
			for (u64 i = 0; i < len / KB4; i++) {
				u64 p = va / KB4 + i;

				flush_expected |=
					weakened(ref_pa[p], ref_perms[p], pa + i * KB4, perms);
				ref_set(p, pa + i * KB4, perms);
			}
		}
		break;
	case 1: /* unmap */
		rc = pt_unmap(pt, vbase + va, len);
		if (rc == 0) {
			for (u64 i = va / KB4; i < (va + len) / KB4; i++) {
				flush_expected |= ref_perms[i] != 0;
				ref_set(i, 0, 0);
			}
		}
		break;
	case 2: /* protect */
		if (!perms_valid(perms))
			want = -DV_EINVAL, may_enomem = false;
		else
			for (u64 i = va / KB4; i < (va + len) / KB4 && !want; i++)
				if (!ref_perms[i])
					want = -DV_ENOENT; /* before any allocation */
		rc = pt_protect(pt, vbase + va, len, perms);
		if (rc == 0) {
			for (u64 i = va / KB4; i < (va + len) / KB4; i++) {
				flush_expected |=
					weakened(ref_pa[i], ref_perms[i], ref_pa[i], perms);
				ref_set(i, ref_pa[i], perms);
			}
		}
		break;
	case 3: { /* split: a leaf at exactly that level, or -DV_ENOENT */
		unsigned lvl = 0;

		pt_translate(pt, vbase + va, NULL, NULL, &lvl);
		if (!ref_perms[va / KB4] || lvl != level)
			want = -DV_ENOENT, may_enomem = false;
		rc = pt_split(pt, vbase + va, level);
		break;
	}
	case 4: { /* merge: never changes a translation */
		u64 block = level == 2 ? MB2 : GB1;
		u64 base = va & ~(block - 1);
		unsigned lvl = 0;

		may_enomem = false;
		pt_translate(pt, vbase + va, NULL, NULL, &lvl);
		if (!(sizes_ok & (1u << level)))
			want = -DV_EINVAL;
		else if (ref_perms[va / KB4] && lvl == level)
			want = 0; /* a leaf already */
		else if (ref_perms[va / KB4] && lvl > level)
			want = -DV_ENOENT; /* a larger leaf: no entry at this level */
		else if (base + block > WIN || ref_mapped_blocks(base, block) == 0)
			want = -DV_ENOENT;
		else
			want = ref_mergeable(base, block) ? 0 : -DV_EBUSY;
		rc = pt_merge(pt, vbase + va, level);
		break;
	}
	default: { /* bad arguments: nothing may change */
		static const u64 bad_va[] = {0x800000000000ULL, 0xffff000000000000ULL,
					     0x1000000000000ULL};

		may_enomem = false;
		want = -DV_EINVAL;
		switch (op[5] % 5) {
		case 0:
			rc = pt_map(pt, vbase + va + 8, pa, len, PT_R);
			break;
		case 1:
			rc = pt_map(pt, vbase + va, pa | 0x800, len, PT_R);
			break;
		case 2:
			rc = pt_unmap(pt, vbase + va, len - 1);
			break;
		case 3:
			rc = pt_map(pt, bad_va[op[6] % 3], pa, len, PT_R | PT_X);
			/* EPT takes any address below 2^48 */
			if (fmt_ept && bad_va[op[6] % 3] < (1ULL << 48)) {
				CHECK(rc == 0 || rc == -DV_ENOMEM);
				if (rc == 0)
					CHECK(pt_unmap(pt, bad_va[op[6] % 3], len) == 0);
				return;
			}
			break;
		default:
			rc = pt_map(pt, vbase + va, (1ULL << 52) - KB4, 2 * KB4, PT_R);
			break;
		}
		break;
	}
	}
	if (rc == -DV_ENOMEM && may_enomem && want == 0) {
		check_unchanged(pt, &before); /* all or nothing */
	} else {
		CHECK(rc == want);
		if (rc != 0)
			check_unchanged(pt, &before);
		else if (flush_expected)
			CHECK(pt->needs_flush);
	}
	check_around(pt, va, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned size_choice[4] = {PT_SIZE_4K, PT_SIZE_4K | PT_SIZE_2M, PT_SIZE_ALL,
						PT_SIZE_4K | PT_SIZE_1G};
	struct pt_ops ops = {arena_alloc, arena_free, arena_ptr, 0, &arena};
	struct pagetable pt;
	int rc;

	if (size < 2)
		return 0;
	if (!ref_pa) {
		ref_pa = calloc(NPAGES, sizeof(*ref_pa));
		ref_perms = calloc(NPAGES, 1);
	}
	for (u64 b = 0; b < WIN / MB2; b++) { /* clear what the last input mapped */
		if (ref_count[b]) {
			memset(ref_perms + b * 512, 0, 512);
			ref_count[b] = 0;
		}
	}
	arena_reset();
	arena.budget = data[1] == 255 ? -1 : data[1];
	fmt_ept = data[0] & 1;
	vbase = !fmt_ept && (data[0] & 8) ? 0xffff800000000000ULL : 0;
	sizes_ok = size_choice[(data[0] >> 1) & 3];

	rc = pt_init(&pt, fmt_ept ? PT_FMT_EPT : PT_FMT_X86, sizes_ok, &ops);
	if (sizes_ok == (PT_SIZE_4K | PT_SIZE_1G) || data[1] == 0) {
		CHECK(rc == -DV_EINVAL || rc == -DV_ENOMEM); /* 1 GiB needs 2 MiB; no root */
		return 0;
	}
	CHECK(rc == 0);
	data += 2;
	size -= 2;
	for (unsigned n = 0; size >= 8 && n < MAX_OPS; n++, data += 8, size -= 8)
		run_op(&pt, data);
	check_all(&pt);
	pt_destroy(&pt);
	CHECK(arena.nfree == ARENA_MAX); /* every table returned */
	return 0;
}
