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
	bool guest_segment_offered; /* asked guest-direct or dual-direct */
	const struct guestmem *mem; /* its VMM segment, when active */
	struct guest_segments guest;
	u64 guest_sets, guest_refusals;
};

void mode_init(enum dv_mode asked, const struct guestmem *mem);
struct vm_mode *mode_state(void);
/* The mode in effect while address space cr3 runs. */
enum dv_mode mode_in_effect(u64 cr3);

#endif
