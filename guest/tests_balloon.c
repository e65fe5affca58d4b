/* balloon, balloon-bad, balloon-touch: self-ballooning with hot-add (issue 10).
 *
 * balloon: the guest fragments an area of its free RAM (every other page
 * holds data), its balloon driver (guest/balloon.c) gives the scattered free
 * pages first and then a contiguous run to dimvisor with hot-add, maps the
 * contiguous range it gets and makes it its guest segment (Guest Direct, as
 * the paper intends), and runs through it. Checksums of the kernel image and
 * the data pages hold throughout; DV_HC_MEMORY_MAP and the statistics agree
 * with what happened; pages deflated back read as zero and work. Everything
 * ballooned is given back at the end, so the tests after it find RAM whole.
 * balloon-bad: bad lists, each refused with its code and nothing changed.
 * balloon-enomem: hot-adds until the host runs out, which must refuse the
 * whole call (for a boot with little host memory).
 * balloon-touch (fatal): a ballooned page touched stops the guest. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/balloon.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "lib/string.h"

#define FRAG_PAGES  1536 /* the fragmented part: every other page in use */
#define RUN_PAGES   256	 /* then a free contiguous run */
#define AREA_PAGES  (FRAG_PAGES + RUN_PAGES)
#define GIVE_PAGES  1024		 /* 4 MiB: the 768 scattered pages, then 256 of the run */
#define BACK_EARLY  16			 /* deflated and checked while the rest stays out */
#define SEGMENT_VA  0x0000700000000000UL /* a PML4 slot no other test uses */
#define UNMAPPED_VA 0x0000600000000000UL
#define PFN_LIMIT   (1UL << 36) /* 2^48 / 4 KiB: the first page past guest-physical space */

extern u8 __image_start[], __user_start[];

static u64 pages[GIVE_PAGES];
static struct map_summary map_then;

/* The area: the top of the highest RAM region outside the VMM segment (which
 * refuses to balloon), below its last MiB and well above the page-table pages
 * paging_map_in may still take. 0 when there is no room. */
static u64 pick_area(const struct test *t, u64 pages_wanted)
{
	struct dv_segment_info si;
	u64 seg_end = 0, len = pages_wanted * PAGE_SIZE;

	if (dv_hc_segment_info((u64)&si, sizeof(si)) == sizeof(si) && si.vmm.base != si.vmm.limit)
		seg_end = si.vmm.limit;
	for (unsigned i = t->boot->nregions; i-- > 0;) {
		const struct boot_region *r = &t->boot->regions[i];
		u64 hi = ALIGN_DOWN(r->base + r->length - MiB, 2 * MiB), lo = hi - len;
		u64 floor = MAX(MAX(r->base, seg_end), paging_reserved_end() + 8 * MiB);

		if (r->type == BOOT_RAM_TYPE && r->length > len + MiB && lo >= floor)
			return lo;
	}
	return 0;
}

struct frag_area {
	u64 lo;
};

/* Odd pages of the fragmented part hold data; the run and the even pages are free. */
static bool frag_in_use(u64 gpa, void *ctx)
{
	const struct frag_area *a = ctx;
	u64 i = (gpa - a->lo) >> PAGE_SHIFT;

	return i < FRAG_PAGES && (i & 1);
}

static void fill_data(u64 lo)
{
	for (u64 i = 1; i < FRAG_PAGES; i += 2)
		for (u64 off = 0; off < PAGE_SIZE; off += 8)
			*(volatile u64 *)(lo + i * PAGE_SIZE + off) =
				(lo + i * PAGE_SIZE + off) ^ 0x5a5a00005a5aUL;
}

static u64 data_sum(u64 lo)
{
	u64 sum = 0;

	for (u64 i = 1; i < FRAG_PAGES; i += 2)
		sum = sum * 31 + test_checksum(lo + i * PAGE_SIZE, PAGE_SIZE);
	return sum;
}

/* The whole memory map, read piece by piece (it may have more pieces than
 * one reply holds): bytes by kind, the number of pieces, a hash of them all,
 * and, for an ascending list of pages, how many lie in no ballooned piece
 * and whether one piece is exactly the range hot. */
struct map_summary {
	u64 bytes[4]; /* by enum dv_mem_kind */
	unsigned pieces;
	u64 hash;
	unsigned not_ballooned;
	bool hot_found;
};

