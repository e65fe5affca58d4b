/* Buffered reading of traces; see reader.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"

static int reader_setup(struct reader *r, int fd, bool own)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(READER_BUF);
	if (!r->buf)
		return -ENOMEM;
	r->fd = fd;
	r->own_fd = own;
	return 0;
}

int reader_open(struct reader *r, const char *path)
{
	int fd, rc;

	if (strcmp(path, "-") == 0)
		return reader_setup(r, STDIN_FILENO, false);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = reader_setup(r, fd, true);
	if (rc)
		close(fd);
	return rc;
}

int reader_from_fd(struct reader *r, int fd)
{
	return reader_setup(r, fd, false);
}

void reader_close(struct reader *r)
{
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	free(r->buf);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

size_t reader_fill(struct reader *r, size_t want)
{
	if (want > READER_BUF)
		want = READER_BUF;
	if (reader_avail(r) >= want || r->eof || r->err)
		return reader_avail(r);
	/* Slide the unread tail to the front, then read until satisfied. */
	memmove(r->buf, r->buf + r->pos, reader_avail(r));
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < want) {
		ssize_t n = read(r->fd, r->buf + r->len, READER_BUF - r->len);

		if (n > 0) {
			r->len += (size_t)n;
		} else if (n == 0) {
			r->eof = true;
			break;
		} else if (errno != EINTR) {
			r->err = errno;
			break;
		}
	}
	return reader_avail(r);
}
