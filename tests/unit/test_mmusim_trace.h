/* Helpers shared by the mmusim trace tests: write bytes to a temporary file
 * and read a whole trace back. */
#ifndef TEST_MMUSIM_TRACE_UTIL_H
#define TEST_MMUSIM_TRACE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/mmusim/trace.h"

/* A temporary file holding n bytes of data; the caller unlinks path. */
static inline void tmp_file(char path[32], const void *data, size_t n)
{
	int fd;

	strcpy(path, "/tmp/mmusim-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* Every access of the trace at path into *out (malloc'd); returns the count,
 * or the negative error of trace_open / trace_next with the message in err. */
static inline long read_all(const char *path, bool ifetch, struct access **out,
			    struct trace_stats *st, char *err, size_t errlen)
{
	struct trace t;
	size_t cap = 1024, n = 0;
	struct access *a = malloc(cap * sizeof(*a));
	long k;
	int rc = trace_open(&t, path, ifetch, err, errlen);

	if (rc) {
		free(a);
		return rc;
	}
	for (;;) {
		if (cap - n < 64) {
			cap *= 2;
			a = realloc(a, cap * sizeof(*a));
		}
		k = trace_next(&t, a + n, cap - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (k < 0)
		snprintf(err, errlen, "%s", t.err);
	if (st)
		*st = t.stats;
	trace_close(&t);
	*out = a;
	return k < 0 ? k : (long)n;
}

#endif
