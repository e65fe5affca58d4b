/* Host physical memory manager: buddy allocator plus page-granular range
 * operations. See pmm.h for the page states and the allocation policy.
 *
 * Bookkeeping (caller-supplied, no allocation here):
 *   managed      1 bit per page: usable RAM that is not reserved
 *   free_map[k]  1 bit per naturally aligned block of order k: "this block is a
 *                free block of order k" (at most one order covers a free page)
 *   head[k]      intrusive doubly linked list of the free blocks of order k; the
 *                node lives in the first 16 bytes of the free block itself
 * The bitmaps make buddy lookup, double-free detection and "is this page free"
 * O(orders); the lists make pmm_alloc O(orders). Range queries scan the bitmaps a
 * word at a time, so they are linear in the span, never quadratic. */
#include <dimvisor/errno.h>
#include <dimvisor/types.h>

#include "arch/x86_64/pte.h"
#include "mm/pmm.h"

#define BITS_PER_WORD 64

/* Links are physical addresses (PMM_NONE ends a list), so the same metadata
 * means the same thing whatever virt_offset is. */
struct pmm_node {
	u64 next;
	u64 prev;
};

/* --- bitmaps ---------------------------------------------------------------- */

static bool bit_test(const u64 *bm, u64 i)
{
	return (bm[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

static void bit_set(u64 *bm, u64 i)
{
	bm[i / BITS_PER_WORD] |= 1ULL << (i % BITS_PER_WORD);
}

static void bit_clear(u64 *bm, u64 i)
{
	bm[i / BITS_PER_WORD] &= ~(1ULL << (i % BITS_PER_WORD));
}

/* Mask of the bits of word w that lie in [from, to). */
static u64 word_mask(u64 w, u64 from, u64 to)
{
	u64 first = w * BITS_PER_WORD;
	u64 mask = ~0ULL;

	if (from > first)
		mask &= ~0ULL << (from - first);
	if (to < first + BITS_PER_WORD)
		mask &= ~(~0ULL << (to - first));
	return mask;
}

/* First index in [from, to) whose bit equals value, or to if there is none. */
static u64 bits_find(const u64 *bm, u64 from, u64 to, bool value)
{
	u64 flip = value ? 0 : ~0ULL;

	for (u64 w = from / BITS_PER_WORD; from < to && w * BITS_PER_WORD < to; w++) {
		u64 hits = (bm[w] ^ flip) & word_mask(w, from, to);

		if (hits)
			return w * BITS_PER_WORD + (u64)__builtin_ctzll(hits);
	}
	return to;
}

/* Own popcount: __builtin_popcountll needs libgcc without -mpopcnt. */
static u64 popcount64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static u64 bits_count(const u64 *bm, u64 from, u64 to)
{
	u64 n = 0;

	for (u64 w = from / BITS_PER_WORD; from < to && w * BITS_PER_WORD < to; w++)
		n += popcount64(bm[w] & word_mask(w, from, to));
	return n;
}

static void bits_fill(u64 *bm, u64 from, u64 to, bool value)
{
	for (u64 w = from / BITS_PER_WORD; from < to && w * BITS_PER_WORD < to; w++) {
		if (value)
			bm[w] |= word_mask(w, from, to);
		else
			bm[w] &= ~word_mask(w, from, to);
	}
}

static u64 words_for(u64 bits)
{
	return (bits + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

/* --- geometry ---------------------------------------------------------------- */

static unsigned order_shift(unsigned order)
{
	return PAGE_SHIFT + order;
}

static u64 order_size(unsigned order)
{
	return PMM_ORDER_SIZE(order);
}

/* Blocks of the order that overlap [lo, hi). */
static u64 order_blocks(u64 lo, u64 hi, unsigned order)
{
	u64 size = order_size(order);

	return (ALIGN_UP(hi, size) - ALIGN_DOWN(lo, size)) >> order_shift(order);
}

/* Round the span outward to pages; false if it is empty or beyond MAXPHYADDR. */
static bool span_normalise(u64 *lo, u64 *hi)
{
	if (*lo >= *hi || *hi > PMM_MAX_PHYS)
		return false;
	*lo = ALIGN_DOWN(*lo, PAGE_SIZE);
	*hi = ALIGN_UP(*hi, PAGE_SIZE);
	return true;
}

static u64 page_index(const struct pmm *p, u64 addr)
{
	return (addr - p->lo) >> PAGE_SHIFT;
}

/* Bitmap index of the order-aligned block at addr; false if the order's bitmap
 * does not cover it (then it cannot be free). */
static bool block_index(const struct pmm *p, unsigned order, u64 addr, u64 *idx)
{
	if (addr < p->map_base[order])
		return false;
	*idx = (addr - p->map_base[order]) >> order_shift(order);
	return *idx < p->map_bits[order];
}

/* Bitmap index of a block known to lie in the span. */
static u64 block_bit(const struct pmm *p, unsigned order, u64 addr)
{
	return (addr - p->map_base[order]) >> order_shift(order);
}

static bool block_is_free(const struct pmm *p, unsigned order, u64 addr)
{
	u64 idx;

	return block_index(p, order, addr, &idx) && bit_test(p->free_map[order], idx);
}

static bool range_all_managed(const struct pmm *p, u64 base, u64 end)
{
	u64 to = page_index(p, end);

	return bits_find(p->managed, page_index(p, base), to, false) == to;
}

static bool range_any_managed(const struct pmm *p, u64 base, u64 end)
{
	u64 to = page_index(p, end);

	return bits_find(p->managed, page_index(p, base), to, true) != to;
}

/* --- free lists ---------------------------------------------------------------- */

static struct pmm_node *node_at(const struct pmm *p, u64 phys)
{
	return (struct pmm_node *)(uintptr_t)(phys + p->virt_offset);
}

static void list_push(struct pmm *p, unsigned order, u64 addr)
{
	struct pmm_node *n = node_at(p, addr);

	n->next = p->head[order];
	n->prev = PMM_NONE;
	if (n->next != PMM_NONE)
		node_at(p, n->next)->prev = addr;
	p->head[order] = addr;
}

static void list_unlink(struct pmm *p, unsigned order, u64 addr)
{
	struct pmm_node *n = node_at(p, addr);

	if (n->prev != PMM_NONE)
		node_at(p, n->prev)->next = n->next;
	else
		p->head[order] = n->next;
	if (n->next != PMM_NONE)
		node_at(p, n->next)->prev = n->prev;
}

/* Make [addr, addr + size) a free block of the order, without coalescing. */
static void block_insert(struct pmm *p, u64 addr, unsigned order)
{
	bit_set(p->free_map[order], block_bit(p, order, addr));
	list_push(p, order, addr);
	p->nfree[order]++;
	p->free_bytes += order_size(order);
}

static void block_remove(struct pmm *p, u64 addr, unsigned order)
{
	bit_clear(p->free_map[order], block_bit(p, order, addr));
	list_unlink(p, order, addr);
	p->nfree[order]--;
	p->free_bytes -= order_size(order);
}

/* Free one block whose pages are managed and allocated, merging it with its buddy
 * for as long as the buddy is a free block of the same order. */
static void block_free_coalesce(struct pmm *p, u64 addr, unsigned order)
{
	while (order < PMM_MAX_ORDER) {
		u64 buddy = addr ^ order_size(order);

		if (!block_is_free(p, order, buddy))
			break;
		block_remove(p, buddy, order);
		addr = MIN(addr, buddy);
		order++;
	}
	block_insert(p, addr, order);
}

/* Free the managed, allocated pages [base, end) as maximal aligned blocks. The
 * blocks are freed from the top down so the lowest ends up at its list head. */
static void range_insert(struct pmm *p, u64 base, u64 end)
{
	while (end > base) {
		unsigned order = 0;

		while (order < PMM_MAX_ORDER && IS_ALIGNED(end, order_size(order + 1)) &&
		       end - base >= order_size(order + 1))
			order++;
		end -= order_size(order);
		block_free_coalesce(p, end, order);
	}
}

/* --- page and range queries ------------------------------------------------------ */

/* Order of the free block containing the page at addr (inside the span), with its
 * start in *start; -1 if the page is not free. */
static int block_containing(const struct pmm *p, u64 addr, u64 *start)
{
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		u64 s = ALIGN_DOWN(addr, order_size(order));

		if (block_is_free(p, order, s)) {
			*start = s;
			return (int)order;
		}
	}
	return -1;
}

/* Order of the free block that starts exactly at addr, or -1. */
static int block_starting_at(const struct pmm *p, u64 addr)
{
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		if (!IS_ALIGNED(addr, order_size(order)))
			break;
		if (block_is_free(p, order, addr))
			return (int)order;
	}
	return -1;
}

/* Lowest start in [from, limit) of a free block, or limit if there is none. Each
 * order's bitmap is scanned only up to the best start found so far. */
static u64 next_free_start(const struct pmm *p, u64 from, u64 limit)
{
	u64 best = limit;

	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		u64 size = order_size(order);
		u64 first = ALIGN_UP(from, size);
		u64 base = p->map_base[order];
		u64 lo_idx, hi_idx, idx;

		if (first >= best)
			continue;
		lo_idx = (first - base) >> order_shift(order);
		hi_idx = MIN(p->map_bits[order], (best - base + size - 1) >> order_shift(order));
		idx = bits_find(p->free_map[order], lo_idx, hi_idx, true);
		if (idx < hi_idx)
			best = base + (idx << order_shift(order));
	}
	return best;
}

/* End of the run of adjacent free blocks that continues at addr, looking no
 * further than limit (the result may exceed limit by part of a block). */
static u64 run_extend(const struct pmm *p, u64 addr, u64 limit)
{
	while (addr < limit) {
		int order = block_starting_at(p, addr);

		if (order < 0)
			break;
		addr += order_size((unsigned)order);
	}
	return addr;
}

static bool range_any_free(const struct pmm *p, u64 base, u64 end)
{
	u64 start;

	return block_containing(p, base, &start) >= 0 || next_free_start(p, base, end) < end;
}

static bool range_all_free(const struct pmm *p, u64 base, u64 end)
{
	u64 start;
	int order = block_containing(p, base, &start);

	if (order < 0)
		return false;
	return run_extend(p, start + order_size((unsigned)order), end) >= end;
}

/* Take every free page of [base, end) out of the free lists; the parts of
 * straddling blocks outside the range stay free. Pages that are not free are
 * skipped a bitmap word at a time. */
static void range_carve(struct pmm *p, u64 base, u64 end)
{
	u64 addr = base;

	while (addr < end) {
		u64 start, block_end;
		int order = block_containing(p, addr, &start);

		if (order < 0) {
			addr = next_free_start(p, addr, end);
			continue;
		}
		block_end = start + order_size((unsigned)order);
		block_remove(p, start, (unsigned)order);
		if (start < base)
			range_insert(p, start, base);
		if (block_end > end)
			range_insert(p, end, block_end);
		addr = block_end;
	}
}

/* Validate a page-aligned, non-empty range inside the span; *end gets its end. */
static int range_check(const struct pmm *p, u64 base, u64 len, u64 *end)
{
	if (len == 0 || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE))
		return -DV_EINVAL;
	if (base < p->lo || base >= p->hi || len > p->hi - base)
		return -DV_EINVAL;
	*end = base + len;
	return 0;
}

/* --- bad pages and owners: helpers ------------------------------------------------ */

/* Index of the first bad page >= addr (nbad if none). */
static unsigned bad_lower_bound(const struct pmm *p, u64 addr)
{
	unsigned a = 0, b = p->nbad;

	while (a < b) {
		unsigned m = (a + b) / 2;

		if (p->bad[m] < addr)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static unsigned bad_count(const struct pmm *p, u64 base, u64 end)
{
	return bad_lower_bound(p, end) - bad_lower_bound(p, base);
}

/* First bad page in [from, limit), or limit. */
static u64 next_bad(const struct pmm *p, u64 from, u64 limit)
{
	unsigned i = bad_lower_bound(p, from);

	return i < p->nbad && p->bad[i] < limit ? p->bad[i] : limit;
}

static void owners_clear(struct pmm *p, u64 base, u64 end)
{
	if (!p->owner)
		return;
	for (u64 i = page_index(p, base); i < page_index(p, end); i++)
		p->owner[i] = 0;
}

/* Free the allocated, managed pages of [base, end) around its bad pages. */
static void range_insert_good(struct pmm *p, u64 base, u64 end)
{
	for (unsigned i = bad_lower_bound(p, base); i < p->nbad && p->bad[i] < end; i++) {
		if (p->bad[i] > base)
			range_insert(p, base, p->bad[i]);
		base = p->bad[i] + PAGE_SIZE;
	}
	if (base < end)
		range_insert(p, base, end);
}

/* Every page of [base, end) managed or bad. */
static bool range_all_managed_or_bad(const struct pmm *p, u64 base, u64 end)
{
	u64 managed = bits_count(p->managed, page_index(p, base), page_index(p, end));

	return managed + bad_count(p, base, end) == (end - base) >> PAGE_SHIFT;
}

/* End of the run of free or bad pages that starts at addr (addr if there is none). */
static u64 free_or_bad_run_end(const struct pmm *p, u64 addr)
{
	while (addr < p->hi) {
		u64 start;
		int order;

		if (pmm_is_bad(p, addr)) {
			addr += PAGE_SIZE;
			continue;
		}
		order = block_containing(p, addr, &start);
		if (order < 0)
			break;
		addr = run_extend(p, start + order_size((unsigned)order), p->hi);
	}
	return MIN(addr, p->hi);
}

/* --- public interface ------------------------------------------------------------ */

size_t pmm_metadata_size(u64 lo, u64 hi)
{
	u64 words;

	if (!span_normalise(&lo, &hi))
		return 0;
	words = words_for((hi - lo) >> PAGE_SHIFT);
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++)
		words += words_for(order_blocks(lo, hi, order));
	return words * sizeof(u64);
}

int pmm_init(struct pmm *p, u64 lo, u64 hi, void *meta, size_t meta_len, u64 virt_offset)
{
	size_t need = pmm_metadata_size(lo, hi);
	u64 *words = meta;

	if (need == 0 || meta == NULL || meta_len < need || !IS_ALIGNED((uintptr_t)meta, 8))
		return -DV_EINVAL;
	span_normalise(&lo, &hi);
	for (size_t i = 0; i < need / sizeof(u64); i++)
		words[i] = 0;

	p->lo = lo;
	p->hi = hi;
	p->virt_offset = virt_offset;
	p->free_bytes = 0;
	p->total_bytes = 0;
	p->nbad = 0;
	p->owner = NULL;
	p->managed = words;
	words += words_for((hi - lo) >> PAGE_SHIFT);
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		p->free_map[order] = words;
		p->map_base[order] = ALIGN_DOWN(lo, order_size(order));
		p->map_bits[order] = order_blocks(lo, hi, order);
		p->head[order] = PMM_NONE;
		p->nfree[order] = 0;
		words += words_for(p->map_bits[order]);
	}
	return 0;
}

int pmm_add_free(struct pmm *p, u64 base, u64 len)
{
	u64 start, end;

	if (base >= PMM_MAX_PHYS || len > PMM_MAX_PHYS - base)
		return -DV_ERANGE;
	start = ALIGN_UP(base, PAGE_SIZE);
	end = ALIGN_DOWN(base + len, PAGE_SIZE);
	if (start >= end)
		return 0;
	if (start < p->lo || end > p->hi)
		return -DV_ERANGE;
	if (range_any_managed(p, start, end))
		return -DV_EEXIST;
	bits_fill(p->managed, page_index(p, start), page_index(p, end), true);
	for (unsigned i = bad_lower_bound(p, start); i < p->nbad && p->bad[i] < end; i++)
		bit_clear(p->managed, page_index(p, p->bad[i])); /* a bad page stays bad */
	p->total_bytes += end - start - (u64)bad_count(p, start, end) * PAGE_SIZE;
	range_insert_good(p, start, end);
	return 0;
}

int pmm_reserve(struct pmm *p, u64 base, u64 len)
{
	u64 start, end;

	if (len == 0 || base >= p->hi)
		return 0;
	end = len > p->hi - base ? p->hi : ALIGN_UP(base + len, PAGE_SIZE);
	start = MAX(ALIGN_DOWN(base, PAGE_SIZE), p->lo);
	if (start >= end)
		return 0;
	range_carve(p, start, end);
	p->total_bytes -=
		bits_count(p->managed, page_index(p, start), page_index(p, end)) * PAGE_SIZE;
	bits_fill(p->managed, page_index(p, start), page_index(p, end), false);
	return 0;
}

u64 pmm_alloc(struct pmm *p, unsigned order)
{
	if (order > PMM_MAX_ORDER)
		return PMM_NONE;
	for (unsigned o = order; o <= PMM_MAX_ORDER; o++) {
		u64 addr = p->head[o];

		if (addr == PMM_NONE)
			continue;
		block_remove(p, addr, o);
		while (o > order) { /* keep the lower half: allocations ascend */
			o--;
			block_insert(p, addr + order_size(o), o);
		}
		return addr;
	}
	return PMM_NONE;
}

int pmm_free(struct pmm *p, u64 phys, unsigned order)
{
	if (order > PMM_MAX_ORDER || !IS_ALIGNED(phys, order_size(order)))
		return -DV_EINVAL;
	return pmm_free_range(p, phys, order_size(order));
}

int pmm_free_range(struct pmm *p, u64 base, u64 len)
{
	u64 end;
	int err = range_check(p, base, len, &end);

	if (err)
		return err;
	if (!range_all_managed_or_bad(p, base, end))
		return -DV_EFAULT;
	if (range_any_free(p, base, end))
		return -DV_EBUSY;
	owners_clear(p, base, end);
	range_insert_good(p, base, end);
	return 0;
}

int pmm_claim_range(struct pmm *p, u64 base, u64 len)
{
	u64 end;
	int err = range_check(p, base, len, &end);

	if (err)
		return err;
	if (!range_all_free(p, base, end))
		return -DV_EBUSY;
	range_carve(p, base, end);
	return 0;
}

u64 pmm_alloc_contig(struct pmm *p, u64 size, u64 align)
{
	u64 from = p->lo, base, len;

	if (size == 0 || !IS_ALIGNED(size, PAGE_SIZE) || size > p->hi - p->lo)
		return PMM_NONE;
	if (align < PAGE_SIZE || (align & (align - 1)) != 0)
		return PMM_NONE;
	while (pmm_next_free_range(p, from, &base, &len)) {
		u64 at = ALIGN_UP(base, align);

		if (at >= base && at - base < len && len - (at - base) >= size) {
			range_carve(p, at, at + size);
			return at;
		}
		from = base + len;
	}
	return PMM_NONE;
}

int pmm_mark_bad(struct pmm *p, u64 phys)
{
	unsigned i;

	phys = ALIGN_DOWN(phys, PAGE_SIZE);
	if (pmm_is_bad(p, phys))
		return 0;
	if (phys < p->lo || phys >= p->hi || !bit_test(p->managed, page_index(p, phys)))
		return -DV_ENOENT;
	if (p->nbad == PMM_MAX_BAD)
		return -DV_E2BIG;
	range_carve(p, phys, phys + PAGE_SIZE);
	bit_clear(p->managed, page_index(p, phys));
	owners_clear(p, phys, phys + PAGE_SIZE);
	p->total_bytes -= PAGE_SIZE;
	i = bad_lower_bound(p, phys);
	for (unsigned j = p->nbad; j > i; j--)
		p->bad[j] = p->bad[j - 1];
	p->bad[i] = phys;
	p->nbad++;
	return 0;
}

bool pmm_is_bad(const struct pmm *p, u64 phys)
{
	unsigned i;

	phys = ALIGN_DOWN(phys, PAGE_SIZE);
	i = bad_lower_bound(p, phys);
	return i < p->nbad && p->bad[i] == phys;
}

int pmm_claim_range_bad(struct pmm *p, u64 base, u64 len, u64 *bad, unsigned max_bad)
{
	u64 end;
	unsigned first, n;
	int err = range_check(p, base, len, &end);

	if (err)
		return err;
	if (free_or_bad_run_end(p, base) < end)
		return -DV_EBUSY;
	first = bad_lower_bound(p, base);
	n = bad_count(p, base, end);
	if (n > max_bad)
		return -DV_E2BIG;
	for (unsigned i = 0; i < n; i++)
		bad[i] = p->bad[first + i];
	range_carve(p, base, end);
	return (int)n;
}

u64 pmm_alloc_contig_bad(struct pmm *p, u64 size, u64 align, u64 *bad, unsigned max_bad,
			 unsigned *nbad)
{
	u64 from = p->lo; /* never inside a free block: lo, or the end of a run */

	if (size == 0 || !IS_ALIGNED(size, PAGE_SIZE) || size > p->hi - p->lo)
		return PMM_NONE;
	if (align < PAGE_SIZE || (align & (align - 1)) != 0)
		return PMM_NONE;
	while (from < p->hi) {
		/* the next run of free or bad pages: it starts at a free block or a bad page */
		u64 start = MIN(next_free_start(p, from, p->hi), next_bad(p, from, p->hi));
		u64 run_end, at;

		if (start >= p->hi)
			break;
		run_end = free_or_bad_run_end(p, start);
		/* try each aligned base in the run until the bad pages fit */
		for (at = ALIGN_UP(start, align);
		     at >= start && at < run_end && run_end - at >= size; at += align) {
			int n = pmm_claim_range_bad(p, at, size, bad, max_bad);

			if (n >= 0) {
				*nbad = (unsigned)n;
				return at;
			}
		}
		from = MAX(run_end, start + PAGE_SIZE);
	}
	return PMM_NONE;
}

int pmm_carve_pool(struct pmm *pool, struct pmm *from, u64 size, u64 align)
{
	u64 base, meta_bytes;
	size_t meta_len;

	if (size < 2 * PAGE_SIZE || !IS_ALIGNED(size, PAGE_SIZE))
		return -DV_EINVAL;
	if (align < PAGE_SIZE || (align & (align - 1)) != 0)
		return -DV_EINVAL;
	base = pmm_alloc_contig(from, size, align);
	if (base == PMM_NONE)
		return -DV_ENOMEM;
	meta_len = pmm_metadata_size(base, base + size);
	meta_bytes = ALIGN_UP(meta_len, PAGE_SIZE);
	if (meta_bytes >= size) {
		pmm_free_range(from, base, size);
		return -DV_EINVAL;
	}
	/* cannot fail: the span is valid and the metadata sized for it */
	pmm_init(pool, base, base + size, (void *)(uintptr_t)(base + from->virt_offset), meta_len,
		 from->virt_offset);
	pmm_add_free(pool, base + meta_bytes, size - meta_bytes);
	return 0;
}

size_t pmm_owner_map_size(const struct pmm *p)
{
	return ((p->hi - p->lo) >> PAGE_SHIFT) * sizeof(u32);
}

int pmm_owner_map_init(struct pmm *p, void *mem, size_t len)
{
	u32 *words = mem;

	if (!mem || len < pmm_owner_map_size(p) || !IS_ALIGNED((uintptr_t)mem, sizeof(u32)))
		return -DV_EINVAL;
	for (size_t i = 0; i < pmm_owner_map_size(p) / sizeof(u32); i++)
		words[i] = 0;
	p->owner = words;
	return 0;
}

/* Checks shared by set and clear. */
static int owner_range_check(const struct pmm *p, u64 hpa, u64 len, u64 *end)
{
	if (!p->owner)
		return -DV_ENOSYS;
	return range_check(p, hpa, len, end);
}

int pmm_owner_set(struct pmm *p, u64 hpa, u64 gpa, u64 len)
{
	u64 end, first, last;
	int err = owner_range_check(p, hpa, len, &end);

	if (err)
		return err;
	if (!IS_ALIGNED(gpa, PAGE_SIZE))
		return -DV_EINVAL;
	if (gpa >= PMM_OWNER_MAX || len > PMM_OWNER_MAX - gpa)
		return -DV_ERANGE;
	if (!range_all_managed(p, hpa, end) || range_any_free(p, hpa, end))
		return -DV_EFAULT;
	first = page_index(p, hpa);
	last = page_index(p, end);
	for (u64 i = first; i < last; i++)
		if (p->owner[i])
			return -DV_EEXIST;
	for (u64 i = first; i < last; i++)
		p->owner[i] = (u32)(((gpa >> PAGE_SHIFT) + (i - first)) + 1);
	return 0;
}

int pmm_owner_get(const struct pmm *p, u64 hpa, u64 *gpa)
{
	u32 o;

	if (!p->owner)
		return -DV_ENOSYS;
	if (hpa < p->lo || hpa >= p->hi)
		return -DV_ENOENT;
	o = p->owner[page_index(p, hpa)];
	if (!o)
		return -DV_ENOENT;
	*gpa = ((u64)(o - 1) << PAGE_SHIFT) | (hpa & (PAGE_SIZE - 1));
	return 0;
}

int pmm_owner_clear(struct pmm *p, u64 hpa, u64 len)
{
	u64 end;
	int err = owner_range_check(p, hpa, len, &end);

	if (err)
		return err;
	owners_clear(p, hpa, end);
	return 0;
}

bool pmm_next_free_range(const struct pmm *p, u64 from, u64 *base, u64 *len)
{
	u64 start;
	int order;

	from = MAX(ALIGN_DOWN(from, PAGE_SIZE), p->lo);
	if (from >= p->hi)
		return false;
	order = block_containing(p, from, &start);
	if (order >= 0) {
		*base = from;
		*len = run_extend(p, start + order_size((unsigned)order), p->hi) - from;
		return true;
	}
	start = next_free_start(p, from, p->hi);
	if (start == p->hi)
		return false;
	*base = start;
	*len = run_extend(p, start, p->hi) - start;
	return true;
}

bool pmm_is_free(const struct pmm *p, u64 phys)
{
	u64 start;

	return phys >= p->lo && phys < p->hi && block_containing(p, phys, &start) >= 0;
}

enum pmm_page_state pmm_page_state(const struct pmm *p, u64 phys)
{
	if (pmm_is_bad(p, phys))
		return PMM_PAGE_BAD;
	if (phys < p->lo || phys >= p->hi || !bit_test(p->managed, page_index(p, phys)))
		return PMM_PAGE_ABSENT;
	return pmm_is_free(p, phys) ? PMM_PAGE_FREE : PMM_PAGE_ALLOCATED;
}

bool pmm_is_range_free(const struct pmm *p, u64 base, u64 len)
{
	u64 end;

	if (len == 0 || base < p->lo || base >= p->hi || len > p->hi - base)
		return false;
	end = ALIGN_UP(base + len, PAGE_SIZE);
	return range_all_free(p, ALIGN_DOWN(base, PAGE_SIZE), end);
}

u64 pmm_free_bytes(const struct pmm *p)
{
	return p->free_bytes;
}

u64 pmm_total_bytes(const struct pmm *p)
{
	return p->total_bytes;
}

u64 pmm_largest_free_block(const struct pmm *p)
{
	for (int order = PMM_MAX_ORDER; order >= 0; order--) {
		if (p->nfree[order])
			return order_size((unsigned)order);
	}
	return 0;
}

u64 pmm_largest_free_range(const struct pmm *p, u64 *base)
{
	u64 from = p->lo, best = 0, best_base = PMM_NONE, run, len;

	while (pmm_next_free_range(p, from, &run, &len)) {
		if (len > best) {
			best = len;
			best_base = run;
		}
		from = run + len;
	}
	if (base)
		*base = best_base;
	return best;
}

void pmm_free_counts(const struct pmm *p, u64 counts[PMM_ORDERS])
{
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++)
		counts[order] = p->nfree[order];
}

