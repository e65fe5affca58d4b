/* hc-fuzz: a storm of hypercalls with random numbers and arguments, buffers
 * straddling the end of RAM, the I/O gap, unmapped and non-canonical
 * addresses and the top of the address space. For every call the expected
 * result is known from the ABI and checked; every batch, the hypervisor must
 * still answer VERSION and STATS correctly, with a hypercall count that
 * matches this test's own. Buffers dimvisor may accept are pages of '\r'
 * (console writes skip them, so the console stays readable) and a scratch
 * area for STATS, so a correct hypervisor can never corrupt the guest.
 * Meanwhile dimvisor checks its own invariants every 1024 hypercalls
 * (hv/invariants.c) and stops loudly if one breaks. */
#include <dimvisor/errno.h>
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>
#include <dimvisor/version.h>
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "lib/string.h"

#define FUZZ_CALLS  100000 /* the default; fuzz=N on the command line */
#define FUZZ_BATCH  1000
#define FUZZ_SEED   0x9e3779b97f4a7c15UL
#define CR_PAGES    2
#define STATS_AREA  (2 * PAGE_SIZE)
#define UNMAPPED_VA 0x0000600000000000ULL
#define NONCANON_VA 0x0000800000000000ULL
#define TOP_VA	    0xfffffffffffff000ULL

static unsigned fuzz_calls = FUZZ_CALLS;

void test_hc_fuzz_configure(unsigned calls)
{
	fuzz_calls = calls;
}

