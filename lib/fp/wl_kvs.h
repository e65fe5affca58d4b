/* kvs: a memcached-like key-value store, the request generator both mmusim
 * and the guest's workload run. Items of one slab class (WL_KVS_ITEM bytes:
 * header, key, value) fill slabs; a hash table of 8-byte bucket pointers
 * indexes them at load factor <= 1 (memcached grows its table to keep chains
 * short; chains of length one are modelled). Requests pick keys with a Zipf
 * distribution (skew WL_KVS_THETA, YCSB's default: Cooper et al.,
 * "Benchmarking cloud serving systems with YCSB", SoCC 2010) and are 95% GET,
 * 5% SET (YCSB workload B). Popular keys are scattered over the slabs by a
 * keyed permutation, as a hash-ordered allocation would scatter them.
 * Floating point (the Zipf sampling): built only where the build has it. */
#ifndef LIB_FP_WL_KVS_H
#define LIB_FP_WL_KVS_H

#include <dimvisor/types.h>
#include "lib/fp/zipf.h"
#include "lib/rng.h"

#define WL_KVS_ITEM	   128 /* chunk size of the slab class */
#define WL_KVS_HDR	   48  /* memcached-like item header */
#define WL_KVS_KEY	   16
#define WL_KVS_VALUE	   (WL_KVS_ITEM - WL_KVS_HDR - WL_KVS_KEY)
#define WL_KVS_THETA	   0.99
#define WL_KVS_SET_PERCENT 5
#define WL_KVS_CONN	   (64 * 1024) /* connection read/write buffers */
#define WL_KVS_COPY	   16	       /* bytes per access of a value copy (SSE) */

struct wl_kvs {
	u64 nitems, bucket_mask;
	unsigned item_bits;
	u64 rng, key_perm, key_hash;
	u64 conn_off;
	struct zipf zipf;
};

/* One request: which key (its Zipf rank), where its item and bucket are
 * (indices into the slabs and the table), GET or SET, and where in the
 * connection buffer its value goes. */
struct wl_kvs_req {
	u64 rank, item, bucket, conn_off;
	bool set;
};

static inline u64 wl_kvs_pow2_ceil(u64 x)
{
	u64 p = 1;

	while (p < x)
		p *= 2;
	return p;
}

/* Items that fit usable bytes with their table and the connection buffer
 * (items * WL_KVS_ITEM + buckets * 8 <= usable - WL_KVS_CONN, buckets =
 * pow2_ceil(items)); 0 when too small for 64. */
static inline u64 wl_kvs_items(u64 usable)
{
	u64 n;

	if (usable < WL_KVS_CONN + 64 * (WL_KVS_ITEM + 16))
		return 0;
	n = (usable - WL_KVS_CONN) / (WL_KVS_ITEM + 16);
	while (n * WL_KVS_ITEM + wl_kvs_pow2_ceil(n) * 8 > usable - WL_KVS_CONN)
		n--;
	return n;
}

static inline void wl_kvs_init(struct wl_kvs *k, u64 nitems, u64 seed)
{
	*k = (struct wl_kvs){0};
	k->nitems = nitems;
	k->item_bits = rng_bits_for(nitems);
	k->bucket_mask = wl_kvs_pow2_ceil(nitems) - 1;
	k->rng = rng_mix64(seed ^ 0x6b7673);
	k->key_perm = rng_next(&k->rng);
	k->key_hash = rng_next(&k->rng);
	zipf_init(&k->zipf, nitems, WL_KVS_THETA);
}

/* Where the key of rank lives: its item (a slot of the slabs) and bucket. */
static inline u64 wl_kvs_item_of(const struct wl_kvs *k, u64 rank)
{
	return rng_perm(rank, k->nitems, k->item_bits, k->key_perm);
}

static inline u64 wl_kvs_bucket_of(const struct wl_kvs *k, u64 rank)
{
	return rng_mix64(rank ^ k->key_hash) & k->bucket_mask;
}

static inline void wl_kvs_next(struct wl_kvs *k, struct wl_kvs_req *r)
{
	u64 u = rng_next(&k->rng);

	/* a uniform double in [0, 1) from the top 53 bits, as rng_unit */
	r->rank = zipf_rank(&k->zipf, (double)(u >> 11) * (1.0 / 9007199254740992.0));
	r->set = rng_below(rng_next(&k->rng), 100) < WL_KVS_SET_PERCENT;
	r->item = wl_kvs_item_of(k, r->rank);
	r->bucket = wl_kvs_bucket_of(k, r->rank);
	r->conn_off = k->conn_off;
	k->conn_off = (k->conn_off + WL_KVS_VALUE) % WL_KVS_CONN;
}

#endif
