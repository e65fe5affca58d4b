/* The text that valgrind's lackey tool prints with --trace-mem=yes:
 *
 *   I  0023c790,2      instruction fetch (address, size)
 *    L be80199c,4      load
 *    S be80199c,4      store
 *    M 0025242b,4      modify: a load and a store of the same location
 *   ==1234== ...       valgrind's own messages (also --1234-- and **1234**)
 *
 * (Valgrind user manual, "Lackey: an example tool"; addresses are hex
 * without 0x, sizes decimal.) Anything else is an error naming the line, so
 * a trace mixed with the program's output is caught rather than misread. */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "trace.h"

#define LACKEY_MAX_LINE 4096 /* valid records are under 40 bytes */
#define LACKEY_MAX_SIZE 65536

static int hexval(u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse "ADDR,SIZE" filling the whole span. */
static bool lackey_addr_size(const u8 *s, size_t n, u64 *addr, u32 *size)
{
	size_t i = 0;
	u64 a = 0, z = 0;

	for (; i < n && hexval(s[i]) >= 0; i++) {
		if (i >= 16)
			return false;
		a = a << 4 | (u64)hexval(s[i]);
	}
	if (i == 0 || i == n || s[i] != ',')
		return false;
	if (++i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || z > LACKEY_MAX_SIZE)
			return false;
		z = z * 10 + (s[i] - '0');
	}
	if (z == 0 || z > LACKEY_MAX_SIZE)
		return false;
	*addr = a;
	*size = (u32)z;
	return true;
}

/* "==123==", "--123--" or "**123**" at the start of the line. */
static bool lackey_valgrind_line(const u8 *s, size_t n)
{
	size_t i = 2;

	if (n < 5 || (s[0] != '=' && s[0] != '-' && s[0] != '*') || s[1] != s[0])
		return false;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 2 && i + 1 < n && s[i] == s[0] && s[i + 1] == s[0];
}

/* An error in line (lines read so far + 1 if the line was not counted yet),
 * with its byte offset, which still names the place when the "line" is
 * binary junk with no newline at all. */
static long lackey_error(struct trace *t, u64 line, const char *what, const u8 *s, size_t n)
{
	char shown[48];
	size_t k;

	for (k = 0; k < n && k + 1 < sizeof(shown); k++)
		shown[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? (char)s[k] : '?';
	shown[k] = '\0';
	snprintf(t->err, sizeof(t->err), "lackey trace line %llu (byte %llu): %s: '%s%s'",
		 (unsigned long long)line, (unsigned long long)t->rd.consumed, what, shown,
		 n > k ? "..." : "");
	return -DV_EINVAL;
}

/* One line (without its newline); appends to buf. Returns accesses added or
 * a negative error. */
static long lackey_line(struct trace *t, const u8 *s, size_t n, struct access *buf)
{
	u64 addr;
	u32 size;
	u8 tag;

	t->stats.lines++;
	if (n && s[n - 1] == '\r')
		n--;
	if (n == 0)
		return 0;
	if (n >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ')
		tag = 'I';
	else if (n >= 3 && s[0] == ' ' && (s[1] == 'L' || s[1] == 'S' || s[1] == 'M') &&
		 s[2] == ' ')
		tag = s[1];
	else if (lackey_valgrind_line(s, n)) {
		t->stats.ignored++;
		return 0;
	} else
		return lackey_error(t, t->stats.lines, "not a lackey record", s, n);
	if (!lackey_addr_size(s + 3, n - 3, &addr, &size))
		return lackey_error(t, t->stats.lines, "malformed address,size", s, n);
	switch (tag) {
	case 'I':
		t->stats.ifetches++;
		if (!t->feed_ifetch)
			return 0;
		buf[0] = (struct access){.va = addr, .size = size, .kind = ACCESS_IFETCH};
		return 1;
	case 'L':
		t->stats.loads++;
		buf[0] = (struct access){.va = addr, .size = size, .kind = ACCESS_READ};
		return 1;
	case 'S':
		t->stats.stores++;
		buf[0] = (struct access){.va = addr, .size = size, .kind = ACCESS_WRITE};
		return 1;
	default: /* 'M' */
		t->stats.modifies++;
		t->stats.loads++;
		t->stats.stores++;
		buf[0] = (struct access){.va = addr, .size = size, .kind = ACCESS_READ};
		buf[1] = (struct access){.va = addr, .size = size, .kind = ACCESS_WRITE};
		return 2;
	}
}

/* Exactly up to max accesses (max >= 1): a modify that does not fit whole
 * gives only its load, and is then counted as a load alone, so the counts
 * describe the accesses delivered (--accesses N cuts a trace anywhere). */
long trace_lackey_next(struct trace *t, struct access *buf, size_t max)
{
	struct reader *r = &t->rd;
	size_t n = 0;

	while (n < max) {
		const u8 *s = reader_peek(r), *nl;
		size_t avail = reader_avail(r), len;
		struct access two[2];
		long got;

		nl = memchr(s, '\n', avail);
		if (!nl) {
			if (!r->eof && !r->err && avail < LACKEY_MAX_LINE) {
				reader_fill(r, avail + 1);
				continue;
			}
			if (r->err) {
				snprintf(t->err, sizeof(t->err), "reading trace: %s",
					 strerror(r->err));
				return -DV_EIO;
			}
			if (avail >= LACKEY_MAX_LINE)
				return lackey_error(t, t->stats.lines + 1, "line too long", s,
						    avail);
			if (avail == 0)
				break; /* end of trace */
			len = avail;   /* last line without a newline */
		} else {
			len = (size_t)(nl - s);
		}
		got = lackey_line(t, s, len, two);
		if (got < 0)
			return got;
		if (n + (size_t)got > max) { /* a modify, room for its load only */
			got = 1;
			t->stats.modifies--;
			t->stats.stores--;
		}
		for (long i = 0; i < got; i++)
			buf[n++] = two[i];
		reader_consume(r, nl ? len + 1 : len);
	}
	return (long)n;
}
