/* iogap, iogap-bad, iogap-touch: the paper's I/O gap (issue 10).
 *
 * With mem= above iogap=, guest RAM lies in two runs: below the gap and from
 * 4 GiB, and no one segment covers both. iogap keeps the low RAM the guest
 * needs (its image, modules and page tables, and room for more tables),
 * hot-unplugs the rest (DV_BALLOON_UNPLUG with hot-add, DV_BALLOON_MAX pages
 * a call), and gets the same amount re-added right above its RAM at 4 GiB,
 * which it adds to its own memory map as an OS would. Then it asks for Dual
 * Direct: the VMM segment moves onto the one run of RAM above 4 GiB, and the
 * guest registers the same range as its guest segment. Checksums of the
 * kernel image, of low RAM it keeps and of a word in every page above 4 GiB
 * hold after every call and after the switch; the memory map and the
 * statistics agree with what happened. The suite then runs in Dual Direct.
 * iogap-bad: unplug misused, each refused with nothing changed.
 * iogap-touch (fatal): an unplugged page touched stops the guest. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/balloon.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "lib/string.h"

#define HIGH_BASE  (4UL << 30)
#define KEEP_ROOM  (16 * MiB)		/* low RAM kept past the page tables */
#define LOW_SAMPLE (4 * MiB)		/* kept low RAM whose checksum is watched */
#define SEGMENT_VA 0x0000580000000000UL /* a PML4 slot no other test uses */
#define MAX_POLLS  1000000		/* STATS calls while compaction runs */

extern u8 __image_start[], __user_start[];

static u64 list[DV_BALLOON_MAX];

/* What iogap did, for iogap-bad and iogap-touch. */
static struct {
	bool done;
	u64 unplugged_lo, unplugged_hi; /* [lo, hi): unplugged */
	u64 high_end;			/* RAM from 4 GiB ends here now */
} gap;

/* The available region at gPA 0 that ends below 4 GiB, and the one at 4 GiB. */
static const struct boot_region *region_at(const struct boot_info *bi, u64 base)
{
	for (unsigned i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == BOOT_RAM_TYPE && bi->regions[i].base == base)
			return &bi->regions[i];
	return NULL;
}

/* The checksums watched: the image, a piece of kept low RAM, and one word
 * in every page of [4 GiB, high_end). */
struct sums {
	u64 image, low, high;
};

static u64 high_word(u64 page)
{
	return page * 0x9e3779b97f4a7c15UL ^ 0x10ca1;
}

static void fill_high(u64 from, u64 to)
{
	for (u64 p = from; p < to; p += PAGE_SIZE)
		*(volatile u64 *)(p + (p >> PAGE_SHIFT) % (PAGE_SIZE / 8) * 8) = high_word(p);
}

/* Pages of [from, to) whose word is wrong, read at base + (page - from). */
static u64 high_wrong(u64 from, u64 to, u64 base)
{
	u64 wrong = 0;

	for (u64 p = from; p < to; p += PAGE_SIZE)
		wrong += *(volatile u64 *)(base + (p - from) +
					   (p >> PAGE_SHIFT) % (PAGE_SIZE / 8) * 8) != high_word(p);
	return wrong;
}

static void take_sums(struct sums *s, u64 low, u64 high_end)
{
	s->image = test_checksum((u64)__image_start, (u64)__user_start - (u64)__image_start);
	s->low = test_checksum(low, LOW_SAMPLE);
	s->high = high_wrong(HIGH_BASE, high_end, HIGH_BASE);
}

static bool sums_hold(struct test *t, const struct sums *want, u64 low, u64 high_end,
		      const char *when)
{
	struct sums now;

	take_sums(&now, low, high_end);
	return test_check(t, now.image == want->image, "%s: the kernel image changed", when) &&
	       test_check(t, now.low == want->low, "%s: kept low RAM changed", when) &&
	       test_check(t, now.high == 0, "%s: %lu pages above 4 GiB hold the wrong word", when,
			  now.high);
}

/* The memory map by kind, and a hash of its pieces. */
struct map_view {
	u64 bytes[4]; /* by enum dv_mem_kind */
	unsigned pieces;
	u64 hash;
	bool low_kept, high_one; /* [0, keep) one RAM piece; [4G, end) RAM then hot-added */
};