static void summarise(const struct dv_memory_map_entry *e, struct map_summary *sum, const u64 *pg,
		      unsigned npg, unsigned *next, const struct dv_mem_range *hot)
{
	sum->bytes[e->kind & 3] += e->len;
	sum->pieces++;
	sum->hash = (sum->hash ^ e->gpa ^ (e->len << 1) ^ e->kind) * 0x100000001b3UL;
	sum->hot_found |=
		hot && e->gpa == hot->gpa && e->len == hot->len && e->kind == DV_MEM_HOTADDED;
	/* the listed pages below this piece's end lie in it (or in one before) */
	for (; *next < npg && (pg[*next] << PAGE_SHIFT) < e->gpa + e->len; (*next)++)
		sum->not_ballooned +=
			e->kind != DV_MEM_BALLOONED || (pg[*next] << PAGE_SHIFT) < e->gpa;
}

static bool map_walk(struct test *t, struct map_summary *sum, const u64 *pg, unsigned npg,
		     const struct dv_mem_range *hot)
{
	static struct dv_memory_map m;
	unsigned next = 0;
	u64 from = 0;

	memset(sum, 0, sizeof(*sum));
	for (;;) {
		if (!test_expect(t, "MEMORY_MAP", dv_hc_memory_map((u64)&m, sizeof(m), from),
				 sizeof(m)))
			return false;
		for (unsigned i = 0; i < m.n; i++)
			summarise(&m.e[i], sum, pg, npg, &next, hot);
		if (m.n == m.total)
			break;
		if (!test_check(t, m.n == DV_MEMORY_MAP_MAX, "MEMORY_MAP filled %u of %u", m.n,
				m.total))
			return false;
		from = m.e[m.n - 1].gpa + m.e[m.n - 1].len;
	}
	sum->not_ballooned += npg - next; /* past every piece */
	return true;
}

/* The first gathered pages are exactly the scattered ones: even pages of the
 * fragmented part, in order; the rest come from the run. */
static bool gathered_fragments_first(struct test *t, u64 lo, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		u64 want = i < FRAG_PAGES / 2
				   ? (lo >> PAGE_SHIFT) + 2 * i
				   : (lo >> PAGE_SHIFT) + FRAG_PAGES + (i - FRAG_PAGES / 2);

		if (!test_check(t, pages[i] == want, "gathered page %u is 0x%lx, expected 0x%lx", i,
				pages[i], want))
			return false;
	}
	return true;
}

/* After the inflate: the map shows every given page ballooned and the
 * hot-added range; the statistics say the same. The area turned one RAM
 * piece into: RAM below it, 768 ballooned and 768 RAM pages alternating,
 * the ballooned run, RAM above it; plus the hot-added piece. */
static void map_and_stats_agree(struct test *t, const struct dv_stats *before,
				const struct map_summary *then, const struct dv_mem_range *added)
{
	const u64 given = GIVE_PAGES * PAGE_SIZE;
	struct map_summary now;
	struct dv_stats s;

	if (!map_walk(t, &now, pages, GIVE_PAGES, added) || !test_stats(t, &s))
		return;
	test_check(t, now.not_ballooned == 0, "%u given pages are not ballooned in MEMORY_MAP",
		   now.not_ballooned);
	test_check(t, now.hot_found, "MEMORY_MAP has no hot-added piece 0x%lx+0x%lx", added->gpa,
		   added->len);
	test_check(t, now.pieces == then->pieces + FRAG_PAGES + 3,
		   "MEMORY_MAP has %u pieces, %u before: expected %u more", now.pieces,
		   then->pieces, FRAG_PAGES + 3);
	test_check(t, now.bytes[DV_MEM_BALLOONED] == then->bytes[DV_MEM_BALLOONED] + given,
		   "MEMORY_MAP: %lu bytes ballooned, %lu before", now.bytes[DV_MEM_BALLOONED],
		   then->bytes[DV_MEM_BALLOONED]);
	test_check(t, now.bytes[DV_MEM_HOTADDED] == then->bytes[DV_MEM_HOTADDED] + given,
		   "MEMORY_MAP: %lu bytes hot-added, %lu before", now.bytes[DV_MEM_HOTADDED],
		   then->bytes[DV_MEM_HOTADDED]);
	test_check(t, s.ballooned_bytes == before->ballooned_bytes + given,
		   "stats: ballooned_bytes %lu, was %lu", s.ballooned_bytes,
		   before->ballooned_bytes);
	test_check(t, s.hotadded_bytes == before->hotadded_bytes + given,
		   "stats: hotadded_bytes %lu, was %lu", s.hotadded_bytes, before->hotadded_bytes);
	test_check(t, s.guest_ram_bytes == before->guest_ram_bytes,
		   "stats: guest_ram_bytes %lu, was %lu (as much added as given)",
		   s.guest_ram_bytes, before->guest_ram_bytes);
	/* at least the 769 ballooned pieces, whatever backed the area before */
	test_check(t, s.extents >= before->extents + FRAG_PAGES / 2 + 1,
		   "stats: %lu extents, %lu before", s.extents, before->extents);
	test_note(t, "MEMORY_MAP: %u pieces (%u before); %lu extents (%lu before)", now.pieces,
		  then->pieces, s.extents, before->extents);
}

