/* Page walkers over real page tables: x86-64 4-level paging (the native or
 * guest tables) and EPT (the nested tables), and the 2D nested walk that
 * translates every guest paging-structure address and the final gPA through
 * the nested tables. Tables are read through an accessor, so the same code
 * walks tables in a host buffer (tests, mmusim) and live tables inside the
 * hypervisor. Every entry read is counted by kind.
 *
 * Faults follow the hardware: x86 paging per Intel SDM Vol. 3A 4.5 and 4.7
 * (#PF error code), EPT per Vol. 3C 29.3.3 (EPT violation / misconfiguration)
 * and 27.2.1 Table 27-7 (exit qualification). Accessed/dirty updates, SMEP,
 * SMAP, protection keys and 5-level paging are not modelled. */
#ifndef MM_MODEL_WALK_H
#define MM_MODEL_WALK_H

#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"
#include "mm/model/pwc.h"

/* Reads the 8-byte entry at physical address pa. pa is in the tables' own
 * address space: gPA for guest tables under virtualization, hPA for EPT,
 * PA for native tables. Return 0 for memory that does not exist. */
typedef u64 (*walk_read_fn)(void *ctx, u64 pa);

struct walk_tables {
	u64 root;	   /* address of the top table (CR3 / EPTP bits 51:12) */
	walk_read_fn read; /* may be NULL if every table lies in flat */
	void *ctx;
	const u8 *flat; /* optional fast path: entry at pa < flat_size is */
	u64 flat_size;	/*   read from flat + pa without calling read */
};

/* Paging controls that change what is reserved or allowed. */
struct walk_env {
	u8 maxphyaddr; /* physical-address width (CPUID 80000008H:EAX[7:0]) */
	bool nxe;      /* IA32_EFER.NXE: bit 63 is XD, else it is reserved */
	bool wp;       /* CR0.WP: supervisor writes honour R/W */
};

/* Access kinds (bit set). A user access is a CPL 3 access. */
#define WALK_ACC_WRITE (1u << 0)
#define WALK_ACC_USER  (1u << 1)
#define WALK_ACC_EXEC  (1u << 2)

/* Memory references of a walk by kind and level: WALK_REF(WALK_REF_GUEST, 4)
 * is a read of a guest PML4 entry. NESTED counts EPT reads made to translate
 * a guest paging-structure gPA; FINAL counts EPT reads made to translate the
 * final gPA of the data. A native walk counts as GUEST. */
enum walk_ref_base {
	WALK_REF_GUEST = 0,
	WALK_REF_NESTED = 4,
	WALK_REF_FINAL = 8,
	WALK_REF_KINDS = 12,
};
#define WALK_REF(base, level) ((base) + (level)-1)

struct walk_refs {
	u8 n[WALK_REF_KINDS];
	u8 total;	/* sum of n[] */
	u8 seg_adds;	/* segment additions (guest or VMM segment) */
	u8 pwc_hits;	/* paging-structure-cache hits (guest and nested) */
	u8 ntlb_hits;	/* nested-TLB hits */
	u8 escape_fp;	/* escape-filter false positives met on the way */
	u8 escape_hits; /* gPAs sent to the nested walk by a real escape */
};

enum walk_fault_kind {
	WALK_OK = 0,
	WALK_NOT_PRESENT,  /* P = 0 / EPT entry with R = W = X = 0 */
	WALK_PROTECTION,   /* rights of the access not granted */
	WALK_RESERVED,	   /* reserved bit set (#PF RSVD / EPT misconfiguration) */
	WALK_NONCANONICAL, /* #GP: bits 63:47 of the address not all equal */
};

enum walk_stage {
	WALK_STAGE_GUEST = 0, /* x86 tables (native or guest) */
	WALK_STAGE_NESTED,    /* EPT */
};

