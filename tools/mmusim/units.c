/* Command-line numbers; see units.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "lib/parse.h"
#include "units.h"

int units_parse_count(const char *s, u64 *out)
{
	static const struct {
		char c;
		u64 mul;
	} sfx[] = {
		{'K', 1000ULL}, {'M', 1000000ULL}, {'G', 1000000000ULL}, {'T', 1000000000000ULL}};
	size_t len = strlen(s);
	u64 v, mul = 1;
	int rc;

	if (len && isalpha((unsigned char)s[len - 1])) {
		char c = (char)toupper((unsigned char)s[len - 1]);

		mul = 0;
		for (size_t i = 0; i < ARRAY_SIZE(sfx); i++)
			if (sfx[i].c == c)
				mul = sfx[i].mul;
		if (!mul)
			return -DV_EINVAL;
		len--;
	}
	rc = parse_u64(s, len, &v);
	if (rc)
		return rc;
	if (v > ~0ULL / mul)
		return -DV_ERANGE;
	*out = v * mul;
	return 0;
}

int units_parse_size(const char *s, u64 *out)
{
	return parse_size(s, strlen(s), out);
}

int units_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s)
		return -DV_EINVAL;
	v = strtod(s, &end);
	if (*end || !(v >= 0) || v > 1e300)
		return -DV_EINVAL;
	*out = v;
	return 0;
}

void units_format_size(u64 n, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned u = 0;

	while (u + 1 < ARRAY_SIZE(unit) && n && (n & 1023) == 0) {
		n >>= 10;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)n, unit[u]);
}
