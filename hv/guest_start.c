#include "hv/guest_start.h"
#include "arch/x86_64/cpu.h"
#include "lib/printf.h"
#include "mm/pagetable.h"
#include <dimvisor/errno.h>

/* Page tables for an ELF64 guest come from a bump allocator over guest RAM
 * after the image: they stay the guest's. */
struct guest_table_alloc {
	struct guestmem *mem;
	u64 next;
};

static u64 guest_table_alloc(void *ctx)
{
	struct guest_table_alloc *a = ctx;
	u64 gpa = a->next;

	if (!guestmem_is_ram(a->mem, gpa, PAGE_SIZE))
		return PT_NO_TABLE;
	a->next += PAGE_SIZE;
	return gpa;
}

static void guest_table_free(void *ctx, u64 gpa)
{
	(void)ctx;
	(void)gpa; /* a bump allocator: the page stays with the tables */
}

static void *guest_table_ptr(void *ctx, u64 gpa)
{
	struct guest_table_alloc *a = ctx;
	return guestmem_ptr(a->mem, gpa, PAGE_SIZE);
}

#define CPUID_EXT_1G_PAGES (1u << 26)

static int build_identity_map(const struct guest_boot *boot, struct guestmem *mem, u64 *cr3,
			      char *err, size_t errlen)
{
	static struct guest_table_alloc alloc;
	struct pt_ops ops = {.alloc_table = guest_table_alloc,
			     .free_table = guest_table_free,
			     .table_ptr = guest_table_ptr,
			     .window = 0,
			     .ctx = &alloc};
	struct pagetable pt;
	bool big = cpuid(0x80000001, 0).edx & CPUID_EXT_1G_PAGES;

	alloc = (struct guest_table_alloc){mem, boot->free_gpa};
	if (pt_init(&pt, PT_FMT_X86, PT_SIZE_4K | PT_SIZE_2M | (big ? PT_SIZE_1G : 0), &ops) < 0) {
		ksnprintf(err, errlen, "no guest RAM after the image for page tables");
		return -DV_ENOMEM;
	}
	for (unsigned i = 0; i < mem->nram; i++) {
		if (pt_map(&pt, mem->ram[i].gpa, mem->ram[i].gpa, mem->ram[i].len, PT_RWX) < 0) {
			ksnprintf(err, errlen, "no guest RAM after the image for the identity map");
			return -DV_ENOMEM;
		}
	}
	*cr3 = pt.root;
	return 0;
}

int guest_start_state(const struct guest_boot *boot, struct guestmem *mem, struct vcpu_start *start,
		      char *err, size_t errlen)
{
	*start = (struct vcpu_start){.mode = VCPU_START_PROTECTED32,
				     .rip = boot->entry,
				     .rax = boot->magic,
				     .rbx = boot->info_gpa};
	if (boot->kind != BOOT_ELF64)
		return 0;
	start->mode = VCPU_START_LONG64;
	start->rax = 0;
	start->rbx = 0;
	return build_identity_map(boot, mem, &start->cr3, err, errlen);
}
