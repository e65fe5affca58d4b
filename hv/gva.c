#include "hv/gva.h"
#include "hv/legacy_walk.h"
#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "mm/model/walk.h"
#include <dimvisor/errno.h>

/* Guest page-table entries are read from guest RAM only; anything else reads
 * as 0 (not present), as the model's accessor contract asks. */
static u64 read_guest_pte(void *ctx, u64 gpa)
{
	const struct guestmem *gm = ctx;
	const u64 *p = guestmem_ptr(gm, gpa & ~7ULL, 8);

	return p ? *p : 0;
}

static bool read_guest_legacy(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	const struct guestmem *gm = ctx;
	const void *p = guestmem_ptr(gm, gpa, size);

	if (!p)
		return false;
	*value = size == 4 ? *(const u32 *)p : *(const u64 *)p;
	return true;
}

/* 32-bit and PAE paging: the guest runs in protected mode with paging on. */
static int gva_translate_legacy(const struct vcpu *v, u64 gva, u32 acc, u64 *gpa, u32 *pf_error)
{
	u64 cr4 = vcpu_get(v, VCPU_CR4);
	struct legacy_paging p = {.cr3 = vcpu_get(v, VCPU_CR3),
				  .pse = cr4 & CR4_PSE,
				  .wp = vcpu_get(v, VCPU_CR0) & CR0_WP,
				  .nxe = vcpu_get(v, VCPU_EFER) & EFER_NXE,
				  .maxphyaddr = v->rules.maxphyaddr,
				  .read = read_guest_legacy,
				  .ctx = v->mem};

	if (gva >> 32)
		return -DV_EINVAL;
	return cr4 & CR4_PAE ? legacy_walk_pae(&p, (u32)gva, acc, gpa, pf_error)
			     : legacy_walk_32(&p, (u32)gva, acc, gpa, pf_error);
}

int gva_guest_tables(const struct vcpu *v, struct walk_tables *t, struct walk_env *env)
{
	u64 cr0 = vcpu_get(v, VCPU_CR0), efer = vcpu_get(v, VCPU_EFER);

	if (!(cr0 & CR0_PG) || !(efer & EFER_LMA))
		return -DV_ENOTSUP;
	*t = (struct walk_tables){.root = vcpu_get(v, VCPU_CR3) & PTE_ADDR_MASK,
				  .read = read_guest_pte,
				  .ctx = v->mem,
				  .flat = NULL,
				  .flat_size = 0};
	*env = (struct walk_env){.maxphyaddr = 52, .nxe = efer & EFER_NXE, .wp = cr0 & CR0_WP};
	return 0;
}

int gva_translate(const struct vcpu *v, u64 gva, u32 acc, u64 *gpa, u32 *pf_error)
{
	u64 cr0 = vcpu_get(v, VCPU_CR0), efer = vcpu_get(v, VCPU_EFER);

	if (!(cr0 & CR0_PG)) {
		if (gva >= (1ULL << 32))
			return -DV_EINVAL;
		*gpa = gva;
		return 0;
	}
	if (!(efer & EFER_LMA))
		return gva_translate_legacy(v, gva, acc, gpa, pf_error);

	struct walk_tables t;
	struct walk_env env;
	struct walk_refs refs;
	struct walk_leaf leaf;
	struct walk_fault f;

	gva_guest_tables(v, &t, &env);
	memset(&refs, 0, sizeof(refs));
	if (walk_x86(&t, gva, acc, &env, NULL, &refs, &leaf, &f) < 0) {
		if (f.kind == WALK_NONCANONICAL)
			return -DV_EINVAL;
		if (pf_error)
			*pf_error = f.error_code;
		return -DV_EFAULT;
	}
	*gpa = leaf.pa;
	return 0;
}

int gva_to_gpa(const struct vcpu *v, u64 gva, bool write, u64 *gpa)
{
	return gva_translate(v, gva, write ? WALK_ACC_WRITE : 0, gpa, NULL) < 0 ? -DV_EFAULT : 0;
}

/* Translate every page of [gva, gva+len) first, so a failure copies nothing. */
static int gva_copy(const struct vcpu *v, u64 gva, u8 *host, u64 len, bool to_guest)
{
	for (int pass = 0; pass < 2; pass++) {
		u64 done = 0;
		while (done < len) {
			u64 a = gva + done, gpa;
			u64 chunk = MIN(len - done, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
			if (a < gva || gva_to_gpa(v, a, to_guest, &gpa) < 0 ||
			    !guestmem_is_ram(v->mem, gpa, chunk))
				return -DV_EFAULT;
			if (pass == 1) {
				u8 *p = guestmem_ptr(v->mem, gpa, chunk);
				if (to_guest)
					memcpy(p, host + done, chunk);
				else
					memcpy(host + done, p, chunk);
			}
			done += chunk;
		}
	}
	return 0;
}

int gva_read(const struct vcpu *v, u64 gva, void *dst, u64 len)
{
	return gva_copy(v, gva, dst, len, false);
}

unsigned gva_fetch_instruction(const struct vcpu *v, u8 *bytes, unsigned max)
{
	bool mode64 = vcpu_in_64bit_mode(v);
	struct vcpu_segment cs;
	u64 rip = vcpu_get(v, VCPU_RIP);
	unsigned n;

	vcpu_get_segment(v, VCPU_CS, &cs);
	/* Byte by byte: an instruction may run into an unmapped page. */
	for (n = 0; n < max; n++) {
		u64 la = mode64 ? rip + n : (u32)(cs.base + rip + n);

		if (gva_read(v, la, &bytes[n], 1) < 0)
			break;
	}
	return n;
}

int gva_write(const struct vcpu *v, u64 gva, const void *src, u64 len)
{
	return gva_copy(v, gva, (u8 *)src, len, true);
}
