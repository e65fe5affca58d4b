/* The guest's 32-bit paging modes, which the MMU model (x86-64 4-level and
 * EPT only) does not walk: 32-bit paging (2 levels, 4 MiB pages with PSE) and
 * PAE paging (4 PDPTEs, then 2 levels, 2 MiB pages). For translating
 * hypercall buffers and string I/O operands of guests that run in protected
 * mode with paging. Data accesses, supervisor or user; accessed and dirty
 * bits are not set. SDM Vol. 3A 4.3 and 4.4. */
#ifndef HV_LEGACY_WALK_H
#define HV_LEGACY_WALK_H

#include <dimvisor/types.h>
#include "mm/model/walk.h"

/* Reads size (4 or 8) bytes at guest-physical gpa; false for memory that is
 * not guest RAM. */
typedef bool (*legacy_read_fn)(void *ctx, u64 gpa, unsigned size, u64 *value);

struct legacy_paging {
	u64 cr3;
	bool pse; /* CR4.PSE: 4 MiB pages in 32-bit paging */
	bool wp;  /* CR0.WP: supervisor writes honour R/W */
	bool nxe; /* EFER.NXE: PAE bit 63 is XD, else reserved */
	u8 maxphyaddr;
	legacy_read_fn read;
	void *ctx;
};

/* Translate the 32-bit linear address va for an access acc (WALK_ACC_WRITE,
 * WALK_ACC_USER). 0 and *gpa, or -DV_EFAULT (not present, a reserved bit, a
 * right the access lacks, tables outside guest RAM: read as not present)
 * with *pf_error, unless NULL, the #PF error code the CPU would give
 * (WALK_PF_*, SDM Vol. 3A 4.7). */
int legacy_walk_32(const struct legacy_paging *p, u32 va, u32 acc, u64 *gpa, u32 *pf_error);
int legacy_walk_pae(const struct legacy_paging *p, u32 va, u32 acc, u64 *gpa, u32 *pf_error);

#endif
