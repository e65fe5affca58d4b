/* kvs in the guest: a real memcached-like store driven by the request
 * generator mmusim simulates (lib/fp/wl_kvs.h), laid out as mmusim lays it
 * out (buckets, slabs, connection buffer), each request making the accesses
 * mmusim's stream lists, in its order: bucket, item header, key, the value
 * copied 16 bytes at a time between the item and the connection buffer, the
 * item's time. Every request checks the item's lengths and key and, for a
 * GET, that the value matches the item's version (its CAS, bumped by each
 * SET); then every item is checked again through the identity map.
 *
 * Compiled with SSE (the Zipf sampling is floating point; the rest of the
 * guest has none): the test turns SSE on first (fpu_enable). Item layout:
 * +0 chain pointer, +8 key and value lengths, +16 time, +24 CAS, +48 key,
 * +64 value. */
#include "arch/x86_64/cpu.h"
#include "guest/workloads/workload.h"
#include "lib/fp/wl_kvs.h"
#include "lib/printf.h"
#include "lib/wl_layout.h"

#define ITEM_LENGTHS ((u64)WL_KVS_KEY << 32 | WL_KVS_VALUE)

struct kvs_layout {
	u64 buckets, slabs, conn; /* layout addresses, from WL_VA_BASE as mmusim's */
	u64 nitems;
};

static bool lay_out(u64 footprint, struct vspace *vs, struct kvs_layout *l)
{
	vspace_init(vs, footprint);
	l->nitems = wl_kvs_items(vspace_usable(vs, 3));
	if (!l->nitems)
		return false;
	l->buckets = vspace_alloc(vs, "buckets", wl_kvs_pow2_ceil(l->nitems) * 8);
	l->slabs = vspace_alloc(vs, "slabs", l->nitems * WL_KVS_ITEM);
	l->conn = vspace_alloc(vs, "conn", WL_KVS_CONN);
	return true;
}

u64 wl_kvs_bytes(u64 footprint)
{
	struct vspace vs;
	struct kvs_layout l;

	return lay_out(footprint, &vs, &l) ? vs.next - WL_VA_BASE : ~0ULL;
}

/* SSE for the Zipf sampling: CR0.EM off, MP and NE on, TS off; CR4.OSFXSR and
 * OSXMMEXCPT on (SDM Vol. 3A 13.1.3). */
void wl_kvs_fpu_enable(void)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

/* Where layout address va is in the region, and in the identity map. */
static volatile u64 *at(const struct wl_place *p, u64 va)
{
	return (volatile u64 *)(p->va + (va - WL_VA_BASE));
}

static volatile u64 *view(const struct wl_place *p, u64 va)
{
	return (volatile u64 *)wl_view(p, (u64)at(p, va));
}

static u64 key_word(u64 rank, unsigned w)
{
	return rng_mix64(rank * 2 + w + 1);
}

static u64 value_word(u64 rank, u64 cas, unsigned w)
{
	return rng_mix64(rank ^ (cas << 40) ^ ((u64)w << 32) ^ 0x76616c7565ULL);
}

/* Every item: lengths, key, version 0 and its value; every bucket points at
 * the item of the last rank hashed to it. */
static void fill(const struct wl_place *p, const struct kvs_layout *l, const struct wl_kvs *k)
{
	for (u64 rank = 0; rank < l->nitems; rank++) {
		u64 item = l->slabs + wl_kvs_item_of(k, rank) * WL_KVS_ITEM;
		volatile u64 *it = at(p, item);

		it[0] = 0;
		it[1] = ITEM_LENGTHS;
		it[2] = 0;
		it[3] = 0;
		for (unsigned w = 0; w < WL_KVS_KEY / 8; w++)
			it[WL_KVS_HDR / 8 + w] = key_word(rank, w);
		for (unsigned w = 0; w < WL_KVS_VALUE / 8; w++)
			it[(WL_KVS_HDR + WL_KVS_KEY) / 8 + w] = value_word(rank, 0, w);
		*at(p, l->buckets + wl_kvs_bucket_of(k, rank) * 8) = (u64)it;
	}
}

/* The item of rank as a request finds it: lengths and key right. */
static bool item_is(volatile u64 *it, u64 rank)
{
	bool ok = it[1] == ITEM_LENGTHS;

	for (unsigned w = 0; w < WL_KVS_KEY / 8; w++)
		ok &= it[WL_KVS_HDR / 8 + w] == key_word(rank, w);
	return ok;
}

/* One request, its accesses in mmusim's order; returns the errors it saw. */
static u64 request(const struct wl_place *p, const struct kvs_layout *l, const struct wl_kvs_req *r,
		   u64 time)
{
	u64 item = l->slabs + r->item * WL_KVS_ITEM, errors = 0, cas;
	volatile u64 *it = at(p, item);

	(void)*at(p, l->buckets + r->bucket * 8); /* the bucket: chains of one */
	(void)it[0];
	errors += !item_is(it, r->rank);
	cas = it[3] + r->set;
	for (u64 off = 0; off < WL_KVS_VALUE; off += WL_KVS_COPY) {
		volatile u64 *v = &it[(WL_KVS_HDR + WL_KVS_KEY + off) / 8];
		volatile u64 *c = at(p, l->conn + (r->conn_off + off) % WL_KVS_CONN);

		for (unsigned w = 0; w < WL_KVS_COPY / 8; w++) {
			unsigned word = (unsigned)(off / 8) + w;

			if (r->set) { /* the client's new value, through the buffer */
				c[w] = value_word(r->rank, cas, word);
				v[w] = c[w];
			} else {
				c[w] = v[w];
				errors += c[w] != value_word(r->rank, cas, word);
			}
		}
	}
	it[2] = time;
	it[3] = cas;
	return errors;
}

void wl_kvs_run(const struct wl_place *p, const struct wl_options *o, struct wl_result *r)
{
	struct vspace vs;
	struct kvs_layout l;
	struct wl_kvs k;

	if (!lay_out(o->size, &vs, &l)) {
		r->errors = 1;
		ksnprintf(r->what, sizeof(r->what), "a footprint too small for kvs");
		return;
	}
	wl_kvs_init(&k, l.nitems, o->seed);
	fill(p, &l, &k);
	r->errors = 0;
	for (u64 n = 0; n < o->ops; n++) {
		struct wl_kvs_req req;

		wl_kvs_next(&k, &req);
		r->errors += request(p, &l, &req, n + 1);
	}
	r->ops = o->ops;
	for (u64 rank = 0; rank < l.nitems; rank++) { /* every item, through the identity map */
		volatile u64 *it = view(p, l.slabs + wl_kvs_item_of(&k, rank) * WL_KVS_ITEM);

		r->errors += !item_is(it, rank);
		for (unsigned w = 0; w < WL_KVS_VALUE / 8; w++)
			r->errors +=
				it[(WL_KVS_HDR + WL_KVS_KEY) / 8 + w] != value_word(rank, it[3], w);
	}
	ksnprintf(r->what, sizeof(r->what), "%lu items of %d bytes, %lu requests", l.nitems,
		  WL_KVS_ITEM, o->ops);
}