/* Run in the hot-added range through the guest segment: fresh memory reads
 * as zero, then holds what is written. */
static void run_in_segment(struct test *t, const struct dv_mem_range *added)
{
	struct dv_segment_info si;
	s64 rc = balloon_adopt_segment(SEGMENT_VA, added, 2);
	u64 nonzero = 0, wrong = 0;

	if (!test_expect(t, "registering the hot-added range as the guest segment", rc, 0) ||
	    !test_segment_info(t, &si))
		return;
	test_check(t,
		   si.guest.base == SEGMENT_VA && si.guest.limit == SEGMENT_VA + added->len &&
			   si.guest.offset == added->gpa - SEGMENT_VA,
		   "dimvisor holds BASE_g 0x%lx LIMIT_g 0x%lx OFFSET_g 0x%lx", si.guest.base,
		   si.guest.limit, si.guest.offset);
	test_check(t,
		   si.mode_effect == DV_MODE_GUEST_DIRECT || si.mode_effect == DV_MODE_DUAL_DIRECT,
		   "mode in effect %u, not one with the guest segment", si.mode_effect);
	for (u64 off = 0; off < added->len; off += 8)
		nonzero += *(volatile u64 *)(SEGMENT_VA + off) != 0;
	for (u64 off = 0; off < added->len; off += 8)
		*(volatile u64 *)(SEGMENT_VA + off) = off * 0x9e3779b97f4a7c15UL;
	for (u64 off = 0; off < added->len; off += 8)
		wrong += *(volatile u64 *)(SEGMENT_VA + off) != off * 0x9e3779b97f4a7c15UL;
	test_check(t, nonzero == 0, "%lu words of hot-added memory were not zero", nonzero);
	test_check(t, wrong == 0, "%lu words read back wrong through the guest segment", wrong);
	test_note(t, "guest segment gVA 0x%lx-0x%lx -> gPA 0x%lx: %lu MiB written and read",
		  SEGMENT_VA, SEGMENT_VA + added->len, added->gpa, added->len >> 20);
}

/* Deflate the first pages: zero, then usable; then the rest. */
static void deflate_back(struct test *t, const struct dv_stats *before)
{
	struct dv_stats s;
	u64 nonzero = 0, wrong = 0;

	if (!test_expect(t, "DEFLATE of the first pages",
			 dv_hc_balloon_deflate((u64)pages, BACK_EARLY), 0))
		return;
	for (unsigned i = 0; i < BACK_EARLY; i++) {
		volatile u64 *p = (volatile u64 *)(pages[i] << PAGE_SHIFT);

		for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
			nonzero += p[w] != 0;
		for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
			p[w] = pages[i] * 4096 + w;
		for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
			wrong += p[w] != pages[i] * 4096 + w;
	}
	test_check(t, nonzero == 0, "%lu words of deflated pages were not zero", nonzero);
	test_check(t, wrong == 0, "%lu words of deflated pages read back wrong", wrong);
	if (test_stats(t, &s))
		test_check(t, s.deflated_bytes == before->deflated_bytes + BACK_EARLY * PAGE_SIZE,
			   "stats: deflated_bytes %lu, was %lu", s.deflated_bytes,
			   before->deflated_bytes);
	test_expect(t, "DEFLATE of a page given back already", dv_hc_balloon_deflate((u64)pages, 1),
		    -DV_EINVAL);
	test_expect(t, "DEFLATE of the rest",
		    dv_hc_balloon_deflate((u64)&pages[BACK_EARLY], GIVE_PAGES - BACK_EARLY), 0);
	if (test_stats(t, &s))
		test_check(t, s.ballooned_bytes == before->ballooned_bytes,
			   "stats: ballooned_bytes %lu after giving all back, %lu before",
			   s.ballooned_bytes, before->ballooned_bytes);
}

