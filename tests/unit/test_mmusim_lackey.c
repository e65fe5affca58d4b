/* mmusim's reader of valgrind lackey --trace-mem=yes output: exact counts on
 * hand-written traces, M lines, valgrind's own lines, and clear errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dimvisor/errno.h>
#include "test_mmusim_trace.h"

static long parse_text(const char *text, bool ifetch, struct access **a, struct trace_stats *st,
		       char *err, size_t errlen)
{
	char path[32];
	long n;

	tmp_file(path, text, strlen(text));
	n = read_all(path, ifetch, a, st, err, errlen);
	unlink(path);
	return n;
}

static const char small_trace[] = "==4711== Lackey, an example Valgrind tool\n"
				  "==4711== Command: ./a.out\n"
				  "==4711== \n"
				  "I  04016a0,3\n"
				  " S 1ffefffd28,8\n"
				  "I  04016a3,5\n"
				  " L 00422a38,4\n"
				  " M 7ff000398,8\n"
				  "I  04016a8,2\n"
				  " L 7FF000390,16\n"
				  "--4711-- a verbose message\n"
				  " S 004228f0,1\n"
				  "**4711** a valgrind error\n"
				  "==4711== \n";

static void counts_of_a_small_trace(void **state)
{
	struct access *a;
	struct trace_stats st;
	char err[200];
	long n = parse_text(small_trace, false, &a, &st, err, sizeof(err));

	assert_int_equal(n, 6);		/* S, L, M = L + S, L, S */
	assert_int_equal(st.loads, 3);	/* two L and M's load */
	assert_int_equal(st.stores, 3); /* two S and M's store */
	assert_int_equal(st.modifies, 1);
	assert_int_equal(st.ifetches, 3);
	assert_int_equal(st.ignored, 6);
	assert_int_equal(st.lines, 14);
	assert_int_equal(trace_data_accesses(&st), 6);
	free(a);
}

static void accesses_of_a_small_trace(void **state)
{
	static const struct access want[] = {
		{0x1ffefffd28, 8, ACCESS_WRITE}, {0x422a38, 4, ACCESS_READ},
		{0x7ff000398, 8, ACCESS_READ},	 {0x7ff000398, 8, ACCESS_WRITE},
		{0x7ff000390, 16, ACCESS_READ},	 {0x4228f0, 1, ACCESS_WRITE},
	};
	struct access *a;
	char err[200];
	long n = parse_text(small_trace, false, &a, NULL, err, sizeof(err));

	assert_int_equal(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(a[i].va, want[i].va);
		assert_int_equal(a[i].size, want[i].size);
		assert_int_equal(a[i].kind, want[i].kind);
	}
	free(a);
}

/* With --ifetch the I lines become accesses too, in trace order. */
static void ifetch_fed_when_asked(void **state)
{
	struct access *a;
	struct trace_stats st;
	char err[200];
	long n = parse_text(small_trace, true, &a, &st, err, sizeof(err));

	assert_int_equal(n, 9);
	assert_int_equal(a[0].kind, ACCESS_IFETCH);
	assert_int_equal(a[0].va, 0x4016a0);
	assert_int_equal(a[0].size, 3);
	assert_int_equal(a[1].kind, ACCESS_WRITE);
	assert_int_equal(st.ifetches, 3);
	free(a);
}

/* CRLF line ends, blank lines and a last line without a newline. */
static void line_end_variants(void **state)
{
	struct access *a;
	char err[200];
	long n = parse_text(" L 10,4\r\n\n S 20,8", false, &a, NULL, err, sizeof(err));

	assert_int_equal(n, 2);
	assert_int_equal(a[1].va, 0x20);
	assert_int_equal(a[1].kind, ACCESS_WRITE);
	free(a);
}

static void expect_error(const char *text, const char *line_no, const char *what)
{
	struct access *a = NULL;
	char err[200] = "";
	long n = parse_text(text, false, &a, NULL, err, sizeof(err));

	assert_int_equal(n, -DV_EINVAL);
	if (!strstr(err, line_no) || !strstr(err, what))
		fail_msg("message '%s' lacks '%s' / '%s'", err, line_no, what);
	free(a);
}

