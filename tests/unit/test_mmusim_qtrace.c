/* mmusim's reader of qtrace binary records (tools/qtrace.d/qtrace_format.h):
 * decoding, format detection, and clear errors on damaged traces. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "test_mmusim_trace.h"
#include "tools/qtrace.d/qtrace_format.h"

struct image {
	u8 bytes[1 << 16];
	size_t n;
};

static void put(struct image *im, const void *p, size_t n)
{
	memcpy(im->bytes + im->n, p, n);
	im->n += n;
}

static void header(struct image *im, u32 version)
{
	struct qtrace_header h = {.version = version, .header_bytes = QTRACE_HEADER_BYTES};

	memcpy(h.magic, QTRACE_MAGIC, QTRACE_MAGIC_LEN);
	put(im, &h, sizeof(h));
}

static void rec(struct image *im, u64 r)
{
	put(im, &r, sizeof(r));
}

static long parse_image(const struct image *im, bool ifetch, struct access **a,
			struct trace_stats *st, char *err, size_t errlen)
{
	char path[32];
	long n;

	tmp_file(path, im->bytes, im->n);
	n = read_all(path, ifetch, a, st, err, errlen);
	unlink(path);
	return n;
}

static void header_is_32_bytes(void **state)
{
	assert_int_equal(sizeof(struct qtrace_header), QTRACE_HEADER_BYTES);
}

static void record_packing(void **state)
{
	/* 57-bit address, size as log2 in 59:57, kind in 61:60 */
	assert_int_equal(qtrace_record(0x7ffd12345678, 3, QTRACE_STORE),
			 0x7ffd12345678ULL | (3ULL << 57) | (1ULL << 60));
	assert_int_equal(qtrace_record(0x1ffffffffffffffULL, 7, QTRACE_IFETCH),
			 0x1ffffffffffffffULL | (7ULL << 57) | (2ULL << 60));
}

static void decodes_loads_stores_and_sizes(void **state)
{
	static struct image im;
	struct access *a;
	struct trace_stats st;
	char err[200];
	long n;

	im.n = 0;
	header(&im, QTRACE_VERSION);
	rec(&im, qtrace_record(0x400000, 0, QTRACE_LOAD));
	rec(&im, qtrace_record(0x7ffd00001000, 3, QTRACE_STORE));
	rec(&im, qtrace_record(0x1000, 5, QTRACE_LOAD));
	rec(&im, qtrace_record(0x401000, 2, QTRACE_IFETCH));
	rec(&im, qtrace_record(0x2000, 4, QTRACE_STORE));
	n = parse_image(&im, false, &a, &st, err, sizeof(err));
	assert_int_equal(n, 4);
	assert_int_equal(a[0].va, 0x400000);
	assert_int_equal(a[0].size, 1);
	assert_int_equal(a[0].kind, ACCESS_READ);
	assert_int_equal(a[1].va, 0x7ffd00001000);
	assert_int_equal(a[1].size, 8);
	assert_int_equal(a[1].kind, ACCESS_WRITE);
	assert_int_equal(a[2].size, 32);
	assert_int_equal(a[3].va, 0x2000);
	assert_int_equal(a[3].size, 16);
	assert_int_equal(st.loads, 2);
	assert_int_equal(st.stores, 2);
	assert_int_equal(st.ifetches, 1);
	assert_int_equal(trace_data_accesses(&st), 4);
	free(a);
	/* fetches become accesses with --ifetch */
	n = parse_image(&im, true, &a, &st, err, sizeof(err));
	assert_int_equal(n, 5);
	assert_int_equal(a[3].kind, ACCESS_IFETCH);
	assert_int_equal(a[3].va, 0x401000);
	assert_int_equal(a[3].size, 4);
	free(a);
}

static void empty_trace_has_no_accesses(void **state)
{
	static struct image im;
	struct access *a;
	char err[200];

	im.n = 0;
	header(&im, QTRACE_VERSION);
	assert_int_equal(parse_image(&im, false, &a, NULL, err, sizeof(err)), 0);
	free(a);
}

/* Many records: crossing the reader's refills keeps every record. */
static void many_records(void **state)
{
	char path[32];
	FILE *f;
	struct access *a;
	struct trace_stats st;
	char err[200];
	static struct image im;
	long n;
	u64 count = 1500000;

	im.n = 0;
	header(&im, QTRACE_VERSION);
	tmp_file(path, im.bytes, im.n);
	f = fopen(path, "ab");
	for (u64 i = 0; i < count; i++) {
		u64 r = qtrace_record(i * 8, 3, i & 1);

		fwrite(&r, 8, 1, f);
	}
	fclose(f);
	n = read_all(path, false, &a, &st, err, sizeof(err));
	unlink(path);
	assert_int_equal(n, count);
	assert_int_equal(st.loads, count / 2);
	assert_int_equal(a[count - 1].va, (count - 1) * 8);
	assert_int_equal(a[count - 1].kind, ACCESS_WRITE);
	free(a);
}

static void expect_damaged(struct image *im, const char *what)
{
	struct access *a = NULL;
	char err[200] = "";
	long n = parse_image(im, false, &a, NULL, err, sizeof(err));

	assert_true(n < 0);
	if (!strstr(err, what))
		fail_msg("message '%s' lacks '%s'", err, what);
	free(a);
}

static void damaged_traces_are_errors(void **state)
{
	static struct image im;
	u8 half[4] = {1, 2, 3, 4};

	im.n = 0;
	header(&im, 2);
	expect_damaged(&im, "version 2");

	im.n = 0;
	put(&im, QTRACE_MAGIC, QTRACE_MAGIC_LEN);
	put(&im, half, 4);
	expect_damaged(&im, "header truncated");

	im.n = 0;
	header(&im, QTRACE_VERSION);
	rec(&im, qtrace_record(0x1000, 3, QTRACE_LOAD));
	put(&im, half, 4);
	expect_damaged(&im, "inside a record");

	im.n = 0;
	header(&im, QTRACE_VERSION);
	rec(&im, qtrace_record(0x1000, 3, QTRACE_LOAD) | (1ULL << 63));
	expect_damaged(&im, "reserved bits");

	im.n = 0;
	header(&im, QTRACE_VERSION);
	rec(&im, 0x1000 | (3ULL << QTRACE_KIND_SHIFT));
	expect_damaged(&im, "unknown kind");
}

/* Anything without the magic is read as lackey text. */
static void format_detection(void **state)
{
	static struct image im;
	struct trace t;
	char path[32], err[200];

	im.n = 0;
	header(&im, QTRACE_VERSION);
	tmp_file(path, im.bytes, im.n);
	assert_int_equal(trace_open(&t, path, false, err, sizeof(err)), 0);
	assert_int_equal(t.format, TRACE_QTRACE);
	trace_close(&t);
	unlink(path);

	tmp_file(path, " L 10,4\n", 8);
	assert_int_equal(trace_open(&t, path, false, err, sizeof(err)), 0);
	assert_int_equal(t.format, TRACE_LACKEY);
	trace_close(&t);
	unlink(path);

	tmp_file(path, "dvq", 3); /* shorter than the magic: text */
	assert_int_equal(trace_open(&t, path, false, err, sizeof(err)), 0);
	assert_int_equal(t.format, TRACE_LACKEY);
	trace_close(&t);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_is_32_bytes),
		cmocka_unit_test(record_packing),
		cmocka_unit_test(decodes_loads_stores_and_sizes),
		cmocka_unit_test(empty_trace_has_no_accesses),
		cmocka_unit_test(many_records),
		cmocka_unit_test(damaged_traces_are_errors),
		cmocka_unit_test(format_detection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
