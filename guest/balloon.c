/* The guest's balloon driver; see balloon.h. */
#include "guest/balloon.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"

/* A page is scattered when each neighbour inside the range is in use: the
 * range's own ends count as used, the driver cannot know what lies past them. */
static bool scattered(u64 gpa, u64 lo, u64 hi, balloon_in_use_fn in_use, void *ctx)
{
	bool left = gpa == lo || in_use(gpa - PAGE_SIZE, ctx);
	bool right = gpa + PAGE_SIZE >= hi || in_use(gpa + PAGE_SIZE, ctx);

	return left && right;
}

unsigned balloon_gather(u64 lo, u64 hi, balloon_in_use_fn in_use, void *ctx, u64 *out,
			unsigned want)
{
	unsigned n = 0;

	/* pass 0: the scattered free pages; pass 1: the other free ones */
	for (int pass = 0; pass < 2; pass++)
		for (u64 gpa = lo; gpa < hi && n < want; gpa += PAGE_SIZE) {
			bool lone;

			if (in_use(gpa, ctx))
				continue;
			lone = scattered(gpa, lo, hi, in_use, ctx);
			if ((pass == 0) == lone)
				out[n++] = gpa >> PAGE_SHIFT;
		}
	return n;
}

s64 balloon_give(const u64 *pages, unsigned n, struct dv_mem_range *added)
{
	return dv_hc_balloon_inflate((u64)pages, n, DV_BALLOON_HOTADD, (u64)added);
}

s64 balloon_unplug(const u64 *pages, unsigned n, struct dv_mem_range *added)
{
	return dv_hc_balloon_inflate((u64)pages, n, DV_BALLOON_UNPLUG | DV_BALLOON_HOTADD,
				     (u64)added);
}

s64 balloon_adopt_segment(u64 va, const struct dv_mem_range *added, unsigned level)
{
	int err = paging_map_in(paging_root(), va, added->gpa, added->len, X86_PTE_RW, level);

	if (err)
		return err;
	write_cr3(read_cr3()); /* the new mappings: no stale negative entries */
	return dv_hc_guest_segment_set(va, va + added->len, added->gpa - va);
}
