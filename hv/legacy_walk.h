/* The guest's 32-bit paging modes, which the MMU model (x86-64 4-level and
 * EPT only) does not walk: 32-bit paging (2 levels, 4 MiB pages with PSE) and
 * PAE paging (4 PDPTEs, then 2 levels, 2 MiB pages). For translating
 * hypercall buffers of guests that run in protected mode with paging.
 * Supervisor data accesses only (hypercalls come from CPL 0); accessed and
 * dirty bits are not set. SDM Vol. 3A 4.3 and 4.4. */
#ifndef HV_LEGACY_WALK_H
#define HV_LEGACY_WALK_H

#include <dimvisor/types.h>

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

/* Translate the 32-bit linear address va. 0 and *gpa, or -DV_EFAULT (not
 * present, a reserved bit, a write to a read-only page with WP, tables
 * outside guest RAM). */
int legacy_walk_32(const struct legacy_paging *p, u32 va, bool write, u64 *gpa);
int legacy_walk_pae(const struct legacy_paging *p, u32 va, bool write, u64 *gpa);

#endif
