/* Hypercall tests: every call of include/dimvisor/hypercall.h with valid and
 * invalid arguments. The expected value of each case is written out; the
 * return codes are the ABI's, so the hypervisor must match them exactly.
 *
 * Buffers that dimvisor must refuse start with "BAD-CONSOLE-WRITE", so a
 * system test can assert that this text never reaches the console (a call
 * that fails changes nothing). */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>
#include <dimvisor/version.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "guest/usermode.h"
#include "lib/string.h"

/* gVAs outside the identity map, each in a PML4 slot of its own. PROBE_VA
 * maps two pages in swapped order (PROBE_VA -> probe[1], +4 KiB -> probe[0])
 * and nothing from +8 KiB on. */
#define PROBE_VA	     0x0000500000000000ULL
#define UNMAPPED_VA	     0x0000600000000000ULL
#define NONCANONICAL_VA	     0x0000800000000000ULL /* bit 47 set, bits 63:48 clear */
#define TOP_OF_ADDRESS_SPACE 0xfffffffffffffff0ULL /* canonical, unmapped; +32 wraps */

#define STATS_SENTINEL 0xa5
#define HC_REGS	       14 /* registers guest/hcregs.asm checks */
#define MARKER_LEN     64

#define DV_FEATURES_EXPECTED (DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS)

s64 hc_call_check_regs(u64 nr, u64 after[HC_REGS]);
extern const u64 hc_regs_pattern[HC_REGS];

static const char *const hc_reg_names[HC_REGS] = {
	"RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R8",
	"R9",  "R10", "R11", "R12", "R13", "R14", "R15",
};

static const char hello[] = "guest: this line went through DV_HC_CONSOLE_WRITE\n";
static const char edge_text[] = "[end of RAM ok]\n"; /* written into the last 16 bytes of RAM */
static const char split_head[] = "[page-split ";
static const char split_tail[] = "console write ok]\n";
static const char bad_text[] = "BAD-CONSOLE-WRITE: dimvisor printed a buffer it must refuse\n";

static u8 probe[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static char too_long[DV_CONSOLE_MAX + 1];
static struct {
	struct dv_stats s;
	u8 tail[64];
} stats_buf __attribute__((aligned(64)));

/* Fill [dst, dst + len) with the refusal marker, repeated. */
static void fill_bad(void *dst, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((char *)dst)[i] = bad_text[i % (sizeof(bad_text) - 1)];
}

static bool all_bytes_are(const void *p, size_t len, u8 value)
{
	for (size_t i = 0; i < len; i++)
		if (((const u8 *)p)[i] != value)
			return false;
	return true;
}

/* Map the probe pages (idempotent) and check the addresses that must stay
 * unmapped are. */
static bool probe_setup(struct test *t)
{
	u64 pa;
	int rc = paging_map(PROBE_VA, (u64)probe[1], PAGE_SIZE, X86_PTE_RW);

	if (rc == 0)
		rc = paging_map(PROBE_VA + PAGE_SIZE, (u64)probe[0], PAGE_SIZE, X86_PTE_RW);
	if (!test_check(t, rc == 0, "mapping the probe pages failed (%s)", dv_strerror(rc)))
		return false;
	return test_check(t,
			  !paging_translate(PROBE_VA + 2 * PAGE_SIZE, &pa) &&
				  !paging_translate(UNMAPPED_VA, &pa) &&
				  !paging_translate(TOP_OF_ADDRESS_SPACE, &pa),
			  "an address the test needs unmapped is mapped");
}

/* End of the RAM below the I/O gap when RAM continues above 4 GiB, else 0. */
static u64 ram_end_below_gap(const struct boot_info *bi)
{
	u64 low_end = 0;
	bool above = false;

	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		if (r->type != BOOT_RAM_TYPE)
			continue;
		if (r->base >= PAGING_LOW_IDENTITY)
			above = true;
		else if (r->base + r->length <= PAGING_LOW_IDENTITY)
			low_end = r->base + r->length;
	}
	return above ? low_end : 0;
}