/* --- invariant check --------------------------------------------------------------- */

/* The list of one order: well-formed, every member a free block of that order,
 * as many members as the counter and the bitmap say. */
static int check_list(const struct pmm *p, unsigned order)
{
	u64 size = order_size(order), prev = PMM_NONE, count = 0;

	for (u64 addr = p->head[order]; addr != PMM_NONE; addr = node_at(p, addr)->next) {
		if (++count > p->nfree[order])
			return -PMM_INV_LIST; /* cycle, or more members than counted */
		if (!IS_ALIGNED(addr, size) || addr < p->lo || addr >= p->hi || size > p->hi - addr)
			return -PMM_INV_LIST;
		if (node_at(p, addr)->prev != prev)
			return -PMM_INV_LIST;
		if (!block_is_free(p, order, addr))
			return -PMM_INV_LIST_BITMAP;
		prev = addr;
	}
	if (count != p->nfree[order] ||
	    bits_count(p->free_map[order], 0, p->map_bits[order]) != count)
		return -PMM_INV_LIST_BITMAP;
	return 0;
}

/* One free block: inside managed RAM, not overlapping a larger free block, not
 * left uncoalesced with its buddy. */
static int check_block(const struct pmm *p, unsigned order, u64 addr)
{
	u64 size = order_size(order);

	if (addr < p->lo || addr >= p->hi || size > p->hi - addr ||
	    !range_all_managed(p, addr, addr + size))
		return -PMM_INV_ABSENT;
	for (unsigned up = order + 1; up <= PMM_MAX_ORDER; up++) {
		if (block_is_free(p, up, ALIGN_DOWN(addr, order_size(up))))
			return -PMM_INV_OVERLAP;
	}
	if (order < PMM_MAX_ORDER && block_is_free(p, order, addr ^ size))
		return -PMM_INV_COALESCE;
	return 0;
}