void test_balloon(struct test *t)
{
	u64 image = (u64)__image_start, image_len = (u64)__user_start - image;
	u64 lo = pick_area(t, AREA_PAGES), sum_image, sum_data;
	struct frag_area area = {lo};
	struct dv_mem_range added = {0, 0};
	struct dv_stats before;
	struct map_summary then;
	unsigned n;

	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON)) {
		test_skip(t, "ballooning not offered");
		return;
	}
	if (!test_check(t, lo != 0, "no free RAM area of %u pages", AREA_PAGES))
		return;
	fill_data(lo);
	sum_image = test_checksum(image, image_len);
	sum_data = data_sum(lo);
	n = balloon_gather(lo, lo + AREA_PAGES * PAGE_SIZE, frag_in_use, &area, pages, GIVE_PAGES);
	if (!test_check(t, n == GIVE_PAGES, "gathered %u pages, wanted %u", n, GIVE_PAGES) ||
	    !gathered_fragments_first(t, lo, n))
		return;
	test_note(t, "area gPA 0x%lx-0x%lx: %u scattered free pages given first, then %u of a run",
		  lo, lo + (u64)(AREA_PAGES * PAGE_SIZE), FRAG_PAGES / 2,
		  GIVE_PAGES - FRAG_PAGES / 2);
	if (!test_stats(t, &before) || !map_walk(t, &then, NULL, 0, NULL))
		return;
	if (!test_expect(t, "INFLATE with hot-add", balloon_give(pages, n, &added), 0))
		return;
	test_check(t,
		   added.len == GIVE_PAGES * PAGE_SIZE && added.gpa >= 4 * GiB &&
			   added.gpa % GiB == 0,
		   "hot-added 0x%lx+0x%lx: expected %u pages on a GiB boundary above 4 GiB",
		   added.gpa, added.len, GIVE_PAGES);
	test_note(t, "hot-added gPA 0x%lx-0x%lx", added.gpa, added.gpa + added.len);
	test_check(t, test_checksum(image, image_len) == sum_image && data_sum(lo) == sum_data,
		   "checksums changed by the inflate");
	map_and_stats_agree(t, &before, &then, &added);
	/* dimvisor must not write a hypercall's reply into a page given away */
	test_expect(t, "STATS into a ballooned page",
		    dv_hc_stats(pages[0] << PAGE_SHIFT, sizeof(struct dv_stats)), -DV_EFAULT);
	if (dv_hc_features() & DV_HC_FEATURE_GUEST_SEGMENT)
		run_in_segment(t, &added);
	else
		test_note(t,
			  "no guest segment in this mode: the hot-added range is not registered");
	test_check(t, test_checksum(image, image_len) == sum_image && data_sum(lo) == sum_data,
		   "checksums changed while running in the guest segment");
	deflate_back(t, &before);
	test_check(t, test_checksum(image, image_len) == sum_image && data_sum(lo) == sum_data,
		   "checksums changed by the deflates");
}

/* Nothing changed since map_then and the statistics in *s. */
static bool unchanged(struct test *t, const char *what, const struct dv_stats *s)
{
	struct map_summary map_now;
	struct dv_stats now;

	if (!map_walk(t, &map_now, NULL, 0, NULL) || !test_stats(t, &now))
		return false;
	return test_check(t,
			  map_now.hash == map_then.hash && map_now.pieces == map_then.pieces &&
				  now.ballooned_bytes == s->ballooned_bytes &&
				  now.hotadded_bytes == s->hotadded_bytes &&
				  now.deflated_bytes == s->deflated_bytes &&
				  now.extents == s->extents &&
				  now.guest_ram_bytes == s->guest_ram_bytes,
			  "%s changed the memory map or the statistics", what);
}

/* One refused inflate: the code, and nothing changed. */
static unsigned refused(struct test *t, const char *what, const u64 *list, u64 n, u64 flags,
			u64 range, s64 want, const struct dv_stats *s)
{
	bool ok = test_expect(t, what, dv_hc_balloon_inflate((u64)list, n, flags, range), want);

	return ok && unchanged(t, what, s);
}

/* In Guest Direct with page p (below the I/O gap) ballooned, a switch to
 * Dual Direct must not build the VMM segment over it (it would back p
 * again): the mode granted is Guest Direct, p stays ballooned. Then back. */
