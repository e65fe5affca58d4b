/* lib/parse.c: numbers, sizes, tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "lib/parse.h"

#define UNTOUCHED 0x5555555555555555ULL

/* parse fn over the whole C string s; *out starts as UNTOUCHED. */
static int run(int (*fn)(const char *, size_t, u64 *), const char *s, u64 *out)
{
	*out = UNTOUCHED;
	return fn(s, strlen(s), out);
}

static void expect_u64(const char *s, u64 want)
{
	u64 v;

	assert_int_equal(run(parse_u64, s, &v), 0);
	assert_int_equal(v, want);
}

static void expect_u64_error(const char *s, int err)
{
	u64 v;

	assert_int_equal(run(parse_u64, s, &v), err);
	assert_int_equal(v, UNTOUCHED);
}

static void expect_size(const char *s, u64 want)
{
	u64 v;

	assert_int_equal(run(parse_size, s, &v), 0);
	assert_int_equal(v, want);
}

static void expect_size_error(const char *s, int err)
{
	u64 v;

	assert_int_equal(run(parse_size, s, &v), err);
	assert_int_equal(v, UNTOUCHED);
}

static void u64_decimal(void **state)
{
	expect_u64("0", 0);
	expect_u64("42", 42);
	expect_u64("007", 7); /* leading zeros are decimal, not octal */
	expect_u64("18446744073709551615", 18446744073709551615ULL);
}

static void u64_hex(void **state)
{
	expect_u64("0x0", 0);
	expect_u64("0x1f000", 0x1f000);
	expect_u64("0XABCdef", 0xabcdef);
	expect_u64("0xffffffffffffffff", 0xffffffffffffffffULL);
	expect_u64("0x00000000000000000001", 1); /* leading zeros do not overflow */
}

static void u64_rejects_empty_and_junk(void **state)
{
	expect_u64_error("", -DV_EINVAL);
	expect_u64_error("0x", -DV_EINVAL);
	expect_u64_error("12a", -DV_EINVAL);
	expect_u64_error("0x1g", -DV_EINVAL);
	expect_u64_error("-1", -DV_EINVAL);
	expect_u64_error("+1", -DV_EINVAL);
	expect_u64_error(" 1", -DV_EINVAL);
	expect_u64_error("1 ", -DV_EINVAL);
	expect_u64_error("0b101", -DV_EINVAL);
	expect_u64_error("ff", -DV_EINVAL);
}

static void u64_rejects_overflow(void **state)
{
	expect_u64_error("18446744073709551616", -DV_ERANGE);
	expect_u64_error("99999999999999999999999", -DV_ERANGE);
	expect_u64_error("0x10000000000000000", -DV_ERANGE);
}

static void u64_junk_wins_over_overflow(void **state)
{
	expect_u64_error("99999999999999999999999x", -DV_EINVAL);
}