/* #PF error code bits. SDM Vol. 3A 4.7. */
#define WALK_PF_P    (1u << 0)
#define WALK_PF_W    (1u << 1)
#define WALK_PF_U    (1u << 2)
#define WALK_PF_RSVD (1u << 3)
#define WALK_PF_I    (1u << 4)
/* EPT-violation exit qualification bits. SDM Vol. 3C 27.2.1 Table 27-7. */
#define WALK_EPT_QUAL_READ	(1u << 0)
#define WALK_EPT_QUAL_WRITE	(1u << 1)
#define WALK_EPT_QUAL_FETCH	(1u << 2)
#define WALK_EPT_QUAL_R		(1u << 3) /* bits 5:3: rights granted, AND of levels */
#define WALK_EPT_QUAL_W		(1u << 4)
#define WALK_EPT_QUAL_X		(1u << 5)
#define WALK_EPT_QUAL_GLA_VALID (1u << 7)
#define WALK_EPT_QUAL_FINAL	(1u << 8) /* 1: the final gPA; 0: a paging-structure read */

struct walk_fault {
	u8 kind;	/* enum walk_fault_kind */
	u8 stage;	/* enum walk_stage */
	u8 level;	/* level of the entry that faulted (4 = PML4 .. 1 = PT) */
	bool on_table;	/* nested fault while translating a guest table's gPA */
	u64 va;		/* the linear address being translated */
	u64 pa;		/* nested stage: the gPA that failed; guest stage: 0 */
	u32 error_code; /* guest: #PF error code; nested: exit qualification */
};

/* The end of a successful walk. */
struct walk_leaf {
	u64 pa;		   /* translated address (hPA in 2D walks) */
	u64 gpa;	   /* 2D walks: the final guest-physical address */
	u64 rights;	   /* x86: X86_PTE_RW | X86_PTE_US | X86_PTE_NX as effective over
			    * all levels; EPT: EPT_R | EPT_W | EPT_X ANDed over levels */
	u64 nested_rights; /* 2D walks: EPT rights of the final gPA */
	u8 shift;	   /* page size of the translation: 12, 21 or 30 (2D: the
			    * smaller of the guest and nested pages) */
	u8 level;	   /* level of the leaf entry (1, 2 or 3); 0 for a segment */
};

/* How a guest-physical address becomes a host-physical one inside a 2D walk.
 * The model plugs in segments and caches here; walk_2d uses a plain EPT walk.
 * is_table: gpa is a guest paging structure (counted NESTED) rather than the
 * final gPA (counted FINAL). On success fills out (pa, shift, rights) and
 * returns 0; on failure fills f (stage, level, pa, error_code; the caller
 * completes va and on_table) and returns -DV_EFAULT. */
struct walk_nested {
	int (*translate)(void *ctx, u64 gpa, bool is_table, u32 acc, struct walk_refs *refs,
			 struct walk_leaf *out, struct walk_fault *f);
	void *ctx;
};

static inline bool walk_canonical(u64 va)
{
	/* 48-bit linear addresses: bits 63:47 are copies of bit 47. */
	return (u64)((s64)(va << 16) >> 16) == va;
}

/* Native walk of va: 4, 3 or 2 references for a 4 KiB, 2 MiB or 1 GiB leaf.
 * pwc may be NULL. Returns 0, or -DV_EFAULT with *f filled. refs accumulate. */
int walk_x86(const struct walk_tables *t, u64 va, u32 acc, const struct walk_env *env,
	     struct pwc *pwc, struct walk_refs *refs, struct walk_leaf *leaf, struct walk_fault *f);

/* EPT walk of gpa, references counted at WALK_REF(ref_base, level). acc uses
 * the WALK_ACC_* bits (USER is ignored: EPT has no user/supervisor bit).
 * pwc may be NULL. Returns 0, or -DV_EFAULT with stage, level, pa and
 * error_code of *f filled. */
int walk_ept(const struct walk_tables *t, u64 gpa, u32 acc, const struct walk_env *env,
	     enum walk_ref_base ref_base, struct pwc *pwc, struct walk_refs *refs,
	     struct walk_leaf *leaf, struct walk_fault *f);

