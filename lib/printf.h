/* Formatted output for the hypervisor, the guest and host tools.
 *
 * Conversions: %d %i %u %x %X %o %p %s %c %%, length modifiers hh h l ll z t j,
 * flags - 0 + space #, width and precision (also as *). %p prints 0x and the
 * hex value, a NULL %s prints "(null)". An unknown or incomplete conversion is
 * printed as it stands and consumes no argument; %n is not supported. */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <dimvisor/types.h>

/* Receives formatted output, n bytes at s (not NUL-terminated), in chunks:
 * one call carries many characters, typically a whole line. */
typedef void (*fmt_sink)(void *ctx, const char *s, size_t n);

/* Format into sink (NULL: only count). Returns the number of characters
 * produced, saturated at INT_MAX. */
int kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap) __printf_like(3, 0);

/* C99 snprintf: writes at most n - 1 characters and a NUL when n > 0 (buf may
 * be NULL when n == 0); returns the length the full output would have. */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap) __printf_like(3, 0);
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __printf_like(3, 4);

/* Print to the console sink; without one the output is dropped. Returns the
 * number of characters formatted. */
int kprintf(const char *fmt, ...) __printf_like(1, 2);
int kvprintf(const char *fmt, va_list ap) __printf_like(1, 0);

/* Route kprintf output to sink (NULL: drop it). */
void console_set_sink(fmt_sink sink, void *ctx);

#endif
