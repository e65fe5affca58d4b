/* libFuzzer target: mmusim's trace readers (tools/mmusim/trace*.c: lackey text
 * and qtrace records, told apart by trace_open), through their public
 * interface only (tools/mmusim/trace.h), so mmusim's internals may change.
 * Input: byte 0: bit 0 passes instruction fetches on, bits 7:1 pick the batch
 * size (2 .. 256 accesses); the rest is the trace, read from a memory file.
 * Checks: trace_open and trace_next return 0, a count or a negative error with
 * a message; a batch never exceeds its size; every access has a known kind;
 * when the whole trace was read, reads and writes match the load and store
 * counts (trace.h: "lackey's L and S count one each and M two") and fetches
 * the fetch count when passed on (none otherwise); after an error the counts
 * may include the failed batch, never less than was delivered; the reader
 * makes progress, then ends. */
#define _GNU_SOURCE
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/mmusim/trace.h"

#define MAX_BATCH 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static struct access buf[MAX_BATCH + 1];
	char path[64], err[200];
	u64 reads = 0, writes = 0, fetches = 0;
	struct trace t;
	bool feed_ifetch;
	size_t max;
	long n;
	int rc;

	if (size < 1)
		return 0;
	feed_ifetch = data[0] & 1;
	max = 2 + (data[0] >> 1) * (MAX_BATCH - 2) / 127;
	if (fd < 0)
		fd = memfd_create("fuzz-trace", 0);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data + 1, size - 1, 0) == (ssize_t)(size - 1));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	err[0] = '\0';
	rc = trace_open(&t, path, feed_ifetch, err, sizeof(err));
	if (rc) {
		CHECK(rc < 0 && err[0] != '\0');
		return 0;
	}
	/* Each call consumes at least one record or line, so the trace ends
	 * within size + 1 calls. */
	for (size_t calls = 0;; calls++) {
		CHECK(calls <= size + 1);
		buf[max].kind = 0xee; /* a canary past the batch */
		n = trace_next(&t, buf, max);
		CHECK(buf[max].kind == 0xee);
		if (n <= 0)
			break;
		CHECK((size_t)n <= max);
		for (long i = 0; i < n; i++) {
			switch (buf[i].kind) {
			case ACCESS_READ:
				reads++;
				break;
			case ACCESS_WRITE:
				writes++;
				break;
			case ACCESS_IFETCH:
				CHECK(feed_ifetch);
				fetches++;
				break;
			default:
				__builtin_trap();
			}
		}
	}
	if (n == 0) { /* the whole trace was delivered: the counts describe it */
		CHECK(reads == t.stats.loads && writes == t.stats.stores);
		CHECK(fetches == (feed_ifetch ? t.stats.ifetches : 0));
		CHECK(trace_data_accesses(&t.stats) == reads + writes);
	} else { /* an error, with a message; the failing batch is not delivered */
		CHECK(t.err[0] != '\0');
		CHECK(reads <= t.stats.loads && writes <= t.stats.stores);
		CHECK(fetches <= t.stats.ifetches);
	}
	(void)trace_format_name(t.format);
	trace_close(&t);
	return 0;
}
