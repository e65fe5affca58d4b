/* The guest's workloads against mmusim's generators: the same name, size and
 * seed must give the same layout and the same address stream, and the
 * guest's verification must pass on good memory and fail on bad. The guest
 * code runs hosted here on a heap buffer standing in for its region. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "guest/workloads/workload.h"
#include "lib/wl_chase.h"
#include "lib/wl_layout.h"
#include "tools/mmusim/workload.h"
#include "workload_helpers.h"

#define KiB_ (1ULL << 10)
#define MiB_ (1ULL << 20)

static const u64 footprints[] = {64 * KiB_, 100 * KiB_, MiB_, 16 * MiB_, 64 * MiB_, 100 * MiB_};

/* The region the guest maps for a workload covers mmusim's whole layout. */
static void layout_matches_mmusim(void **state)
{
	static const struct {
		const char *name;
		u64 (*bytes)(u64);
	} w[] = {{"gups", wl_gups_bytes},
		 {"chase", wl_chase_bytes},
		 {"stream", wl_stream_bytes},
		 {"kvs", wl_kvs_bytes}};

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		for (size_t f = 0; f < sizeof(footprints) / sizeof(footprints[0]); f++) {
			struct workload_params wp = {.footprint = footprints[f], .seed = 3};
			struct workload wl;
			char err[200];

			if (workload_open(&wl, w[i].name, &wp, err, sizeof(err))) {
				/* too small for mmusim (kvs): too small for the guest */
				assert_int_equal(w[i].bytes(footprints[f]), ~0ULL);
				continue;
			}
			assert_int_equal(w[i].bytes(footprints[f]), wl.vs.next - WL_VA_BASE);
			assert_true(w[i].bytes(footprints[f]) <=
				    ALIGN_UP(footprints[f], wl.vs.align));
			workload_close(&wl);
		}
	}
}

/* A buffer standing in for the region, laid out from WL_VA_BASE's offset 0. */
static u8 *region(u64 bytes)
{
	u8 *b = aligned_alloc(4096, ALIGN_UP(bytes, 4096));

	assert_non_null(b);
	memset(b, 0, ALIGN_UP(bytes, 4096));
	return b;
}

/* gups: the words the guest's updates changed are exactly the words mmusim's
 * stream touches (each update XORs a distinct non-zero value). The guest's
 * verification runs on a second buffer here, so the first keeps the updates. */
static void gups_updates_the_words_mmusim_touches(void **state)
{
	const u64 size = 64 * KiB_, ops = 3000;
	struct wl_options o = {.size = size, .seed = 11, .ops = ops};
	u8 *a = region(size), *b = region(size);
	struct wl_place p = {.va = (u64)a, .view = (u64)b, .size = size};
	struct wl_result r;
	struct workload wl;
	struct access *acc;
	u8 *touched = calloc(size / 8, 1);
	u64 unchanged = 0, ntouched = 0;

	(void)state;
	wl_gups_run(&p, &o, &r);
	open_wl(&wl, "gups", size, 11);
	acc = take(&wl, 2 * ops);
	for (size_t i = 0; i < 2 * ops; i++) {
		assert_int_equal(acc[i].kind, i % 2 ? ACCESS_WRITE : ACCESS_READ);
		touched[(acc[i].va - WL_VA_BASE) / 8] = 1;
	}
	/* Every changed word was touched; a touched word may be unchanged only
	 * when its updates cancel (the shift register's values are linearly
	 * dependent over GF(2), so a few do): rarely. */
	for (u64 w = 0; w < size / 8; w++) {
		if (((u64 *)a)[w] != w)
			assert_true(touched[w]);
		unchanged += touched[w] && ((u64 *)a)[w] == w;
		ntouched += touched[w];
	}
	assert_true(ntouched > ops / 2);
	assert_true(unchanged * 100 < ntouched);
	free(acc);
	free(touched);
	workload_close(&wl);
	free(a);
	free(b);
}

/* chase: the cycle the guest built, followed from its start, visits the
 * nodes in the order of mmusim's stream. */
static void chase_visits_mmusim_order(void **state)
{
	const u64 size = MiB_, steps = 20000;
	struct wl_options o = {.size = size, .seed = 5, .ops = 100};
	u8 *a = region(size);
	struct wl_place p = {.va = (u64)a, .view = (u64)a, .size = size};
	struct wl_result r;
	struct workload wl;
	struct access *acc;
	struct wl_chase c;
	u64 at;

	(void)state;
	wl_chase_run(&p, &o, &r);
	assert_int_equal(r.errors, 0);
	wl_chase_init(&c, size, 5);
	at = (u64)a + wl_chase_node(&c, 0) * WL_CHASE_NODE;
	open_wl(&wl, "chase", size, 5);
	acc = take(&wl, steps);
	for (size_t i = 0; i < steps; i++) {
		assert_int_equal(acc[i].va - WL_VA_BASE, at - (u64)a);
		at = *(u64 *)at;
	}
	free(acc);
	workload_close(&wl);
	free(a);
}

/* kvs: the items the guest's requests touch are where mmusim's stream goes:
 * after a run, exactly the items of the ranks requested carry a time. */
static void kvs_touches_the_items_mmusim_touches(void **state)
{
	const u64 size = 4 * MiB_, ops = 5000;
	struct wl_options o = {.size = size, .seed = 9, .ops = ops};
	u8 *a = region(size);
	struct wl_place p = {.va = (u64)a, .view = (u64)a, .size = size};
	struct wl_result r;
	struct workload wl;
	struct access *acc;
	size_t n = 0;

	(void)state;
	wl_kvs_run(&p, &o, &r);
	assert_int_equal(r.errors, 0);
	open_wl(&wl, "kvs", size, 9);
	acc = take(&wl, 16 * ops);
	/* each request ends with its item's time write (8 bytes at +16) */
	for (size_t i = 0; n < ops; i++) {
		if (acc[i].kind == ACCESS_WRITE && acc[i].size == 8) {
			assert_int_not_equal(*(u64 *)(a + (acc[i].va - WL_VA_BASE)), 0);
			n++;
		}
	}
	free(acc);
	workload_close(&wl);
	free(a);
}

typedef void (*run_fn)(const struct wl_place *, const struct wl_options *, struct wl_result *);

/* Good memory: no error. The verification reading other memory than the
 * workload wrote (what a wrong translation looks like): errors. */
static void verification_passes_and_fails(void **state)
{
	static const run_fn runs[] = {wl_gups_run, wl_chase_run, wl_stream_run, wl_kvs_run};
	const u64 size = MiB_;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct wl_options o = {.size = size, .seed = 2, .ops = 50000};
		u8 *a = region(size), *b = region(size);
		struct wl_place same = {.va = (u64)a, .view = (u64)a, .size = size};
		struct wl_place other = {.va = (u64)a, .view = (u64)b, .size = size};
		struct wl_result r;

		runs[i](&same, &o, &r);
		assert_int_equal(r.errors, 0);
		assert_true(r.ops >= o.ops || i == 2); /* stream: whole sweeps */
		runs[i](&other, &o, &r);
		assert_true(r.errors > 0);
		free(a);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_matches_mmusim),
		cmocka_unit_test(gups_updates_the_words_mmusim_touches),
		cmocka_unit_test(chase_visits_mmusim_order),
		cmocka_unit_test(kvs_touches_the_items_mmusim_touches),
		cmocka_unit_test(verification_passes_and_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