static unsigned switch_refused(struct test *t, u64 p, const struct dv_stats *s)
{
	struct dv_segment_info si;

	if (!test_segment_info(t, &si) || si.mode_asked != DV_MODE_GUEST_DIRECT ||
	    p >= (4UL << 30) >> PAGE_SHIFT) {
		test_note(t, "not Guest Direct with the page below the gap: no switch tried");
		return 0;
	}
	if (!test_expect(t, "MODE_SET(dual-direct) with a ballooned page below the gap",
			 dv_hc_mode_set(DV_MODE_DUAL_DIRECT), DV_MODE_GUEST_DIRECT))
		return 0;
	test_expect(t, "MODE_SET(guest-direct) back", dv_hc_mode_set(DV_MODE_GUEST_DIRECT),
		    DV_MODE_GUEST_DIRECT);
	return unchanged(t, "the refused switch", s);
}

void test_balloon_bad(struct test *t)
{
	static u64 list[4];
	const u64 top = ALIGN_UP(t->boot->ram_top, PAGE_SIZE) >> PAGE_SHIFT;
	const u64 gap = bootinfo_gap_start(t->boot) >> PAGE_SHIFT;
	u64 lo = pick_area(t, 4), p, q;
	struct dv_segment_info si;
	struct dv_mem_range range = {0, 0};
	struct dv_stats s;
	unsigned kinds = 0;

	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON)) {
		test_skip(t, "ballooning not offered");
		return;
	}
	if (!test_check(t, lo != 0, "no free RAM for the test pages"))
		return;
	p = lo >> PAGE_SHIFT;
	q = p + 2;
	/* p ballooned for the case "ballooned already" */
	list[0] = p;
	if (!test_expect(t, "INFLATE of one good page (no hot-add)",
			 dv_hc_balloon_inflate((u64)list, 1, 0, 0), 0))
		return;
	if (!map_walk(t, &map_then, NULL, 0, NULL) || !test_stats(t, &s))
		return;
	list[0] = top;
	kinds += refused(t, "a page past the top of RAM", list, 1, 0, 0, -DV_EINVAL, &s);
	if (gap) {
		list[0] = gap + 1;
		kinds += refused(t, "a page in the I/O gap", list, 1, 0, 0, -DV_EINVAL, &s);
	}
	list[0] = PFN_LIMIT - 1;
	kinds += refused(t, "the last page of guest-physical space", list, 1, 0, 0, -DV_EINVAL, &s);
	list[0] = PFN_LIMIT;
	kinds += refused(t, "a page number past 2^48", list, 1, 0, 0, -DV_EINVAL, &s);
	list[0] = p;
	kinds += refused(t, "a page ballooned already", list, 1, 0, 0, -DV_EINVAL, &s);
	list[0] = q;
	list[1] = q;
	kinds += refused(t, "a page listed twice", list, 2, 0, 0, -DV_EINVAL, &s);
	kinds += refused(t, "count 0", list, 0, 0, 0, -DV_EINVAL, &s);
	kinds += refused(t, "count DV_BALLOON_MAX + 1", list, DV_BALLOON_MAX + 1, 0, 0, -DV_EINVAL,
			 &s);
	kinds += test_expect(t, "an unmapped list buffer",
			     dv_hc_balloon_inflate(UNMAPPED_VA, 1, 0, 0), -DV_EFAULT) &&
		 unchanged(t, "an unmapped list buffer", &s);
	list[0] = q;
	kinds += refused(t, "an unknown flag", list, 1, (u64)DV_BALLOON_FLAGS + 1, 0, -DV_EINVAL,
			 &s);
	kinds += refused(t, "an unmapped reply buffer", list, 1, DV_BALLOON_HOTADD, UNMAPPED_VA,
			 -DV_EFAULT, &s);
	kinds += refused(t, "a reply buffer in a page being ballooned", list, 1, DV_BALLOON_HOTADD,
			 q << PAGE_SHIFT, -DV_EFAULT, &s);
	list[1] = top;
	kinds += refused(t, "one good entry and one bad", list, 2, DV_BALLOON_HOTADD, (u64)&range,
			 -DV_EINVAL, &s);
	test_check(t, range.gpa == 0 && range.len == 0, "a refused INFLATE wrote its reply");
	if (dv_hc_segment_info((u64)&si, sizeof(si)) == sizeof(si) && si.vmm.base != si.vmm.limit) {
		list[0] = (si.vmm.limit >> PAGE_SHIFT) - 1;
		kinds += refused(t, "a page of the VMM segment", list, 1, 0, 0, -DV_EBUSY, &s);
	}
	kinds += switch_refused(t, p, &s);
	list[0] = q;
	kinds += test_expect(t, "DEFLATE of a page not ballooned",
			     dv_hc_balloon_deflate((u64)list, 1), -DV_EINVAL) &&
		 unchanged(t, "DEFLATE of a page not ballooned", &s);
	kinds += test_expect(t, "DEFLATE with count 0", dv_hc_balloon_deflate((u64)list, 0),
			     -DV_EINVAL);
	test_check(t, *(volatile u64 *)(q << PAGE_SHIFT) == *(volatile u64 *)(q << PAGE_SHIFT),
		   "the good page of the refused list is readable");
	list[0] = p;
	test_expect(t, "DEFLATE of the page ballooned for the test",
		    dv_hc_balloon_deflate((u64)list, 1), 0);
	test_note(t, "%u bad lists refused with nothing changed", kinds);
}