/* Bad pages: ascending, on the span, unmanaged. Owners: only on managed pages that
 * are not free. */
static int check_bad_and_owners(const struct pmm *p)
{
	for (unsigned i = 0; i < p->nbad; i++) {
		u64 b = p->bad[i];

		if ((i && b <= p->bad[i - 1]) || b < p->lo || b >= p->hi ||
		    !IS_ALIGNED(b, PAGE_SIZE) || bit_test(p->managed, page_index(p, b)))
			return -PMM_INV_BAD;
	}
	if (!p->owner)
		return 0;
	for (u64 i = 0; i < (p->hi - p->lo) >> PAGE_SHIFT; i++) {
		u64 start;

		if (p->owner[i] && (!bit_test(p->managed, i) ||
				    block_containing(p, p->lo + (i << PAGE_SHIFT), &start) >= 0))
			return -PMM_INV_OWNER;
	}
	return 0;
}

int pmm_check(const struct pmm *p)
{
	u64 free_sum = 0;
	int err;

	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		err = check_list(p, order);
		if (err)
			return err;
	}
	for (unsigned order = 0; order <= PMM_MAX_ORDER; order++) {
		u64 bits = p->map_bits[order];

		for (u64 i = bits_find(p->free_map[order], 0, bits, true); i < bits;
		     i = bits_find(p->free_map[order], i + 1, bits, true)) {
			err = check_block(p, order, p->map_base[order] + (i << order_shift(order)));
			if (err)
				return err;
			free_sum += order_size(order);
		}
	}
	if (free_sum != p->free_bytes)
		return -PMM_INV_FREE_BYTES;
	if (bits_count(p->managed, 0, (p->hi - p->lo) >> PAGE_SHIFT) * PAGE_SIZE != p->total_bytes)
		return -PMM_INV_TOTAL_BYTES;
	return check_bad_and_owners(p);
}
