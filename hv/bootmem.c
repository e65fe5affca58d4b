#include "hv/bootmem.h"
#include "arch/x86_64/pte.h"
#include <dimvisor/errno.h>

void bootmem_init(struct bootmem *bm, const struct boot_mmap_entry *usable, unsigned n, u64 limit)
{
	bm->nusable = 0;
	bm->nbusy = 0;
	bm->limit = limit;
	for (unsigned i = 0; i < n && i < BOOT_MAX_MMAP; i++)
		bm->usable[bm->nusable++] = usable[i];
}

int bootmem_mark_busy(struct bootmem *bm, u64 base, u64 len, const char *what)
{
	if (len == 0)
		return 0;
	u64 start = ALIGN_DOWN(base, PAGE_SIZE);
	u64 end = base + len < base ? ~0ULL : ALIGN_UP(base + len, PAGE_SIZE);

	/* Successive allocations for one purpose grow a single entry. */
	if (bm->nbusy) {
		struct bootmem_range *last = &bm->busy[bm->nbusy - 1];
		if (last->what == what && last->end == start) {
			last->end = end;
			return 0;
		}
	}
	if (bm->nbusy == BOOTMEM_MAX_BUSY)
		return -DV_E2BIG;
	bm->busy[bm->nbusy++] = (struct bootmem_range){start, end, what};
	return 0;
}

/* First busy range overlapping [base, end), or NULL. */
static const struct bootmem_range *first_overlap(const struct bootmem *bm, u64 base, u64 end)
{
	for (unsigned i = 0; i < bm->nbusy; i++)
		if (bm->busy[i].base < end && base < bm->busy[i].end)
			return &bm->busy[i];
	return NULL;
}

u64 bootmem_alloc(struct bootmem *bm, u64 size, u64 align, const char *what)
{
	size = ALIGN_UP(size, PAGE_SIZE);
	for (unsigned i = 0; i < bm->nusable; i++) {
		u64 end = MIN(bm->usable[i].base + bm->usable[i].len, bm->limit);
		u64 cand = ALIGN_UP(bm->usable[i].base, align);
		const struct bootmem_range *hit;

		while (cand < end && size <= end - cand) {
			hit = first_overlap(bm, cand, cand + size);
			if (!hit) {
				if (bootmem_mark_busy(bm, cand, size, what) < 0)
					return BOOTMEM_NONE;
				return cand;
			}
			cand = ALIGN_UP(hit->end, align);
		}
	}
	return BOOTMEM_NONE;
}

static void sort_busy(struct bootmem *bm)
{
	for (unsigned i = 1; i < bm->nbusy; i++) {
		struct bootmem_range r = bm->busy[i];
		unsigned j = i;

		for (; j > 0 && bm->busy[j - 1].base > r.base; j--)
			bm->busy[j] = bm->busy[j - 1];
		bm->busy[j] = r;
	}
}

void bootmem_for_each_free(struct bootmem *bm, void (*fn)(void *ctx, u64 base, u64 len), void *ctx)
{
	sort_busy(bm);
	for (unsigned i = 0; i < bm->nusable; i++) {
		u64 cur = bm->usable[i].base, end = bm->usable[i].base + bm->usable[i].len;

		for (unsigned b = 0; b < bm->nbusy && cur < end; b++) {
			const struct bootmem_range *r = &bm->busy[b];
			if (r->end <= cur || r->base >= end)
				continue;
			if (r->base > cur)
				fn(ctx, cur, r->base - cur);
			cur = MAX(cur, r->end);
		}
		if (cur < end)
			fn(ctx, cur, end - cur);
	}
}
