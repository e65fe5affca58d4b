/* Memory-map normalisation: turn the loader's map (unsorted, possibly
 * overlapping, possibly with empty or wrapping entries) into sorted disjoint
 * ranges, and extract the page-aligned usable RAM from it. */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include <dimvisor/types.h>
#include "hv/multiboot.h"

#define MEMMAP_PAGE 4096ULL /* usable ranges are shrunk inward to this */

/* Sorted, non-overlapping ranges into out[0..max_out): where entries overlap,
 * the more restrictive type wins (any other type beats available, and between
 * two other types the higher number wins); adjacent ranges of one type are
 * merged; zero-length entries are dropped; an entry that would wrap past 2^64
 * is clipped to end at 2^64 - 1. in and out must not overlap. Returns the
 * number of ranges, or -DV_E2BIG when more than max_out are needed. */
int memmap_normalize(const struct boot_mmap_entry *in, unsigned n, struct boot_mmap_entry *out,
		     unsigned max_out);

/* The available ranges of a normalised map, shrunk inward to MEMMAP_PAGE
 * boundaries, empty ones dropped, written to out[0..max). Returns how many
 * there are; a result above max means out holds only the first max. */
unsigned memmap_usable(const struct boot_mmap_entry *norm, unsigned n, struct boot_mmap_entry *out,
		       unsigned max);

/* End (exclusive) of the highest available range, or 0 when there is none.
 * Works on any map, normalised or not. */
u64 memmap_top_of_ram(const struct boot_mmap_entry *map, unsigned n);

#endif