static void u64_uses_only_len_bytes(void **state)
{
	u64 v = UNTOUCHED;

	assert_int_equal(parse_u64("1234junk", 4, &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(parse_u64((const char[]){'9', '9'}, 2, &v), 0); /* no NUL needed */
	assert_int_equal(v, 99);
	assert_int_equal(parse_u64(NULL, 0, &v), -DV_EINVAL);
}

static void size_plain_bytes(void **state)
{
	expect_size("0", 0);
	expect_size("4096", 4096);
	expect_size("4096B", 4096);
	expect_size("0x200000", 0x200000);
}

static void size_suffixes_are_binary(void **state)
{
	expect_size("4K", 4096);
	expect_size("512M", 536870912);
	expect_size("2G", 2147483648ULL);
	expect_size("1T", 1099511627776ULL);
	expect_size("0x10M", 16777216);
}

static void size_suffixes_ignore_case_and_take_b(void **state)
{
	expect_size("4k", 4096);
	expect_size("4KB", 4096);
	expect_size("4kb", 4096);
	expect_size("3mB", 3145728);
	expect_size("1g", 1073741824);
	expect_size("1tb", 1099511627776ULL);
}

static void size_hex_b_is_a_digit(void **state)
{
	expect_size("0x1B", 27);
	expect_size("0x1KB", 1024);
}

static void size_rejects_bad_input(void **state)
{
	expect_size_error("", -DV_EINVAL);
	expect_size_error("M", -DV_EINVAL);
	expect_size_error("KB", -DV_EINVAL);
	expect_size_error("12Q", -DV_EINVAL);
	expect_size_error("12KK", -DV_EINVAL);
	expect_size_error("12BB", -DV_EINVAL);
	expect_size_error("12KiB", -DV_EINVAL);
	expect_size_error("1.5G", -DV_EINVAL);
	expect_size_error("12 M", -DV_EINVAL);
	expect_size_error("-1M", -DV_EINVAL);
	expect_size_error("0xM", -DV_EINVAL);
	expect_size_error("0x", -DV_EINVAL);
}

static void size_rejects_overflow(void **state)
{
	expect_size_error("16777216T", -DV_ERANGE); /* 2^24 * 2^40 = 2^64 */
	expect_size_error("18446744073709551616", -DV_ERANGE);
	expect_size("16777215T", 18446742974197923840ULL);
	expect_size("17179869183G", 18446744072635809792ULL);
}

static void size_uses_only_len_bytes(void **state)
{
	u64 v = UNTOUCHED;

	assert_int_equal(parse_size("64Mxyz", 3, &v), 0);
	assert_int_equal(v, 67108864);
	assert_int_equal(parse_size(NULL, 0, &v), -DV_EINVAL);
}

/* Collect all tokens of s as "[tok]" strings. */
static void tokens_of(const char *s, char *out, size_t n)
{
	const char *cursor = s, *tok;
	size_t len;

	out[0] = '\0';
	while (next_token(&cursor, &tok, &len)) {
		size_t used = strlen(out);

		snprintf(out + used, n - used, "[%.*s]", (int)len, tok);
	}
}

static void tokens_split_on_whitespace(void **state)
{
	char out[128];

	tokens_of("mode=base mem=512M", out, sizeof(out));
	assert_string_equal(out, "[mode=base][mem=512M]");
	tokens_of("  \t/boot/dimvisor.elf \n log=debug\r\n", out, sizeof(out));
	assert_string_equal(out, "[/boot/dimvisor.elf][log=debug]");
	tokens_of("one", out, sizeof(out));
	assert_string_equal(out, "[one]");
	tokens_of("a\vb\fc", out, sizeof(out));
	assert_string_equal(out, "[a][b][c]");
}

static void tokens_none_in_blank_or_null(void **state)
{
	const char *cursor = "   \t ", *tok = NULL;
	size_t len = 99;

	assert_false(next_token(&cursor, &tok, &len));
	assert_int_equal(*cursor, '\0'); /* cursor parked at the end */
	assert_null(tok);
	assert_int_equal(len, 99);
	cursor = "";
	assert_false(next_token(&cursor, &tok, &len));
	cursor = NULL;
	assert_false(next_token(&cursor, &tok, &len));
}

static void tokens_stay_false_at_end(void **state)
{
	const char *cursor = "x", *tok;
	size_t len;

	assert_true(next_token(&cursor, &tok, &len));
	assert_false(next_token(&cursor, &tok, &len));
	assert_false(next_token(&cursor, &tok, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u64_decimal),
		cmocka_unit_test(u64_hex),
		cmocka_unit_test(u64_rejects_empty_and_junk),
		cmocka_unit_test(u64_rejects_overflow),
		cmocka_unit_test(u64_junk_wins_over_overflow),
		cmocka_unit_test(u64_uses_only_len_bytes),
		cmocka_unit_test(size_plain_bytes),
		cmocka_unit_test(size_suffixes_are_binary),
		cmocka_unit_test(size_suffixes_ignore_case_and_take_b),
		cmocka_unit_test(size_hex_b_is_a_digit),
		cmocka_unit_test(size_rejects_bad_input),
		cmocka_unit_test(size_rejects_overflow),
		cmocka_unit_test(size_uses_only_len_bytes),
		cmocka_unit_test(tokens_split_on_whitespace),
		cmocka_unit_test(tokens_none_in_blank_or_null),
		cmocka_unit_test(tokens_stay_false_at_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
