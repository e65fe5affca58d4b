/* The guest's EPT, built over its guest-physical extent map (mm/extent.h) with the
 * page-table engine. Each extent is mapped linearly, gPA -> hPA, readable, writable
 * and executable, write-back, with leaves up to a cap the caller picks per kind: the
 * VMM segment with the largest the CPU has, RAM with ept= leaves, holes with 4 KiB.
 * EPT format: SDM Vol. 3C 29.3; the EPT pointer: 24.6.11. */
#ifndef MM_EPT_H
#define MM_EPT_H

#include <dimvisor/types.h>
#include "mm/extent.h"
#include "mm/pagetable.h"

/* Largest leaf per extent kind, PT_SIZE_* (one bit); 0 leaves that kind unmapped. */
struct ept_caps {
	unsigned max_size[EXTENT_NKINDS];
};

/* PT_SIZE_* set for leaves up to 1 << shift (PAGE_SHIFT, PAGE_2M_SHIFT, PAGE_1G_SHIFT;
 * anything else rounds down to one of those). */
unsigned ept_page_sizes(unsigned max_shift);
/* The largest leaf of a PT_SIZE_* set, as one PT_SIZE_* bit. */
unsigned ept_largest_size(unsigned page_sizes);

/* An empty EPT whose leaves may be any of page_sizes. Errors as pt_init. */
int ept_init(struct pagetable *ept, unsigned page_sizes, const struct pt_ops *ops);

/* Map extent x with leaves up to max_size (PT_SIZE_*). -DV_EINVAL for an extent
 * without host memory (ballooned) or a bad cap; else as pt_map_capped (all or
 * nothing, -DV_ENOMEM included). */
int ept_map_extent(struct pagetable *ept, const struct extent *x, unsigned max_size);
/* Unmap the gPA range of x (holes fine). As pt_unmap. */
int ept_unmap_extent(struct pagetable *ept, const struct extent *x);
/* Map every extent of m whose kind has a cap, in gPA order. Stops at the first
 * error and returns it; the extents before it stay mapped. */
int ept_map_all(struct pagetable *ept, const struct extent_map *m, const struct ept_caps *caps);
/* Whether x is mapped as the map says, with leaves of at least min_size: as
 * pt_check_linear (the first offending gPA in *bad). */
int ept_check_extent(const struct pagetable *ept, const struct extent *x, unsigned min_size,
		     u64 *bad);

/* Pass host MMIO [hpa, hpa+len) through at gpa, uncached (e.g. the local APIC). */
int ept_map_mmio(struct pagetable *ept, u64 gpa, u64 hpa, u64 len);

/* hPA for gpa: 0, -DV_ENOENT if unmapped, -DV_EINVAL at or above 2^48. */
int ept_translate(const struct pagetable *ept, u64 gpa, u64 *hpa);

/* The EPT pointer for the VMCS: the root, write-back paging structures, a 4-level
 * walk (SDM Vol. 3C 24.6.11). */
/* Paging-structure pages on the walks of [gpa, gpa + len), each counted
 * once, by level (by_level[4] PML4 .. [1] PT): the EPT footprint of a range,
 * such as the VMM segment. 0, -DV_ENOENT if part of it is unmapped, -DV_E2BIG
 * past EPT_COUNT_MAX_TABLES tables. */
#define EPT_COUNT_MAX_TABLES 1024
int ept_count_tables(const struct pagetable *ept, u64 gpa, u64 len, u64 by_level[5]);

/* Paging-structure pages a hole-free linear mapping of [gpa, gpa + len)
 * with leaves of 1 << leaf_shift needs (both aligned to the leaf): what a
 * segment costs before escapes split it. */
u64 ept_tables_needed(u64 gpa, u64 len, unsigned leaf_shift);

u64 ept_pointer(const struct pagetable *ept);

#endif
