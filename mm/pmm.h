/* Host physical memory manager: a buddy allocator over the usable RAM of the
 * multiboot memory map, with contiguity as a first-class query because the VMM
 * segment needs one large contiguous host range (MICRO 2014, "Efficient Memory
 * Virtualization"), and compaction / ballooning move arbitrary page sets.
 *
 * Every page of the span [lo, hi) is in one of four states:
 *   absent    - not RAM, or reserved (image, modules); never handed out
 *   bad       - RAM with a known fault (pmm_mark_bad): never handed out, but a range
 *               claim may span it (pmm_claim_range_bad), so that a VMM segment can
 *               cover it and the caller escapes it
 *   free      - inside exactly one free buddy block
 *   allocated - managed RAM that is not free
 * Free blocks are naturally aligned, 4 KiB (order 0) .. 1 GiB (order 18).
 *
 * Policy: pmm_alloc takes the smallest order that fits; within an order the most
 * recently freed block (LIFO, O(1), cache-warm). A split keeps the lower half, and
 * a range added or freed in one call puts its lowest block at the head of each
 * list, so a fresh range is handed out in ascending order. pmm_alloc_contig works
 * at page granularity, first fit from the lowest address.
 *
 * Free blocks hold their list node in their first bytes, reached at
 * phys + virt_offset (0 in the identity-mapped hypervisor, a buffer in tests).
 *
 * Optional, per instance: an owner map (the guest-physical page each allocated
 * frame backs, for migrating frames) and pools (a second instance over a range
 * carved from the first, for page tables and the hypervisor's own data).
 * Not thread-safe: callers serialise. */
#ifndef MM_PMM_H
#define MM_PMM_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"

#define PMM_MIN_ORDER 0	 /* 4 KiB */
#define PMM_MAX_ORDER 18 /* 1 GiB */
#define PMM_ORDERS    (PMM_MAX_ORDER + 1)
#define PMM_NONE      (~0ULL)
#define PMM_MAX_PHYS  (1ULL << 52) /* MAXPHYADDR limit, SDM Vol. 3A 4.1.4 */
#define PMM_MAX_BAD   64	   /* bad pages one instance remembers (badmem= takes 64) */
#define PMM_OWNER_MAX (1ULL << 43) /* owner gPAs are stored as 32-bit frame numbers */

/* Bytes in a block of the given order. */
#define PMM_ORDER_SIZE(order) (PAGE_SIZE << (order))

enum pmm_page_state {
	PMM_PAGE_ABSENT, /* not RAM, reserved, or outside the span */
	PMM_PAGE_FREE,
	PMM_PAGE_ALLOCATED,
	PMM_PAGE_BAD, /* pmm_mark_bad: never free, never managed */
};

/* Invariants checked by pmm_check; it returns the negated number of the first broken one. */
enum pmm_invariant {
	PMM_INV_LIST = 1,    /* free list links broken, cycle, or block misaligned / off span */
	PMM_INV_LIST_BITMAP, /* list members and bitmap bits disagree (count or membership) */
	PMM_INV_ABSENT,	     /* a free block covers a page that is not managed RAM */
	PMM_INV_OVERLAP,     /* two free blocks overlap */
	PMM_INV_COALESCE,    /* a free block's buddy is also free at the same order */
	PMM_INV_FREE_BYTES,  /* free_bytes differs from the sum of free blocks */
	PMM_INV_TOTAL_BYTES, /* total_bytes differs from the managed-page count */
	PMM_INV_BAD,	     /* bad list unsorted, off the span, or a bad page managed */
	PMM_INV_OWNER,	     /* a free or unmanaged page has an owner */
};

/* One allocator instance. Fields are private to pmm.c; read them through the API. */
struct pmm {
	u64 lo, hi;	 /* span, page aligned */
	u64 virt_offset; /* free block at phys is accessed at phys + virt_offset */
	u64 free_bytes;
	u64 total_bytes;	   /* managed pages (added as usable, minus reserved) */
	u64 *managed;		   /* 1 bit per page of the span: usable RAM, not reserved */
	u64 *free_map[PMM_ORDERS]; /* bit i: block i of this order is a free block */
	u64 map_base[PMM_ORDERS];  /* address of block 0 of the order */
	u64 map_bits[PMM_ORDERS];  /* blocks of the order overlapping the span */
	u64 head[PMM_ORDERS];	   /* first free block of the order, or PMM_NONE */
	u64 nfree[PMM_ORDERS];	   /* free blocks of the order */
	u64 bad[PMM_MAX_BAD];	   /* bad pages, ascending */
	unsigned nbad;
	u32 *owner; /* per page of the span: owner gPA >> 12, plus 1; 0 = none. NULL: no map */
};

