/* A buffered byte reader over a file descriptor, with look-ahead: parsers see
 * a window of at least the bytes they ask for (or what is left before EOF)
 * and consume at their own pace. Reads in large blocks, so a trace from a
 * pipe costs few system calls. */
#ifndef MMUSIM_READER_H
#define MMUSIM_READER_H

#include <dimvisor/types.h>

#define READER_BUF (4u << 20)

struct reader {
	int fd;
	bool own_fd; /* close it at the end (not stdin) */
	bool eof;
	int err; /* errno of a failed read, or 0 */
	u8 *buf;
	size_t pos, len; /* unread bytes are buf[pos .. len) */
	u64 consumed;	 /* bytes consumed before buf[pos] */
};

/* Open path, or stdin for "-". 0, or -errno with nothing allocated. */
int reader_open(struct reader *r, const char *path);
/* Wrap an open descriptor (not closed at the end). */
int reader_from_fd(struct reader *r, int fd);
void reader_close(struct reader *r);

/* Make at least want bytes (want <= READER_BUF) available unless the input
 * ends first; returns the bytes available (< want only at EOF or on error). */
size_t reader_fill(struct reader *r, size_t want);

static inline size_t reader_avail(const struct reader *r)
{
	return r->len - r->pos;
}

static inline const u8 *reader_peek(const struct reader *r)
{
	return r->buf + r->pos;
}

static inline void reader_consume(struct reader *r, size_t n)
{
	r->pos += n;
	r->consumed += n;
}

#endif
