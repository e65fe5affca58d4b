/* kvs: a memcached-like key-value store. Items of one slab class (KVS_ITEM
 * bytes: header, key, value) fill slabs; a hash table of 8-byte bucket
 * pointers indexes them at load factor <= 1 (memcached grows its table to keep
 * chains short; we model chains of length one). Requests pick keys with a Zipf
 * distribution (skew KVS_THETA, YCSB's default: Cooper et al., "Benchmarking
 * cloud serving systems with YCSB", SoCC 2010) and are 95% GET, 5% SET (YCSB
 * workload B). Popular keys are scattered over the slabs by a keyed
 * permutation, as a hash-ordered allocation would scatter them.
 *
 * GET: bucket, item header (chain pointer, lengths), key compare, LRU time
 * update, value copied 16 bytes at a time into the connection's buffer.
 * SET: bucket, header, key compare, value written, header time/CAS written. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "rng.h"
#include "workload.h"
#include "zipf.h"

#define KVS_ITEM	128 /* chunk size of the slab class */
#define KVS_HDR		48  /* memcached-like item header */
#define KVS_KEY		16
#define KVS_VALUE	(KVS_ITEM - KVS_HDR - KVS_KEY)
#define KVS_THETA	0.99
#define KVS_SET_PERCENT 5
#define KVS_CONN	(64 * 1024) /* connection read/write buffers */
#define KVS_COPY	16	    /* bytes per access of a value copy (SSE) */

struct kvs {
	u64 buckets, slabs, conn;
	u64 nitems, bucket_mask;
	unsigned item_bits;
	u64 rng, key_perm, key_hash;
	u64 conn_off;
	struct zipf zipf;
};

static u64 pow2_ceil(u64 x)
{
	u64 p = 1;

	while (p < x)
		p *= 2;
	return p;
}

static int kvs_init(struct workload *wl, const struct workload_params *p, char *err, size_t errlen)
{
	u64 usable = vspace_usable(&wl->vs, 3);
	struct kvs *k;
	u64 n;

	if (usable < KVS_CONN + 64 * (KVS_ITEM + 16)) {
		snprintf(err, errlen, "kvs: footprint too small");
		return -DV_EINVAL;
	}
	/* items * KVS_ITEM + buckets * 8 <= usable, buckets = pow2_ceil(items). */
	n = (usable - KVS_CONN) / (KVS_ITEM + 16);
	while (n * KVS_ITEM + pow2_ceil(n) * 8 > usable - KVS_CONN)
		n--;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -DV_ENOMEM;
	k->nitems = n;
	k->item_bits = rng_bits_for(n);
	k->bucket_mask = pow2_ceil(n) - 1;
	k->rng = rng_mix64(p->seed ^ 0x6b7673);
	k->key_perm = rng_next(&k->rng);
	k->key_hash = rng_next(&k->rng);
	zipf_init(&k->zipf, n, KVS_THETA);
	k->buckets = vspace_alloc(&wl->vs, "buckets", (k->bucket_mask + 1) * 8);
	k->slabs = vspace_alloc(&wl->vs, "slabs", n * KVS_ITEM);
	k->conn = vspace_alloc(&wl->vs, "conn", KVS_CONN);
	wl->st = k;
	snprintf(wl->desc, sizeof(wl->desc), "kvs: %llu items of %d bytes, zipf %.2f, %d%% SET",
		 (unsigned long long)n, KVS_ITEM, KVS_THETA, KVS_SET_PERCENT);
	return 0;
}

static inline struct access acc(u64 va, u32 size, u8 kind)
{
	return (struct access){.va = va, .size = size, .kind = kind};
}

/* One request; returns the number of accesses written to b (at most 16). */
static size_t kvs_request(struct kvs *k, struct access *b)
{
	u64 r = rng_next(&k->rng);
	u64 rank = zipf_rank(&k->zipf, rng_unit(r));
	bool set = rng_below(rng_next(&k->rng), 100) < KVS_SET_PERCENT;
	u64 item = k->slabs + rng_perm(rank, k->nitems, k->item_bits, k->key_perm) * KVS_ITEM;
	u64 bucket = k->buckets + (rng_mix64(rank ^ k->key_hash) & k->bucket_mask) * 8;
	size_t n = 0;

	b[n++] = acc(bucket, 8, ACCESS_READ);
	b[n++] = acc(item, 8, ACCESS_READ);	/* hash-chain next */
	b[n++] = acc(item + 8, 8, ACCESS_READ); /* nkey, nbytes, flags */
	b[n++] = acc(item + KVS_HDR, KVS_KEY, ACCESS_READ);
	for (u64 off = 0; off < KVS_VALUE; off += KVS_COPY) {
		u64 v = item + KVS_HDR + KVS_KEY + off;
		u64 c = k->conn + (k->conn_off + off) % KVS_CONN;

		if (set) {
			b[n++] = acc(c, KVS_COPY, ACCESS_READ);
			b[n++] = acc(v, KVS_COPY, ACCESS_WRITE);
		} else {
			b[n++] = acc(v, KVS_COPY, ACCESS_READ);
			b[n++] = acc(c, KVS_COPY, ACCESS_WRITE);
		}
	}
	k->conn_off = (k->conn_off + KVS_VALUE) % KVS_CONN;
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
