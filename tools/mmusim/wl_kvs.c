/* kvs: a memcached-like key-value store (lib/fp/wl_kvs.h, shared with the
 * guest's workload): the request generator, turned into accesses here.
 *
 * GET: bucket, item header (chain pointer, lengths), key compare, LRU time
 * update, value copied 16 bytes at a time into the connection's buffer.
 * SET: bucket, header, key compare, value written, header time/CAS written. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "lib/fp/wl_kvs.h"
#include "workload.h"

struct kvs {
	u64 buckets, slabs, conn;
	struct wl_kvs gen;
};

static int kvs_init(struct workload *wl, const struct workload_params *p, char *err, size_t errlen)
{
	u64 n = wl_kvs_items(vspace_usable(&wl->vs, 3));
	struct kvs *k;

	if (!n) {
		snprintf(err, errlen, "kvs: footprint too small");
		return -DV_EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -DV_ENOMEM;
	wl_kvs_init(&k->gen, n, p->seed);
	k->buckets = vspace_alloc(&wl->vs, "buckets", (k->gen.bucket_mask + 1) * 8);
	k->slabs = vspace_alloc(&wl->vs, "slabs", n * WL_KVS_ITEM);
	k->conn = vspace_alloc(&wl->vs, "conn", WL_KVS_CONN);
	wl->st = k;
	snprintf(wl->desc, sizeof(wl->desc), "kvs: %llu items of %d bytes, zipf %.2f, %d%% SET",
		 (unsigned long long)n, WL_KVS_ITEM, WL_KVS_THETA, WL_KVS_SET_PERCENT);
	return 0;
}

static inline struct access acc(u64 va, u32 size, u8 kind)
{
	return (struct access){.va = va, .size = size, .kind = kind};
}

/* One request; returns the number of accesses written to b (at most 16). */
static size_t kvs_request(struct kvs *k, struct access *b)
{
	struct wl_kvs_req r;
	u64 item, bucket;
	size_t n = 0;

	wl_kvs_next(&k->gen, &r);
	item = k->slabs + r.item * WL_KVS_ITEM;
	bucket = k->buckets + r.bucket * 8;
	b[n++] = acc(bucket, 8, ACCESS_READ);
	b[n++] = acc(item, 8, ACCESS_READ);	/* hash-chain next */
	b[n++] = acc(item + 8, 8, ACCESS_READ); /* nkey, nbytes, flags */
	b[n++] = acc(item + WL_KVS_HDR, WL_KVS_KEY, ACCESS_READ);
	for (u64 off = 0; off < WL_KVS_VALUE; off += WL_KVS_COPY) {
		u64 v = item + WL_KVS_HDR + WL_KVS_KEY + off;
		u64 c = k->conn + (r.conn_off + off) % WL_KVS_CONN;

		if (r.set) {
			b[n++] = acc(c, WL_KVS_COPY, ACCESS_READ);
			b[n++] = acc(v, WL_KVS_COPY, ACCESS_WRITE);
		} else {
			b[n++] = acc(v, WL_KVS_COPY, ACCESS_READ);
			b[n++] = acc(c, WL_KVS_COPY, ACCESS_WRITE);
		}
	}
	b[n++] = acc(item + 16, 8, ACCESS_WRITE); /* time (LRU) / CAS */
	return n;
}

static size_t kvs_next(void *st, struct access *buf, size_t max)
{
	struct kvs *k = st;
	size_t n = 0;

	while (n + 16 <= max)
		n += kvs_request(k, buf + n);
	return n;
}

static void kvs_fini(void *st)
{
	free(st);
}

const struct workload_ops wl_kvs_ops = {
	.name = "kvs",
	.help = "memcached-like hash table + slabs, Zipf(0.99) keys, 95% GET / 5% SET",
	.init = kvs_init,
	.next = kvs_next,
	.fini = kvs_fini,
};
