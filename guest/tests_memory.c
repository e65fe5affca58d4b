/* memory: write one qword per page of guest RAM with an address-dependent
 * pattern, then read them all back. Writing everything before reading
 * anything catches two guest-physical pages that share one backing page
 * (the later write would show in the earlier page). Covers every available
 * region of the memory map, on both sides of the I/O gap, except the image
 * and the boot modules and page tables after it. */
#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"
#include "guest/paging.h"
#include "guest/tests.h"

#define SPANS_MAX	   (2 * BOOT_REGIONS_MAX) /* the reserved range may split one region */
#define PATTERN_MULTIPLIER 0x9e3779b97f4a7c15ULL  /* odd: distinct addresses, distinct values */
#define PATTERN_SALT	   0x5a5aa5a5c3c33c3cULL
#define MISMATCHES_SHOWN   8

struct span {
	u64 start, end;
};

struct memory_counts {
	u64 below_4g, above_4g, mismatches;
};

extern u8 __image_start[];

/* One qword per page, at an offset that moves through the page with its
 * frame number so that every cache-line position is exercised. */
static volatile u64 *slot(u64 page)
{
	return (volatile u64 *)(page + ((page >> PAGE_SHIFT) % (PAGE_SIZE / 8)) * 8);
}

static u64 pattern(u64 page)
{
	return page * PATTERN_MULTIPLIER ^ PATTERN_SALT;
}

/* Whole pages of RAM outside [reserved_start, reserved_end). */
static unsigned test_spans(const struct boot_info *bi, u64 reserved_start, u64 reserved_end,
			   struct span *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];
		u64 start = ALIGN_UP(r->base, PAGE_SIZE);
		u64 end = ALIGN_DOWN(r->base + r->length, PAGE_SIZE);

		if (r->type != BOOT_RAM_TYPE || start >= end)
			continue;
		if (start < reserved_start && n < SPANS_MAX)
			out[n++] = (struct span){start, MIN(end, reserved_start)};
		if (end > reserved_end && n < SPANS_MAX)
			out[n++] = (struct span){MAX(start, reserved_end), end};
	}
	return n;
}

static void write_pass(const struct span *spans, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (u64 page = spans[i].start; page < spans[i].end; page += PAGE_SIZE)
			*slot(page) = pattern(page);
}

static void check_pass(struct test *t, const struct span *spans, unsigned n,
		       struct memory_counts *c)
{
	for (unsigned i = 0; i < n; i++) {
		for (u64 page = spans[i].start; page < spans[i].end; page += PAGE_SIZE) {
			u64 got = *slot(page), want = pattern(page);

			if (page < PAGING_LOW_IDENTITY)
				c->below_4g++;
			else
				c->above_4g++;
			if (got == want)
				continue;
			if (c->mismatches++ < MISMATCHES_SHOWN)
				test_check(t, false, "page 0x%lx: read 0x%016lx, wrote 0x%016lx",
					   page, got, want);
		}
	}
}

void test_memory(struct test *t)
{
	static struct span spans[SPANS_MAX];
	const u64 reserved_start = ALIGN_DOWN((u64)__image_start, PAGE_SIZE);
	const u64 reserved_end = paging_reserved_end();
	struct memory_counts c = {0};
	unsigned n = test_spans(t->boot, reserved_start, reserved_end, spans);
	u64 pages;
	bool ram_above_4g = t->boot->ram_top > PAGING_LOW_IDENTITY;

	write_pass(spans, n);
	check_pass(t, spans, n, &c);
	pages = c.below_4g + c.above_4g;
	test_check(t, c.mismatches == 0, "%lu of %lu pages read back wrong", c.mismatches, pages);
	test_check(t, c.below_4g > 0, "no RAM below 4 GiB was tested");
	test_check(t, !ram_above_4g || c.above_4g > 0,
		   "the map has RAM above 4 GiB, none was tested");
	test_note(t,
		  "%lu pages (%lu MiB) checked in %u ranges: %lu below 4 GiB, %lu above; "
		  "skipped 0x%lx-0x%lx (image, modules and page tables)",
		  pages, (u64)(pages * PAGE_SIZE / MiB), n, c.below_4g, c.above_4g, reserved_start,
		  reserved_end - 1);
}
