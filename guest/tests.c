/* The test table, selection and the TAP-like report. */
#include <stdarg.h>
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "guest/exit.h"
#include "guest/tests.h"
#include "lib/printf.h"
#include "lib/string.h"

#define SKIP_NOT_DIMVISOR "not running under dimvisor"

struct test_case {
	const char *name;
	const char *group; /* naming the group selects it too; NULL: none */
	void (*fn)(struct test *t);
	bool needs_dimvisor; /* natively: "# SKIP not running under dimvisor" */
	bool fatal;	     /* ends the guest when dimvisor is right: not in "all", runs last */
	bool named_only;     /* long: not in "all", runs only when named */
};

/* Table order is run order: the fatal test never returns under dimvisor, so
 * it comes last; the memory test scribbles over all free RAM, so it runs
 * after the tests that place buffers there. */
static const struct test_case test_table[] = {
	/* first when named: what the balloon sets up (a hot-added guest segment)
	 * is what the suite then runs in */
	{"balloon", NULL, test_balloon, true, false, true},
	{"balloon-bad", NULL, test_balloon_bad, true, false, true},
	{"balloon-enomem", NULL, test_balloon_enomem, true, false, true},
	/* the same for the I/O gap: the suite runs in Dual Direct above 4 GiB */
	{"iogap", NULL, test_iogap, true, false, true},
	{"iogap-bad", NULL, test_iogap_bad, true, false, true},
	{"cpuid", NULL, test_cpuid, false, false, false},
	{"ring3", NULL, test_ring3, false, false, false},
	{"hc-version", "hypercall", test_hc_version, true, false, false},
	{"hc-features", "hypercall", test_hc_features, true, false, false},
	{"hc-console", "hypercall", test_hc_console, true, false, false},
	{"hc-stats", "hypercall", test_hc_stats, true, false, false},
	{"hc-unknown", "hypercall", test_hc_unknown, true, false, false},
	{"hc-exit", "hypercall", test_hc_exit, true, false, false},
	{"hc-regs", "hypercall", test_hc_regs, true, false, false},
	{"hc-cpl3", "hypercall", test_hc_cpl3, true, false, false},
	{"msr", NULL, test_msr, true, false, false},
	{"gseg", NULL, test_gseg, true, false, true},
	{"escape", NULL, test_escape, true, false, true},
	{"switch", NULL, test_switch, true, false, true},
	{"compact", NULL, test_compact, true, false, true},
	{"compact-switch", NULL, test_compact_switch, true, false, true},
	{"hc-fuzz", NULL, test_hc_fuzz, true, false, true},
	{"apic", "platform", test_apic, false, false, false},
	{"apic-odd", NULL, test_apic_odd, true, false, true},
	{"x2apic", "platform", test_x2apic, false, false, false},
	{"pit", "platform", test_pit, false, false, false},
	{"rf", "cpu", test_rf, false, false, true},
	{"cr4", "cpu", test_cr4, false, false, true},
	{"pmu", "cpu", test_pmu, true, false, true},
	{"perf-caps", NULL, test_perf_caps, false, false, true},
	{"debug", "cpu", test_debug, false, false, true},
	{"tsc", "cpu", test_tsc, false, false, true},
	{"misc-enable", "cpu", test_misc_enable, true, false, true},
	{"mtrr", "cpu", test_mtrr, false, false, true},
	{"cpuid-msrs", "cpu", test_cpuid_msrs, true, false, true},
	{"modules", NULL, test_modules, false, false, true},
	{"wl-gups", "workloads", test_wl_gups, false, false, true},
	{"wl-chase", "workloads", test_wl_chase, false, false, true},
	{"wl-stream", "workloads", test_wl_stream, false, false, true},
	{"wl-kvs", "workloads", test_wl_kvs, false, false, true},
	{"wl-miswired", "workloads", test_wl_miswired, false, false, true},
	{"sample", NULL, test_sample, true, false, true},
	{"sample-bad", NULL, test_sample_bad, true, false, true},
	{"sample-modes", NULL, test_sample_modes, true, false, true},
	{"memory", NULL, test_memory, false, false, false},
	{"isolation", NULL, test_isolation, true, true, false},
	{"apic-init", NULL, test_apic_init, true, true, true},
	{"hlt-forever", NULL, test_hlt_forever, true, true, true},
	{"apic-unemulated", NULL, test_apic_unemulated, true, true, true},
	{"balloon-touch", NULL, test_balloon_touch, true, true, true},
	{"iogap-touch", NULL, test_iogap_touch, true, true, true},
};
_Static_assert(ARRAY_SIZE(test_table) <= 64, "test_set has 64 bits");