/* Bytes of bookkeeping pmm_init needs for the span [lo, hi) (rounded outward to
 * pages): one bit per page plus one bit per block of each order, in 64-bit words.
 * About 3 bits per page. 0 if the span is invalid. */
size_t pmm_metadata_size(u64 lo, u64 hi);

/* Set up an allocator for [lo, hi) using meta (8-byte aligned, at least
 * pmm_metadata_size bytes, zeroed here). The whole span starts absent.
 * -DV_EINVAL on an empty or too large span or too little / misaligned meta. */
int pmm_init(struct pmm *p, u64 lo, u64 hi, void *meta, size_t meta_len, u64 virt_offset);

/* Add usable RAM, shrunk inward to whole pages; an empty result is a no-op.
 * -DV_ERANGE if outside the span, -DV_EEXIST if any page is already managed
 * (free or allocated); nothing changes on error. */
int pmm_add_free(struct pmm *p, u64 base, u64 len);

/* Remove [base, base+len), rounded outward to pages and clipped to the span, from
 * management: free parts leave the free lists, every page becomes absent (an
 * allocated page too: freeing it later gives -DV_EFAULT). Idempotent; call after
 * pmm_add_free, since adding over a reservation undoes it. */
int pmm_reserve(struct pmm *p, u64 base, u64 len);

/* A naturally aligned block of 4 KiB << order, or PMM_NONE (none free, or order > MAX). */
u64 pmm_alloc(struct pmm *p, unsigned order);

/* Free a block from pmm_alloc (or any aligned allocated block). -DV_EINVAL if order
 * > MAX, phys misaligned or off the span; -DV_EFAULT if a page is absent; -DV_EBUSY
 * if any page is already free. Nothing changes on error. */
int pmm_free(struct pmm *p, u64 phys, unsigned order);

/* Allocate size bytes (a page multiple, any size) at an align-aligned address
 * (a power of two >= 4 KiB), lowest fit first. PMM_NONE if none or bad arguments. */
u64 pmm_alloc_contig(struct pmm *p, u64 size, u64 align);

/* Allocate exactly [base, base+len) if every page is free, else -DV_EBUSY and
 * nothing changes. -DV_EINVAL if misaligned, empty or off the span. */
int pmm_claim_range(struct pmm *p, u64 base, u64 len);

/* Free an arbitrary page-aligned allocated range (becomes maximal buddy blocks,
 * coalesced with free neighbours). Bad pages inside are skipped (they stay bad), so
 * a range from pmm_claim_range_bad is freed the same way. Freeing clears the owner
 * of every page. Errors as pmm_free; nothing changes on error. */
int pmm_free_range(struct pmm *p, u64 base, u64 len);

/* --- bad pages --------------------------------------------------------------------- */

/* Mark the page at phys (rounded down) bad: it leaves the free lists and management
 * (as pmm_reserve) and is remembered. Marking a bad page again is a no-op. An
 * allocated page may be marked; freeing it later skips it. -DV_ENOENT if the page is
 * not managed RAM (outside the span, never added, reserved), -DV_E2BIG when
 * PMM_MAX_BAD pages are bad already; nothing changes on error. Adding RAM over a bad
 * page leaves it bad. */
int pmm_mark_bad(struct pmm *p, u64 phys);
bool pmm_is_bad(const struct pmm *p, u64 phys);

/* Allocate [base, base+len) where every page is free or bad: the free pages are
 * taken, the bad ones stay bad and their addresses go to bad[0..] in ascending order.
 * Returns the number of bad pages (0..max_bad). -DV_EINVAL as pmm_claim_range,
 * -DV_EBUSY if a page is neither free nor bad, -DV_E2BIG if more than max_bad are
 * bad; nothing changes on error. */
int pmm_claim_range_bad(struct pmm *p, u64 base, u64 len, u64 *bad, unsigned max_bad);

