/* One virtual machine: lay out and back guest memory, load the guest kernel
 * (the first boot module) and its modules (the others), run it on one vCPU
 * and report. */
#ifndef HV_VM_H
#define HV_VM_H

#include "hv/vcpu.h"
#include "hv/config.h"
#include "hv/multiboot.h"

/* Run the guest in mods[0] with mods[1..nmods) as its modules (nmods >= 1);
 * returns the status the run ends with (the guest's, or a DV_EXIT_* failure).
 * Prints every failure. */
int vm_run(const struct boot_module *mods, unsigned nmods, const struct dv_config *cfg,
	   const struct vcpu_hw *hw);

#endif
