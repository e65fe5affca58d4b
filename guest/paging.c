/* The guest's page tables. Entry formats: arch/x86_64/pte.h (SDM Vol. 3A
 * Tables 4-15..4-20). The tables are identity-mapped, so a table's physical
 * address is also the pointer to it. */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/paging.h"
#include "lib/printf.h"
#include "lib/string.h"

#define CPUID_EXT_FEATURES     0x80000001u
#define CPUID_EXT_EDX_1G_PAGES (1u << 26) /* SDM Vol. 2A CPUID: Page1GB */

/* Table entries allow everything; leaves carry the restrictions (the
 * effective rights are the AND over the walk, SDM Vol. 3A 4.6). */
#define TABLE_FLAGS (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
/* Bits that say what a leaf grants; A and D are the CPU's to change. */
#define LEAF_COMPARE_MASK (~(X86_PTE_A | X86_PTE_D))
#define CANONICAL_BITS	  48

extern u8 __image_start[], __image_end[];

static u64 *pml4;
static u64 next_table, table_limit, tables_used;
static bool have_1g_pages;

static u64 *alloc_table(void)
{
	u64 *t;

	if (next_table + PAGE_SIZE > table_limit)
		return NULL;
	t = (u64 *)next_table;
	next_table += PAGE_SIZE;
	tables_used++;
	memset(t, 0, PAGE_SIZE);
	return t;
}

static bool is_canonical(u64 va)
{
	s64 sign_extended = (s64)(va << (64 - CANONICAL_BITS)) >> (64 - CANONICAL_BITS);

	return (u64)sign_extended == va;
}

/* Install one leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) for va -> pa
 * in the tables under root. */
static int map_one(u64 *root, u64 va, u64 pa, unsigned level, u64 flags)
{
	u64 leaf = pa | flags | X86_PTE_P | (level > 1 ? X86_PTE_PS : 0);
	u64 *table = root;

	for (unsigned l = PT_LEVELS; l > level; l--) {
		u64 *e = &table[PT_INDEX(va, l)];

		if (!(*e & X86_PTE_P)) {
			u64 *next = alloc_table();

			if (!next)
				return -DV_ENOMEM;
			*e = (u64)next | TABLE_FLAGS;
		} else if (*e & X86_PTE_PS) {
			return -DV_EEXIST; /* a larger leaf is in the way */
		}
		table = (u64 *)(*e & PTE_ADDR_MASK);
	}
	u64 *e = &table[PT_INDEX(va, level)];

	if (*e & X86_PTE_P)
		return (*e & LEAF_COMPARE_MASK) == leaf ? 0 : -DV_EEXIST;
	*e = leaf;
	return 0;
}

int paging_map(u64 va, u64 pa, u64 size, u64 flags)
{
	return paging_map_in(pml4, va, pa, size, flags, 3);
}

u64 *paging_root(void)
{
	return pml4;
}

u64 *paging_clone_root(void)
{
	u64 *copy = alloc_table();

	if (copy)
		memcpy(copy, pml4, PAGE_SIZE);
	return copy;
}

int paging_map_in(u64 *root, u64 va, u64 pa, u64 size, u64 flags, unsigned max_level)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE) || !is_canonical(va) ||
	    !is_canonical(va + size - 1))
		return -DV_EINVAL;
	while (size) {
		unsigned level = 1;
		int rc;

		if (max_level >= 3 && have_1g_pages && IS_ALIGNED(va | pa, PAGE_1G) &&
		    size >= PAGE_1G)
			level = 3;
		else if (max_level >= 2 && IS_ALIGNED(va | pa, PAGE_2M) && size >= PAGE_2M)
			level = 2;
		rc = map_one(root, va, pa, level, flags);
		if (rc)
			return rc;
		va += PT_LEVEL_SIZE(level);
		pa += PT_LEVEL_SIZE(level);
		size -= PT_LEVEL_SIZE(level);
	}
	/* Only not-present entries became present: no TLB entry can be stale
	 * (SDM Vol. 3A 4.10.4.3). */
	return 0;
}

