/* The guest's own x86-64 page tables (4-level paging, SDM Vol. 3A 4.5).
 *
 * paging_init replaces the boot map of guest/entry.asm with an identity map
 * of the low 4 GiB and of all RAM in the memory map, each RAM region rounded
 * out to the large page size and extended by at least one page past its end
 * (the hypercall tests pass buffers that cross the end of RAM, and the
 * isolation test touches the page past it: the guest must not fault first).
 * Large pages are 1 GiB when CPUID says the CPU has them, else 2 MiB.
 * Page-table pages come from the RAM right after the image and the boot
 * modules that follow it. */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <dimvisor/types.h>
#include "guest/bootinfo.h"

#define PAGING_LOW_IDENTITY (4 * GiB)

/* Build the tables and load CR3. Returns 0, or -DV_ENOMEM / -DV_EINVAL with
 * the reason in err. */
int paging_init(const struct boot_info *bi, char *err, size_t errlen);

/* Map [va, va + size) to [pa, pa + size) with the largest pages alignment
 * allows; flags are leaf bits besides P (X86_PTE_RW, X86_PTE_US). All three
 * must be 4 KiB aligned. Mapping what is already mapped the same way is a
 * no-op; a conflicting mapping gives -DV_EEXIST, no room for tables -DV_ENOMEM. */
int paging_map(u64 va, u64 pa, u64 size, u64 flags);

/* paging_map into the tables under root, with leaves no larger than
 * max_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB when the CPU has them). */
int paging_map_in(u64 *root, u64 va, u64 pa, u64 size, u64 flags, unsigned max_level);
/* The PML4 paging_init built (CR3's table). */
u64 *paging_root(void);
/* A second address space: a new PML4 that starts as a copy of the first (so
 * it shares every table below), or NULL when no table page is left. */
u64 *paging_clone_root(void);

/* Walk the tables: true and *pa when va is mapped. */
bool paging_translate(u64 va, u64 *pa);

/* End of the page-table pages taken so far; [image start, this) is in use. */
u64 paging_reserved_end(void);

/* Identity-map RAM that arrived after boot (hot-added), as paging_init maps
 * the boot RAM: with the largest pages, rounded out to them. 0 or -DV_E*. */
int paging_map_ram(u64 base, u64 len);

/* Page tables are taken below end from now on (memory above it is leaving:
 * hot-unplug). Tables already taken stay where they are. */
void paging_limit_tables(u64 end);

#endif
