/* Numbers on mmusim's command line: counts with decimal suffixes ("100M"
 * accesses is 10^8) and sizes with binary ones ("64G" is 2^36 bytes, via
 * lib/parse.c), and the human-readable forms used in reports. */
#ifndef MMUSIM_UNITS_H
#define MMUSIM_UNITS_H

#include <dimvisor/types.h>

/* A count: digits then an optional K, M, G or T (powers of 1000, any case).
 * 0, -DV_EINVAL for a malformed one, -DV_ERANGE when over 64 bits. */
int units_parse_count(const char *s, u64 *out);
/* A size: as lib's parse_size (K, M, G, T = powers of 1024, optional B). */
int units_parse_size(const char *s, u64 *out);
/* A double >= 0, the whole string. */
int units_parse_double(const char *s, double *out);
/* "8 GiB", "512 MiB", "12345 B": the largest binary unit dividing n. */
void units_format_size(u64 n, char *buf, size_t len);

#endif
