/* Formatted output. kvformat() parses the format and hands the result to a
 * sink through a small buffer, so a console sees whole lines, not characters.
 * The rest (snprintf, kprintf) are sinks plus argument plumbing. */
#include <stdarg.h>
#include <dimvisor/types.h>
#include "lib/printf.h"
#include "lib/string.h"

#define FMT_BUF_SIZE 128
#define FMT_INT_MAX  __INT_MAX__
#define FMT_NUM_MAX  24 /* digits of a u64 in octal (22), with room to spare */

/* Output under construction: what has been produced so far, buffered. */
struct fmt_out {
	fmt_sink sink;
	void *ctx;
	size_t total; /* characters produced, including those still buffered */
	size_t used;  /* bytes waiting in buf */
	char buf[FMT_BUF_SIZE];
};

enum fmt_flag {
	FL_LEFT = 1 << 0,  /* - */
	FL_ZERO = 1 << 1,  /* 0 */
	FL_PLUS = 1 << 2,  /* + */
	FL_SPACE = 1 << 3, /* space */
	FL_ALT = 1 << 4,   /* # */
};

enum fmt_length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

/* One parsed conversion specification. */
struct fmt_spec {
	unsigned flags;
	size_t width;
	long prec; /* -1: none given */
	enum fmt_length length;
	char conv;
};

/* The integer conversions. */
struct int_conv {
	char conv;
	u8 base;
	bool is_signed;
	bool upper;
	bool pointer; /* %p: always 0x, argument is a pointer */
};

static const struct int_conv int_convs[] = {
	{'d', 10, true, false, false},	{'i', 10, true, false, false},
	{'u', 10, false, false, false}, {'x', 16, false, false, false},
	{'X', 16, false, true, false},	{'o', 8, false, false, false},
	{'p', 16, false, false, true},
};

static const struct {
	char flag;
	unsigned bit;
} fmt_flags[] = {
	{'-', FL_LEFT}, {'0', FL_ZERO}, {'+', FL_PLUS}, {' ', FL_SPACE}, {'#', FL_ALT},
};

static void out_flush(struct fmt_out *o)
{
	if (o->used && o->sink)
		o->sink(o->ctx, o->buf, o->used);
	o->used = 0;
}

static void out_put(struct fmt_out *o, const char *s, size_t n)
{
	o->total += n;
	if (!o->sink || !n)
		return;
	if (n > sizeof(o->buf) - o->used) {
		out_flush(o);
		if (n >= sizeof(o->buf)) {
			o->sink(o->ctx, s, n); /* long strings go straight through */
			return;
		}
	}
	memcpy(o->buf + o->used, s, n);
	o->used += n;
}

/* Emit n copies of c (a space or '0'). */
static void out_pad(struct fmt_out *o, char c, size_t n)
{
	static const char spaces[] = "                ";
	static const char zeros[] = "0000000000000000";
	const char *run = c == '0' ? zeros : spaces;

	while (n) {
		size_t k = MIN(n, sizeof(spaces) - 1);

		out_put(o, run, k);
		n -= k;
	}
}

/* Write the digits of v in base to the end of buf; returns where they start. */
static char *format_digits(char *end, u64 v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	return p;
}

static u64 arg_unsigned(va_list *ap, enum fmt_length length)
{
	switch (length) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		return (u64)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, unsigned int);
}

static s64 arg_signed(va_list *ap, enum fmt_length length)
{
	switch (length) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		return (s64)va_arg(*ap, size_t); /* the signed type of size_t */
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, int);
}

/* Fetch the argument of an integer conversion as a magnitude and a sign. */
static u64 arg_integer(va_list *ap, const struct fmt_spec *sp, const struct int_conv *ic,
		       bool *negative)
{
	s64 v;

	*negative = false;
	if (ic->pointer)
		return (uintptr_t)va_arg(*ap, void *);
	if (!ic->is_signed)
		return arg_unsigned(ap, sp->length);
	v = arg_signed(ap, sp->length);
	*negative = v < 0;
	return *negative ? -(u64)v : (u64)v; /* -(u64) keeps INT64_MIN exact */
}

