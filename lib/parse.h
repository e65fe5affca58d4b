/* Parsing of numbers, sizes and whitespace-separated tokens, for command
 * lines. Inputs are (pointer, length) spans, so tokens need not be copied or
 * NUL-terminated. */
#ifndef LIB_PARSE_H
#define LIB_PARSE_H

#include <dimvisor/types.h>

/* Parse all len bytes at s as a decimal number, or hex after "0x"/"0X".
 * Returns 0 and sets *out, -DV_EINVAL for an empty or malformed number,
 * -DV_ERANGE when it does not fit 64 bits. *out is untouched on error. */
int parse_u64(const char *s, size_t len, u64 *out);

/* Parse a size: a number as for parse_u64, then an optional K, M, G or T
 * (case-insensitive, powers of 1024) and an optional B: "512M", "2g", "4KB",
 * "4096", "0x200000", "4096B". In a hex number a trailing B is a digit
 * ("0x1B" is 27). Errors as for parse_u64. */
int parse_size(const char *s, size_t len, u64 *out);

/* Find the next token after *cursor, skipping spaces, tabs and line breaks.
 * Returns false at the end of the string; otherwise sets *tok and *len to the
 * token and advances *cursor past it. */
bool next_token(const char **cursor, const char **tok, size_t *len);

#endif
