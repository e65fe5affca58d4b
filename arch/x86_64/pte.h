/* Page-table entry layouts shared by every side: the hypervisor's own x86-64
 * tables, EPT, the guest kernel's tables, the MMU model's walkers and the
 * host tests. One definition, so the engine and the model cannot disagree.
 *
 * x86-64 4-level paging: Intel SDM Vol. 3A, 4.5 (Tables 4-15 .. 4-20).
 * EPT: Intel SDM Vol. 3C, 29.3.2 (Tables 29-1 .. 29-6). */
#ifndef ARCH_X86_64_PTE_H
#define ARCH_X86_64_PTE_H

#include <dimvisor/types.h>

#define PAGE_SHIFT    12
#define PAGE_SIZE     (1ULL << PAGE_SHIFT)
#define PAGE_2M_SHIFT 21
#define PAGE_2M	      (1ULL << PAGE_2M_SHIFT)
#define PAGE_1G_SHIFT 30
#define PAGE_1G	      (1ULL << PAGE_1G_SHIFT)

/* "1 GiB", "2 MiB" or "4 KiB" for a page shift (smaller shifts read as 4 KiB). */
static inline const char *page_shift_name(unsigned shift)
{
	return shift >= PAGE_1G_SHIFT ? "1 GiB" : shift >= PAGE_2M_SHIFT ? "2 MiB" : "4 KiB";
}

#define PT_LEVELS     4 /* PML4 (level 4) .. PT (level 1) */
#define PT_ENTRIES    512
#define PT_INDEX_BITS 9
/* Index of address a in the table at level lvl (1 = PT, 4 = PML4). */
#define PT_INDEX(a, lvl) (((a) >> (PAGE_SHIFT + PT_INDEX_BITS * ((lvl)-1))) & 0x1ff)
/* Bytes mapped by one entry at level lvl: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
#define PT_LEVEL_SIZE(lvl) (1ULL << (PAGE_SHIFT + PT_INDEX_BITS * ((lvl)-1)))

/* Physical-address bits 51:12 of an entry (MAXPHYADDR up to 52). */
#define PTE_ADDR_MASK	 0x000ffffffffff000ULL
#define PTE_ADDR_2M_MASK 0x000fffffffe00000ULL
#define PTE_ADDR_1G_MASK 0x000fffffc0000000ULL

/* x86-64 paging entry bits. SDM Vol. 3A Table 4-19/4-20. */
#define X86_PTE_P	  (1ULL << 0) /* present */
#define X86_PTE_RW	  (1ULL << 1) /* writable */
#define X86_PTE_US	  (1ULL << 2) /* user */
#define X86_PTE_PWT	  (1ULL << 3)
#define X86_PTE_PCD	  (1ULL << 4)
#define X86_PTE_A	  (1ULL << 5)  /* accessed */
#define X86_PTE_D	  (1ULL << 6)  /* dirty (leaf only) */
#define X86_PTE_PS	  (1ULL << 7)  /* page size: leaf at level 2 or 3 */
#define X86_PTE_G	  (1ULL << 8)  /* global (leaf only) */
#define X86_PTE_PAT_LARGE (1ULL << 12) /* PAT bit of a 2 MiB / 1 GiB leaf */
#define X86_PTE_NX	  (1ULL << 63) /* execute disable (needs EFER.NXE) */

/* EPT entry bits. SDM Vol. 3C Tables 29-1..29-6. */
#define EPT_R		  (1ULL << 0)
#define EPT_W		  (1ULL << 1)
#define EPT_X		  (1ULL << 2) /* supervisor-execute with mode-based control */
#define EPT_RWX		  (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_SHIFT 3 /* bits 5:3 of a leaf: memory type */
#define EPT_MEMTYPE_MASK  (7ULL << EPT_MEMTYPE_SHIFT)
#define EPT_MEMTYPE_UC	  0ULL
#define EPT_MEMTYPE_WB	  6ULL
#define EPT_IGNORE_PAT	  (1ULL << 6)
#define EPT_PS		  (1ULL << 7)  /* leaf at level 2 or 3 */
#define EPT_A		  (1ULL << 8)  /* accessed, when EPTP enables A/D */
#define EPT_D		  (1ULL << 9)  /* dirty (leaf only) */
#define EPT_UX		  (1ULL << 10) /* user-execute with mode-based control */

/* EPT pointer (VMCS field). SDM Vol. 3C 24.6.11. */
#define EPTP_MEMTYPE_WB 6ULL
#define EPTP_WALK_4	(3ULL << 3) /* page-walk length minus one */
#define EPTP_AD_ENABLE	(1ULL << 6)

#endif