/* pmm_alloc_contig where bad pages count as part of a contiguous range: the lowest
 * align-aligned range of size bytes whose pages are all free or bad, with at most
 * max_bad bad ones, claimed as pmm_claim_range_bad. Returns the base (its bad pages
 * in bad[], their number in *nbad) or PMM_NONE. */
u64 pmm_alloc_contig_bad(struct pmm *p, u64 size, u64 align, u64 *bad, unsigned max_bad,
			 unsigned *nbad);

/* --- pools ------------------------------------------------------------------------- */

/* Start pool as an allocator of its own over size bytes (a page multiple) claimed
 * from `from` at an align-aligned address, lowest fit; its metadata lives in the
 * first pages of that range, the rest starts free. Page tables and the hypervisor's
 * data come from a pool so that they never sit inside guest memory that must move
 * or become contiguous. -DV_ENOMEM if `from` has no such range, -DV_EINVAL if size
 * cannot hold the metadata and a page, or for a bad align. */
int pmm_carve_pool(struct pmm *pool, struct pmm *from, u64 size, u64 align);

/* --- owner map --------------------------------------------------------------------- */

/* Bytes an owner map for this instance needs: 4 per page of the span. */
size_t pmm_owner_map_size(const struct pmm *p);
/* Give the instance an owner map in mem (4-byte aligned, at least
 * pmm_owner_map_size bytes, zeroed here): every page starts without an owner.
 * -DV_EINVAL on too little or misaligned memory. */
int pmm_owner_map_init(struct pmm *p, void *mem, size_t len);
/* Record that the allocated frames [hpa, hpa+len) back guest-physical
 * [gpa, gpa+len). -DV_ENOSYS without an owner map, -DV_EINVAL if misaligned or empty,
 * -DV_ERANGE if gpa+len > PMM_OWNER_MAX, -DV_EFAULT if a frame is not allocated,
 * -DV_EEXIST if one has an owner already; nothing changes on error. */
int pmm_owner_set(struct pmm *p, u64 hpa, u64 gpa, u64 len);
/* The gPA backed by the frame holding hpa (the offset in the page carried over):
 * 0, or -DV_ENOENT if it has no owner (or hpa is off the span), -DV_ENOSYS
 * without an owner map. */
int pmm_owner_get(const struct pmm *p, u64 hpa, u64 *gpa);
/* Forget the owners of [hpa, hpa+len) (pages without one are fine). -DV_EINVAL as
 * pmm_owner_set, -DV_ENOSYS without an owner map. */
int pmm_owner_clear(struct pmm *p, u64 hpa, u64 len);

/* State queries. phys outside the span is absent / not free. */
bool pmm_is_free(const struct pmm *p, u64 phys);
enum pmm_page_state pmm_page_state(const struct pmm *p, u64 phys);
/* True if every page of [base, base+len) is free (false for an empty range). */
bool pmm_is_range_free(const struct pmm *p, u64 base, u64 len);

u64 pmm_free_bytes(const struct pmm *p);
/* Managed bytes: everything added by pmm_add_free minus what pmm_reserve removed. */
u64 pmm_total_bytes(const struct pmm *p);

/* Size of the largest free buddy block (naturally aligned), 0 if none. */
u64 pmm_largest_free_block(const struct pmm *p);

/* Length of the longest run of contiguous free bytes (possibly many blocks), 0 if
 * none; its lowest base goes to *base if base is not NULL. Linear in the span. */
u64 pmm_largest_free_range(const struct pmm *p, u64 *base);

/* The first maximal run of free pages at or after from (a run containing from is
 * clipped to start there): true with *base, *len set, false if there is none.
 * Iterate with from = *base + *len. */
bool pmm_next_free_range(const struct pmm *p, u64 from, u64 *base, u64 *len);

/* Number of free blocks of each order. */
void pmm_free_counts(const struct pmm *p, u64 counts[PMM_ORDERS]);

/* Full invariant check (tests, debug): 0, or -(enum pmm_invariant) of the first
 * broken invariant. Linear in the metadata plus the free blocks. */
int pmm_check(const struct pmm *p);

/* pmm_print.c (needs kprintf): totals, largest block and range, blocks per order. */
void pmm_print_summary(const struct pmm *p);

#endif
