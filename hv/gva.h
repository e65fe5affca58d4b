/* Guest-virtual to guest-physical translation for the hypervisor's own use
 * (hypercall buffers), through the guest's live page tables with the MMU
 * model's walker. Never touches anything but guest RAM. */
#ifndef HV_GVA_H
#define HV_GVA_H

#include "hv/vcpu.h"
#include "mm/model/walk.h"

/* Translate gva in the guest's current paging mode: identity with paging
 * off, the 4-level walk in IA-32e mode (the model's walker), 32-bit and PAE
 * paging in protected mode (hv/legacy_walk.c). -DV_EFAULT for an unmapped or
 * non-canonical address (or tables outside guest RAM). */
int gva_to_gpa(const struct vcpu *v, u64 gva, bool write, u64 *gpa);
/* The same for an access as the CPU makes it: acc has WALK_ACC_WRITE and
 * WALK_ACC_USER (a CPL 3 access). 0 and *gpa; -DV_EFAULT for what the CPU
 * reports as a #PF, with *pf_error (unless NULL) its error code (SDM Vol. 3A
 * 4.7); -DV_EINVAL for an address that is no page fault: non-canonical (a
 * #GP), or above 4 GiB outside IA-32e mode. */
int gva_translate(const struct vcpu *v, u64 gva, u32 acc, u64 *gpa, u32 *pf_error);
/* The guest's current 4-level tables (CR3, read from guest RAM only) and
 * paging controls, for the model's walker. -DV_ENOTSUP unless the guest is in
 * IA-32e mode with paging. */
int gva_guest_tables(const struct vcpu *v, struct walk_tables *t, struct walk_env *env);

/* Copy between a guest-virtual buffer and the host, page by page; all or
 * nothing: -DV_EFAULT before anything is copied if any page fails. */
int gva_read(const struct vcpu *v, u64 gva, void *dst, u64 len);
/* The instruction's bytes at CS:RIP, as many as are mapped, up to max: for
 * dimvisor's own decoding of an exit's instruction (string I/O on a CPU
 * that does not report its operand, the local APIC's MMIO). */
unsigned gva_fetch_instruction(const struct vcpu *v, u8 *bytes, unsigned max);
int gva_write(const struct vcpu *v, u64 gva, const void *src, u64 len);

#endif