/* The top MARKER_LEN bytes of RAM may be used when the image is not there. */
static bool ram_top_usable(const struct test *t)
{
	return t->boot->ram_top >= paging_reserved_end() + MARKER_LEN;
}

void test_hc_version(struct test *t)
{
	const s64 want = ((s64)DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR;

	test_expect(t, "VERSION", dv_hc_version(), want);
	/* Arguments are ignored. */
	test_expect(t, "VERSION with junk in RBX RCX RDX RSI",
		    dv_hypercall(DV_HC_VERSION, ~0ULL, NONCANONICAL_VA, 1, 2), want);
}

void test_hc_features(struct test *t)
{
	s64 f = dv_hc_features();
	u32 cpuid_eax = cpuid(DV_CPUID_FEATURES_LEAF, 0).eax;

	test_check(t, f >= 0 && (f & DV_FEATURES_EXPECTED) == DV_FEATURES_EXPECTED,
		   "FEATURES returned 0x%lx, expected bits 0x%x (CONSOLE, STATS) set", (u64)f,
		   DV_FEATURES_EXPECTED);
	test_check(t, (u64)f == cpuid_eax,
		   "FEATURES returned 0x%lx but CPUID 0x40000001 EAX is 0x%x: they must agree",
		   (u64)f, cpuid_eax);
}

static void console_edges_of_ram(struct test *t)
{
	const u64 top = t->boot->ram_top, low_end = ram_end_below_gap(t->boot);

	if (!ram_top_usable(t)) {
		test_note(t, "RAM ends at 0x%lx, inside the image: end-of-RAM cases not run", top);
		return;
	}
	fill_bad((void *)(top - MARKER_LEN), MARKER_LEN - 16);
	memcpy((void *)(top - 16), edge_text, 16);
	test_expect(t, "CONSOLE_WRITE of the last 16 bytes of RAM",
		    dv_hc_console_write(top - 16, 16), 16);
	test_expect(t, "CONSOLE_WRITE crossing the end of RAM",
		    dv_hc_console_write(top - MARKER_LEN, MARKER_LEN + 16), -DV_EFAULT);
	test_expect(t, "CONSOLE_WRITE just past the end of RAM", dv_hc_console_write(top, 16),
		    -DV_EFAULT);
	if (low_end && low_end >= paging_reserved_end() + MARKER_LEN) {
		fill_bad((void *)(low_end - MARKER_LEN), MARKER_LEN);
		test_expect(t, "CONSOLE_WRITE crossing from RAM into the I/O gap",
			    dv_hc_console_write(low_end - MARKER_LEN, 2 * MARKER_LEN), -DV_EFAULT);
	}
}

static void console_page_boundaries(struct test *t)
{
	const size_t head = sizeof(split_head) - 1, tail = sizeof(split_tail) - 1;

	/* Virtually contiguous, physically swapped: dimvisor must translate
	 * each page, not assume the gPAs follow each other. */
	memcpy(probe[1] + PAGE_SIZE - head, split_head, head);
	memcpy(probe[0], split_tail, tail);
	test_expect(t, "CONSOLE_WRITE across two mapped pages",
		    dv_hc_console_write(PROBE_VA + PAGE_SIZE - head, head + tail),
		    (s64)(head + tail));
	fill_bad(probe[0] + PAGE_SIZE - MARKER_LEN, MARKER_LEN);
	test_expect(t, "CONSOLE_WRITE from a mapped into an unmapped page",
		    dv_hc_console_write(PROBE_VA + 2 * PAGE_SIZE - MARKER_LEN, 2 * MARKER_LEN),
		    -DV_EFAULT);
}

void test_hc_console(struct test *t)
{
	const s64 len = sizeof(hello) - 1;

	if (!probe_setup(t))
		return;
	test_expect(t, "CONSOLE_WRITE of a line", dv_hc_console_write((u64)hello, len), len);
	test_expect(t, "CONSOLE_WRITE of 0 bytes", dv_hc_console_write((u64)hello, 0), 0);
	fill_bad(too_long, sizeof(too_long));
	test_expect(t, "CONSOLE_WRITE of DV_CONSOLE_MAX + 1 bytes",
		    dv_hc_console_write((u64)too_long, DV_CONSOLE_MAX + 1), -DV_EINVAL);
	test_expect(t, "CONSOLE_WRITE of 2^63 bytes",
		    dv_hc_console_write((u64)too_long, 1ULL << 63), -DV_EINVAL);
	test_expect(t, "CONSOLE_WRITE of 2^64 - 1 bytes", dv_hc_console_write((u64)too_long, ~0ULL),
		    -DV_EINVAL);
	test_expect(t, "CONSOLE_WRITE from an unmapped gVA", dv_hc_console_write(UNMAPPED_VA, 16),
		    -DV_EFAULT);
	test_expect(t, "CONSOLE_WRITE from a non-canonical gVA",
		    dv_hc_console_write(NONCANONICAL_VA, 16), -DV_EFAULT);
	test_expect(t, "CONSOLE_WRITE wrapping around the top of the address space",
		    dv_hc_console_write(TOP_OF_ADDRESS_SPACE, 32), -DV_EFAULT);
	console_page_boundaries(t);
	console_edges_of_ram(t);
}

/* Call STATS into stats_buf (sentinel-filled first) with size bytes. */
static s64 stats_call(u64 size)
{
	memset(&stats_buf, STATS_SENTINEL, sizeof(stats_buf));
	return dv_hc_stats((u64)&stats_buf, size);
}

static void stats_full(struct test *t)
{
	const struct dv_stats *s = &stats_buf.s;
	const s64 want = sizeof(struct dv_stats);
	u64 by_kind = 0, leaf_bytes, exits, vmcalls;

	dv_hc_version(); /* at least one VMCALL exit before the snapshot */
	if (!test_expect(t, "STATS with room to spare", stats_call(sizeof(stats_buf)), want))
		return;
	for (unsigned i = 0; i < DV_STATS_EXIT_KINDS; i++)
		by_kind += s->exits_by_kind[i];
	leaf_bytes = s->ept_leaves[1] * PAGE_SIZE + s->ept_leaves[2] * PAGE_2M +
		     s->ept_leaves[3] * PAGE_1G;
	test_check(t, s->size == want, "stats.size is %u, expected %ld", s->size, want);
	test_check(t, s->abi_version == DV_ABI_VERSION, "stats.abi_version is %u, expected %u",
		   s->abi_version, DV_ABI_VERSION);
	test_check(t, s->exits_total > 0, "stats.exits_total is 0");
	test_check(t, s->exits_by_kind[DV_EXIT_KIND_HYPERCALL] > 0,
		   "stats.exits_by_kind[DV_EXIT_KIND_HYPERCALL] is 0 after a hypercall");
	test_check(t, by_kind == s->exits_total, "exits by kind add up to %lu, not exits_total %lu",
		   by_kind, s->exits_total);
	test_check(t, s->hypercalls > 0, "stats.hypercalls is 0 after a hypercall");
	/* the boot map's RAM, changed only by the balloon (an earlier test may have
	 * run it: hot-added memory stays) */
	test_check(t,
		   s->guest_ram_bytes ==
			   t->boot->ram_bytes + s->hotadded_bytes - s->ballooned_bytes,
		   "stats.guest_ram_bytes is %lu, the memory map says %lu, %lu hot-added and %lu "
		   "ballooned",
		   s->guest_ram_bytes, t->boot->ram_bytes, s->hotadded_bytes, s->ballooned_bytes);
	test_check(t, s->ept_tables[4] >= 1, "stats.ept_tables[4] (EPT PML4 pages) is %lu",
		   s->ept_tables[4]);
	test_check(t, s->ept_leaves[1] + s->ept_leaves[2] + s->ept_leaves[3] > 0,
		   "stats.ept_leaves are all 0");
	test_check(t, leaf_bytes >= s->guest_ram_bytes,
		   "EPT leaves map %lu bytes, less than guest RAM %lu", leaf_bytes,
		   s->guest_ram_bytes);
	test_check(t, all_bytes_are(stats_buf.tail, sizeof(stats_buf.tail), STATS_SENTINEL),
		   "STATS wrote past sizeof(struct dv_stats)");
	test_note(
		t,
		"%lu exits (%lu hypercall), %lu hypercalls; EPT tables %lu/%lu/%lu/%lu, leaves 4K "
		"%lu 2M %lu 1G %lu",
		s->exits_total, s->exits_by_kind[DV_EXIT_KIND_HYPERCALL], s->hypercalls,
		s->ept_tables[4], s->ept_tables[3], s->ept_tables[2], s->ept_tables[1],
		s->ept_leaves[1], s->ept_leaves[2], s->ept_leaves[3]);

	exits = s->exits_total;
	vmcalls = s->exits_by_kind[DV_EXIT_KIND_HYPERCALL];
	stats_call(sizeof(struct dv_stats));
	test_check(t, s->exits_total > exits && s->exits_by_kind[DV_EXIT_KIND_HYPERCALL] > vmcalls,
		   "a second STATS did not count more exits (%lu then %lu)", exits, s->exits_total);
}

/* An older guest's shorter struct: dimvisor fills what fits. */
static void stats_short(struct test *t)
{
	static const u64 sizes[] = {16, 8};

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		const u64 n = sizes[i];
		const u8 *bytes = (const u8 *)&stats_buf;

		if (!test_expect(t, n == 16 ? "STATS with size 16" : "STATS with size 8",
				 stats_call(n), (s64)n))
			continue;
		test_check(t, stats_buf.s.size == n, "size %lu: stats.size is %u", n,
			   stats_buf.s.size);
		test_check(t, stats_buf.s.abi_version == DV_ABI_VERSION,
			   "size %lu: stats.abi_version is %u", n, stats_buf.s.abi_version);
		if (n >= 16)
			test_check(t, stats_buf.s.exits_total > 0, "size %lu: exits_total is 0", n);
		test_check(t, all_bytes_are(bytes + n, sizeof(stats_buf) - n, STATS_SENTINEL),
			   "STATS with size %lu wrote past byte %lu", n, n);
	}
	test_expect(t, "STATS with size 4", stats_call(4), -DV_EINVAL);
	test_expect(t, "STATS with size 0", stats_call(0), -DV_EINVAL);
	test_check(t, all_bytes_are(&stats_buf, sizeof(stats_buf), STATS_SENTINEL),
		   "a refused STATS wrote into the buffer");
}

