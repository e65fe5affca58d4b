/* Guest-physical memory: the layout the guest sees, the host memory that
 * backs it, and the EPT that maps one onto the other.
 *
 * Layout (docs/guest-platform.md): RAM from gPA 0 up to the start of the I/O
 * gap (iogap=, 3 GiB by default); when mem= is larger, the gap follows and
 * the rest of RAM resumes at 4 GiB. The local APIC page at 0xfee00000 is
 * not mapped: dimvisor emulates it (hv/apic.c).
 *
 * The extent map (mm/extent.h) is the one record of guest memory: the EPT is built
 * from it (mm/ept.c), and the RAM ranges below, which the loader turns into the
 * guest's memory map, and the RAM size fw_cfg reports are derived from it. */
#ifndef HV_GUESTMEM_H
#define HV_GUESTMEM_H

#include <dimvisor/types.h>
#include "mm/extent.h"
#include "mm/pagetable.h"
#include "mm/pmm.h"
#include "mm/segment.h"

#define GUEST_HIGHMEM_BASE   (4ULL << 30)
#define GUEST_MAX_RAM_RANGES 2
#define GUEST_MAX_EXTENTS    4096 /* extents of the guest-physical map */
#define GUEST_UNPLUGGED_RUNS 16	  /* runs of unplugged pages remembered by address */

struct guest_range {
	u64 gpa, len;
};

/* True when [gpa, gpa+len) lies entirely inside one of the n ranges. */
static inline bool guest_ranges_contain(const struct guest_range *r, unsigned n, u64 gpa, u64 len)
{
	for (unsigned i = 0; i < n; i++)
		if (gpa >= r[i].gpa && len <= r[i].len && gpa - r[i].gpa <= r[i].len - len)
			return true;
	return false;
}

/* What the VMM segment costs in EPT, and its escape filter's false
 * positives: a walk per leaf and a probe per page to find out, so cached until
 * the segment next changes (guestmem.generation). */
struct vseg_footprint {
	bool valid; /* computed for guestmem.generation == generation */
	u64 generation;
	bool counted;	     /* tables[] and splits are known */
	u64 tables[5];	     /* paging-structure pages by level mapping the segment */
	u64 needed;	     /* what a hole-free segment needs */
	u64 splits;	     /* tables beyond that: split off for escapes */
	u64 false_positives; /* segment pages the filter flags wrongly */
};

struct guestmem {
	struct extent_map map; /* guest-physical extents: the record of guest memory */
	struct extent extents[GUEST_MAX_EXTENTS];
	/* The RAM ranges at boot, derived from the map (guest memory, merged where
	 * gPA-contiguous): what the loader writes into the guest's memory map. Boot
	 * only: ballooning makes RAM discontiguous later, and everything that runs
	 * while the guest does asks the map. */
	struct guest_range ram[GUEST_MAX_RAM_RANGES];
	unsigned nram;
	unsigned ept_page_shift; /* largest EPT leaf actually allowed */
	struct pagetable ept;
	struct pmm *pmm;	 /* guest memory comes from here */
	struct pmm *pool;	 /* EPT tables come from here first (NULL: from pmm) */
	u64 tables_outside_pool; /* tables taken from pmm because the pool was empty */
	bool ept_1g_supported, ept_2m_supported;
	/* VMM Direct: the longest run of guest RAM is one contiguous host range */
	bool vseg_wanted, vseg_active;
	struct vmm_segment vseg;
	/* Host bytes taken after the layout (live escapes, hot-add) minus those given
	 * back (ballooned pages): modulo 2^64, so it may read as negative. */
	u64 taken_while_running;
	u64 deflated_bytes, hotadded_bytes; /* by the balloon, since boot */
	u64 unplugged_bytes, readded_bytes; /* hot-unplugged, and re-added above 4 GiB */
	/* Where unplugged pages were, for the report on a guest that touches one
	 * (runs of adjacent pages; what does not fit is only counted above). */
	struct guest_range unplugged[GUEST_UNPLUGGED_RUNS];
	unsigned nunplugged;
	u64 balloon_refusals;	     /* balloon calls refused */
	u64 generation;		     /* bumped by every change to the map or the EPT after boot */
	struct pt_deferred deferred; /* EPT tables unlinked by live changes, until the flush */
	struct vseg_footprint footprint; /* cache: guestmem_segment_footprint */
};

/* Lay out mem bytes of guest RAM (below iogap, then from 4 GiB), back it with zeroed host
 * memory from pmm and map it in EPT with pages up to 1 << page_shift (lowered to what the
 * CPU supports, with a message); EPT tables come from pool, or pmm when it is NULL or
 * empty. Returns 0 or -DV_ENOMEM (everything taken is given back). */
int guestmem_init(struct guestmem *gm, struct pmm *pmm, struct pmm *pool, u64 mem, u64 iogap,
		  unsigned page_shift, bool cpu_2m, bool cpu_1g, bool vmm_segment);
void guestmem_destroy(struct guestmem *gm);

