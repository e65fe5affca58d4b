/* One virtual machine: lay out and back guest memory, load the guest kernel
 * (the first boot module), run it on one vCPU and report. */
#ifndef HV_VM_H
#define HV_VM_H

#include "hv/vcpu.h"
#include "hv/config.h"
#include "hv/multiboot.h"

/* Run the guest in module 0; returns the status the run ends with (the
 * guest's, or a DV_EXIT_* failure). Prints every failure. */
int vm_run(const struct boot_module *guest, const struct dv_config *cfg, const struct vcpu_hw *hw);

#endif
