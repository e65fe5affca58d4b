/* The workload registry. */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "workload.h"

const struct workload_ops *const workload_table[] = {
	&wl_gups_ops, &wl_bfs_ops, &wl_cg_ops, &wl_kvs_ops, &wl_chase_ops, &wl_stream_ops, NULL,
};

const struct workload_ops *workload_find(const char *name)
{
	for (size_t i = 0; workload_table[i]; i++)
		if (strcmp(workload_table[i]->name, name) == 0)
			return workload_table[i];
	return NULL;
}

int workload_open(struct workload *wl, const char *name, const struct workload_params *p, char *err,
		  size_t errlen)
{
	const struct workload_ops *ops = workload_find(name);
	int rc;

	memset(wl, 0, sizeof(*wl));
	if (!ops) {
		snprintf(err, errlen, "unknown workload '%s'", name);
		return -DV_ENOENT;
	}
	if (p->footprint > WL_VA_LIMIT - WL_VA_BASE) {
		snprintf(err, errlen, "footprint too large: at most %llu TiB",
			 (unsigned long long)((WL_VA_LIMIT - WL_VA_BASE) >> 40));
		return -DV_ERANGE;
	}
	vspace_init(&wl->vs, p->footprint);
	wl->ops = ops;
	rc = ops->init(wl, p, err, errlen);
	if (rc == 0 && wl->vs.next > ALIGN_UP(wl->vs.limit, wl->vs.align)) {
		/* A generator placed data past its budget: a bug, not user error. */
		snprintf(err, errlen, "%s: layout exceeds the footprint", name);
		workload_close(wl);
		return -DV_ERANGE;
	}
	return rc;
}

void workload_close(struct workload *wl)
{
	if (wl->ops && wl->st)
		wl->ops->fini(wl->st);
	wl->st = NULL;
}
