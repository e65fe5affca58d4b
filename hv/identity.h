/* The hypervisor's own address space: an identity map of all RAM, built by the
 * page-table engine with the largest pages the CPU has. */
#ifndef HV_IDENTITY_H
#define HV_IDENTITY_H

#include "hv/bootmem.h"
#include "mm/pagetable.h"

/* Replace the boot map (first 4 GiB) by one that covers [0, max(top, 4 GiB)),
 * with tables taken from bootmem (below 4 GiB, where the boot map reaches), and
 * load it. Stops the machine with a message if memory runs out. */
void host_identity_map_all(struct bootmem *bm, u64 top);

#endif
