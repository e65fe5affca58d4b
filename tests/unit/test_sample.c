/* The sampling policy (hv/sample.c): classification by the triples, what is
 * counted as a miss, and which leaves are cured, held and poisoned again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "hv/sample.h"

/* A fake EPT: which of 1024 leaves (gpa >> 12) are poisoned. */
static bool poisoned[1024];
static unsigned poison_calls;

static int fake_poison(void *ctx, u64 gpa, bool on)
{
	(void)ctx;
	poisoned[(gpa >> 12) % 1024] = on;
	poison_calls++;
	return 1;
}

static const struct sample_leaf_ops ops = {fake_poison, NULL};

static void reset(struct sampler *s)
{
	sample_reset(s);
	for (unsigned i = 0; i < 1024; i++)
		poisoned[i] = true;
	poison_calls = 0;
}

static struct sample_fault data_fault(u64 page, enum sample_class cls)
{
	return (struct sample_fault){.gpa = page << 12,
				     .gva = 0x7000000000 + (page << 12),
				     .rip = 0x100000,
				     .gva_valid = true,
				     .final = true,
				     .cls = cls};
}

static void classify_by_triples(void **state)
{
	const struct segment g = {0x100000000000, 0x100004000000, 0x0};
	const struct segment v = {0, 0x10000000, 0x40000000};
	const struct segment off = {5, 5, 0};

	(void)state;
	assert_int_equal(sample_classify(&g, &v, false, 0x100000001000, 0x2000), SAMPLE_BOTH);
	assert_int_equal(sample_classify(&g, &v, true, 0x100000001000, 0x2000),
			 SAMPLE_GUEST_ONLY); /* an escaped page is not the segment's */
	assert_int_equal(sample_classify(&g, &v, false, 0x2000, 0x2000), SAMPLE_VMM_ONLY);
	assert_int_equal(sample_classify(&g, &v, false, 0x2000, 0x10000000), SAMPLE_NEITHER);
	assert_int_equal(sample_classify(&g, NULL, false, 0x100003fff000, 0x2000),
			 SAMPLE_GUEST_ONLY);
	assert_int_equal(sample_classify(&g, NULL, false, 0x100004000000, 0x2000),
			 SAMPLE_NEITHER); /* LIMIT is exclusive */
	assert_int_equal(sample_classify(NULL, &v, false, 0x100000001000, 0xfffffff),
			 SAMPLE_VMM_ONLY);
	assert_int_equal(sample_classify(&off, &off, false, 5, 5), SAMPLE_NEITHER);
}

/* Data misses by class; fetches and the guest's table walks apart. */
static void what_counts_as_a_miss(void **state)
{
	struct sampler s;
	struct sample_fault f = data_fault(1, SAMPLE_GUEST_ONLY);

	(void)state;
	reset(&s);
	sample_fault(&s, &f, &ops);
	f = data_fault(2, SAMPLE_BOTH);
	sample_fault(&s, &f, &ops);
	f = data_fault(3, SAMPLE_NEITHER);
	f.fetch = true;
	sample_fault(&s, &f, &ops);
	f = data_fault(4, SAMPLE_VMM_ONLY);
	f.final = false; /* a guest paging-structure read */
	sample_fault(&s, &f, &ops);
	f = data_fault(5, SAMPLE_VMM_ONLY);
	f.gva_valid = false;
	sample_fault(&s, &f, &ops);
	assert_int_equal(s.stats.exits, 5);
	assert_int_equal(s.stats.data_misses, 2);
	assert_int_equal(s.stats.by_class[SAMPLE_GUEST_ONLY], 1);
	assert_int_equal(s.stats.by_class[SAMPLE_BOTH], 1);
	assert_int_equal(s.stats.by_class[SAMPLE_VMM_ONLY], 0);
	assert_int_equal(s.stats.fetch_misses, 1);
	assert_int_equal(s.stats.table_faults, 2);
	assert_int_equal(sample_ppm_gd(&s.stats), 1000000);
	assert_int_equal(sample_ppm_vd(&s.stats), 500000);
	assert_int_equal(sample_ppm_dd(&s.stats), 500000);
}

static void fractions_without_misses(void **state)
{
	struct sample_stats st = {0};

	(void)state;
	assert_int_equal(sample_ppm_gd(&st), 0);
	assert_int_equal(sample_ppm_vd(&st), 0);
	assert_int_equal(sample_ppm_dd(&st), 0);
}

/* Every faulting leaf is cured; data leaves are held and poisoned again,
 * oldest first, once SAMPLE_HELD are held; table pages stay cured. */
static void cure_hold_rearm(void **state)
{
	struct sampler s;

	(void)state;
	reset(&s);
	for (u64 p = 0; p < SAMPLE_HELD; p++) {
		struct sample_fault f = data_fault(p, SAMPLE_NEITHER);

		sample_fault(&s, &f, &ops);
		assert_false(poisoned[p]);
	}
	assert_int_equal(s.stats.rearms, 0);
	for (u64 p = 0; p < SAMPLE_HELD; p++)
		assert_false(poisoned[p]); /* all held */
	{
		struct sample_fault f = data_fault(SAMPLE_HELD, SAMPLE_NEITHER);

		sample_fault(&s, &f, &ops);
	}
	assert_true(poisoned[0]); /* the oldest, poisoned again */
	assert_false(poisoned[1]);
	assert_false(poisoned[SAMPLE_HELD]);
	assert_int_equal(s.stats.rearms, 1);
	/* a table page: cured, never held, so never poisoned again */
	{
		struct sample_fault f = data_fault(500, SAMPLE_NEITHER);

		f.final = false;
		sample_fault(&s, &f, &ops);
	}
	for (u64 p = 600; p < 600 + 2 * SAMPLE_HELD; p++) {
		struct sample_fault f = data_fault(p, SAMPLE_NEITHER);

		sample_fault(&s, &f, &ops);
	}
	assert_false(poisoned[500]);
	assert_true(poisoned[SAMPLE_HELD]);
	assert_int_equal(s.nheld, SAMPLE_HELD);
}

/* An instruction that needs several poisoned pages at once gets them all:
 * the ones cured for it are not poisoned again while it retries. */
static void one_instruction_many_pages(void **state)
{
	struct sampler s;
	const u64 pages[] = {10, 20, 30, 40}; /* code, data, stack, IDT, say */

	(void)state;
	reset(&s);
	for (unsigned i = 0; i < 4; i++) {
		struct sample_fault f = data_fault(pages[i], SAMPLE_NEITHER);

		sample_fault(&s, &f, &ops);
		for (unsigned j = 0; j <= i; j++)
			assert_false(poisoned[pages[j]]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify_by_triples),
		cmocka_unit_test(what_counts_as_a_miss),
		cmocka_unit_test(fractions_without_misses),
		cmocka_unit_test(cure_hold_rearm),
		cmocka_unit_test(one_instruction_many_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
