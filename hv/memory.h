/* Host physical memory of the hypervisor: the memory map, the identity map of
 * all RAM, and the pmm that owns every free page afterwards. */
#ifndef HV_MEMORY_H
#define HV_MEMORY_H

#include <dimvisor/types.h>
#include "hv/config.h"
#include "hv/multiboot.h"
#include "mm/pmm.h"

/* What boot/entry.asm maps before C runs. */
#define BOOT_IDENTITY_LIMIT (4ULL << 30)
/* The hypervisor maps RAM up to here (one PML4 entry's worth). */
#define HOST_IDENTITY_MAX (512ULL << 30)

/* Print the memory map, map all RAM, start the pmm with everything the boot
 * left in memory and every badmem= page reserved. Stops the machine with a
 * message when the map is unusable. */
void host_memory_init(const struct boot_info *bi, const struct dv_config *cfg);
struct pmm *host_pmm(void);
/* The pool for page tables and the hypervisor's data (mm/pmm.h, pmm_carve_pool), or
 * NULL when boot found no room for it. */
struct pmm *host_pool(void);

#endif
