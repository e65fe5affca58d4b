/* stream in the guest: the four STREAM kernels (lib/wl_stream.h) over three
 * arrays of 64-bit integers laid out as mmusim lays them out, in whole sweeps
 * (at least one of each kernel). Every element of an array holds the same
 * value after a sweep, so the expected values are kept as three scalars; the
 * arrays are checked against them through the identity map. */
#include "guest/workloads/workload.h"
#include "lib/printf.h"
#include "lib/wl_layout.h"
#include "lib/wl_stream.h"

#define STREAM_SCALAR 3

struct stream_layout {
	u64 arr[WL_STREAM_ARRAYS];
	u64 n;
};

static void lay_out(u64 footprint, struct vspace *vs, struct stream_layout *l)
{
	vspace_init(vs, footprint);
	l->n = vspace_usable(vs, WL_STREAM_ARRAYS) / WL_STREAM_ARRAYS / WL_STREAM_ELEM;
	for (int a = 0; a < WL_STREAM_ARRAYS; a++)
		l->arr[a] = vspace_alloc(vs, "array", l->n * WL_STREAM_ELEM);
}

u64 wl_stream_bytes(u64 footprint)
{
	struct vspace vs;
	struct stream_layout l;

	lay_out(footprint, &vs, &l);
	return vs.next - WL_VA_BASE;
}

/* Where layout address va (from WL_VA_BASE, as mmusim's) is in the region. */
static volatile u64 *in_region(const struct wl_place *p, u64 va)
{
	return (volatile u64 *)(p->va + (va - WL_VA_BASE));
}

/* One kernel over all n elements: dst = src0 (+ or *) src1, as STREAM. */
static u64 kernel_value(unsigned k, u64 x, u64 y)
{
	switch (k) {
	case 0: /* Copy */
		return x;
	case 1: /* Scale */
		return STREAM_SCALAR * x;
	case 2: /* Add */
		return x + y;
	default: /* Triad */
		return x + STREAM_SCALAR * y;
	}
}

static void sweep(const struct wl_place *p, const struct stream_layout *l, unsigned k)
{
	const struct wl_stream_kernel *kn = wl_stream_kernel(k);
	volatile u64 *x = in_region(p, l->arr[kn->rd[0]]);
	volatile u64 *y = kn->rd[1] >= 0 ? in_region(p, l->arr[kn->rd[1]]) : x;
	volatile u64 *d = in_region(p, l->arr[kn->wr]);

	for (u64 i = 0; i < l->n; i++)
		d[i] = kernel_value(k, x[i], y[i]);
}

void wl_stream_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	struct vspace vs;
	struct stream_layout l;
	u64 want[WL_STREAM_ARRAYS] = {1, 2, 0}, sweeps;

	lay_out(o->size, &vs, &l);
	for (int a = 0; a < WL_STREAM_ARRAYS; a++)
		for (u64 i = 0; i < l.n; i++)
			in_region(p, l.arr[a])[i] = want[a];
	sweeps = o->ops / l.n < WL_STREAM_KERNELS ? WL_STREAM_KERNELS : o->ops / l.n;
	for (u64 s = 0; s < sweeps; s++) {
		unsigned k = s % WL_STREAM_KERNELS;
		const struct wl_stream_kernel *kn = wl_stream_kernel(k);

		sweep(p, &l, k);
		want[kn->wr] = kernel_value(k, want[kn->rd[0]],
					    want[kn->rd[1] >= 0 ? kn->rd[1] : kn->rd[0]]);
	}
	r->ops = sweeps * l.n;
	r->errors = 0;
	for (int a = 0; a < WL_STREAM_ARRAYS; a++)
		for (u64 i = 0; i < l.n; i++)
			r->errors += *(volatile u64 *)wl_view(p, (u64)&in_region(p, l.arr[a])[i]) !=
				     want[a];
	ksnprintf(r->what, sizeof(r->what), "3 arrays of %lu elements, %lu kernel sweeps", l.n,
		  sweeps);
}