static const char *current;

static bool name_is(const char *name, const char *s, size_t len)
{
	return name && strlen(name) == len && memcmp(name, s, len) == 0;
}

test_set tests_all(void)
{
	test_set set = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(test_table); i++)
		if (!test_table[i].fatal && !test_table[i].named_only)
			set |= 1ULL << i;
	return set;
}

int tests_select(const char *name, size_t len, test_set *set)
{
	test_set found = name_is("all", name, len) ? tests_all() : 0;

	for (unsigned i = 0; i < ARRAY_SIZE(test_table); i++)
		if (name_is(test_table[i].name, name, len) ||
		    name_is(test_table[i].group, name, len))
			found |= 1ULL << i;
	if (!found)
		return -DV_ENOENT;
	*set |= found;
	return 0;
}

/* Has an earlier row the same group? Then the group is listed already. */
static bool group_listed_before(unsigned row)
{
	for (unsigned i = 0; i < row; i++)
		if (test_table[i].group && strcmp(test_table[i].group, test_table[row].group) == 0)
			return true;
	return false;
}

void tests_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(test_table) && used < len; i++)
		used += ksnprintf(buf + used, len - used, "%s ", test_table[i].name);
	for (unsigned i = 0; i < ARRAY_SIZE(test_table) && used < len; i++)
		if (test_table[i].group && !group_listed_before(i))
			used += ksnprintf(buf + used, len - used, "%s ", test_table[i].group);
	if (used < len)
		ksnprintf(buf + used, len - used, "all");
}

const char *tests_current(void)
{
	return current;
}

static void record(struct test *t, const char *fmt, va_list ap)
{
	if (t->reason[0] == '\0')
		kvsnprintf(t->reason, sizeof(t->reason), fmt, ap);
}

bool test_check(struct test *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	t->failures++;
	va_start(ap, fmt);
	kprintf("#   %s: ", t->name);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
	va_start(ap, fmt);
	record(t, fmt, ap);
	va_end(ap);
	return false;
}

bool test_expect(struct test *t, const char *what, s64 got, s64 want)
{
	char g[16] = "", w[16] = "";

	if (got < 0)
		ksnprintf(g, sizeof(g), " (%s)", dv_strerror((int)got));
	if (want < 0)
		ksnprintf(w, sizeof(w), " (%s)", dv_strerror((int)want));
	return test_check(t, got == want, "%s returned %ld%s (0x%lx), expected %ld%s", what, got, g,
			  (u64)got, want, w);
}

void test_skip(struct test *t, const char *fmt, ...)
{
	va_list ap;

	t->skipped = true;
	va_start(ap, fmt);
	record(t, fmt, ap); /* after a failure the failure stays the reason */
	va_end(ap);
}

u64 test_checksum(u64 start, u64 len)
{
	u64 sum = 0x84222325cbf29ce4UL;

	for (u64 a = start; a < start + len; a += 8)
		sum = (sum ^ *(volatile u64 *)a) * 0x100000001b3UL;
	return sum;
}

void test_note(struct test *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kprintf("# %s: ", t->name);
	kvprintf(fmt, ap);
	kprintf("\n");
	va_end(ap);
}

int tests_run(test_set set, struct boot_info *bi, bool dimvisor)
{
	unsigned n = 0, planned = 0, passed = 0, failed = 0, skipped = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(test_table); i++)
		planned += (set >> i) & 1;
	kprintf("1..%u\n", planned);
	for (unsigned i = 0; i < ARRAY_SIZE(test_table); i++) {
		const struct test_case *tc = &test_table[i];
		struct test t = {.name = tc->name, .dimvisor = dimvisor, .boot = bi};

		if (!((set >> i) & 1))
			continue;
		n++;
		current = tc->name;
		if (tc->needs_dimvisor && !dimvisor)
			test_skip(&t, SKIP_NOT_DIMVISOR);
		else
			tc->fn(&t);
		current = NULL;
		if (t.failures) {
			failed++;
			kprintf("not ok %u - %s: %s", n, tc->name, t.reason);
			if (t.failures > 1)
				kprintf(" (and %u more)", t.failures - 1);
			kprintf("\n");
		} else if (t.skipped) {
			skipped++;
			kprintf("ok %u - %s # SKIP %s\n", n, tc->name, t.reason);
		} else {
			passed++;
			kprintf("ok %u - %s\n", n, tc->name);
		}
	}
	kprintf("guest: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS;
}
