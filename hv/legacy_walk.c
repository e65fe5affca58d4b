#include "hv/legacy_walk.h"
#include <dimvisor/errno.h>

#define P  (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define PS (1ULL << 7)

static bool read_entry(const struct legacy_paging *p, u64 gpa, unsigned size, u64 *e)
{
	return p->read(p->ctx, gpa, size, e) && (*e & P);
}

/* #PF error code bits that describe the access. SDM Vol. 3A 4.7. */
static u32 access_code(u32 acc)
{
	return (acc & WALK_ACC_WRITE ? WALK_PF_W : 0) | (acc & WALK_ACC_USER ? WALK_PF_U : 0);
}

static int fault(u32 *pf_error, u32 code)
{
	if (pf_error)
		*pf_error = code;
	return -DV_EFAULT;
}

/* A missing entry (or one outside guest RAM, which the caller reads as
 * missing): P clear in the error code. */
static int not_present(u32 acc, u32 *pf_error)
{
	return fault(pf_error, access_code(acc));
}

static int reserved(u32 acc, u32 *pf_error)
{
	return fault(pf_error, WALK_PF_P | WALK_PF_RSVD | access_code(acc));
}

/* rights: RW and US ANDed over the levels. SDM Vol. 3A 4.6: a user access
 * needs US; a user write needs RW, a supervisor write only with CR0.WP.
 * 0, or the protection fault. */
static int check_rights(const struct legacy_paging *p, u64 rights, u32 acc, u32 *pf_error)
{
	bool user = acc & WALK_ACC_USER;

	if ((user && !(rights & US)) ||
	    ((acc & WALK_ACC_WRITE) && !(rights & RW) && (user || p->wp)))
		return fault(pf_error, WALK_PF_P | access_code(acc));
	return 0;
}

/* Bits maxphyaddr..51 of a PAE entry's address are reserved, and 62..52
 * too; bit 63 unless NXE. SDM Vol. 3A 4.4.2, Table 4-11. */
static bool pae_reserved(const struct legacy_paging *p, u64 e)
{
	u64 rsvd = ((1ULL << 63) - 1) & ~((1ULL << p->maxphyaddr) - 1);

	if (!p->nxe)
		rsvd |= 1ULL << 63;
	return e & rsvd;
}

/* 32-bit paging: SDM Vol. 3A 4.3, Tables 4-4 to 4-6. */
int legacy_walk_32(const struct legacy_paging *p, u32 va, u32 acc, u64 *gpa, u32 *pf_error)
{
	u64 pde, pte;

	if (!read_entry(p, (p->cr3 & 0xfffff000u) + ((va >> 22) << 2), 4, &pde))
		return not_present(acc, pf_error);
	if ((pde & PS) && p->pse) {
		/* bits 20:13 give PA bits 39:32 of a 4 MiB page; bit 21 reserved */
		if (pde & (1u << 21))
			return reserved(acc, pf_error);
		if (check_rights(p, pde, acc, pf_error))
			return -DV_EFAULT;
		*gpa = (pde & 0xffc00000u) | (((pde >> 13) & 0xff) << 32) | (va & 0x3fffff);
		return 0;
	}
	if (!read_entry(p, (pde & 0xfffff000u) + (((va >> 12) & 0x3ff) << 2), 4, &pte))
		return not_present(acc, pf_error);
	if (check_rights(p, pde & pte, acc, pf_error))
		return -DV_EFAULT;
	*gpa = (pte & 0xfffff000u) | (va & 0xfff);
	return 0;
}

/* PAE paging: SDM Vol. 3A 4.4, Tables 4-8 to 4-11. The PDPTEs are read from
 * memory (the CPU caches them at the CR3 load; a guest that changes them
 * without reloading CR3 sees the difference). PDPTEs carry no rights. */
int legacy_walk_pae(const struct legacy_paging *p, u32 va, u32 acc, u64 *gpa, u32 *pf_error)
{
	u64 pdpte, pde, pte;
	u64 addr = 0x000ffffffffff000ULL;

	if (!read_entry(p, (p->cr3 & 0xffffffe0u) + ((va >> 30) << 3), 8, &pdpte))
		return not_present(acc, pf_error);
	/* PDPTE bits 2:1, 8:5 and 63:MAXPHYADDR are reserved (Table 4-8) */
	if ((pdpte & 0x1e6) || (pdpte >> p->maxphyaddr))
		return reserved(acc, pf_error);
	if (!read_entry(p, (pdpte & addr) + (((va >> 21) & 0x1ff) << 3), 8, &pde))
		return not_present(acc, pf_error);
	if (pae_reserved(p, pde))
		return reserved(acc, pf_error);
	if (pde & PS) {
		if (pde & 0x1fe000) /* bits 20:13 of a 2 MiB PDE are reserved */
			return reserved(acc, pf_error);
		if (check_rights(p, pde, acc, pf_error))
			return -DV_EFAULT;
		*gpa = (pde & addr & ~0x1fffffULL) | (va & 0x1fffff);
		return 0;
	}
	if (!read_entry(p, (pde & addr) + (((va >> 12) & 0x1ff) << 3), 8, &pte))
		return not_present(acc, pf_error);
	if (pae_reserved(p, pte))
		return reserved(acc, pf_error);
	if (check_rights(p, pde & pte, acc, pf_error))
		return -DV_EFAULT;
	*gpa = (pte & addr) | (va & 0xfff);
	return 0;
}