static void malformed_lines_are_errors(void **state)
{
	expect_error(" L 10,4\nhello world\n", "line 2", "not a lackey record");
	expect_error(" L 10,4\n X 10,4\n", "line 2", "not a lackey record");
	expect_error(" L 10\n", "line 1", "malformed");
	expect_error(" L ,4\n", "line 1", "malformed");
	expect_error(" L 10,\n", "line 1", "malformed");
	expect_error(" L 10,0\n", "line 1", "malformed");
	expect_error(" L 10,4x\n", "line 1", "malformed");
	expect_error(" L 0x10,4\n", "line 1", "malformed");
	expect_error(" L 12345678901234567,4\n", "line 1", "malformed"); /* 17 hex digits */
	expect_error(" L 10,99999999999\n", "line 1", "malformed");
	expect_error("I 4016a0,3\n", "line 1", "not a lackey record"); /* one space */
	expect_error("==12 not valgrind\n", "line 1", "not a lackey record");
}

/* Binary junk without a newline: the error names line 1 and byte 0 (it
 * said "line 0"), or the line and byte where the junk starts. */
static void nul_bytes_name_their_line_and_byte(void **state)
{
	static char text[9000 + 16] = " L 10,4\n S 20,8\n";
	struct access *a = NULL;
	char err[200] = "", path[32];
	long n;

	tmp_file(path, text + 16, 9000);
	n = read_all(path, false, &a, NULL, err, sizeof(err));
	unlink(path);
	assert_int_equal(n, -DV_EINVAL);
	if (!strstr(err, "line 1 (byte 0)"))
		fail_msg("message '%s' lacks 'line 1 (byte 0)'", err);
	free(a);
	tmp_file(path, text, sizeof(text));
	n = read_all(path, false, &a, NULL, err, sizeof(err));
	unlink(path);
	assert_int_equal(n, -DV_EINVAL);
	if (!strstr(err, "line 3 (byte 16)"))
		fail_msg("message '%s' lacks 'line 3 (byte 16)'", err);
	free(a);
}

/* trace_next gives at most max accesses, and the counts are those of the
 * accesses given: a modify cut after its load counts as a load alone. */
static void counts_stop_at_max(void **state)
{
	static const char text[] = " L 10,4\nI  40,4\n M 20,8\n S 30,8\n";
	struct access a[4];
	struct trace t;
	char err[200], path[32];

	tmp_file(path, text, strlen(text));
	assert_int_equal(trace_open(&t, path, false, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(trace_next(&t, a, 2), 2);
	assert_int_equal(a[1].va, 0x20);
	assert_int_equal(a[1].kind, ACCESS_READ);
	assert_int_equal(t.stats.loads, 2);
	assert_int_equal(t.stats.stores, 0);
	assert_int_equal(t.stats.modifies, 0);
	assert_int_equal(t.stats.ifetches, 1);
	assert_int_equal(trace_next(&t, a, 1), 1);
	assert_int_equal(a[0].va, 0x30);
	assert_int_equal(t.stats.stores, 1);
	assert_int_equal(trace_next(&t, a, 4), 0);
	trace_close(&t);
}

/* A trace far longer than the reader's buffer: lines split across refills
 * are read whole. */
static void long_trace_across_buffers(void **state)
{
	size_t lines = 600000, len = 0;
	char *text = malloc(lines * 24 + 1);
	struct access *a;
	struct trace_stats st;
	char err[200];
	long n;

	for (size_t i = 0; i < lines; i++)
		len += (size_t)sprintf(text + len, "%s %zx,8\n", i % 3 == 2 ? " M" : " L", i * 64);
	n = parse_text(text, false, &a, &st, err, sizeof(err));
	assert_int_equal(n, lines + lines / 3);
	assert_int_equal(st.modifies, lines / 3);
	assert_int_equal(a[n - 1].va, (lines - 1) * 64);
	assert_int_equal(a[n - 1].kind, ACCESS_WRITE);
	free(a);
	free(text);
}

static void missing_file_is_an_error(void **state)
{
	struct trace t;
	char err[200];

	assert_true(trace_open(&t, "/nonexistent/trace", false, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/trace"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_of_a_small_trace),
		cmocka_unit_test(accesses_of_a_small_trace),
		cmocka_unit_test(ifetch_fed_when_asked),
		cmocka_unit_test(line_end_variants),
		cmocka_unit_test(malformed_lines_are_errors),
		cmocka_unit_test(nul_bytes_name_their_line_and_byte),
		cmocka_unit_test(counts_stop_at_max),
		cmocka_unit_test(long_trace_across_buffers),
		cmocka_unit_test(missing_file_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
