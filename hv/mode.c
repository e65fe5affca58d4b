#include "hv/mode.h"
#include "lib/string.h"

static struct vm_mode mode;

void mode_init(enum dv_mode asked, const struct guestmem *mem)
{
	memset(&mode, 0, sizeof(mode));
	mode.asked = asked;
	mode.guest_segment_offered = asked == MODE_GUEST_DIRECT || asked == MODE_DUAL_DIRECT;
	mode.mem = mem;
}

struct vm_mode *mode_state(void)
{
	return &mode;
}

enum dv_mode mode_in_effect(u64 cr3)
{
	bool vmm = mode.mem && mode.mem->vseg_active;
	bool guest = guest_segments_lookup(&mode.guest, cr3) != NULL;

	return vmm && guest ? MODE_DUAL_DIRECT
	       : vmm	    ? MODE_VMM_DIRECT
	       : guest	    ? MODE_GUEST_DIRECT
			    : MODE_BASE;
}
