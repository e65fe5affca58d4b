/* lib/printf.c: conversions, flags, width and precision, snprintf truncation,
 * and the chunked sink. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <limits.h>
#include <string.h>

#include "lib/printf.h"

/* Format into a large buffer and compare the text and the return value. */
#define CHECK(expect, ...) check_format(expect, sizeof(expect) - 1, __VA_ARGS__)

static __printf_like(3, 4) void check_format(const char *expect, size_t len, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_string_equal(buf, expect);
	assert_int_equal(ret, len);
}

/* Records every sink call. */
struct recorder {
	int calls;
	size_t len;
	char out[8192];
};

static void record_sink(void *ctx, const char *s, size_t n)
{
	struct recorder *r = ctx;

	assert_true(n > 0);
	assert_true(r->len + n < sizeof(r->out));
	memcpy(r->out + r->len, s, n);
	r->len += n;
	r->out[r->len] = '\0';
	r->calls++;
}

static __printf_like(3, 4) int format_to(fmt_sink sink, void *ctx, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvformat(sink, ctx, fmt, ap);
	va_end(ap);
	return ret;
}

static void plain_text_and_percent(void **state)
{
	CHECK("", "%s", "");
	CHECK("hello, world", "hello, world");
	CHECK("100%", "100%%");
	CHECK("%%", "%%%%");
}

static void signed_decimal(void **state)
{
	CHECK("0", "%d", 0);
	CHECK("42", "%d", 42);
	CHECK("-42", "%i", -42);
	CHECK("2147483647", "%d", INT_MAX);
	CHECK("-2147483648", "%d", INT_MIN);
}

static void unsigned_conversions(void **state)
{
	CHECK("4294967295", "%u", 4294967295u);
	CHECK("ff", "%x", 255);
	CHECK("FF", "%X", 255);
	CHECK("377", "%o", 255);
	CHECK("0 0 0", "%x %o %u", 0, 0, 0);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
}

