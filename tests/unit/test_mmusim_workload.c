/* mmusim's synthetic workloads: determinism, footprint bounds, the shape of
 * each stream, and the pieces they are built from (permutation, Zipf,
 * Kronecker graph). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "tools/mmusim/kron.h"
#include "tools/mmusim/rng.h"
#include "tools/mmusim/workload.h"
#include "workload_helpers.h"
#include "lib/fp/zipf.h"

#define MiB_  (1ULL << 20)
#define N_ACC 20000

static const char *const all_workloads[] = {"gups", "bfs", "cg", "kvs", "chase", "stream"};

static void same_seed_same_stream(void **state)
{
	for (size_t w = 0; w < ARRAY_SIZE(all_workloads); w++) {
		struct workload x, y;
		struct access *a, *b;

		open_wl(&x, all_workloads[w], 256 * MiB_, 7);
		open_wl(&y, all_workloads[w], 256 * MiB_, 7);
		a = take(&x, N_ACC);
		b = take(&y, N_ACC);
		for (size_t i = 0; i < N_ACC; i++) {
			assert_int_equal(a[i].va, b[i].va);
			assert_int_equal(a[i].size, b[i].size);
			assert_int_equal(a[i].kind, b[i].kind);
		}
		free(a);
		free(b);
		workload_close(&x);
		workload_close(&y);
	}
}

static void other_seed_other_stream(void **state)
{
	/* stream is not random: its seed changes nothing */
	for (size_t w = 0; w < ARRAY_SIZE(all_workloads) - 1; w++) {
		struct workload x, y;
		struct access *a, *b;
		size_t differ = 0;

		open_wl(&x, all_workloads[w], 256 * MiB_, 1);
		open_wl(&y, all_workloads[w], 256 * MiB_, 2);
		a = take(&x, N_ACC);
		b = take(&y, N_ACC);
		for (size_t i = 0; i < N_ACC; i++)
			differ += a[i].va != b[i].va;
		assert_true(differ > N_ACC / 10);
		free(a);
		free(b);
		workload_close(&x);
		workload_close(&y);
	}
}

/* Every access lies inside [WL_VA_BASE, WL_VA_BASE + footprint), for odd
 * and huge footprints alike. */
static void addresses_within_footprint(void **state)
{
	static const u64 footprints[] = {100 * MiB_ + 12345, 3ULL << 30, 1ULL << 40, 5ULL << 40};

	for (size_t f = 0; f < ARRAY_SIZE(footprints); f++) {
		for (size_t w = 0; w < ARRAY_SIZE(all_workloads); w++) {
			struct workload wl;
			struct access *a;

			open_wl(&wl, all_workloads[w], footprints[f], 3);
			a = take(&wl, N_ACC);
			for (size_t i = 0; i < N_ACC; i++) {
				assert_true(a[i].va >= WL_VA_BASE);
				assert_true(a[i].va + a[i].size <= WL_VA_BASE + footprints[f]);
			}
			free(a);
			workload_close(&wl);
		}
	}
}

/* Without --scale, bfs builds the largest graph whose arrays fit. */
static void bfs_automatic_scale(void **state)
{
	struct workload_params p = {.footprint = 4 * MiB_, .seed = 1};
	struct workload wl;
	char err[200];

	/* ~280 bytes a vertex: 4 MiB holds scale 13 (8192 vertices), not 14 */
	assert_int_equal(workload_open(&wl, "bfs", &p, err, sizeof(err)), 0);
	assert_non_null(strstr(wl.desc, "scale 13 "));
	workload_close(&wl);
}

/* bfs at a 1 TiB footprint: the graph is built small and stretched. */
static void bfs_stretches_to_footprint(void **state)
{
	struct workload_params p = {.footprint = 1ULL << 40, .seed = 5, .scale = 10};
	struct workload wl;
	struct access *a;
	char err[200];
	u64 hi = 0;

	assert_int_equal(workload_open(&wl, "bfs", &p, err, sizeof(err)), 0);
	assert_non_null(strstr(wl.desc, "scale 10"));
	a = take(&wl, 200000);
	for (size_t i = 0; i < 200000; i++) {
		assert_true(a[i].va + a[i].size <= WL_VA_BASE + p.footprint);
		hi = MAX(hi, a[i].va);
	}
	/* the arrays reach far: accesses land in the upper half */
	assert_true(hi > WL_VA_BASE + p.footprint / 2);
	free(a);
	workload_close(&wl);
}

