/* Boot-time memory: a first-fit allocator over the usable RAM of the memory
 * map that steers clear of everything the boot loader left in memory (the
 * image, the multiboot information, modules, strings). It exists only until
 * the pmm is up: it places the pmm's own metadata and the page tables of the
 * identity map, and then every range it knows as busy is reserved in the pmm. */
#ifndef HV_BOOTMEM_H
#define HV_BOOTMEM_H

#include <dimvisor/types.h>
#include "hv/multiboot.h"

#define BOOTMEM_MAX_BUSY 64
#define BOOTMEM_NONE	 (~0ULL)

struct bootmem_range {
	u64 base, end;
	const char *what;
};

struct bootmem {
	struct boot_mmap_entry usable[BOOT_MAX_MMAP];
	unsigned nusable;
	struct bootmem_range busy[BOOTMEM_MAX_BUSY];
	unsigned nbusy;
	u64 limit; /* allocate only below this address (what is mapped yet) */
};

void bootmem_init(struct bootmem *bm, const struct boot_mmap_entry *usable, unsigned n, u64 limit);
/* Record [base, base+len) as in use, page-rounded outward. -DV_E2BIG when full. */
int bootmem_mark_busy(struct bootmem *bm, u64 base, u64 len, const char *what);
/* Lowest free, align-aligned range of size bytes below the limit, marked busy;
 * BOOTMEM_NONE when there is none. */
u64 bootmem_alloc(struct bootmem *bm, u64 size, u64 align, const char *what);

/* Call fn for every usable range minus everything busy, in ascending order:
 * what may be handed to the pmm as free. Sorts the busy list. */
void bootmem_for_each_free(struct bootmem *bm, void (*fn)(void *ctx, u64 base, u64 len), void *ctx);

#endif
