/* Number, size and token parsing for command lines. */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "lib/parse.h"

#define NOT_A_DIGIT 0xff

static const struct {
	char letter;
	u8 shift;
} size_suffixes[] = {
	{'K', 10},
	{'M', 20},
	{'G', 30},
	{'T', 40},
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Value of c as a digit up to base 16, or NOT_A_DIGIT. */
static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	c = to_upper(c);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return NOT_A_DIGIT;
}

static bool has_hex_prefix(const char *s, size_t len)
{
	return len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int parse_u64(const char *s, size_t len, u64 *out)
{
	unsigned base = 10;
	bool overflow = false;
	u64 v = 0;

	if (!s)
		return -DV_EINVAL;
	if (has_hex_prefix(s, len)) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -DV_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = digit_value(s[i]);

		if (d >= base)
			return -DV_EINVAL;
		if (v > (UINT64_MAX - d) / base)
			overflow = true; /* keep going: junk later is EINVAL */
		v = v * base + d;
	}
	if (overflow)
		return -DV_ERANGE;
	*out = v;
	return 0;
}

/* Length of the number at the start of s: "0x" and hex digits, or decimal
 * digits. */
static size_t number_length(const char *s, size_t len)
{
	size_t n = 0;
	unsigned base = 10;

	if (has_hex_prefix(s, len)) {
		n = 2;
		base = 16;
	}
	while (n < len && digit_value(s[n]) < base)
		n++;
	return n;
}

/* Shift for a size suffix ("", "B", "K", "KB", ...), or -1 if it is not one. */
static int suffix_shift(const char *s, size_t len)
{
	if (len > 0 && to_upper(s[len - 1]) == 'B')
		len--; /* the optional B */
	if (len == 0)
		return 0;
	if (len > 1)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(size_suffixes); i++) {
		if (size_suffixes[i].letter == to_upper(s[0]))
			return size_suffixes[i].shift;
	}
	return -1;
}

int parse_size(const char *s, size_t len, u64 *out)
{
	size_t nlen;
	int shift, err;
	u64 v;

	if (!s)
		return -DV_EINVAL;
	nlen = number_length(s, len);
	shift = suffix_shift(s + nlen, len - nlen);
	if (shift < 0)
		return -DV_EINVAL;
	err = parse_u64(s, nlen, &v);
	if (err)
		return err;
	if (v > (UINT64_MAX >> shift))
		return -DV_ERANGE;
	*out = v << shift;
	return 0;
}

bool next_token(const char **cursor, const char **tok, size_t *len)
{
	const char *p = *cursor;
	size_t n = 0;

	if (!p)
		return false;
	while (is_space(*p))
		p++;
	if (!*p) {
		*cursor = p;
		return false;
	}
	while (p[n] && !is_space(p[n]))
		n++;
	*tok = p;
	*len = n;
	*cursor = p + n;
	return true;
}