static void gups_is_read_then_write_of_one_word(void **state)
{
	struct workload wl;
	struct access *a;

	open_wl(&wl, "gups", 64 * MiB_, 1);
	a = take(&wl, N_ACC);
	for (size_t i = 0; i < N_ACC; i += 2) {
		assert_int_equal(a[i].kind, ACCESS_READ);
		assert_int_equal(a[i + 1].kind, ACCESS_WRITE);
		assert_int_equal(a[i].va, a[i + 1].va);
		assert_int_equal(a[i].size, 8);
		assert_int_equal(a[i].va % 8, 0);
	}
	free(a);
	workload_close(&wl);
}

/* HPCC's table is a power of two: 100 MiB of footprint gives 64 MiB. */
static void gups_table_is_a_power_of_two(void **state)
{
	struct workload wl;
	struct access *a;
	u64 hi = 0;

	open_wl(&wl, "gups", 100 * MiB_, 1);
	assert_int_equal(wl.vs.region[0].size, 64 * MiB_);
	a = take(&wl, 200000);
	for (size_t i = 0; i < 200000; i++)
		hi = MAX(hi, a[i].va);
	assert_true(hi < WL_VA_BASE + 64 * MiB_);
	assert_true(hi > WL_VA_BASE + 63 * MiB_);
	free(a);
	workload_close(&wl);
}

/* The chase visits every node exactly once per lap. */
static void chase_is_one_cycle(void **state)
{
	u64 footprint = 1000 * 64; /* 1000 nodes: not a power of two */
	struct workload wl;
	struct access *a;
	u8 *seen = calloc(1000, 1);

	open_wl(&wl, "chase", footprint, 9);
	a = take(&wl, 2000);
	for (size_t i = 0; i < 1000; i++) {
		u64 node = (a[i].va - WL_VA_BASE) / 64;

		assert_true(node < 1000);
		assert_int_equal(seen[node], 0);
		seen[node] = 1;
		assert_int_equal(a[i].va, a[i + 1000].va); /* second lap repeats */
	}
	free(seen);
	free(a);
	workload_close(&wl);
}

/* STREAM: Copy then Scale then Add then Triad, 2, 2, 3, 3 accesses each. */
static void stream_kernels_in_order(void **state)
{
	struct workload wl;
	struct access *a;
	u64 n, arr_a, arr_b, arr_c, total;

	open_wl(&wl, "stream", 16 * 4096 * 4, 1);
	arr_a = wl.vs.region[0].base;
	arr_b = wl.vs.region[1].base;
	arr_c = wl.vs.region[2].base;
	n = wl.vs.region[0].size / 8;
	total = n * (2 + 2 + 3 + 3);
	a = take(&wl, total + 3);
	/* Copy element 0: read a, write c */
	assert_int_equal(a[0].va, arr_a);
	assert_int_equal(a[0].kind, ACCESS_READ);
	assert_int_equal(a[1].va, arr_c);
	assert_int_equal(a[1].kind, ACCESS_WRITE);
	/* Scale element 0: read c, write b */
	assert_int_equal(a[2 * n].va, arr_c);
	assert_int_equal(a[2 * n + 1].va, arr_b);
	/* Add element 1: read a, read b, write c */
	assert_int_equal(a[4 * n + 3].va, arr_a + 8);
	assert_int_equal(a[4 * n + 4].va, arr_b + 8);
	assert_int_equal(a[4 * n + 5].va, arr_c + 8);
	/* Triad last element: read b, read c, write a */
	assert_int_equal(a[total - 1].va, arr_a + (n - 1) * 8);
	assert_int_equal(a[total - 1].kind, ACCESS_WRITE);
	/* then Copy again from element 0 */
	assert_int_equal(a[total].va, arr_a);
	free(a);
	workload_close(&wl);
}

/* cg: a row is rowstr, then colidx/a/p per nonzero, then q; a row's
 * columns ascend. */
static void cg_row_shape(void **state)
{
	struct workload wl;
	struct access *a;
	u64 colidx, val, p, q, prev = 0;

	open_wl(&wl, "cg", 64 * MiB_, 4);
	colidx = wl.vs.region[1].base;
	val = wl.vs.region[2].base;
	p = wl.vs.region[3].base;
	q = wl.vs.region[4].base;
	a = take(&wl, 200);
	assert_int_equal(a[0].va, wl.vs.region[0].base + 4); /* rowstr[1] */
	for (int k = 0; k < 32; k++) {
		assert_int_equal(a[1 + 3 * k].va, colidx + 4 * k);
		assert_int_equal(a[1 + 3 * k].size, 4);
		assert_int_equal(a[2 + 3 * k].va, val + 8 * k);
		assert_true(a[3 + 3 * k].va >= p && a[3 + 3 * k].va < q);
		assert_true(a[3 + 3 * k].va > prev);
		prev = a[3 + 3 * k].va;
	}
	assert_int_equal(a[97].va, q);
	assert_int_equal(a[97].kind, ACCESS_WRITE);
	free(a);
	workload_close(&wl);
}