static char cr_pages[CR_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u8 stats_area[STATS_AREA] __attribute__((aligned(PAGE_SIZE)));
static u64 rng = FUZZ_SEED;
static u64 features; /* read once: every extra hypercall would upset the count */

/* xorshift64*: reproducible, no state beyond one word. */
static u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* Where a buffer starts, and whether dimvisor must accept it for len bytes. */
struct fuzz_buf {
	u64 gva;
	bool valid;
};

/* A buffer for len bytes: inside area (valid), or one that no correct
 * hypervisor may use (each straddles or lies outside RAM or the map). */
static struct fuzz_buf pick_buf(const struct test *t, u64 area, u64 area_len, u64 len)
{
	u64 top = t->boot->ram_top, gap = bootinfo_gap_start(t->boot);
	u64 k = 1 + rnd_below(64);

	switch (rnd_below(7)) {
	case 0:
	case 1:
		if (len <= area_len)
			return (struct fuzz_buf){area + rnd_below(area_len - len + 1), true};
		return (struct fuzz_buf){area, false}; /* too long for the area: ends past it */
	case 2:					       /* straddles the end of RAM */
		return (struct fuzz_buf){top - (len > k ? k : len - 1), false};
	case 3: /* straddles the start of the I/O gap, or the end of RAM without one */
		if (gap)
			return (struct fuzz_buf){gap - (len > k ? k : len - 1), false};
		return (struct fuzz_buf){top - (len > k ? k : len - 1), false};
	case 4:
		return (struct fuzz_buf){UNMAPPED_VA + rnd_below(1ULL << 30), false};
	case 5:
		return (struct fuzz_buf){NONCANON_VA + (rnd() & 0x00007fffffffffffULL), false};
	default: /* the top of the address space, wrapping for long buffers */
		return (struct fuzz_buf){TOP_VA + rnd_below(PAGE_SIZE), false};
	}
}

static u64 pick_len(u64 max)
{
	switch (rnd_below(5)) {
	case 0:
		return 0;
	case 1:
		return 1 + rnd_below(16);
	case 2:
		return 1 + rnd_below(max);
	case 3:
		return max + 1 + rnd_below(64); /* just too long */
	default:
		return rnd(); /* anything */
	}
}

/* A balloon list no correct hypervisor may accept: every entry is a page
 * number past guest-physical space, so a valid inflate (legal, but it would
 * take the guest's memory away under it) cannot happen by chance. 128 KiB,
 * so in free RAM rather than in the image: 8 MiB above the page tables, as
 * far as paging_map_in will not reach while this test runs. */
#define BALLOON_LIST_BYTES (DV_BALLOON_MAX * sizeof(u64))
static u64 *balloon_list;

/* INFLATE or DEFLATE with random flags, count, list and reply buffers; the
 * ABI's order of checks decides the answer (include/dimvisor/hypercall.h). */
static s64 fuzz_balloon(const struct test *t, u64 nr, u64 *a1, u64 *a2, u64 *a3, u64 *a4)
{
	u64 n = pick_len(DV_BALLOON_MAX);
	struct fuzz_buf list = pick_buf(t, (u64)balloon_list, BALLOON_LIST_BYTES,
					n && n <= DV_BALLOON_MAX ? n * 8 : 8);
	struct fuzz_buf reply =
		pick_buf(t, (u64)stats_area, STATS_AREA, sizeof(struct dv_mem_range));

	*a1 = list.gva;
	*a2 = n;
	if (rnd_below(2))
		*a3 = rnd_below(DV_BALLOON_FLAGS + 1); /* every valid combination */
	*a4 = rnd_below(3) ? reply.gva : 0;
	if (nr == DV_HC_BALLOON_INFLATE && (*a3 & ~(u64)DV_BALLOON_FLAGS))
		return -DV_EINVAL;
	if (n == 0 || n > DV_BALLOON_MAX)
		return -DV_EINVAL;
	if (!list.valid)
		return -DV_EFAULT;
	if (nr == DV_HC_BALLOON_INFLATE && *a4 && !reply.valid)
		return -DV_EFAULT;
	return -DV_EINVAL; /* the entries: past guest-physical space, or not ballooned */
}

/* One random call; returns false (after a diagnostic) on a wrong result. */
static bool fuzz_one(struct test *t, u64 i)
{
	u64 nr = rnd_below(DV_HC_COUNT + 3), a1 = rnd(), a2 = rnd(), a3 = rnd(), a4 = rnd();
	s64 want, got;

	if (rnd_below(64) == 0)
		nr = rnd() | (1ULL << 63); /* far out of range */
	switch (nr) {
	case DV_HC_VERSION:
		want = ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR;
		break;
	case DV_HC_FEATURES:
		want = cpuid(DV_CPUID_FEATURES_LEAF, 0).eax;
		break;
	case DV_HC_CONSOLE_WRITE: {
		u64 len = pick_len(DV_CONSOLE_MAX);
		struct fuzz_buf b = pick_buf(t, (u64)cr_pages, sizeof(cr_pages), len);

		a1 = b.gva;
		a2 = len;
		want = len > DV_CONSOLE_MAX ? -DV_EINVAL
		       : len == 0	    ? 0
		       : b.valid	    ? (s64)len
					    : -DV_EFAULT;
		break;
	}
	case DV_HC_EXIT: /* never a valid status: the guest must go on */
		a1 = DV_EXIT_GUEST_MAX + 1 + (rnd() >> 1);
		want = -DV_EINVAL;
		break;
	case DV_HC_MODE_SET:
		if (a1 <= DV_MODE_DUAL_DIRECT)
			nr = DV_HC_VERSION; /* a valid switch is legal: for the switch test */
		want = nr == DV_HC_VERSION ? ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR
					   : -DV_EINVAL;
		break;
	case DV_HC_ESCAPE_PAGE:
		if (features & DV_HC_FEATURE_ESCAPE)
			nr = DV_HC_VERSION; /* a valid escape is legal: for the escape test */
		want = nr == DV_HC_VERSION ? ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR
					   : -DV_ENOTSUP;
		break;
	case DV_HC_GUEST_SEGMENT_SET:
	case DV_HC_GUEST_SEGMENT_CLEAR:
		if (features & DV_HC_FEATURE_GUEST_SEGMENT)
			nr = DV_HC_VERSION; /* random triples are for the gseg test to judge */
		want = nr == DV_HC_VERSION ? ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR
					   : -DV_ENOTSUP;
		break;
	case DV_HC_SAMPLE_START:
	case DV_HC_SAMPLE_STOP:
		if (nr == DV_HC_SAMPLE_STOP || a1 == 0)
			nr = DV_HC_VERSION; /* sampling on and off is for the sample tests */
		want = nr == DV_HC_VERSION ? ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR
					   : -DV_EINVAL;
		break;
	case DV_HC_STATS:
	case DV_HC_SAMPLE_READ:
	case DV_HC_SEGMENT_INFO: {
		u64 whole = nr == DV_HC_STATS	      ? sizeof(struct dv_stats)
			    : nr == DV_HC_SAMPLE_READ ? sizeof(struct dv_sample)
						      : sizeof(struct dv_segment_info);
		u64 size = pick_len(STATS_AREA);
		u64 fill = size < whole ? size : whole;
		struct fuzz_buf b = pick_buf(t, (u64)stats_area, STATS_AREA, fill ? fill : 1);

		a1 = b.gva;
		a2 = size;
		want = size < 8 ? -DV_EINVAL : b.valid ? (s64)fill : -DV_EFAULT;
		break;
	}
	case DV_HC_MEMORY_MAP: {
		u64 size = pick_len(STATS_AREA);
		u64 fill =
			size < sizeof(struct dv_memory_map) ? size : sizeof(struct dv_memory_map);
		struct fuzz_buf b = pick_buf(t, (u64)stats_area, STATS_AREA, fill ? fill : 1);

		a1 = b.gva;
		a2 = size;
		want = size < 8 ? -DV_EINVAL : b.valid ? (s64)fill : -DV_EFAULT;
		break;
	}
	case DV_HC_BALLOON_INFLATE:
	case DV_HC_BALLOON_DEFLATE:
		want = fuzz_balloon(t, nr, &a1, &a2, &a3, &a4);
		break;
	default:
		want = -DV_ENOSYS;
	}
	got = dv_hypercall(nr, a1, a2, a3, a4);
	return test_check(t, got == want,
			  "call %lu: hypercall %lu (0x%lx, 0x%lx, 0x%lx, 0x%lx) returned %ld, "
			  "expected %ld",
			  i, nr, a1, a2, a3, a4, got, want);
}

/* After a batch: does dimvisor still answer as it should? *count is the
 * hypercall count STATS last reported (it counts itself); it is updated. */
static bool still_sane(struct test *t, u64 *count, u64 calls)
{
	struct dv_stats s;
	u64 before = *count;

	if (!test_expect(t, "VERSION after a batch", dv_hc_version(),
			 ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR))
		return false;
	if (!test_expect(t, "STATS after a batch", dv_hc_stats((u64)&s, sizeof(s)), sizeof(s)))
		return false;
	*count = s.hypercalls;
	/* this batch's calls, VERSION and this STATS */
	return test_check(t, s.hypercalls == before + calls + 2,
			  "dimvisor counted %lu hypercalls, this test made %lu",
			  s.hypercalls - before, calls + 2);
}

void test_hc_fuzz(struct test *t)
{
	struct dv_stats s;
	u64 before, done = 0;

	memset(cr_pages, '\r', sizeof(cr_pages));
	balloon_list = (u64 *)(ALIGN_UP(paging_reserved_end(), PAGE_SIZE) + 8 * MiB);
	if (!test_check(t, (u64)balloon_list + BALLOON_LIST_BYTES <= t->boot->ram_top,
			"no free RAM for the balloon list"))
		return;
	for (unsigned i = 0; i < DV_BALLOON_MAX; i++)
		balloon_list[i] = (1ULL << 36) + (rnd() >> 16); /* past 2^48 bytes */
	features = (u64)dv_hc_features();
	if (!test_expect(t, "STATS before", dv_hc_stats((u64)&s, sizeof(s)), sizeof(s)))
		return;
	before = s.hypercalls;
	test_note(t, "%u random hypercalls in batches of %u, seed 0x%lx", fuzz_calls, FUZZ_BATCH,
		  FUZZ_SEED);
	while (done < fuzz_calls) {
		for (unsigned i = 0; i < FUZZ_BATCH; i++)
			if (!fuzz_one(t, done + i))
				return;
		done += FUZZ_BATCH;
		if (!still_sane(t, &before, FUZZ_BATCH))
			return;
	}
	test_note(t, "%lu calls, every result as the ABI says", done);
}
