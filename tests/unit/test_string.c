/* lib/string.c, through its hosted dv_ names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/string.h"

static void memcpy_copies_and_returns_dst(void **state)
{
	char dst[8] = "xxxxxxx";

	assert_ptr_equal(dv_memcpy(dst, "abc", 3), dst);
	assert_string_equal(dst, "abcxxxx");
}

static void memcpy_zero_length_touches_nothing(void **state)
{
	char dst[4] = "xyz";

	assert_ptr_equal(dv_memcpy(dst, "abc", 0), dst);
	assert_string_equal(dst, "xyz");
}

/* Every alignment and length up to a few words, against a byte-wise reference. */
static void memcpy_all_alignments(void **state)
{
	unsigned char src[64], dst[64];

	for (int i = 0; i < 64; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (size_t so = 0; so < 9; so++) {
		for (size_t doff = 0; doff < 9; doff++) {
			for (size_t n = 0; n < 40; n++) {
				memset(dst, 0xee, sizeof(dst));
				dv_memcpy(dst + doff, src + so, n);
				for (size_t i = 0; i < sizeof(dst); i++) {
					bool inside = i >= doff && i < doff + n;

					assert_int_equal(dst[i],
							 inside ? src[so + i - doff] : 0xee);
				}
			}
		}
	}
}

static void memmove_overlap_forward(void **state)
{
	char buf[] = "0123456789abcdefghij";

	/* dst after src: must copy from the end */
	assert_ptr_equal(dv_memmove(buf + 3, buf, 12), buf + 3);
	assert_string_equal(buf, "0120123456789abfghij");
}

static void memmove_overlap_backward(void **state)
{
	char buf[] = "0123456789abcdefghij";

	/* dst before src: must copy from the start */
	assert_ptr_equal(dv_memmove(buf, buf + 3, 12), buf);
	assert_string_equal(buf, "3456789abcdecdefghij");
}

static void memmove_overlap_by_words(void **state)
{
	char buf[40], want[40];

	for (int i = 0; i < 40; i++)
		buf[i] = (char)('A' + i % 26);
	/* distance 8 keeps both sides word-aligned: exercises the word loops */
	dv_memmove(buf + 8, buf, 30);
	memcpy(want, "ABCDEFGHABCDEFGHIJKLMNOPQRSTUVWXYZABCDMN", 40);
	assert_memory_equal(buf, want, 40);
	dv_memmove(buf, buf + 8, 30);
	memcpy(want, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDWXYZABCDMN", 40);
	assert_memory_equal(buf, want, 40);
}

static void memmove_same_and_zero(void **state)
{
	char buf[] = "abcdef";

	dv_memmove(buf, buf, 6);
	dv_memmove(buf + 1, buf, 0);
	assert_string_equal(buf, "abcdef");
}

static void memset_fills_and_returns_dst(void **state)
{
	unsigned char buf[37];

	memset(buf, 0, sizeof(buf));
	assert_ptr_equal(dv_memset(buf + 1, 0x1a5, 35), buf + 1); /* only the low byte counts */
	assert_int_equal(buf[0], 0);
	for (int i = 1; i < 36; i++)
		assert_int_equal(buf[i], 0xa5);
	assert_int_equal(buf[36], 0);
	dv_memset(buf, 'z', 0);
	assert_int_equal(buf[0], 0);
}

static void memcmp_orders_as_unsigned(void **state)
{
	assert_int_equal(dv_memcmp("abc", "abc", 3), 0);
	assert_true(dv_memcmp("abc", "abd", 3) < 0);
	assert_true(dv_memcmp("abd", "abc", 3) > 0);
	assert_true(dv_memcmp("\x80", "\x01", 1) > 0);
	assert_int_equal(dv_memcmp("abc", "xyz", 0), 0);
}

static void strlen_and_strnlen(void **state)
{
	assert_int_equal(dv_strlen(""), 0);
	assert_int_equal(dv_strlen("hello"), 5);
	assert_int_equal(dv_strnlen("hello", 3), 3);
	assert_int_equal(dv_strnlen("hello", 10), 5);
	assert_int_equal(dv_strnlen("hello", 0), 0);
	/* stops at max without reading past it */
	assert_int_equal(dv_strnlen((const char[]){'a', 'b'}, 2), 2);
}

static void strcmp_orders(void **state)
{
	assert_int_equal(dv_strcmp("abc", "abc"), 0);
	assert_true(dv_strcmp("abc", "abd") < 0);
	assert_true(dv_strcmp("abd", "abc") > 0);
	assert_true(dv_strcmp("ab", "abc") < 0);
	assert_true(dv_strcmp("abc", "ab") > 0);
	assert_int_equal(dv_strcmp("", ""), 0);
	assert_true(dv_strcmp("\xff", "a") > 0);
}

static void strncmp_stops_at_n_and_nul(void **state)
{
	assert_int_equal(dv_strncmp("abcX", "abcY", 3), 0);
	assert_true(dv_strncmp("abcX", "abcY", 4) < 0);
	assert_int_equal(dv_strncmp("abc", "abc", 10), 0);
	assert_true(dv_strncmp("ab", "abc", 10) < 0);
	assert_int_equal(dv_strncmp("x", "y", 0), 0);
}

static void strchr_finds_first_and_terminator(void **state)
{
	const char *s = "hello";

	assert_ptr_equal(dv_strchr(s, 'l'), s + 2);
	assert_ptr_equal(dv_strchr(s, 'h'), s);
	assert_ptr_equal(dv_strchr(s, '\0'), s + 5);
	assert_null(dv_strchr(s, 'z'));
}

static void strlcpy_fits(void **state)
{
	char dst[8] = "xxxxxxx";

	assert_int_equal(dv_strlcpy(dst, "abc", sizeof(dst)), 3);
	assert_string_equal(dst, "abc");
}

static void strlcpy_truncates_and_terminates(void **state)
{
	char dst[4] = "xxx";

	assert_int_equal(dv_strlcpy(dst, "abcdef", sizeof(dst)), 6);
	assert_string_equal(dst, "abc");
	assert_int_equal(dv_strlcpy(dst, "abcd", sizeof(dst)), 4);
	assert_string_equal(dst, "abc");
}

static void strlcpy_size_one_and_zero(void **state)
{
	char dst[2] = "x";

	assert_int_equal(dv_strlcpy(dst, "abc", 1), 3);
	assert_string_equal(dst, "");
	dst[0] = 'q';
	assert_int_equal(dv_strlcpy(dst, "abc", 0), 3);
	assert_int_equal(dst[0], 'q');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(memcpy_copies_and_returns_dst),
		cmocka_unit_test(memcpy_zero_length_touches_nothing),
		cmocka_unit_test(memcpy_all_alignments),
		cmocka_unit_test(memmove_overlap_forward),
		cmocka_unit_test(memmove_overlap_backward),
		cmocka_unit_test(memmove_overlap_by_words),
		cmocka_unit_test(memmove_same_and_zero),
		cmocka_unit_test(memset_fills_and_returns_dst),
		cmocka_unit_test(memcmp_orders_as_unsigned),
		cmocka_unit_test(strlen_and_strnlen),
		cmocka_unit_test(strcmp_orders),
		cmocka_unit_test(strncmp_stops_at_n_and_nul),
		cmocka_unit_test(strchr_finds_first_and_terminator),
		cmocka_unit_test(strlcpy_fits),
		cmocka_unit_test(strlcpy_truncates_and_terminates),
		cmocka_unit_test(strlcpy_size_one_and_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