/* kvs: a GET reads the bucket, the item header and key, copies the value
 * into the connection buffer and writes the item's time; items are
 * KVS_ITEM-aligned in the slabs; the popular keys dominate. */
static void kvs_request_shape_and_skew(void **state)
{
	struct workload wl;
	struct access *a;
	u64 buckets, slabs, conn, top = 0;
	size_t gets = 0, hits_top = 0, n = 13 * 20000;

	open_wl(&wl, "kvs", 256 * MiB_, 2);
	buckets = wl.vs.region[0].base;
	slabs = wl.vs.region[1].base;
	conn = wl.vs.region[2].base;
	a = take(&wl, n);
	for (size_t r = 0; r + 13 <= n; r += 13) {
		const struct access *q = &a[r];

		assert_true(q[0].va >= buckets && q[0].va < slabs);
		assert_true(q[1].va >= slabs && q[1].va < conn);
		assert_int_equal((q[1].va - slabs) % 128, 0);
		assert_int_equal(q[12].va, q[1].va + 16);
		assert_int_equal(q[12].kind, ACCESS_WRITE);
		if (q[4].va < conn) { /* GET: value read, conn written */
			gets++;
			assert_int_equal(q[4].kind, ACCESS_READ);
			assert_true(q[5].va >= conn);
			assert_int_equal(q[5].kind, ACCESS_WRITE);
		}
		if (r == 0)
			top = q[1].va;
	}
	/* 95% GET: allow sampling noise */
	assert_true(gets > 20000 * 90 / 100 && gets < 20000 * 99 / 100);
	/* skew: the first request's item is probably popular; at least the
	 * requests concentrate on few items compared to uniform choice */
	for (size_t r = 0; r + 13 <= n; r += 13)
		hits_top += a[r + 1].va == top;
	assert_true(hits_top >= 1);
	free(a);
	workload_close(&wl);
}

/* Zipf(0.99): rank 0 has probability 1/zeta(n); sampled frequency close. */
static void zipf_rank_frequencies(void **state)
{
	struct zipf z;
	u64 rng = 1, n = 1000000, zero = 0, one = 0, samples = 1000000;

	zipf_init(&z, n, 0.99);
	for (u64 i = 0; i < samples; i++) {
		u64 r = zipf_rank(&z, rng_unit(rng_next(&rng)));

		assert_true(r < n);
		zero += r == 0;
		one += r == 1;
	}
	assert_true(fabs((double)zero / samples - 1 / z.zetan) < 0.005);
	assert_true(fabs((double)one / samples - pow(2, -0.99) / z.zetan) < 0.005);
}

/* The tail formula agrees with the exact sum. */
static void zipf_zeta_tail_matches_exact_sum(void **state)
{
	u64 n = 3000000;
	double exact = 0;

	for (u64 i = n; i >= 1; i--)
		exact += pow((double)i, -0.99);
	assert_true(fabs(zipf_zeta(n, 0.99) - exact) / exact < 1e-9);
}

static void perm_is_a_bijection(void **state)
{
	static const u64 sizes[] = {1, 2, 3, 1000, 4096, 5000};

	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		u64 n = sizes[s];
		u8 *seen = calloc(n, 1);

		for (u64 i = 0; i < n; i++) {
			u64 v = rng_perm(i, n, rng_bits_for(n), 0x1234);

			assert_true(v < n);
			assert_int_equal(seen[v], 0);
			seen[v] = 1;
		}
		free(seen);
	}
}

/* CSR of the Kronecker graph: offsets ascend, both directions stored, and
 * about edgefactor * 2 entries per vertex. */
