/* The configurations mmusim compares, named as on the command line:
 *
 *   G+E              base virtualized: guest pages G, EPT pages E
 *                    (G: 4k 2m 1g thp; E: 4k 2m 1g), e.g. 4k+4k, 2m+4k
 *   native-G         native paging with pages G (4k 2m 1g thp)
 *   native-ds[:G]    native direct segment over the primary region, pages G
 *                    elsewhere (default 4k)
 *   dual-direct[:G+E], vmm-direct[:G+E], guest-direct[:G+E]
 *                    the paper's modes; G and E are the page sizes of what
 *                    the segments do not cover (default 4k+4k)
 *
 * thp: 2 MiB pages where the aligned 2 MiB block lies wholly inside one of
 * the workload's arrays (a trace: inside the primary region), else 4 KiB. */
#ifndef MMUSIM_CONFIG_H
#define MMUSIM_CONFIG_H

#include <dimvisor/types.h>
#include "mm/model/model.h"

enum page_policy {
	PAGES_4K = 0,
	PAGES_2M,
	PAGES_1G,
	PAGES_THP,
};

#define CONFIG_NAME_MAX 40
#define CONFIG_MAX	32

struct config_spec {
	char name[CONFIG_NAME_MAX]; /* as given on the command line */
	enum model_mode mode;
	enum page_policy guest; /* guest (native) page policy */
	enum page_policy ept;	/* EPT pages (4k, 2m, 1g), virtualized modes */
	bool virt;		/* mode has EPT */
	bool hidden;		/* the native-4k baseline added for the overhead column */
};

/* The default list: the example. */
#define CONFIG_DEFAULT_LIST                                                                        \
	"4k+4k,2m+2m,1g+1g,native-4k,native-ds,dual-direct,vmm-direct,guest-direct"
#define CONFIG_BASELINE "native-4k"

/* Parse one name. 0, or -DV_EINVAL with a message in err. */
int config_parse(const char *name, struct config_spec *c, char *err, size_t errlen);
/* Parse a comma-separated list into out[max]; *n gets the count. Names must
 * be distinct. 0, or -DV_EINVAL / -DV_E2BIG with a message. */
int config_parse_list(const char *list, struct config_spec *out, size_t max, size_t *n, char *err,
		      size_t errlen);
const char *page_policy_name(enum page_policy p);
/* Page shift of a fixed policy (12, 21, 30); THP answers 12 (its smallest). */
unsigned page_policy_shift(enum page_policy p);

#endif
