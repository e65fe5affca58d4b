/* escape: a page of the VMM segment escaped while the guest runs
 * (DV_HC_ESCAPE_PAGE) keeps its contents, and so do its neighbours; it
 * stays readable and writable; dimvisor counts it and its EPT footprint
 * grows by the tables on its path. Bad requests get their error codes. In
 * a mode without a VMM segment, ESCAPE_PAGE must say -DV_ENOTSUP. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"

static u64 pattern(u64 gpa, unsigned i, u64 salt)
{
	return (gpa + i * 8) * 0x9e3779b97f4a7c15UL ^ salt;
}

static void fill(u64 gpa, u64 salt)
{
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		((volatile u64 *)gpa)[i] = pattern(gpa, i, salt);
}

static bool same(u64 gpa, u64 salt)
{
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		if (((volatile u64 *)gpa)[i] != pattern(gpa, i, salt))
			return false;
	return true;
}

void test_escape(struct test *t)
{
	struct dv_segment_info before, after;
	u64 page = ALIGN_UP(paging_reserved_end(), PAGE_2M) + 5 * PAGE_SIZE;

	if (!(dv_hc_features() & DV_HC_FEATURE_ESCAPE)) {
		test_expect(t, "ESCAPE_PAGE without a VMM segment", dv_hc_escape_page(page),
			    -DV_ENOTSUP);
		test_skip(t, "no VMM segment in this mode");
		return;
	}
	if (!test_segment_info(t, &before))
		return;
	if (!test_check(t, page + 2 * PAGE_SIZE <= before.vmm.limit,
			"the VMM segment ends at 0x%lx, below the page to escape",
			before.vmm.limit))
		return;
	fill(page - PAGE_SIZE, 1);
	fill(page, 2);
	fill(page + PAGE_SIZE, 3);
	if (!test_expect(t, "ESCAPE_PAGE", dv_hc_escape_page(page), 0))
		return;
	test_check(t, same(page, 2), "the escaped page at gPA 0x%lx lost its contents", page);
	test_check(t, same(page - PAGE_SIZE, 1) && same(page + PAGE_SIZE, 3),
		   "a neighbour of the escaped page changed");
	fill(page, 4);
	test_check(t, same(page, 4), "the escaped page does not keep what is written to it");
	if (test_segment_info(t, &after)) {
		test_check(t, after.escaped_pages == before.escaped_pages + 1,
			   "escaped pages went from %lu to %lu", before.escaped_pages,
			   after.escaped_pages);
		test_check(t, after.vmm_ept_tables > before.vmm_ept_tables,
			   "the segment's EPT pages went from %lu to %lu: a hole must split tables",
			   before.vmm_ept_tables, after.vmm_ept_tables);
		test_note(t, "gPA 0x%lx escaped; the segment's EPT pages %lu -> %lu", page,
			  before.vmm_ept_tables, after.vmm_ept_tables);
	}
	test_expect(t, "the same page again", dv_hc_escape_page(page), -DV_EEXIST);
	test_expect(t, "a misaligned gPA", dv_hc_escape_page(page + 8), -DV_EINVAL);
	test_expect(t, "a gPA past the segment", dv_hc_escape_page(before.vmm.limit), -DV_ERANGE);
	test_expect(t, "a gPA far away", dv_hc_escape_page(1ULL << 50), -DV_ERANGE);
}