bool paging_translate(u64 va, u64 *pa)
{
	const u64 *table = pml4;

	if (!is_canonical(va))
		return false;
	for (unsigned l = PT_LEVELS; l >= 1; l--) {
		u64 e = table[PT_INDEX(va, l)];

		if (!(e & X86_PTE_P))
			return false;
		if (l == 1 || (e & X86_PTE_PS)) {
			u64 offset = va & (PT_LEVEL_SIZE(l) - 1);

			*pa = (e & PTE_ADDR_MASK & ~(PT_LEVEL_SIZE(l) - 1)) + offset;
			return true;
		}
		table = (const u64 *)(e & PTE_ADDR_MASK);
	}
	return false;
}

u64 paging_reserved_end(void)
{
	return next_table;
}

/* The end of the image and of the boot modules that lie after it (GRUB and
 * dimvisor put them there), whose bytes must outlive the page tables. */
static u64 image_and_modules_end(const struct boot_info *bi)
{
	u64 end = (u64)__image_end;

	for (unsigned i = 0; i < bi->nmodules; i++)
		if (bi->modules[i].end > end && bi->modules[i].start < PAGING_LOW_IDENTITY)
			end = bi->modules[i].end;
	return end;
}

/* Tables go into the RAM right after the image and its modules, below 4 GiB
 * (the boot map must reach them until CR3 switches). */
static int find_table_room(const struct boot_info *bi, char *err, size_t errlen)
{
	u64 start = ALIGN_UP(image_and_modules_end(bi), PAGE_SIZE);

	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];
		u64 end = MIN(r->base + r->length, PAGING_LOW_IDENTITY);

		if (r->type != BOOT_RAM_TYPE || start < r->base || start >= end)
			continue;
		next_table = start;
		table_limit = ALIGN_DOWN(end, PAGE_SIZE);
		return 0;
	}
	ksnprintf(err, errlen,
		  "the image (and its modules) end at 0x%lx, outside the RAM in the memory map",
		  image_and_modules_end(bi));
	return -DV_EINVAL;
}

/* One page past the end is mapped too: the end-of-RAM test reads it. */
int paging_map_ram(u64 base, u64 len)
{
	u64 large = have_1g_pages ? PAGE_1G : PAGE_2M;
	u64 lo = ALIGN_DOWN(base, large), hi = ALIGN_UP(base + len + PAGE_SIZE, large);

	return paging_map(lo, lo, hi - lo, X86_PTE_RW);
}

void paging_limit_tables(u64 end)
{
	if (end < table_limit)
		table_limit = MAX(ALIGN_DOWN(end, PAGE_SIZE), next_table);
}

int paging_init(const struct boot_info *bi, char *err, size_t errlen)
{
	struct cpuid_regs ext = cpuid(CPUID_EXT_FEATURES, 0);
	u64 large, first_table;
	int rc;

	have_1g_pages = ext.edx & CPUID_EXT_EDX_1G_PAGES;
	large = have_1g_pages ? PAGE_1G : PAGE_2M;
	rc = find_table_room(bi, err, errlen);
	if (rc)
		return rc;
	first_table = next_table;
	pml4 = alloc_table();
	rc = pml4 ? paging_map(0, 0, PAGING_LOW_IDENTITY, X86_PTE_RW) : -DV_ENOMEM;
	for (unsigned i = 0; rc == 0 && i < bi->nregions; i++)
		if (bi->regions[i].type == BOOT_RAM_TYPE)
			rc = paging_map_ram(bi->regions[i].base, bi->regions[i].length);
	if (rc) {
		ksnprintf(err, errlen,
			  "building the identity map failed (%s): %lu table pages used",
			  rc == -DV_ENOMEM ? "no room for page tables" : "conflicting mapping",
			  tables_used);
		return rc;
	}
	write_cr3((u64)pml4);
	kprintf("guest: paging: identity map of the low 4 GiB and all RAM up to 0x%lx with %s "
		"pages; %lu table pages at 0x%lx\n",
		ALIGN_UP(bi->ram_top + PAGE_SIZE, large), have_1g_pages ? "1 GiB" : "2 MiB",
		tables_used, first_table);
	return 0;
}
