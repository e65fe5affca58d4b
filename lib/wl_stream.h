/* stream: the four STREAM kernels (McCalpin, "Memory bandwidth and machine
 * balance in current high performance computers", IEEE TCCA newsletter 1995)
 * over three arrays that share the footprint, in STREAM's order: Copy c = a,
 * Scale b = s*c, Add c = a + b, Triad a = b + s*c. Each kernel sweeps all n
 * elements before the next starts. Shared by mmusim's generator and the
 * guest's workload (which computes on integers: only the addresses matter to
 * the MMU, and the guest has no floating point). */
#ifndef LIB_WL_STREAM_H
#define LIB_WL_STREAM_H

#include <dimvisor/types.h>

enum { WL_STREAM_A, WL_STREAM_B, WL_STREAM_C, WL_STREAM_ARRAYS };

#define WL_STREAM_KERNELS 4
#define WL_STREAM_ELEM	  8

/* Per kernel: arrays read (up to two, -1 = none) and the array written. */
struct wl_stream_kernel {
	int rd[2];
	int wr;
};

static inline const struct wl_stream_kernel *wl_stream_kernel(unsigned k)
{
	static const struct wl_stream_kernel kernels[WL_STREAM_KERNELS] = {
		{{WL_STREAM_A, -1}, WL_STREAM_C},	   /* Copy */
		{{WL_STREAM_C, -1}, WL_STREAM_B},	   /* Scale */
		{{WL_STREAM_A, WL_STREAM_B}, WL_STREAM_C}, /* Add */
		{{WL_STREAM_B, WL_STREAM_C}, WL_STREAM_A}, /* Triad */
	};

	return &kernels[k % WL_STREAM_KERNELS];
}

#endif
