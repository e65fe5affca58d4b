/* Freestanding string and memory functions.
 *
 * In the hypervisor and the guest these are the standard names (GCC emits
 * calls to memcpy/memset/memmove/memcmp by itself, so they must exist). In the
 * hosted build (DV_HOSTED, unit tests and tools) the same source defines them
 * as dv_memcpy, dv_strlen, ... so they do not clash with the C library; the
 * libc versions stay available through <string.h>. */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <dimvisor/types.h>

#ifdef DV_HOSTED
#include <string.h>
#define LIBNAME(name) dv_##name
#else
#define LIBNAME(name) name
#endif

void *LIBNAME(memcpy)(void *restrict dst, const void *restrict src, size_t n);
/* Like memcpy, but dst and src may overlap. */
void *LIBNAME(memmove)(void *dst, const void *src, size_t n);
void *LIBNAME(memset)(void *dst, int c, size_t n);
int LIBNAME(memcmp)(const void *a, const void *b, size_t n);
size_t LIBNAME(strlen)(const char *s);
/* Length of s, but at most max (s need not be terminated within max). */
size_t LIBNAME(strnlen)(const char *s, size_t max);
int LIBNAME(strcmp)(const char *a, const char *b);
int LIBNAME(strncmp)(const char *a, const char *b, size_t n);
/* First c in s; c == '\0' finds the terminator. NULL when absent. */
char *LIBNAME(strchr)(const char *s, int c);
/* Copy src into dst of size n, truncating, NUL-terminated when n > 0.
 * Returns strlen(src): a result >= n means the copy was truncated. */
size_t LIBNAME(strlcpy)(char *restrict dst, const char *restrict src, size_t n);

#ifdef DV_HOSTED
/* glibc before 2.38 has no strlcpy: shared code that calls it gets ours. */
#define strlcpy dv_strlcpy
#endif

#endif