static bool view_map(struct test *t, struct map_view *v, u64 keep, u64 high_end)
{
	static struct dv_memory_map m;
	u64 from = 0, high_seen = HIGH_BASE;

	memset(v, 0, sizeof(*v));
	do {
		if (!test_expect(t, "MEMORY_MAP", dv_hc_memory_map((u64)&m, sizeof(m), from),
				 sizeof(m)))
			return false;
		for (unsigned i = 0; i < m.n; i++) {
			const struct dv_memory_map_entry *e = &m.e[i];

			v->bytes[e->kind & 3] += e->len;
			v->pieces++;
			v->hash = (v->hash ^ e->gpa ^ (e->len << 1) ^ e->kind) * 0x100000001b3UL;
			v->low_kept |= e->gpa == 0 && e->len == keep && e->kind == DV_MEM_RAM;
			if (e->gpa == high_seen && e->kind != DV_MEM_BALLOONED)
				high_seen += e->len;
		}
		from = m.n ? m.e[m.n - 1].gpa + m.e[m.n - 1].len : from;
	} while (m.n < m.total);
	v->high_one = high_seen == high_end;
	return true;
}

/* Leave the VMM segment when it covers RAM that is to be unplugged (its pages
 * refuse): the mode without it, as a guest OS would before hot-unplug. */
static bool leave_low_segment(struct test *t, enum dv_mode_id *was)
{
	struct dv_segment_info si;
	enum dv_mode_id to;

	if (!test_segment_info(t, &si))
		return false;
	*was = si.mode_asked;
	if (si.vmm.base == si.vmm.limit || si.vmm.base >= HIGH_BASE)
		return true;
	to = si.mode_asked == DV_MODE_DUAL_DIRECT ? DV_MODE_GUEST_DIRECT : DV_MODE_BASE;
	test_note(t, "the VMM segment covers low RAM: mode %u first, then unplug", to);
	return test_expect(t, "MODE_SET without the VMM segment", dv_hc_mode_set(to), to);
}

/* Unplug [lo, hi) a call at a time; each re-added piece must continue the RAM
 * at 4 GiB, reads as zero, joins the guest's own map and gets the high word. */
static bool unplug_low(struct test *t, u64 lo, u64 hi, u64 *high_end, const struct sums *want,
		       u64 low, u64 *ticks)
{
	for (u64 at = lo; at < hi;) {
		unsigned n = (unsigned)MIN((hi - at) >> PAGE_SHIFT, (u64)DV_BALLOON_MAX);
		struct dv_mem_range added = {0, 0};
		u64 t0, nonzero = 0;

		for (unsigned i = 0; i < n; i++)
			list[i] = (at >> PAGE_SHIFT) + i;
		t0 = rdtsc();
		if (!test_expect(t, "UNPLUG with re-add", balloon_unplug(list, n, &added), 0))
			return false;
		*ticks += rdtsc() - t0;
		if (!test_check(t, added.gpa == *high_end && added.len == (u64)n << PAGE_SHIFT,
				"re-added gPA 0x%lx+0x%lx, expected 0x%lx+0x%lx", added.gpa,
				added.len, *high_end, (u64)n << PAGE_SHIFT) ||
		    !test_expect(t, "removing the piece from the guest's map",
				 bootinfo_remove_ram(t->boot, at, added.len), 0) ||
		    !test_expect(t, "adding the re-added piece to the guest's map",
				 bootinfo_add_ram(t->boot, added.gpa, added.len), 0) ||
		    !test_expect(t, "identity-mapping it", paging_map_ram(added.gpa, added.len), 0))
			return false;
		for (u64 p = added.gpa; p < added.gpa + added.len; p += 8)
			nonzero += *(volatile u64 *)p != 0;
		if (!test_check(t, nonzero == 0, "%lu words of re-added memory were not zero",
				nonzero))
			return false;
		*high_end += added.len;
		fill_high(added.gpa, *high_end);
		if (!sums_hold(t, want, low, *high_end, "after an unplug"))
			return false;
		at += added.len;
	}
	return true;
}