static void pointer_is_0x_hex(void **state)
{
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("0x0", "%p", (void *)0);
	CHECK("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	CHECK("  0xab|", "%6p|", (void *)0xab);
	CHECK("0xab  |", "%-6p|", (void *)0xab);
}

static void strings_and_chars(void **state)
{
	const char *volatile null_string = NULL;

	CHECK("abc", "%s", "abc");
	CHECK("(null)", "%s", null_string);
	CHECK("x", "%c", 'x');
	CHECK("  x|x  |", "%3c|%-3c|", 'x', 'x');
	CHECK("[abc]", "[%s]", "abc");
}

static void char_zero_is_counted(void **state)
{
	char buf[8];

	assert_int_equal(ksnprintf(buf, sizeof(buf), "a%cb", 0), 3);
	assert_memory_equal(buf, "a\0b", 4);
}

static void length_modifiers_narrow(void **state)
{
	CHECK("44", "%hhd", 300);
	CHECK("-1", "%hhd", 255);
	CHECK("1", "%hhu", 257);
	CHECK("ff", "%hhx", 0x1ff);
	CHECK("4464", "%hd", 70000);
	CHECK("-1", "%hd", 65535);
	CHECK("1", "%hu", 65537);
}

static void length_modifiers_wide(void **state)
{
	CHECK("-9223372036854775808", "%ld", LONG_MIN);
	CHECK("-9223372036854775808", "%lld", (long long)INT64_MIN);
	CHECK("+-9223372036854775808", "+%lld", (long long)INT64_MIN);
	CHECK("9223372036854775807", "%lld", (long long)INT64_MAX);
	CHECK("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	CHECK("ffffffffffffffff", "%lx", ULONG_MAX);
	CHECK("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	CHECK("18446744073709551615", "%zu", (size_t)-1);
	CHECK("-5", "%zd", (long)-5);
	CHECK("-7", "%td", (ptrdiff_t)-7);
	CHECK("-9223372036854775808", "%jd", INTMAX_MIN);
	CHECK("18446744073709551615", "%ju", UINTMAX_MAX);
	CHECK("10000000000", "%llx", 1ULL << 40);
}

static void sign_flags(void **state)
{
	CHECK("+5", "%+d", 5);
	CHECK("-5", "%+d", -5);
	CHECK("+0", "%+d", 0);
	CHECK(" 5", "% d", 5);
	CHECK("-5", "% d", -5);
}

static void alternate_form(void **state)
{
	CHECK("0xff", "%#x", 255);
	CHECK("0XFF", "%#X", 255);
	CHECK("0", "%#x", 0);
	CHECK("010", "%#o", 8);
	CHECK("0", "%#o", 0);
}

static void width_and_justification(void **state)
{
	CHECK("   42", "%5d", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("12345", "%2d", 12345);
	CHECK("  -42", "%5d", -42);
	CHECK("       abc|", "%10s|", "abc");
	CHECK("abc       |", "%-10s|", "abc");
	CHECK("      0xff", "%#10x", 255);
}

static void zero_padding(void **state)
{
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);
	CHECK("+0042", "%+05d", 42);
	CHECK(" 0042", "% 05d", 42);
	CHECK("0x000000ff", "%#010x", 255);
	CHECK("000000ff", "%08x", 255);
	CHECK("0000000000000000000000000000000000000042", "%040d", 42);
}

static void integer_precision(void **state)
{
	CHECK("007", "%.3d", 7);
	CHECK("-007", "%.3d", -7);
	CHECK("     007", "%8.3d", 7);
	CHECK("007     |", "%-8.3d|", 7);
	CHECK("12345", "%.3d", 12345);
	CHECK("000ab", "%.5x", 0xab);
	CHECK("0x000ab", "%#.5x", 0xab);
	CHECK("010", "%#.3o", 8);
	CHECK("", "%.d", 0); /* a bare . is precision 0 */
}

static void zero_with_precision_zero_has_no_digits(void **state)
{
	CHECK("", "%.0d", 0);
	CHECK("     |", "%5.0d|", 0);
	CHECK("", "%.0x", 0);
	CHECK("0", "%#.0o", 0);
	CHECK("+", "%+.0d", 0);
}

static void string_precision(void **state)
{
	static const char unterminated[3] = {'x', 'y', 'z'};
	const char *volatile null_string = NULL;

	CHECK("ab", "%.2s", "abcdef");
	CHECK("abc", "%.10s", "abc");
	CHECK("ab    |", "%-6.2s|", "abcdef");
	CHECK("    ab|", "%6.2s|", "abcdef");
	CHECK("", "%.0s", "abc");
	CHECK("xyz", "%.3s", unterminated); /* reads no further than the precision */
	CHECK("(nu", "%.3s", null_string);
}

static void star_width_and_precision(void **state)
{
	CHECK("   42", "%*d", 5, 42);
	CHECK("42   |", "%*d|", -5, 42); /* negative width: left-justify */
	CHECK("42   |", "%-*d|", 5, 42);
	CHECK("0007", "%.*d", 4, 7);
	CHECK("7", "%.*d", -1, 7); /* negative precision: as if none */
	CHECK("abc", "%.*s", 3, "abcdef");
	CHECK("    ab", "%*.*s", 6, 2, "abcdef");
	CHECK("abc 9", "%.*s %d", 3, "abcdef", 9); /* later arguments still line up */
}

static void many_conversions_in_one_format(void **state)
{
	CHECK("mode=vmm-direct mem=0x10000000 (256 MiB) cpu 3/-1 ok%",
	      "mode=%s mem=%#llx (%u MiB) cpu %hhu/%ld %s%%", "vmm-direct", 0x10000000ULL, 256u,
	      (unsigned char)3, -1L, "ok");
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static void unknown_conversion_prints_literally(void **state)
{
	CHECK("%y", "%y");
	CHECK("a%yb", "a%yb");
	CHECK("%5y", "%5y");
	CHECK("%y 5", "%y %d", 5); /* no argument consumed */
	CHECK("%n", "%n");
	CHECK("%lq", "%lq");
}

/* C says which flag wins; GCC warns that the other one is ignored. */
static void flags_that_cancel_out(void **state)
{
	CHECK("+5", "%+ d", 5);
	CHECK("-42  |", "%-05d|", -42);
	CHECK("     007", "%08.3d", 7);
}

static void format_ending_inside_a_conversion(void **state)
{
	CHECK("abc%", "abc%");
	CHECK("%l", "%l");
	CHECK("%-08.", "%-08.");
}
#pragma GCC diagnostic pop

static void snprintf_exact_fit(void **state)
{
	char buf[6];

	assert_int_equal(ksnprintf(buf, sizeof(buf), "hello"), 5);
	assert_string_equal(buf, "hello");
}

static void snprintf_truncates_and_returns_full_length(void **state)
{
	char buf[8] = "XXXXXXX";

	assert_int_equal(ksnprintf(buf, 4, "hello"), 5);
	assert_memory_equal(buf, "hel\0XXX", 8); /* nothing past n touched */
	assert_int_equal(ksnprintf(buf, 5, "hello"), 5);
	assert_string_equal(buf, "hell");
	assert_int_equal(ksnprintf(buf, 4, "%d", 123456), 6);
	assert_string_equal(buf, "123");
	assert_int_equal(ksnprintf(buf, 4, "%8s", "ab"), 8);
	assert_string_equal(buf, "   ");
}

static void snprintf_size_one_writes_only_nul(void **state)
{
	char buf[4] = "XXX";

	assert_int_equal(ksnprintf(buf, 1, "hello %d", 42), 8);
	assert_memory_equal(buf, "\0XX", 4);
}

static void snprintf_size_zero_writes_nothing(void **state)
{
	char buf[4] = "XXX";

	assert_int_equal(ksnprintf(NULL, 0, "hello %d", 42), 8);
	assert_int_equal(ksnprintf(buf, 0, "hello"), 5);
	assert_string_equal(buf, "XXX");
}

static void long_string_whole_and_truncated(void **state)
{
	static char big[1001], out[2048], small[100];

	memset(big, 'q', 1000);
	assert_int_equal(ksnprintf(out, sizeof(out), "<%s>", big), 1002);
	assert_int_equal(strlen(out), 1002);
	assert_int_equal(out[0], '<');
	assert_int_equal(out[1000], 'q');
	assert_int_equal(out[1001], '>');
	assert_int_equal(ksnprintf(small, sizeof(small), "<%s>", big), 1002);
	assert_int_equal(strlen(small), 99);
	assert_int_equal(small[0], '<');
	assert_int_equal(small[98], 'q');
}

static void wide_field_is_padded_fully(void **state)
{
	static char out[600];

	assert_int_equal(ksnprintf(out, sizeof(out), "%500d|", 7), 501);
	for (int i = 0; i < 499; i++)
		assert_int_equal(out[i], ' ');
	assert_string_equal(out + 499, "7|");
}

static void sink_gets_a_line_in_one_call(void **state)
{
	static struct recorder r;

	r = (struct recorder){0};
	assert_int_equal(
		format_to(record_sink, &r, "vcpu %d: exit %s at %#lx\n", 0, "cpuid", 0xfff0L), 29);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.out, "vcpu 0: exit cpuid at 0xfff0\n");
}

static void sink_gets_long_output_in_few_calls(void **state)
{
	static struct recorder r;
	static char big[3001];

	r = (struct recorder){0};
	memset(big, 'z', 3000);
	assert_int_equal(format_to(record_sink, &r, "a%sb%1000dc", big, 5), 4003);
	assert_int_equal(r.len, 4003);
	assert_true(r.calls <= 16);
	assert_int_equal(r.out[0], 'a');
	assert_int_equal(r.out[3000], 'z');
	assert_int_equal(r.out[3001], 'b');
	assert_int_equal(r.out[3002], ' ');
	assert_string_equal(r.out + 4001, "5c");
}

static void sink_not_called_for_empty_output(void **state)
{
	static struct recorder r;

	r = (struct recorder){0};
	assert_int_equal(format_to(record_sink, &r, "%s", ""), 0);
	assert_int_equal(r.calls, 0);
}

static void null_sink_only_counts(void **state)
{
	assert_int_equal(format_to(NULL, NULL, "abc%d", 12), 5);
}

static void kprintf_goes_to_console_sink(void **state)
{
	static struct recorder r;

	r = (struct recorder){0};
	console_set_sink(record_sink, &r);
	assert_int_equal(kprintf("boot %s\n", "ok"), 8);
	console_set_sink(NULL, NULL);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.out, "boot ok\n");
}

static void kprintf_without_sink_drops_output(void **state)
{
	console_set_sink(NULL, NULL);
	assert_int_equal(kprintf("nobody listens %d", 1), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_text_and_percent),
		cmocka_unit_test(signed_decimal),
		cmocka_unit_test(unsigned_conversions),
		cmocka_unit_test(pointer_is_0x_hex),
		cmocka_unit_test(strings_and_chars),
		cmocka_unit_test(char_zero_is_counted),
		cmocka_unit_test(length_modifiers_narrow),
		cmocka_unit_test(length_modifiers_wide),
		cmocka_unit_test(sign_flags),
		cmocka_unit_test(alternate_form),
		cmocka_unit_test(width_and_justification),
		cmocka_unit_test(zero_padding),
		cmocka_unit_test(integer_precision),
		cmocka_unit_test(zero_with_precision_zero_has_no_digits),
		cmocka_unit_test(string_precision),
		cmocka_unit_test(star_width_and_precision),
		cmocka_unit_test(many_conversions_in_one_format),
		cmocka_unit_test(unknown_conversion_prints_literally),
		cmocka_unit_test(flags_that_cancel_out),
		cmocka_unit_test(format_ending_inside_a_conversion),
		cmocka_unit_test(snprintf_exact_fit),
		cmocka_unit_test(snprintf_truncates_and_returns_full_length),
		cmocka_unit_test(snprintf_size_one_writes_only_nul),
		cmocka_unit_test(snprintf_size_zero_writes_nothing),
		cmocka_unit_test(long_string_whole_and_truncated),
		cmocka_unit_test(wide_field_is_padded_fully),
		cmocka_unit_test(sink_gets_a_line_in_one_call),
		cmocka_unit_test(sink_gets_long_output_in_few_calls),
		cmocka_unit_test(sink_not_called_for_empty_output),
		cmocka_unit_test(null_sink_only_counts),
		cmocka_unit_test(kprintf_goes_to_console_sink),
		cmocka_unit_test(kprintf_without_sink_drops_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
