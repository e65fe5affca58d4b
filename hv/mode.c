#include "hv/mode.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"

static struct vm_mode mode;

static bool has_vmm(enum dv_mode m)
{
	return m == MODE_VMM_DIRECT || m == MODE_DUAL_DIRECT;
}

static bool has_guest(enum dv_mode m)
{
	return m == MODE_GUEST_DIRECT || m == MODE_DUAL_DIRECT;
}

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

enum dv_mode mode_granted(void)
{
	bool vmm = mode.mem && mode.mem->vseg_active;

	if (has_vmm(mode.asked) && !vmm)
		return has_guest(mode.asked) ? MODE_GUEST_DIRECT : MODE_BASE;
	return mode.asked;
}

void mode_switch(enum dv_mode to, struct guestmem *mem)
{
	u64 t0 = rdtsc(), copied = 0;

	if (has_vmm(to) && !mem->vseg_active) {
		if (guestmem_segment_on(mem, &copied) < 0)
			kprintf("vm: mode=%s: no contiguous host range for the VMM segment; "
				"running "
				"in mode %s\n",
				config_mode_name(to), has_guest(to) ? "guest-direct" : "base");
	} else if (!has_vmm(to) && mem->vseg_active) {
		guestmem_segment_off(mem);
	}
	if (!has_guest(to))
		memset(&mode.guest, 0, sizeof(mode.guest));
	mode.asked = to;
	mode.guest_segment_offered = has_guest(to);
	mode.switches++;
	mode.pages_copied += copied;
	mode.switch_tsc += rdtsc() - t0;
	kinfo("vm: switched to mode %s: %lu pages copied, %lu TSC ticks\n", config_mode_name(to),
	      copied, rdtsc() - t0);
}
