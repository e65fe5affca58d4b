/* The escape filter (PAPER.md "Escape filter"): a Bloom filter of 4 KiB
 * guest-physical pages inside the VMM segment that must not be translated
 * by it (e.g. host pages with permanent faults). A hit sends the address to
 * the nested walk; a false positive only costs that walk, never a wrong
 * translation. The exact list of escaped pages is kept beside the filter so
 * the model can tell false positives from real escapes. */
#ifndef MM_MODEL_ESCAPE_H
#define MM_MODEL_ESCAPE_H

#include <dimvisor/types.h>

#define ESCAPE_DEFAULT_BITS   256 /* issue 3: default 256 bits, 4 hashes */
#define ESCAPE_DEFAULT_HASHES 4
#define ESCAPE_MAX_BITS	      65536
#define ESCAPE_MAX_HASHES     16
#define ESCAPE_MAX_PAGES      1024

struct escape_filter {
	u32 nbits;   /* filter size in bits, 1..ESCAPE_MAX_BITS */
	u32 nhashes; /* hash functions per page, 1..ESCAPE_MAX_HASHES */
	u32 npages;  /* escaped pages recorded in pages[] */
	u64 bits[ESCAPE_MAX_BITS / 64];
	u64 pages[ESCAPE_MAX_PAGES]; /* page numbers (addr >> 12), sorted */
};

/* Empty filter of nbits bits and nhashes hashes; -DV_EINVAL if out of range. */
int escape_init(struct escape_filter *e, u32 nbits, u32 nhashes);
/* Escape the 4 KiB page holding addr. -DV_E2BIG when the exact list is full. */
int escape_add(struct escape_filter *e, u64 addr);
/* Forget every escaped page (bits and list). */
void escape_clear(struct escape_filter *e);
/* The hardware's answer: may the page of addr be escaped? (Bloom lookup.) */
bool escape_may_contain(const struct escape_filter *e, u64 addr);
/* The truth: was the page of addr escaped with escape_add? */
bool escape_contains(const struct escape_filter *e, u64 addr);
/* True if any escaped page lies in [lo, hi). */
bool escape_any_in(const struct escape_filter *e, u64 lo, u64 hi);

static inline bool escape_empty(const struct escape_filter *e)
{
	return e->npages == 0;
}

#endif