static void stats_bad_buffers(struct test *t)
{
	const u64 size = sizeof(struct dv_stats), top = t->boot->ram_top;
	u8 *last = probe[0] + PAGE_SIZE - MARKER_LEN;

	test_expect(t, "STATS into an unmapped gVA", dv_hc_stats(UNMAPPED_VA, size), -DV_EFAULT);
	test_expect(t, "STATS into a non-canonical gVA", dv_hc_stats(NONCANONICAL_VA, size),
		    -DV_EFAULT);
	memset(last, STATS_SENTINEL, MARKER_LEN);
	test_expect(t, "STATS from a mapped into an unmapped page",
		    dv_hc_stats(PROBE_VA + 2 * PAGE_SIZE - MARKER_LEN, size), -DV_EFAULT);
	test_check(t, all_bytes_are(last, MARKER_LEN, STATS_SENTINEL),
		   "a refused STATS wrote into the mapped part of its buffer");
	if (ram_top_usable(t)) {
		memset((void *)(top - MARKER_LEN), STATS_SENTINEL, MARKER_LEN);
		test_expect(t, "STATS crossing the end of RAM", dv_hc_stats(top - MARKER_LEN, size),
			    -DV_EFAULT);
		test_check(t, all_bytes_are((void *)(top - MARKER_LEN), MARKER_LEN, STATS_SENTINEL),
			   "a refused STATS wrote into the last bytes of RAM");
	}
}

