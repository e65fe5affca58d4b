/* Self-ballooning with hot-add (the paper's answer to guest-physical
 * fragmentation under Guest Direct): the guest's balloon gives dimvisor pages,
 * their host frames go back to the host allocator, and the same amount may come
 * back as one contiguous guest-physical range above all of guest memory, backed
 * by host memory as contiguous as the allocator has. The list checks and the
 * map edits are mm/balloon.c's; this adds host memory and the EPT.
 *
 * Both calls are all or nothing and leave the nested TLB to the caller: after
 * a success it flushes (vcpu_flush_nested) and then calls
 * guestmem_release_deferred, before the guest runs again. */
#ifndef HV_BALLOON_H
#define HV_BALLOON_H

#include <dimvisor/hypercall.h>
#include "hv/guestmem.h"
#include "mm/balloon.h"

/* Balloon the n listed pages (page numbers), or with DV_BALLOON_UNPLUG take
 * them out of guest memory for good (the I/O gap: they leave the map); with
 * DV_BALLOON_HOTADD, add n pages of zeroed memory at the planned gPA (re-added
 * right above the top of RAM when unplugging, else on a 1 GiB boundary above
 * it) and say where in *added. 0, or the list's
 * error (*bad says which entry and why), -DV_ERANGE (no gPA room for the
 * hot-add), -DV_ENOMEM (the host cannot back the hot-add, or the EPT its
 * tables), -DV_E2BIG (the extent map is full). */
int balloon_inflate(struct guestmem *gm, const u64 *pfn, unsigned n, u32 flags,
		    struct dv_mem_range *added, struct balloon_bad *bad);

/* Give the n listed ballooned pages back, each backed by a zeroed frame. 0,
 * the list's error (*bad), -DV_ENOMEM, -DV_E2BIG. */
int balloon_deflate(struct guestmem *gm, const u64 *pfn, unsigned n, struct balloon_bad *bad);

/* Bytes ballooned now (given and not given back). */
u64 balloon_bytes(const struct guestmem *gm);

#endif