/* Lay out [pad][prefix][zeros][digits][pad] for one integer conversion. */
static void emit_integer(struct fmt_out *o, const struct fmt_spec *sp, const struct int_conv *ic,
			 va_list *ap)
{
	char num[FMT_NUM_MAX], *end = num + sizeof(num);
	char prefix[3], *digits; /* a sign, or 0x */
	size_t nprefix = 0, ndigits, nzeros = 0, body;
	bool negative;
	u64 v = arg_integer(ap, sp, ic, &negative);

	digits = format_digits(end, v, ic->base, ic->upper);
	ndigits = (size_t)(end - digits);
	if (v == 0 && sp->prec == 0)
		ndigits = 0; /* "%.0d" of 0 prints no digits */

	if (negative)
		prefix[nprefix++] = '-';
	else if (ic->is_signed && (sp->flags & FL_PLUS))
		prefix[nprefix++] = '+';
	else if (ic->is_signed && (sp->flags & FL_SPACE))
		prefix[nprefix++] = ' ';
	if (ic->pointer || (ic->base == 16 && (sp->flags & FL_ALT) && v != 0)) {
		prefix[nprefix++] = '0';
		prefix[nprefix++] = ic->upper ? 'X' : 'x';
	}

	if (sp->prec >= 0 && (size_t)sp->prec > ndigits)
		nzeros = (size_t)sp->prec - ndigits;
	if (ic->base == 8 && (sp->flags & FL_ALT) && nzeros == 0 &&
	    (ndigits == 0 || *digits != '0'))
		nzeros = 1; /* "%#o" always starts with 0 */

	body = nprefix + nzeros + ndigits;
	if (sp->width > body && !(sp->flags & FL_LEFT)) {
		if ((sp->flags & FL_ZERO) && sp->prec < 0)
			nzeros += sp->width - body;
		else
			out_pad(o, ' ', sp->width - body);
	}
	out_put(o, prefix, nprefix);
	out_pad(o, '0', nzeros);
	out_put(o, digits, ndigits);
	if (sp->width > body && (sp->flags & FL_LEFT))
		out_pad(o, ' ', sp->width - body);
}

/* Emit s (n bytes) padded to the field width. */
static void emit_field(struct fmt_out *o, const struct fmt_spec *sp, const char *s, size_t n)
{
	size_t pad = sp->width > n ? sp->width - n : 0;

	if (!(sp->flags & FL_LEFT))
		out_pad(o, ' ', pad);
	out_put(o, s, n);
	if (sp->flags & FL_LEFT)
		out_pad(o, ' ', pad);
}

static void emit_string(struct fmt_out *o, const struct fmt_spec *sp, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);
	size_t max = sp->prec >= 0 ? (size_t)sp->prec : (size_t)-1;

	if (!s)
		s = "(null)";
	emit_field(o, sp, s, strnlen(s, max));
}

static void emit_char(struct fmt_out *o, const struct fmt_spec *sp, va_list *ap)
{
	char c = (char)va_arg(*ap, int);

	emit_field(o, sp, &c, 1);
}

static unsigned flag_bit(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(fmt_flags); i++) {
		if (fmt_flags[i].flag == c)
			return fmt_flags[i].bit;
	}
	return 0;
}

/* Read a decimal field or '*' at *p; 0 when absent. A '*' takes an int
 * argument (which may be negative). Digits saturate at INT_MAX. */
static long parse_number(const char **p, va_list *ap)
{
	long n = 0;

	if (**p == '*') {
		(*p)++;
		return va_arg(*ap, int);
	}
	for (; **p >= '0' && **p <= '9'; (*p)++)
		n = n < FMT_INT_MAX / 10 ? n * 10 + (**p - '0') : FMT_INT_MAX;
	return n;
}

static enum fmt_length parse_length(const char **p)
{
	const char *s = *p;
	enum fmt_length len = LEN_NONE;

