/* Opening a trace and telling its format by the first bytes. */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "tools/qtrace.d/qtrace_format.h"
#include "trace.h"

int trace_open(struct trace *t, const char *path, bool feed_ifetch, char *err, size_t errlen)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->feed_ifetch = feed_ifetch;
	rc = reader_open(&t->rd, path);
	if (rc) {
		snprintf(err, errlen, "cannot open trace '%s': %s", path, strerror(-rc));
		return -DV_ENOENT;
	}
	reader_fill(&t->rd, QTRACE_MAGIC_LEN);
	if (t->rd.err) {
		snprintf(err, errlen, "cannot read trace '%s': %s", path, strerror(t->rd.err));
		reader_close(&t->rd);
		return -DV_EIO;
	}
	if (reader_avail(&t->rd) >= QTRACE_MAGIC_LEN &&
	    memcmp(reader_peek(&t->rd), QTRACE_MAGIC, QTRACE_MAGIC_LEN) == 0) {
		t->format = TRACE_QTRACE;
		rc = trace_qtrace_header(t);
		if (rc) {
			snprintf(err, errlen, "%s: %s", path, t->err);
			reader_close(&t->rd);
			return rc;
		}
	} else {
		t->format = TRACE_LACKEY;
	}
	return 0;
}

long trace_next(struct trace *t, struct access *buf, size_t max)
{
	if (t->format == TRACE_QTRACE)
		return trace_qtrace_next(t, buf, max);
	return trace_lackey_next(t, buf, max);
}

void trace_close(struct trace *t)
{
	reader_close(&t->rd);
}

const char *trace_format_name(enum trace_format f)
{
	return f == TRACE_QTRACE ? "qtrace" : "lackey";
}