/* Guest walk of gva in which every guest table address and the final gPA go
 * through nested->translate (the 2D walk). guest->root is a gPA. pwc (may be
 * NULL) caches guest entries as combined mappings: a hit also skips the
 * nested translation of the table it points to (SDM Vol. 3C 28.3.1). */
int walk_x86_nested(const struct walk_tables *guest, const struct walk_nested *nested, u64 gva,
		    u32 acc, const struct walk_env *env, struct pwc *pwc, struct walk_refs *refs,
		    struct walk_leaf *leaf, struct walk_fault *f);

/* The plain 2D walk (no segments, no caches): (g+1)(h+1)-1 references for
 * g guest levels and h nested levels, 24 with 4 KiB pages in both. */
int walk_2d(const struct walk_tables *guest, const struct walk_tables *ept, u64 gva, u32 acc,
	    const struct walk_env *env, struct walk_refs *refs, struct walk_leaf *leaf,
	    struct walk_fault *f);

/* Read one entry through the accessor (exposed for tests and tools). */
static inline u64 walk_read(const struct walk_tables *t, u64 pa)
{
	u64 v;

	if (pa < t->flat_size) {
		__builtin_memcpy(&v, t->flat + pa, sizeof(v));
		return v;
	}
	return t->read ? t->read(t->ctx, pa) : 0;
}

/* Bits 51:MAXPHYADDR, reserved in every entry of both formats.
 * SDM Vol. 3A Table 4-20 and Vol. 3C Tables 29-1..29-6. */
static inline u64 walk_rsvd_phys(const struct walk_env *env)
{
	return PTE_ADDR_MASK & ~((1ULL << env->maxphyaddr) - 1);
}

/* Reserved bits of a present x86 entry of level lvl. SDM Vol. 3A Tables
 * 4-15..4-20: PS is reserved in a PML4E; a 1 GiB leaf reserves bits 29:13
 * and a 2 MiB leaf bits 20:13 (bit 12 is PAT); XD is reserved without NXE.
 * Shared by the generic walkers and the model's fast ones (model.c), so
 * both fault on exactly the same entries. */
static inline bool walk_x86_reserved(u64 pte, unsigned lvl, u64 rsvd, bool nxe)
{
	if (pte & rsvd)
		return true;
	if ((pte & X86_PTE_NX) && !nxe)
		return true;
	if (lvl == 4 && (pte & X86_PTE_PS))
		return true;
	if (lvl == 3 && (pte & X86_PTE_PS) && (pte & 0x3fffe000ULL))
		return true;
	if (lvl == 2 && (pte & X86_PTE_PS) && (pte & 0x1fe000ULL))
		return true;
	return false;
}

/* EPT misconfiguration of a present entry. SDM Vol. 3C 29.3.3.1: write
 * without read; reserved bits (51:MAXPHYADDR; bits 7:3 of a PML4E; bits 6:3
 * of a non-leaf PDPTE/PDE; 29:12 of a 1 GiB and 20:12 of a 2 MiB leaf);
 * memory type 2, 3 or 7 in a leaf. Shared with the model's fast walkers, as above,
 * and always inline: their levels are constants, which leave a few tests. */
__attribute__((always_inline)) static inline bool walk_ept_misconfigured(u64 pte, unsigned lvl,
									 bool leaf, u64 rsvd)
{
	u64 mt = (pte & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT;

	if ((pte & EPT_W) && !(pte & EPT_R))
		return true;
	if (pte & rsvd)
		return true;
	if (lvl == 4)
		return (pte & 0xf8ULL) != 0;
	if (!leaf)
		return (pte & 0x78ULL) != 0;
	if (mt == 2 || mt == 3 || mt == 7)
		return true;
	if (lvl == 3 && (pte & 0x3ffff000ULL))
		return true;
	if (lvl == 2 && (pte & 0x1ff000ULL))
		return true;
	return false;
}

#endif
