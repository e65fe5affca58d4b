/* stream: the four STREAM kernels (McCalpin, "Memory bandwidth and machine
 * balance in current high performance computers", IEEE TCCA newsletter 1995)
 * over three arrays of doubles that share the footprint, in STREAM's order:
 * Copy c = a, Scale b = s*c, Add c = a + b, Triad a = b + s*c (the kernels
 * and the order are lib/wl_stream.h, shared with the guest's workload). */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "lib/wl_stream.h"
#include "workload.h"

struct stream {
	u64 arr[WL_STREAM_ARRAYS];
	u64 n; /* elements per array */
	u64 i;
	unsigned k;
};

static int stream_init(struct workload *wl, const struct workload_params *p, char *err,
		       size_t errlen)
{
	static const char *const names[] = {"a", "b", "c"};
	struct stream *s;

	if (p->footprint < 4 * 4096) {
		snprintf(err, errlen, "stream: footprint must be at least 16 KiB");
		return -DV_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -DV_ENOMEM;
	s->n = vspace_usable(&wl->vs, WL_STREAM_ARRAYS) / WL_STREAM_ARRAYS / WL_STREAM_ELEM;
	for (int a = 0; a < WL_STREAM_ARRAYS; a++)
		s->arr[a] = vspace_alloc(&wl->vs, names[a], s->n * WL_STREAM_ELEM);
	wl->st = s;
	snprintf(wl->desc, sizeof(wl->desc), "stream: 3 arrays of %llu doubles",
		 (unsigned long long)s->n);
	return 0;
}

static size_t stream_next(void *st, struct access *buf, size_t max)
{
	struct stream *s = st;
	size_t n = 0;

	while (n + 3 <= max) {
		const struct wl_stream_kernel *k = wl_stream_kernel(s->k);
		u64 off = s->i * WL_STREAM_ELEM;

		for (int r = 0; r < 2 && k->rd[r] >= 0; r++)
			buf[n++] = (struct access){
				.va = s->arr[k->rd[r]] + off, .size = 8, .kind = ACCESS_READ};
		buf[n++] =
			(struct access){.va = s->arr[k->wr] + off, .size = 8, .kind = ACCESS_WRITE};
		if (++s->i == s->n) {
			s->i = 0;
			s->k = (s->k + 1) % WL_STREAM_KERNELS;
		}
	}
	return n;
}

static void stream_fini(void *st)
{
	free(st);
}

const struct workload_ops wl_stream_ops = {
	.name = "stream",
	.help = "STREAM Copy/Scale/Add/Triad over three arrays of doubles",
	.init = stream_init,
	.next = stream_next,
	.fini = stream_fini,
};