/* Bytes of guest memory (every extent the guest can read and write): less the
 * ballooned pages, plus hot-added memory. */
u64 guestmem_ram_bytes(const struct guestmem *gm);

/* Whether gpa lies in a page the guest hot-unplugged (as far as remembered). */
bool guestmem_was_unplugged(const struct guestmem *gm, u64 gpa);

/* True when [gpa, gpa+len) lies entirely inside guest RAM. */
bool guestmem_is_ram(const struct guestmem *gm, u64 gpa, u64 len);
/* Host pointer to guest RAM at gpa for len bytes within one 4 KiB page, or
 * NULL when that is not guest RAM. */
void *guestmem_ptr(const struct guestmem *gm, u64 gpa, u64 len);
/* Zero [hpa, hpa + len) of host memory (len a multiple of 8), fast. */
void guestmem_zero_host(u64 hpa, u64 len);
/* Copy to (or zero) guest RAM; -DV_EFAULT (and nothing written) unless the
 * whole range is guest RAM. */
int guestmem_write(const struct guestmem *gm, u64 gpa, const void *src, u64 len);
int guestmem_zero(const struct guestmem *gm, u64 gpa, u64 len);

/* Escape page gpa of the VMM segment while the guest runs: its contents move
 * to a spare frame, which EPT maps in its place (a 4 KiB hole: only the
 * tables on its path are split), and the escape filter records it. The
 * caller flushes the nested TLB before the guest runs again. 0, or
 * -DV_ENOTSUP (no VMM segment), -DV_EINVAL (not 4 KiB aligned), -DV_ERANGE
 * (outside the segment), -DV_EEXIST (escaped already), -DV_E2BIG (too many
 * holes), -DV_ENOMEM; on error nothing changed. */
int guestmem_escape_page(struct guestmem *gm, u64 gpa);
/* Map one page of a device outside guest RAM at gpa onto hpa (the CPU's
 * APIC-access page), or take it away. -DV_EINVAL over RAM. The caller
 * flushes the nested TLB. */
int guestmem_map_device_page(struct guestmem *gm, u64 gpa, u64 hpa);
void guestmem_unmap_device_page(struct guestmem *gm, u64 gpa);

/* Live mode switches. guestmem_segment_on makes the run of guestmem_segment_range
 * the VMM segment while the guest is stopped in an exit: when that RAM already
 * lies in one suitably aligned host range only the kinds and mappings
 * change; otherwise a contiguous range is claimed and the RAM copied into it
 * (*pages_copied says how many pages), and the old frames are freed.
 * -DV_ENOMEM when no range is free, -DV_EBUSY when pages of that run are
 * ballooned (the segment would back them again); nothing changed: the caller
 * degrades.
 * guestmem_segment_off makes the segment ordinary RAM again: the same frames,
 * remapped with ept= leaves, nothing copied. The caller flushes the nested
 * TLB after either. */
int guestmem_segment_on(struct guestmem *gm, u64 *pages_copied);
void guestmem_segment_off(struct guestmem *gm);
/* Compaction's move (hv/compact.c): gpa's 4 KiB page to host frame to,
 * which the caller allocated. The page is copied, mapped there with a 4 KiB
 * EPT leaf (the caller flushes the nested TLB, then releases the deferred
 * tables) and recorded in the map and the owner map; the frame it leaves
 * stays allocated, without owner, and is returned in *from. 0, or -DV_ENOENT
 * (gpa has no frame), -DV_E2BIG (the map is full), -DV_ENOMEM (an EPT table);
 * nothing changes on error. */
int guestmem_migrate_page(struct guestmem *gm, u64 gpa, u64 to, u64 *from);
/* What the VMM segment covers, or would: the longest run of gPA-contiguous
 * guest memory, the lowest of equals. Ballooned pages stay part of a run
 * (they make it unusable until given back); unplugged pages end it. At boot
 * that is RAM below the I/O gap unless more lies above 4 GiB; after hot-unplug
 * and re-adding (the paper's I/O gap), the RAM above 4 GiB. */
struct guest_range guestmem_segment_range(const struct guestmem *gm);
/* The segment is active but no longer covers guestmem_segment_range (memory
 * was re-added next to it): MODE_SET moves it. */
bool guestmem_segment_misplaced(const struct guestmem *gm);
/* The VMM segment's footprint (only meaningful while it is active). */
const struct vseg_footprint *guestmem_segment_footprint(struct guestmem *gm);

/* After the nested-TLB flush that follows a live change (escape, switch):
 * free the EPT tables it unlinked. Until then the CPU may still walk them. */
void guestmem_release_deferred(struct guestmem *gm);

/* The largest EPT leaf (PT_SIZE_*) an extent of this kind is mapped with; 0
 * for kinds that are never mapped (ballooned pages). */
unsigned guestmem_ept_cap(const struct guestmem *gm, enum extent_kind kind);

/* The EPT pointer for the VMCS: WB, 4-level walk (ept_pointer). */
u64 guestmem_eptp(const struct guestmem *gm);

#endif