/* The map: [0, keep) one RAM piece, RAM from 4 GiB one run to high_end,
 * nothing ballooned; as much memory as before; the statistics agree. */
static void map_and_stats_agree(struct test *t, const struct dv_stats *before, u64 keep,
				u64 high_end, u64 moved, u64 guest_bytes_before)
{
	struct map_view v;
	struct dv_stats s;

	if (!view_map(t, &v, keep, high_end) || !test_stats(t, &s))
		return;
	test_check(t, v.low_kept, "MEMORY_MAP has no RAM piece [0, 0x%lx)", keep);
	test_check(t, v.high_one, "MEMORY_MAP: RAM from 4 GiB is not one run to 0x%lx", high_end);
	test_check(t, v.bytes[DV_MEM_RAM] + v.bytes[DV_MEM_HOTADDED] == guest_bytes_before,
		   "MEMORY_MAP: %lu bytes of RAM, %lu before",
		   v.bytes[DV_MEM_RAM] + v.bytes[DV_MEM_HOTADDED], guest_bytes_before);
	test_check(t, v.bytes[DV_MEM_BALLOONED] == 0, "MEMORY_MAP: %lu bytes ballooned",
		   v.bytes[DV_MEM_BALLOONED]);
	test_check(t,
		   s.unplugged_bytes == before->unplugged_bytes + moved &&
			   s.readded_bytes == before->readded_bytes + moved,
		   "stats: unplugged %lu, re-added %lu; expected %lu more of each",
		   s.unplugged_bytes, s.readded_bytes, moved);
	test_check(t, s.guest_ram_bytes == before->guest_ram_bytes,
		   "stats: guest_ram_bytes %lu, was %lu", s.guest_ram_bytes,
		   before->guest_ram_bytes);
	test_check(t, t->boot->ram_bytes == guest_bytes_before,
		   "the guest's own map says %lu bytes of RAM, %lu before", t->boot->ram_bytes,
		   guest_bytes_before);
	test_note(t, "MEMORY_MAP: %u pieces; RAM [0, 0x%lx) and [0x%lx, 0x%lx)", v.pieces, keep,
		  HIGH_BASE, high_end);
}

/* MODE_SET(dual-direct) granted only Guest Direct: no free host range was
 * large enough, and dimvisor's compaction builds one while the guest runs
 * (hv/compact.h). Wait for it, the data checked as pages move. */
static bool wait_for_compaction(struct test *t, const struct sums *want, u64 low, u64 high_end)
{
	struct dv_stats s;
	u64 polls = 0;

	if (!test_stats(t, &s) || !test_check(t, s.compact_state == DV_COMPACT_RUNNING,
					      "Dual Direct not granted and no compaction running"))
		return false;
	test_note(t, "no free host range for the segment: compaction builds it meanwhile");
	while (s.compact_state == DV_COMPACT_RUNNING && polls++ < MAX_POLLS) {
		if (polls % 256 == 0 && !sums_hold(t, want, low, high_end, "while compaction ran"))
			return false;
		if (!test_stats(t, &s))
			return false;
	}
	test_note(t, "compaction: %lu pages moved in %lu steps, %lu TSC ticks, %lu polls",
		  s.compact_pages_moved, s.compact_steps, s.compact_tsc, polls);
	return test_check(t, s.compact_state == DV_COMPACT_DONE,
			  "compaction state %lu after %lu polls", s.compact_state, polls);
}

/* Dual Direct over the one run above 4 GiB: the VMM segment moves there, the
 * same range becomes the guest segment at SEGMENT_VA. */
