/* stream: the four STREAM kernels (McCalpin, "Memory bandwidth and machine
 * balance in current high performance computers", IEEE TCCA newsletter 1995)
 * over three arrays of doubles that share the footprint, in STREAM's order:
 * Copy c = a, Scale b = s*c, Add c = a + b, Triad a = b + s*c. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "workload.h"

enum { ARR_A, ARR_B, ARR_C };

/* Per kernel: arrays read (up to two, -1 = none) and the array written. */
static const struct stream_kernel {
	int rd[2];
	int wr;
} stream_kernels[] = {
	{{ARR_A, -1}, ARR_C},	 /* Copy */
	{{ARR_C, -1}, ARR_B},	 /* Scale */
	{{ARR_A, ARR_B}, ARR_C}, /* Add */
	{{ARR_B, ARR_C}, ARR_A}, /* Triad */
};

struct stream {
	u64 arr[3];
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
	s->n = vspace_usable(&wl->vs, 3) / 3 / 8;
	for (int a = 0; a < 3; a++)
		s->arr[a] = vspace_alloc(&wl->vs, names[a], s->n * 8);
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
		const struct stream_kernel *k = &stream_kernels[s->k];
		u64 off = s->i * 8;

		for (int r = 0; r < 2 && k->rd[r] >= 0; r++)
			buf[n++] = (struct access){
				.va = s->arr[k->rd[r]] + off, .size = 8, .kind = ACCESS_READ};
		buf[n++] =
			(struct access){.va = s->arr[k->wr] + off, .size = 8, .kind = ACCESS_WRITE};
		if (++s->i == s->n) {
			s->i = 0;
			s->k = (s->k + 1) % ARRAY_SIZE(stream_kernels);
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
