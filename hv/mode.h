/* The mode the VM runs in: what the command line asked for, and what is in
 * effect, which follows from the register triples that are enabled (both:
 * Dual Direct; the VMM segment only: VMM Direct; the guest segment only:
 * Guest Direct; none: base), as on the proposed hardware. */
#ifndef HV_MODE_H
#define HV_MODE_H

#include "hv/config.h"
#include "hv/guest_segment.h"
#include "hv/guestmem.h"

struct vm_mode {
	enum dv_mode asked;
	const struct guestmem *mem; /* its VMM segment, when active */
	struct guest_segments guest;
	u64 guest_sets, guest_refusals;
	u64 switches, pages_copied, switch_tsc; /* live mode switches and their cost */
};

/* Whether mode m has the VMM segment (VMM, Dual Direct) / offers the guest
 * segment (Guest, Dual Direct). */
bool mode_has_vmm_segment(enum dv_mode m);
bool mode_has_guest_segment(enum dv_mode m);

/* Start in mode asked over mem, saying so when the VMM segment it wants
 * could not be had. */
void mode_init(enum dv_mode asked, const struct guestmem *mem);
struct vm_mode *mode_state(void);
/* The mode in effect while address space cr3 runs. */
enum dv_mode mode_in_effect(u64 cr3);
/* The mode asked for, as far as it could be granted: VMM Direct runs as base
 * and Dual Direct as Guest Direct without a VMM segment. */
enum dv_mode mode_granted(void);
/* Switch to mode now (the guest is stopped in an exit); mem is the VM's. */
struct guestmem;
void mode_switch(enum dv_mode mode, struct guestmem *mem);

#endif