	switch (*s) {
	case 'h':
		len = s[1] == 'h' ? LEN_HH : LEN_H;
		break;
	case 'l':
		len = s[1] == 'l' ? LEN_LL : LEN_L;
		break;
	case 'z':
		len = LEN_Z;
		break;
	case 't':
		len = LEN_T;
		break;
	case 'j':
		len = LEN_J;
		break;
	default:
		return LEN_NONE;
	}
	*p += (len == LEN_HH || len == LEN_LL) ? 2 : 1;
	return len;
}

/* Parse the specification after '%' at *p into sp; *p ends past the
 * conversion character (sp->conv is '\0' when the format ended first). */
static void parse_spec(const char **p, struct fmt_spec *sp, va_list *ap)
{
	unsigned bit;
	long width;

	sp->flags = 0;
	while ((bit = flag_bit(**p)) != 0) {
		sp->flags |= bit;
		(*p)++;
	}
	width = parse_number(p, ap);
	if (width < 0) {
		sp->flags |= FL_LEFT; /* a negative '*' width means left-justify */
		width = width < -FMT_INT_MAX ? FMT_INT_MAX : -width;
	}
	sp->width = (size_t)width;
	sp->prec = -1;
	if (**p == '.') {
		(*p)++;
		sp->prec = parse_number(p, ap);
		if (sp->prec < 0)
			sp->prec = -1; /* a negative '*' precision counts as none */
	}
	sp->length = parse_length(p);
	sp->conv = **p;
	if (sp->conv)
		(*p)++;
}

static const struct int_conv *find_int_conv(char c)
{
	for (size_t i = 0; i < ARRAY_SIZE(int_convs); i++) {
		if (int_convs[i].conv == c)
			return &int_convs[i];
	}
	return NULL;
}

/* Handle one conversion starting at the '%' at *p; *p ends past it. */
static void format_one(struct fmt_out *o, const char **p, va_list *ap)
{
	const char *start = *p;
	const struct int_conv *ic;
	struct fmt_spec sp;

	(*p)++;
	parse_spec(p, &sp, ap);
	ic = find_int_conv(sp.conv);
	if (ic)
		emit_integer(o, &sp, ic, ap);
	else if (sp.conv == 's')
		emit_string(o, &sp, ap);
	else if (sp.conv == 'c')
		emit_char(o, &sp, ap);
	else if (sp.conv == '%' && *p == start + 2) /* only a bare "%%" */
		out_put(o, "%", 1);
	else
		out_put(o, start, (size_t)(*p - start)); /* unknown: print as is */
}

int kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out o = {.sink = sink, .ctx = ctx};
	const char *p = fmt;
	va_list args;

	if (!fmt)
		return 0;
	va_copy(args, ap); /* a va_list parameter cannot be passed on by address */
	while (*p) {
		const char *pct = strchr(p, '%');
		size_t run = pct ? (size_t)(pct - p) : strlen(p);

		out_put(&o, p, run);
		p += run;
		if (*p == '%')
			format_one(&o, &p, &args);
	}
	va_end(args);
	out_flush(&o);
	return o.total > FMT_INT_MAX ? FMT_INT_MAX : (int)o.total;
}

/* A sink filling a caller's buffer; keeps room for the terminating NUL. */
struct snbuf {
	char *buf;
	size_t room; /* characters that still fit */
	size_t len;
};

static void snbuf_sink(void *ctx, const char *s, size_t n)
{
	struct snbuf *b = ctx;
	size_t k = MIN(n, b->room);

	memcpy(b->buf + b->len, s, k);
	b->len += k;
	b->room -= k;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct snbuf b = {.buf = buf, .room = n ? n - 1 : 0, .len = 0};
	int ret;

	if (n == 0)
		return kvformat(NULL, NULL, fmt, ap);
	ret = kvformat(snbuf_sink, &b, fmt, ap);
	buf[b.len] = '\0';
	return ret;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return ret;
}

static fmt_sink console_sink;
static void *console_ctx;

void console_set_sink(fmt_sink sink, void *ctx)
{
	console_sink = sink;
	console_ctx = ctx;
}

int kvprintf(const char *fmt, va_list ap)
{
	if (!console_sink)
		return kvformat(NULL, NULL, fmt, ap);
	return kvformat(console_sink, console_ctx, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = kvprintf(fmt, ap);
	va_end(ap);
	return ret;
}