static bool segments_over_high_ram(struct test *t, u64 high_end, const struct sums *want, u64 low,
				   u64 *ticks)
{
	struct dv_segment_info si;
	u64 len = high_end - HIGH_BASE, t0 = rdtsc();
	s64 granted = dv_hc_mode_set(DV_MODE_DUAL_DIRECT);

	*ticks = rdtsc() - t0;
	if (granted == DV_MODE_GUEST_DIRECT && !wait_for_compaction(t, want, low, high_end))
		return false;
	if (granted != DV_MODE_GUEST_DIRECT &&
	    !test_expect(t, "MODE_SET(dual-direct)", granted, DV_MODE_DUAL_DIRECT))
		return false;
	if (!test_segment_info(t, &si) ||
	    !test_check(t, si.vmm.base == HIGH_BASE && si.vmm.limit == high_end,
			"VMM segment BASE_v 0x%lx LIMIT_v 0x%lx, expected 0x%lx-0x%lx", si.vmm.base,
			si.vmm.limit, HIGH_BASE, high_end))
		return false;
	if (!test_expect(t, "mapping the guest segment",
			 paging_map_in(paging_root(), SEGMENT_VA, HIGH_BASE, len, X86_PTE_RW, 3),
			 0))
		return false;
	write_cr3(read_cr3());
	if (!test_expect(
		    t, "GUEST_SEGMENT_SET over RAM above 4 GiB",
		    dv_hc_guest_segment_set(SEGMENT_VA, SEGMENT_VA + len, HIGH_BASE - SEGMENT_VA),
		    0) ||
	    !test_segment_info(t, &si))
		return false;
	return test_check(t, si.mode_effect == DV_MODE_DUAL_DIRECT,
			  "mode in effect %u, not Dual Direct", si.mode_effect) &&
	       test_check(t, high_wrong(HIGH_BASE, high_end, SEGMENT_VA) == 0,
			  "a page read through the guest segment holds the wrong word");
}

void test_iogap(struct test *t)
{
	const struct boot_region *low_r = region_at(t->boot, 0), *high_r;
	u64 keep, low_end, high_end, ticks_unplug = 0, ticks_switch = 0, t0 = rdtsc(), sample;
	u64 guest_bytes = t->boot->ram_bytes;
	enum dv_mode_id was;
	struct dv_stats before;
	struct sums want;

	high_r = region_at(t->boot, HIGH_BASE);
	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON) ||
	    !(dv_hc_features() & DV_HC_FEATURE_MODE_SET)) {
		test_skip(t, "ballooning or MODE_SET not offered");
		return;
	}
	if (!high_r || !low_r) {
		test_skip(t,
			  "no RAM both below the I/O gap and from 4 GiB (give mem= above iogap=)");
		return;
	}
	low_end = low_r->base + low_r->length;
	high_end = high_r->base + high_r->length;
	keep = ALIGN_UP(paging_reserved_end() + KEEP_ROOM, 2 * MiB);
	if (!test_check(t, keep + 2 * MiB <= low_end,
			"low RAM ends at 0x%lx: nothing to unplug above 0x%lx", low_end, keep) ||
	    !leave_low_segment(t, &was) || !test_stats(t, &before))
		return;
	paging_limit_tables(keep); /* no table may land in what leaves */
	sample = keep - LOW_SAMPLE;
	fill_high(HIGH_BASE, high_end);
	take_sums(&want, sample, high_end);
	if (!unplug_low(t, keep, low_end, &high_end, &want, sample, &ticks_unplug))
		return;
	gap.done = true;
	gap.unplugged_lo = keep;
	gap.unplugged_hi = low_end;
	gap.high_end = high_end;
	map_and_stats_agree(t, &before, keep, high_end, low_end - keep, guest_bytes);
	if (!segments_over_high_ram(t, high_end, &want, sample, &ticks_switch))
		return;
	sums_hold(t, &want, sample, high_end, "after the switch to Dual Direct");
	test_note(t, "mode %u at boot; unplugged gPA 0x%lx-0x%lx (%lu MiB), re-added up to 0x%lx",
		  was, keep, low_end, (low_end - keep) >> 20, high_end);
	test_note(t, "one VMM segment and one guest segment cover gPA 0x%lx-0x%lx (%lu MiB)",
		  HIGH_BASE, high_end, (high_end - HIGH_BASE) >> 20);
	test_note(t, "TSC ticks: unplug and re-add %lu, MODE_SET %lu, the whole test %lu",
		  ticks_unplug, ticks_switch, rdtsc() - t0);
}

