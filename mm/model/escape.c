/* The escape filter: a Bloom filter over 4 KiB page numbers, plus the exact
 * sorted list of escaped pages so false positives can be counted. */
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "mm/model/escape.h"

/* A 64-bit finaliser (the splitmix64 / MurmurHash3 fmix64 constants): page
 * numbers are dense and regular, the filter needs them spread over all bits. */
static u64 escape_mix(u64 x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Bit of hash i by double hashing, g_i = h1 + i * h2 (Kirsch and
 * Mitzenmacher, "Less hashing, same performance", ESA 2006), reduced to
 * [0, nbits) by a multiply-shift so nbits need not be a power of two. */
static u32 escape_bit(const struct escape_filter *e, u64 h, u32 i)
{
	u32 h1 = (u32)h, h2 = (u32)(h >> 32) | 1;
	u32 g = h1 + i * h2;

	return (u32)(((u64)g * e->nbits) >> 32);
}

int escape_init(struct escape_filter *e, u32 nbits, u32 nhashes)
{
	if (nbits == 0 || nbits > ESCAPE_MAX_BITS || nhashes == 0 || nhashes > ESCAPE_MAX_HASHES)
		return -DV_EINVAL;
	e->nbits = nbits;
	e->nhashes = nhashes;
	escape_clear(e);
	return 0;
}

void escape_clear(struct escape_filter *e)
{
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(e->bits); i++)
		e->bits[i] = 0;
	e->npages = 0;
}

/* Index of the first listed page >= pfn. */
static u32 escape_lower_bound(const struct escape_filter *e, u64 pfn)
{
	u32 lo = 0, hi = e->npages;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (e->pages[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int escape_add(struct escape_filter *e, u64 addr)
{
	u64 pfn = addr >> PAGE_SHIFT;
	u64 h = escape_mix(pfn);
	u32 pos = escape_lower_bound(e, pfn);
	u32 i;

	if (pos < e->npages && e->pages[pos] == pfn)
		return 0;
	if (e->npages == ESCAPE_MAX_PAGES)
		return -DV_E2BIG;
	for (i = e->npages; i > pos; i--)
		e->pages[i] = e->pages[i - 1];
	e->pages[pos] = pfn;
	e->npages++;
	for (i = 0; i < e->nhashes; i++) {
		u32 b = escape_bit(e, h, i);

		e->bits[b / 64] |= 1ULL << (b % 64);
	}
	return 0;
}

bool escape_may_contain(const struct escape_filter *e, u64 addr)
{
	u64 h;
	u32 i;

	if (e->npages == 0)
		return false; /* empty filter: every bit is clear */
	h = escape_mix(addr >> PAGE_SHIFT);
	for (i = 0; i < e->nhashes; i++) {
		u32 b = escape_bit(e, h, i);

		if (!(e->bits[b / 64] & (1ULL << (b % 64))))
			return false;
	}
	return true;
}

bool escape_contains(const struct escape_filter *e, u64 addr)
{
	u64 pfn = addr >> PAGE_SHIFT;
	u32 pos = escape_lower_bound(e, pfn);

	return pos < e->npages && e->pages[pos] == pfn;
}

bool escape_any_in(const struct escape_filter *e, u64 lo, u64 hi)
{
	u32 pos;

	if (lo >= hi)
		return false;
	pos = escape_lower_bound(e, lo >> PAGE_SHIFT);
	return pos < e->npages && e->pages[pos] <= (hi - 1) >> PAGE_SHIFT;
}
