/* compact: dimvisor's compaction while the guest runs (hv/compact.h). Started
 * in a mode with the VMM segment on fragmented host memory (fragment=leave),
 * the guest runs degraded while its pages move; the test keeps working on a
 * data area and checks its checksum and the kernel's after every poll of
 * DV_HC_STATS, until compaction is done and SEGMENT_INFO says the mode asked
 * for is in effect. In dual-direct it registers a primary region first
 * (Guest Direct meanwhile, Dual Direct after). compact-switch: a live mode
 * switch while compaction runs stops it, and a switch back takes over. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"

#define AREA_VA	  0x0000480000000000UL /* a PML4 slot of its own */
#define AREA_SIZE (4 * MiB)
#define MAX_POLLS 200000

static const char *const states[] = {"idle", "running", "done", "failed"};

extern u8 __image_start[], __user_start[];

/* The data area, at the top of RAM below the gap, mapped with 4 KiB pages
 * (and registered as the guest segment where the mode has one). */
static bool map_area(struct test *t, u64 *gpa)
{
	const struct boot_region *r = &t->boot->regions[0];

	*gpa = ALIGN_DOWN(r->base + r->length - AREA_SIZE, 2 * MiB);
	if (!test_check(t, *gpa >= paging_reserved_end(), "no room for the data area"))
		return false;
	return test_expect(t, "mapping the area",
			   paging_map_in(paging_root(), AREA_VA, *gpa, AREA_SIZE, X86_PTE_RW, 1),
			   0);
}

void test_compact(struct test *t)
{
	u64 image = (u64)__image_start, image_len = (u64)__user_start - image, gpa;
	u64 sum_area, sum_image, polls = 0;
	struct dv_segment_info info;
	struct dv_stats s;

	if (!test_stats(t, &s) || !test_segment_info(t, &info))
		return;
	if (s.compact_state == DV_COMPACT_IDLE) {
		test_skip(t, "no compaction running (mode %u, a VMM segment already or none asked)",
			  info.mode_asked);
		return;
	}
	if (!map_area(t, &gpa))
		return;
	for (u64 a = 0; a < AREA_SIZE; a += 8)
		*(volatile u64 *)(AREA_VA + a) = (gpa + a) * 0x9e3779b97f4a7c15UL;
	if (info.mode_asked == DV_MODE_DUAL_DIRECT &&
	    !test_expect(t, "registering the area as the guest segment",
			 dv_hc_guest_segment_set(AREA_VA, AREA_VA + AREA_SIZE, gpa - AREA_VA), 0))
		return;
	if (!test_segment_info(t, &info))
		return;
	test_note(t, "compaction %s, mode asked %u, in effect %u", states[s.compact_state & 3],
		  info.mode_asked, info.mode_effect);
	/* requests for the segment on its way: an escape is taken (and applied
	 * when it exists), a balloon of its pages refused as the segment's are */
	test_expect(t, "ESCAPE_PAGE while compaction runs", dv_hc_escape_page(gpa + PAGE_SIZE), 0);
	test_expect(t, "the same ESCAPE_PAGE again", dv_hc_escape_page(gpa + PAGE_SIZE),
		    -DV_EEXIST);
	{
		static u64 list[1];

		list[0] = (gpa + 2 * PAGE_SIZE) >> PAGE_SHIFT;
		test_expect(t, "BALLOON_INFLATE of a page of the range",
			    dv_hc_balloon_inflate((u64)list, 1, 0, 0), -DV_EBUSY);
	}
	sum_area = test_checksum(AREA_VA, AREA_SIZE);
	sum_image = test_checksum(image, image_len);
	while (s.compact_state == DV_COMPACT_RUNNING && polls++ < MAX_POLLS) {
		/* keep working while pages move: a write, then both checksums */
		u64 a = (polls * 4096 + 8 * (polls % 512)) % AREA_SIZE;

		*(volatile u64 *)(AREA_VA + a) = (gpa + a) * 0x9e3779b97f4a7c15UL;
		if (polls % 64 == 0 &&
		    !test_check(t,
				test_checksum(AREA_VA, AREA_SIZE) == sum_area &&
					test_checksum(image, image_len) == sum_image,
				"guest memory changed while compaction ran (poll %lu, %lu pages "
				"moved)",
				polls, s.compact_pages_moved))
			return;
		if (!test_stats(t, &s))
			return;
	}
	if (!test_check(t, s.compact_state == DV_COMPACT_DONE, "compaction %s after %lu polls",
			states[s.compact_state & 3], polls) ||
	    !test_segment_info(t, &info))
		return;
	test_check(t,
		   test_checksum(AREA_VA, AREA_SIZE) == sum_area &&
			   test_checksum(image, image_len) == sum_image,
		   "guest memory changed by compaction");
	test_check(t, info.mode_effect == info.mode_asked && info.vmm.base != info.vmm.limit,
		   "after compaction: asked %u, in effect %u", info.mode_asked, info.mode_effect);
	test_check(t, info.escaped_pages == 1,
		   "%lu escaped pages after compaction, expected the 1 asked for meanwhile",
		   info.escaped_pages);
	test_note(t,
		  "done after %lu polls: %lu pages moved in %lu steps, %lu TSC ticks; mode in "
		  "effect %u, checksums equal",
		  polls, s.compact_pages_moved, s.compact_steps, s.compact_tsc, info.mode_effect);
}

/* A switch out of the segment modes stops compaction; back in, the switch
 * itself builds the segment (a free range is there) or compaction starts
 * again. Either way the mode asked for ends in effect, the data intact. */
void test_compact_switch(struct test *t)
{
	u64 gpa, sum, polls = 0, moved_before;
	struct dv_segment_info info;
	struct dv_stats s;

	if (!test_stats(t, &s) || s.compact_state != DV_COMPACT_RUNNING) {
		test_skip(t, "no compaction running");
		return;
	}
	test_expect(t, "MODE_SET(base) while compaction runs", dv_hc_mode_set(DV_MODE_BASE),
		    DV_MODE_BASE);
	if (!map_area(t, &gpa))
		return;
	for (u64 a = 0; a < AREA_SIZE; a += 8)
		*(volatile u64 *)(AREA_VA + a) = a ^ 0x5a5a5a5a5a5a5a5aUL;
	sum = test_checksum(AREA_VA, AREA_SIZE);
	if (!test_stats(t, &s) ||
	    !test_check(t, s.compact_state == DV_COMPACT_IDLE,
			"compaction %s after a switch to base", states[s.compact_state & 3]))
		return;
	moved_before = s.compact_pages_moved;
	test_expect(t, "MODE_SET(vmm-direct)", dv_hc_mode_set(DV_MODE_VMM_DIRECT),
		    DV_MODE_VMM_DIRECT);
	while (test_stats(t, &s) && s.compact_state == DV_COMPACT_RUNNING && polls++ < MAX_POLLS)
		;
	if (!test_segment_info(t, &info))
		return;
	test_check(t, info.mode_effect == DV_MODE_VMM_DIRECT, "in effect %u", info.mode_effect);
	test_check(t, test_checksum(AREA_VA, AREA_SIZE) == sum, "the data changed");
	test_note(
		t,
		"stopped by the switch to base after %lu pages; back in vmm-direct: compaction %s",
		moved_before, states[s.compact_state & 3]);
}