/* Refused with want, and the map and the statistics unchanged. */
static unsigned refused(struct test *t, const char *what, u64 n, u64 flags, u64 reply, s64 want)
{
	struct map_view a, b;
	struct dv_stats s0, s1;
	bool ok;

	if (!view_map(t, &a, 0, 0) || !test_stats(t, &s0))
		return 0;
	ok = test_expect(t, what, dv_hc_balloon_inflate((u64)list, n, flags, reply), want);
	if (!view_map(t, &b, 0, 0) || !test_stats(t, &s1))
		return 0;
	return ok && test_check(t,
				a.hash == b.hash && s0.unplugged_bytes == s1.unplugged_bytes &&
					s0.readded_bytes == s1.readded_bytes &&
					s0.guest_ram_bytes == s1.guest_ram_bytes &&
					s0.extents == s1.extents,
				"%s changed the memory map or the statistics", what);
}

void test_iogap_bad(struct test *t)
{
	const u64 both = DV_BALLOON_UNPLUG | DV_BALLOON_HOTADD, pfn_keep = 0x100; /* 1 MiB */
	struct dv_segment_info si0, si1;
	unsigned kinds = 0;

	if (!(dv_hc_features() & DV_HC_FEATURE_BALLOON)) {
		test_skip(t, "ballooning not offered");
		return;
	}
	list[0] = paging_reserved_end() >> PAGE_SHIFT; /* in use: never actually unplugged */
	kinds += refused(t, "an unknown flag", 1, (u64)DV_BALLOON_FLAGS + 1, 0, -DV_EINVAL);
	list[0] = list[1] = pfn_keep;
	kinds += refused(t, "UNPLUG of a page listed twice", 2, both, 0, -DV_EINVAL);
	list[0] = (1UL << 36) - 1;
	kinds += refused(t, "UNPLUG of the last page of guest-physical space", 1, both, 0,
			 -DV_EINVAL);
	list[0] = pfn_keep;
	kinds += refused(t, "UNPLUG with the reply in the listed page", 1, both,
			 pfn_keep << PAGE_SHIFT, -DV_EFAULT);
	if (!gap.done) {
		test_note(t, "iogap did not run: the cases on unplugged memory and the segment "
			     "above 4 GiB are not tried");
		test_check(t, kinds == 4, "%u of 4 misuses refused with nothing changed", kinds);
		return;
	}
	list[0] = gap.unplugged_lo >> PAGE_SHIFT;
	kinds += refused(t, "UNPLUG of an unplugged page", 1, both, 0, -DV_EINVAL);
	kinds += test_expect(t, "DEFLATE of an unplugged page", dv_hc_balloon_deflate((u64)list, 1),
			     -DV_EINVAL);
	list[0] = HIGH_BASE >> PAGE_SHIFT;
	kinds += refused(t, "UNPLUG of a page of the VMM segment", 1, both, 0, -DV_EBUSY);
	/* asking again for the mode in effect, the run unchanged: nothing moves */
	if (test_segment_info(t, &si0) &&
	    test_expect(t, "MODE_SET(dual-direct) again", dv_hc_mode_set(DV_MODE_DUAL_DIRECT),
			DV_MODE_DUAL_DIRECT) &&
	    test_segment_info(t, &si1))
		kinds +=
			test_check(t,
				   si1.vmm.base == si0.vmm.base && si1.vmm.limit == si0.vmm.limit &&
					   si1.vmm.offset == si0.vmm.offset &&
					   si1.mode_effect == DV_MODE_DUAL_DIRECT,
				   "asking again moved the VMM segment or lost the guest's");
	test_check(t, kinds == 8, "%u of 8 misuses refused with nothing changed", kinds);
	test_note(t, "%u misuses of unplug refused with nothing changed", kinds);
}

void test_iogap_touch(struct test *t)
{
	u64 v;

	if (!gap.done) {
		test_skip(t, "iogap did not run: nothing is unplugged");
		return;
	}
	test_note(t, "reading gPA 0x%lx, unplugged; dimvisor must stop the guest",
		  gap.unplugged_lo);
	v = *(volatile u64 *)gap.unplugged_lo;
	test_check(t, false, "a read of unplugged gPA 0x%lx returned 0x%lx", gap.unplugged_lo, v);
}
