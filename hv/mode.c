#include "hv/mode.h"
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

static struct vm_mode mode;

bool mode_has_vmm_segment(enum dv_mode m)
{
	return m == MODE_VMM_DIRECT || m == MODE_DUAL_DIRECT;
}

bool mode_has_guest_segment(enum dv_mode m)
{
	return m == MODE_GUEST_DIRECT || m == MODE_DUAL_DIRECT;
}

static bool vmm_segment_active(void)
{
	return mode.mem && mode.mem->vseg_active;
}

/* VMM Direct runs as base, and Dual Direct as Guest Direct, when the VMM
 * segment could not have its contiguous host range: say so, with the numbers. */
static void say_if_degraded(enum dv_mode asked)
{
	if (!mode_has_vmm_segment(asked) || vmm_segment_active())
		return;
	kprintf("vm: mode=%s: no contiguous host range for the VMM segment (%lu MiB asked, largest "
		"free range %lu KiB); running in mode %s\n",
		config_mode_name(asked), guestmem_segment_range(mode.mem).len >> 20,
		pmm_largest_free_range(mode.mem->pmm, NULL) >> 10,
		config_mode_name(mode_granted()));
}

void mode_init(enum dv_mode asked, const struct guestmem *mem)
{
	memset(&mode, 0, sizeof(mode));
	mode.asked = asked;
	mode.mem = mem;
	say_if_degraded(asked);
}

struct vm_mode *mode_state(void)
{
	return &mode;
}

enum dv_mode mode_in_effect(u64 cr3)
{
	bool vmm = vmm_segment_active();
	bool guest = guest_segments_lookup(&mode.guest, cr3) != NULL;

	return vmm && guest ? MODE_DUAL_DIRECT
	       : vmm	    ? MODE_VMM_DIRECT
	       : guest	    ? MODE_GUEST_DIRECT
			    : MODE_BASE;
}

enum dv_mode mode_granted(void)
{
	if (mode_has_vmm_segment(mode.asked) && !vmm_segment_active())
		return mode_has_guest_segment(mode.asked) ? MODE_GUEST_DIRECT : MODE_BASE;
	return mode.asked;
}

/* The VMM segment onto the run it should cover, which re-added memory may
 * have moved: off (nothing copied), then on over the new run. */
static void move_segment(struct guestmem *mem)
{
	struct segment was = mem->vseg.regs;
	struct guest_range r = guestmem_segment_range(mem);

	guestmem_segment_off(mem);
	kprintf("vm: VMM segment moves from gPA 0x%lx-0x%lx to the longest run of RAM, gPA "
		"0x%lx-0x%lx\n",
		was.base, was.limit, r.gpa, r.gpa + r.len);
}

void mode_switch(enum dv_mode to, struct guestmem *mem)
{
	u64 t0 = rdtsc(), copied = 0;
	int err = 0;

	if (mode_has_vmm_segment(to) && guestmem_segment_misplaced(mem))
		move_segment(mem);
	if (mode_has_vmm_segment(to) && !mem->vseg_active)
		err = guestmem_segment_on(mem, &copied); /* no range: said below */
	else if (!mode_has_vmm_segment(to) && mem->vseg_active)
		guestmem_segment_off(mem);
	if (!mode_has_guest_segment(to))
		memset(&mode.guest, 0, sizeof(mode.guest));
	mode.asked = to;
	if (err == -DV_EBUSY) {
		struct guest_range r = guestmem_segment_range(mem);

		kprintf("vm: mode=%s: pages of gPA 0x%lx-0x%lx, the VMM segment's run, are "
			"ballooned and the segment would back them again; running in mode %s\n",
			config_mode_name(to), r.gpa, r.gpa + r.len,
			config_mode_name(mode_granted()));
	} else {
		say_if_degraded(to);
	}
	mode.switches++;
	mode.pages_copied += copied;
	mode.switch_tsc += rdtsc() - t0;
	kinfo("vm: switched to mode %s: %lu pages copied, %lu TSC ticks\n", config_mode_name(to),
	      copied, rdtsc() - t0);
}
