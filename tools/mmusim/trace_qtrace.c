/* qtrace's binary records (format in tools/qtrace.d/qtrace_format.h). */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "tools/qtrace.d/qtrace_format.h"
#include "trace.h"

/* Records decoded per refill: keeps the window a multiple of the record. */
#define QTRACE_CHUNK (64 * 1024)

static u64 le64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v)); /* x86-64 hosts only: the format is little-endian */
	return v;
}

static u32 le32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int trace_qtrace_header(struct trace *t)
{
	struct reader *r = &t->rd;
	const u8 *h;
	u32 version, bytes;

	if (reader_fill(r, QTRACE_HEADER_BYTES) < QTRACE_HEADER_BYTES) {
		snprintf(t->err, sizeof(t->err), "qtrace header truncated");
		return -DV_EINVAL;
	}
	h = reader_peek(r);
	version = le32(h + 8);
	bytes = le32(h + 12);
	if (version != QTRACE_VERSION) {
		snprintf(t->err, sizeof(t->err),
			 "qtrace format version %u, this mmusim reads version %u", version,
			 QTRACE_VERSION);
		return -DV_EINVAL;
	}
	if (bytes != QTRACE_HEADER_BYTES || le64(h + 24) != 0) {
		snprintf(t->err, sizeof(t->err), "qtrace header malformed");
		return -DV_EINVAL;
	}
	reader_consume(r, QTRACE_HEADER_BYTES);
	return 0;
}

static long qtrace_bad(struct trace *t, u64 rec, const char *what)
{
	snprintf(t->err, sizeof(t->err), "qtrace record %llu (0x%016llx): %s",
		 (unsigned long long)(trace_data_accesses(&t->stats) + t->stats.ifetches),
		 (unsigned long long)rec, what);
	return -DV_EINVAL;
}

long trace_qtrace_next(struct trace *t, struct access *buf, size_t max)
{
	struct reader *r = &t->rd;
	size_t n = 0;

	while (n < max) {
		size_t avail = reader_fill(r, 8 * QTRACE_CHUNK), k, i;
		const u8 *p = reader_peek(r);

		if (avail < 8) {
			if (r->err) {
				snprintf(t->err, sizeof(t->err), "reading trace: %s",
					 strerror(r->err));
				return -DV_EIO;
			}
			if (avail)
				return qtrace_bad(t, 0, "trace ends inside a record");
			break;
		}
		k = MIN(avail / 8, max - n);
		for (i = 0; i < k; i++) {
			u64 rec = le64(p + 8 * i);
			unsigned kind = (rec >> QTRACE_KIND_SHIFT) & QTRACE_KIND_MASK;
			struct access a = {
				.va = rec & QTRACE_VA_MASK,
				.size = 1u << ((rec >> QTRACE_SIZE_SHIFT) & QTRACE_SIZE_MASK),
			};

			if (rec & QTRACE_RESERVED_MASK) {
				reader_consume(r, 8 * i);
				return qtrace_bad(t, rec, "reserved bits set");
			}
			switch (kind) {
			case QTRACE_LOAD:
				t->stats.loads++;
				a.kind = ACCESS_READ;
				break;
			case QTRACE_STORE:
				t->stats.stores++;
				a.kind = ACCESS_WRITE;
				break;
			case QTRACE_IFETCH:
				t->stats.ifetches++;
				if (!t->feed_ifetch)
					continue;
				a.kind = ACCESS_IFETCH;
				break;
			default:
				reader_consume(r, 8 * i);
				return qtrace_bad(t, rec, "unknown kind");
			}
			buf[n++] = a;
		}
		reader_consume(r, 8 * k);
	}
	return (long)n;
}
