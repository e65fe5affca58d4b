/* The in-guest test suite: a table of named tests, selection by name, and a
 * TAP-like report ("ok N - name", "not ok N - name: reason",
 * "ok N - name # SKIP reason", then "guest: P passed, F failed, S skipped"). */
#ifndef GUEST_TESTS_H
#define GUEST_TESTS_H

#include <dimvisor/types.h>
#include "guest/bootinfo.h"
#include <dimvisor/hypercall.h>

#define TEST_REASON_MAX 160

/* One running test: what it may look at, and what it found. */
struct test {
	const char *name;
	bool dimvisor;		/* running under dimvisor */
	struct boot_info *boot; /* memory map, RAM size and top (iogap updates it) */
	unsigned failures;
	bool skipped;
	char reason[TEST_REASON_MAX]; /* the first failure, or why it was skipped */
};

/* A set of tests, one bit per row of the table in guest/tests.c. */
typedef u64 test_set;

/* Record one check. On failure print a "#" diagnostic and keep the first
 * reason for the test's line. Returns ok. */
bool test_check(struct test *t, bool ok, const char *fmt, ...) __printf_like(3, 4);

/* Check a hypercall result: got must equal want. Error codes are named. */
bool test_expect(struct test *t, const char *what, s64 got, s64 want);

/* Skip the rest of the test; a skip never counts as passed. */
void test_skip(struct test *t, const char *fmt, ...) __printf_like(2, 3);

/* Print a "# name: ..." diagnostic line. */
void test_note(struct test *t, const char *fmt, ...) __printf_like(2, 3);

/* Add the tests called name (a test, a group such as "hypercall", or "all")
 * to *set. Returns 0 or -DV_ENOENT. */
int tests_select(const char *name, size_t len, test_set *set);

/* What "test=all" selects: every test but isolation, which ends the guest
 * under dimvisor and runs only when named. */
test_set tests_all(void);

/* Every name tests_select accepts (tests, groups, "all"), space-separated. */
void tests_names(char *buf, size_t len);

/* Run the tests in set in table order and print the report. Returns the
 * guest exit status: GUEST_EXIT_PASS or GUEST_EXIT_FAIL. */
int tests_run(test_set set, struct boot_info *bi, bool dimvisor);

/* The name of the test running now, or NULL (for the exception dump). */
const char *tests_current(void);

/* The tests, one function each (guest/tests_*.c). */
void test_cpuid(struct test *t);
void test_ring3(struct test *t);
void test_hc_version(struct test *t);
void test_hc_features(struct test *t);
void test_hc_console(struct test *t);
void test_hc_stats(struct test *t);
void test_hc_unknown(struct test *t);
void test_hc_exit(struct test *t);
void test_hc_regs(struct test *t);
void test_hc_cpl3(struct test *t);
void test_msr(struct test *t);
void test_memory(struct test *t);
void test_isolation(struct test *t);
void test_hc_fuzz(struct test *t);
void test_gseg(struct test *t);
void test_wl_gups(struct test *t);
void test_wl_chase(struct test *t);
void test_wl_stream(struct test *t);
void test_wl_kvs(struct test *t);
void test_wl_miswired(struct test *t);
void test_sample(struct test *t);
void test_sample_bad(struct test *t);
void test_sample_modes(struct test *t);
void test_escape(struct test *t);
void test_switch(struct test *t);
void test_compact(struct test *t);
void test_compact_switch(struct test *t);
void test_balloon(struct test *t);
void test_balloon_bad(struct test *t);
void test_balloon_enomem(struct test *t);
void test_balloon_touch(struct test *t);
void test_iogap(struct test *t);
void test_iogap_bad(struct test *t);
void test_iogap_touch(struct test *t);
void test_apic(struct test *t);
void test_x2apic(struct test *t);
void test_pit(struct test *t);
void test_apic_odd(struct test *t);
void test_apic_init(struct test *t);
void test_hlt_forever(struct test *t);
void test_apic_unemulated(struct test *t);
void test_rf(struct test *t);
void test_cr4(struct test *t);
void test_pmu(struct test *t);
void test_perf_caps(struct test *t);
void test_debug(struct test *t);
void test_tsc(struct test *t);
void test_misc_enable(struct test *t);
void test_mtrr(struct test *t);
void test_cpuid_msrs(struct test *t);
void test_modules(struct test *t);
/* A checksum (FNV-1a over 64-bit words) of [start, start + len), read through
 * volatile loads: memory that must survive a hypervisor's changes. */
u64 test_checksum(u64 start, u64 len);
/* DV_HC_SEGMENT_INFO into *i, checked to fill the whole struct. */
bool test_segment_info(struct test *t, struct dv_segment_info *i);
/* DV_HC_STATS into *s, checked to fill the whole struct. */
bool test_stats(struct test *t, struct dv_stats *s);
/* gseg=: the leaf level (1..3) of the primary region test_gseg maps. */
void test_gseg_configure(unsigned level);
/* fuzz=: how many hypercalls test_hc_fuzz makes (a multiple of its batch). */
void test_hc_fuzz_configure(unsigned calls);
/* The workloads' options (guest/workloads/workload.h) and the primary
 * region's leaf level (gseg=). */
struct wl_options;
void test_workloads_configure(const struct wl_options *o, unsigned gseg_level);

#endif
