/* Freestanding string and memory functions; see lib/string.h for the naming
 * in hosted builds. memcpy/memmove/memset move a word at a time when source
 * and destination share their alignment: pages are copied and zeroed with
 * these, and the hypervisor has no SSE.
 *
 * -ffreestanding (implying -fno-builtin) is what stops GCC from turning these
 * loops back into calls to memcpy/memset, which would recurse forever; checked
 * with objdump on GCC 12. */
#include <dimvisor/types.h>
#include "lib/string.h"

/* A u64 that may alias any object, for word-at-a-time copies. */
typedef u64 __attribute__((may_alias)) word_t;
#define WORD_SIZE sizeof(word_t)
#define WORD_MASK (WORD_SIZE - 1)

static bool same_word_alignment(const void *a, const void *b)
{
	return (((uintptr_t)a ^ (uintptr_t)b) & WORD_MASK) == 0;
}

static bool word_aligned(const void *p)
{
	return ((uintptr_t)p & WORD_MASK) == 0;
}

/* Copy n bytes upwards; safe for overlap when dst < src. */
static void copy_forward(u8 *d, const u8 *s, size_t n)
{
	if (same_word_alignment(d, s)) {
		for (; n && !word_aligned(d); n--)
			*d++ = *s++;
		for (; n >= WORD_SIZE; n -= WORD_SIZE) {
			*(word_t *)d = *(const word_t *)s;
			d += WORD_SIZE;
			s += WORD_SIZE;
		}
	}
	for (; n; n--)
		*d++ = *s++;
}

/* Copy n bytes downwards from the end; safe for overlap when dst > src. */
static void copy_backward(u8 *d, const u8 *s, size_t n)
{
	d += n;
	s += n;
	if (same_word_alignment(d, s)) {
		for (; n && !word_aligned(d); n--)
			*--d = *--s;
		for (; n >= WORD_SIZE; n -= WORD_SIZE) {
			d -= WORD_SIZE;
			s -= WORD_SIZE;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	for (; n; n--)
		*--d = *--s;
}

void *LIBNAME(memcpy)(void *restrict dst, const void *restrict src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *LIBNAME(memmove)(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst < (uintptr_t)src)
		copy_forward(dst, src, n);
	else if ((uintptr_t)dst > (uintptr_t)src)
		copy_backward(dst, src, n);
	return dst;
}

void *LIBNAME(memset)(void *dst, int c, size_t n)
{
	u8 *d = dst;
	u8 byte = (u8)c;
	word_t fill = byte * 0x0101010101010101ULL;

	for (; n && !word_aligned(d); n--)
		*d++ = byte;
	for (; n >= WORD_SIZE; n -= WORD_SIZE) {
		*(word_t *)d = fill;
		d += WORD_SIZE;
	}
	for (; n; n--)
		*d++ = byte;
	return dst;
}

int LIBNAME(memcmp)(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
	}
	return 0;
}

size_t LIBNAME(strlen)(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t LIBNAME(strnlen)(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int LIBNAME(strcmp)(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; *x && *x == *y; x++, y++)
		;
	return *x == *y ? 0 : (*x < *y ? -1 : 1);
}

int LIBNAME(strncmp)(const char *a, const char *b, size_t n)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
		if (!*x)
			break;
	}
	return 0;
}

char *LIBNAME(strchr)(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t LIBNAME(strlcpy)(char *restrict dst, const char *restrict src, size_t n)
{
	size_t len = LIBNAME(strlen)(src);

	if (n) {
		size_t copy = len < n ? len : n - 1;

		copy_forward((u8 *)dst, (const u8 *)src, copy);
		dst[copy] = '\0';
	}
	return len;
}