static void kron_graph_is_symmetric_csr(void **state)
{
	struct kron_graph g;
	u64 pairs = 0;

	assert_int_equal(kron_build(&g, 10, 3), 0);
	assert_int_equal(g.n, 1024);
	assert_int_equal(g.xoff[0], 0);
	for (u64 v = 0; v < g.n; v++)
		assert_true(g.xoff[v] <= g.xoff[v + 1]);
	assert_int_equal(g.xoff[g.n], g.nadj);
	assert_true(g.nadj > 2 * 16 * 1024 * 9 / 10 && g.nadj <= 2 * 16 * 1024);
	/* edge (v, w) stored at v implies (w, v) stored at w: count matches */
	for (u64 v = 0; v < 64; v++) {
		for (u32 e = g.xoff[v]; e < g.xoff[v + 1]; e++) {
			u32 w = g.xadj[e];
			u64 back = 0, fwd = 0;

			assert_true(w < g.n);
			assert_true(w != v);
			for (u32 f = g.xoff[w]; f < g.xoff[w + 1]; f++)
				back += g.xadj[f] == v;
			for (u32 f = g.xoff[v]; f < g.xoff[v + 1]; f++)
				fwd += g.xadj[f] == w;
			assert_int_equal(back, fwd);
			pairs++;
		}
	}
	assert_true(pairs > 0);
	kron_free(&g);
}

/* One BFS: every vertex's parent is written at most once per search, and
 * each discovery writes visited, parent and queue. */
static void bfs_discovers_each_vertex_once(void **state)
{
	struct workload_params p = {.footprint = 64 * MiB_, .seed = 1, .scale = 8};
	struct workload wl;
	struct access *a;
	char err[200];
	u64 parent, queue, n = 256, init_writes = 0, discoveries = 0;
	size_t total = 400000, i;
	u8 *written;

	assert_int_equal(workload_open(&wl, "bfs", &p, err, sizeof(err)), 0);
	parent = wl.vs.region[2].base;
	queue = wl.vs.region[3].base;
	written = calloc(wl.vs.region[2].size / 8, 1);
	a = take(&wl, total);
	/* the first search starts with parent[] := -1 over every vertex */
	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].kind, ACCESS_WRITE);
		assert_true(a[i].va >= parent && a[i].va < queue);
		init_writes++;
	}
	/* then until the next init stream: discoveries */
	for (i = n + 1; i < total; i++) {
		if (a[i].kind == ACCESS_WRITE && a[i].va >= parent && a[i].va < queue) {
			u64 slot = (a[i].va - parent) / 8;

			if (a[i + 1].va >= parent && a[i + 1].va < queue)
				break; /* two parent writes in a row: the next search's init */
			assert_int_equal(written[slot], 0);
			written[slot] = 1;
			discoveries++;
			assert_int_equal(a[i + 1].kind, ACCESS_WRITE); /* queue[tail] */
			assert_true(a[i + 1].va >= queue);
		}
	}
	assert_int_equal(init_writes, n);
	assert_true(discoveries > n / 4 && discoveries < n);
	free(written);
	free(a);
	workload_close(&wl);
}

static void unknown_workload_and_bad_footprints(void **state)
{
	struct workload_params p = {.footprint = 1 << 20};
	struct workload wl;
	char err[200];

	assert_int_equal(workload_open(&wl, "nope", &p, err, sizeof(err)), -DV_ENOENT);
	assert_non_null(strstr(err, "nope"));
	p.footprint = 100;
	assert_int_equal(workload_open(&wl, "gups", &p, err, sizeof(err)), -DV_EINVAL);
	assert_int_equal(workload_open(&wl, "cg", &p, err, sizeof(err)), -DV_EINVAL);
	p.footprint = 1ULL << 50;
	assert_int_equal(workload_open(&wl, "gups", &p, err, sizeof(err)), -DV_ERANGE);
	p.footprint = 1 << 20;
	p.scale = 30;
	assert_int_equal(workload_open(&wl, "bfs", &p, err, sizeof(err)), -DV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_seed_same_stream),
		cmocka_unit_test(other_seed_other_stream),
		cmocka_unit_test(addresses_within_footprint),
		cmocka_unit_test(bfs_automatic_scale),
		cmocka_unit_test(bfs_stretches_to_footprint),
		cmocka_unit_test(gups_is_read_then_write_of_one_word),
		cmocka_unit_test(gups_table_is_a_power_of_two),
		cmocka_unit_test(chase_is_one_cycle),
		cmocka_unit_test(stream_kernels_in_order),
		cmocka_unit_test(cg_row_shape),
		cmocka_unit_test(kvs_request_shape_and_skew),
		cmocka_unit_test(zipf_rank_frequencies),
		cmocka_unit_test(zipf_zeta_tail_matches_exact_sum),
		cmocka_unit_test(perm_is_a_bijection),
		cmocka_unit_test(kron_graph_is_symmetric_csr),
		cmocka_unit_test(bfs_discovers_each_vertex_once),
		cmocka_unit_test(unknown_workload_and_bad_footprints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