#define ENOMEM_PAGES  8192 /* 32 MiB a round */
#define ENOMEM_ROUNDS 16

static u64 big_list[ENOMEM_PAGES];

/* One round: the list out with hot-add (host memory: as much taken as given)
 * and back again (taken): each round costs the host 32 MiB. 0, or the
 * inflate's -DV_ENOMEM with nothing changed; false on anything else. */
static bool enomem_round(struct test *t, unsigned round, bool *out_of_memory)
{
	struct dv_mem_range range = {0, 0};
	struct map_summary then;
	struct dv_stats s;
	s64 rc;

	if (!map_walk(t, &then, NULL, 0, NULL) || !test_stats(t, &s))
		return false;
	rc = dv_hc_balloon_inflate((u64)big_list, ENOMEM_PAGES, DV_BALLOON_HOTADD, (u64)&range);
	if (rc == -DV_ENOMEM) {
		map_then = then;
		*out_of_memory = true;
		test_note(t, "round %u: INFLATE with hot-add -DV_ENOMEM", round);
		return test_check(t, range.len == 0, "a refused INFLATE wrote its reply") &&
		       unchanged(t, "the hot-add the host could not back", &s);
	}
	return test_expect(t, "INFLATE with hot-add", rc, 0) &&
	       test_expect(t, "DEFLATE of the same pages",
			   dv_hc_balloon_deflate((u64)big_list, ENOMEM_PAGES), 0);
}

void test_balloon_enomem(struct test *t)
{
	u64 lo = pick_area(t, ENOMEM_PAGES);
	bool out_of_memory = false;
	unsigned round;

	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON)) {
		test_skip(t, "ballooning not offered");
		return;
	}
	if (!test_check(t, lo != 0, "no free RAM area of %u pages", ENOMEM_PAGES))
		return;
	for (unsigned i = 0; i < ENOMEM_PAGES; i++)
		big_list[i] = (lo >> PAGE_SHIFT) + i;
	for (round = 1; round <= ENOMEM_ROUNDS && !out_of_memory; round++)
		if (!enomem_round(t, round, &out_of_memory))
			return;
	if (!test_check(t, out_of_memory, "%u hot-adds of 32 MiB and the host still had memory",
			ENOMEM_ROUNDS))
		return;
	/* without the hot-add the same list frees host memory, and comes back */
	test_expect(t, "INFLATE without hot-add",
		    dv_hc_balloon_inflate((u64)big_list, ENOMEM_PAGES, 0, 0), 0);
	test_expect(t, "DEFLATE of it", dv_hc_balloon_deflate((u64)big_list, ENOMEM_PAGES), 0);
}

void test_balloon_touch(struct test *t)
{
	static u64 list[1];
	u64 lo = pick_area(t, 1), v;

	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON)) {
		test_skip(t, "ballooning not offered");
		return;
	}
	if (!test_check(t, lo != 0, "no free RAM for the test page"))
		return;
	list[0] = lo >> PAGE_SHIFT;
	if (!test_expect(t, "INFLATE of the page", dv_hc_balloon_inflate((u64)list, 1, 0, 0), 0))
		return;
	test_note(t, "reading gPA 0x%lx, ballooned; dimvisor must stop the guest", lo);
	v = *(volatile u64 *)lo;
	test_check(t, false, "a read of ballooned gPA 0x%lx returned 0x%lx", lo, v);
}
