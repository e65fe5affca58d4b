/* switch: live mode switches between every ordered pair of the four modes
 * (DV_HC_MODE_SET). Guest memory must survive each one: a checksum of a
 * scratch area and of the kernel's code (up to its ring-3 pages: the data
 * after them changes as the guest runs) is taken before and compared after.
 * In the modes with a guest segment the primary region is registered again;
 * SEGMENT_INFO must say the mode in effect is the one asked for. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"

#define REGION_VA   0x0000300000000000UL /* a PML4 slot of its own */
#define REGION_SIZE (8 * MiB)

static const char *const mode_names[] = {"base", "vmm-direct", "guest-direct", "dual-direct"};

extern u8 __image_start[], __user_start[];

/* Switch to mode m (and register the region when m has a guest segment). */
static bool switch_to(struct test *t, unsigned m, u64 gpa)
{
	struct dv_segment_info i;
	s64 rc = dv_hc_mode_set(m);

	if (!test_check(t, rc == (s64)m, "MODE_SET(%s) returned %ld", mode_names[m], rc))
		return false;
	if ((m == DV_MODE_GUEST_DIRECT || m == DV_MODE_DUAL_DIRECT) &&
	    !test_expect(
		    t, "SET of the region",
		    dv_hc_guest_segment_set(REGION_VA, REGION_VA + REGION_SIZE, gpa - REGION_VA),
		    0))
		return false;
	if (!test_segment_info(t, &i))
		return false;
	return test_check(t, i.mode_asked == m && i.mode_effect == m,
			  "after MODE_SET(%s): asked %u, in effect %u", mode_names[m], i.mode_asked,
			  i.mode_effect);
}

void test_switch(struct test *t)
{
	struct dv_segment_info i;
	u64 gpa = ALIGN_UP(t->boot->ram_top / 2, REGION_SIZE), image = (u64)__image_start;
	u64 image_len = (u64)__user_start - image, sum_region, sum_image;
	unsigned pairs = 0;

	if (!(dv_hc_features() & DV_HC_FEATURE_MODE_SET)) {
		test_skip(t, "MODE_SET not offered");
		return;
	}
	if (!test_check(t,
			gpa + REGION_SIZE <=
					t->boot->regions[0].base + t->boot->regions[0].length ||
				t->boot->nregions > 1,
			"no room for the scratch region"))
		return;
	if (!test_expect(t, "mapping the region",
			 paging_map_in(paging_root(), REGION_VA, gpa, REGION_SIZE, X86_PTE_RW, 2),
			 0))
		return;
	for (u64 a = gpa; a < gpa + REGION_SIZE; a += 8)
		*(volatile u64 *)a = a * 0x9e3779b97f4a7c15UL;
	sum_region = test_checksum(gpa, REGION_SIZE);
	sum_image = test_checksum(image, image_len);
	/* An escaped page leaves the RAM in more than one host range: the next
	 * switch into a VMM-segment mode must then copy it into one. */
	if (!switch_to(t, DV_MODE_VMM_DIRECT, gpa) ||
	    !test_expect(t, "ESCAPE_PAGE in the region", dv_hc_escape_page(gpa + PAGE_SIZE), 0))
		return;
	for (unsigned from = 0; from < 4; from++) {
		for (unsigned to = 0; to < 4; to++) {
			if (from == to)
				continue;
			if (!switch_to(t, from, gpa) || !switch_to(t, to, gpa))
				return;
			if (!test_check(t,
					test_checksum(gpa, REGION_SIZE) == sum_region &&
						test_checksum(image, image_len) == sum_image,
					"guest memory changed in the switch %s -> %s",
					mode_names[from], mode_names[to]))
				return;
			/* and the region still works both ways */
			*(volatile u64 *)(REGION_VA + 8 * pairs) = gpa + 8 * pairs;
			test_check(t, *(volatile u64 *)(gpa + 8 * pairs) == gpa + 8 * pairs,
				   "a write through the region did not land after %s -> %s",
				   mode_names[from], mode_names[to]);
			*(volatile u64 *)(gpa + 8 * pairs) =
				(gpa + 8 * pairs) * 0x9e3779b97f4a7c15UL;
			pairs++;
		}
	}
	if (test_segment_info(t, &i))
		test_note(t,
			  "%u ordered pairs, checksums equal; %lu switches, %lu pages copied, %lu "
			  "TSC ticks",
			  pairs, i.mode_switches, i.pages_copied, i.switch_tsc);
}
