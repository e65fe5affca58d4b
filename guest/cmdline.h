/* The guest's command line: "key=value" tokens. Keys: test=NAME[,NAME...]
 * (default test=all), gseg=4k|2m|1g (the pages of the primary region the
 * guest segment covers, default 2m), fuzz=N (hc-fuzz's calls), and the
 * workloads' wl-size=SIZE (default 16M), wl-seed=N (1), wl-ops=N (1000000)
 * wl-data=primary|outside (primary) and wl-sample=gups|chase (gups). GRUB and dimvisor pass exactly
 * the arguments given; QEMU -kernel puts the image's file name first, which the caller says with
 * image_name_first and which is then skipped. An unknown key or test name, a word without '=', or a
 * key given twice is an error. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <dimvisor/types.h>
#include "guest/tests.h"
#include "guest/workloads/workload.h"

struct guest_options {
	test_set tests;
	unsigned gseg_level;  /* gseg=4k|2m|1g: leaves of the primary region (1..3) */
	unsigned fuzz_calls;  /* fuzz=N: hypercalls of test=hc-fuzz, 1000..1000000 by 1000 */
	struct wl_options wl; /* wl-size= wl-seed= wl-ops= wl-data=: the workloads' */
};

/* Parse cmdline into *opt. Returns 0, or -DV_EINVAL with a message naming the
 * bad token and the accepted values in err. *opt is untouched on error. */
int cmdline_parse(const char *cmdline, bool image_name_first, struct guest_options *opt, char *err,
		  size_t errlen);

#endif