void test_hc_stats(struct test *t)
{
	if (!probe_setup(t))
		return;
	stats_full(t);
	stats_short(t);
	stats_bad_buffers(t);
}

void test_hc_unknown(struct test *t)
{
	static const struct {
		u64 nr;
		const char *what;
	} cases[] = {
		{DV_HC_COUNT, "DV_HC_COUNT (first unassigned number)"},
		{0xffff, "call 0xffff"},
		{0x80000000ULL, "call 0x80000000"},
		{1ULL << 32, "call 2^32 (VERSION if truncated to 32 bits)"},
		{~0ULL, "call -1"},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		test_expect(t, cases[i].what, dv_hypercall(cases[i].nr, 0, 0, 0, 0), -DV_ENOSYS);
}

/* Statuses EXIT must refuse; the guest keeps running. None truncates to 0. */
void test_hc_exit(struct test *t)
{
	static const struct {
		u64 status;
		const char *what;
	} cases[] = {
		{1000, "EXIT(1000)"},
		{DV_EXIT_GUEST_MAX + 1, "EXIT(DV_EXIT_GUEST_MAX + 1)"},
		{~0ULL, "EXIT(-1)"},
		{(1ULL << 32) | DV_EXIT_GUEST_MAX, "EXIT(2^32 + 63)"},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		test_expect(t, cases[i].what, dv_hc_exit(cases[i].status), -DV_EINVAL);
	test_check(t, dv_hc_version() > 0, "VERSION failed after the refused EXITs");
}

/* Every register but RAX survives a call, whether it succeeds or fails. */
void test_hc_regs(struct test *t)
{
	static const struct {
		u64 nr;
		const char *what;
	} calls[] = {
		{DV_HC_VERSION, "VERSION"},
		{DV_HC_CONSOLE_WRITE, "a refused CONSOLE_WRITE"},
		{DV_HC_EXIT, "a refused EXIT"},
		{0xffff, "an unknown call"},
	};
	u64 after[HC_REGS];

	for (unsigned c = 0; c < ARRAY_SIZE(calls); c++) {
		s64 rc = hc_call_check_regs(calls[c].nr, after);

		test_check(t, c == 0 ? rc > 0 : rc < 0, "%s returned %ld", calls[c].what, rc);
		for (unsigned r = 0; r < HC_REGS; r++)
			test_check(t, after[r] == hc_regs_pattern[r],
				   "%s changed %s from 0x%lx to 0x%lx", calls[c].what,
				   hc_reg_names[r], hc_regs_pattern[r], after[r]);
	}
}

/* Hypercalls from ring 3 are refused, whatever the call. */
void test_hc_cpl3(struct test *t)
{
	const u64 marker_len = (u64)user_marker_end - (u64)user_marker;
	const struct {
		struct user_regs regs;
		const char *what;
	} cases[] = {
		{{.rax = DV_HC_VERSION}, "VERSION from CPL 3"},
		{{.rax = DV_HC_CONSOLE_WRITE, .rbx = usermode_va(user_marker), .rcx = marker_len},
		 "CONSOLE_WRITE from CPL 3"},
		{{.rax = DV_HC_STATS, .rbx = USER_STACK_VA, .rcx = sizeof(struct dv_stats)},
		 "STATS from CPL 3"},
		{{.rax = DV_HC_EXIT, .rbx = DV_EXIT_GUEST_MAX}, "EXIT(63) from CPL 3"},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		test_expect(t, cases[i].what, (s64)usermode_run(user_stub_vmcall, &cases[i].regs),
			    -DV_EPERM);
	test_check(t, dv_hc_version() > 0, "VERSION from CPL 0 failed after the CPL 3 calls");
}
