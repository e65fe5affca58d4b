#include "hv/guestmem.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

static u64 pmm_table_alloc(void *ctx)
{
	u64 p = pmm_alloc(ctx, 0);
	return p == PMM_NONE ? PT_NO_TABLE : p;
}

static void pmm_table_free(void *ctx, u64 phys)
{
	pmm_free(ctx, phys, 0);
}

/* Zero host memory with rep stosq: much faster than a byte loop, in Bochs too. */
static void zero_host(u64 hpa, u64 len)
{
	u64 count = len / 8;
	void *dst = (void *)hpa;

	__asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"(0ULL) : "memory");
}

static void layout(struct guestmem *gm, u64 mem, u64 iogap)
{
	gm->ram_bytes = mem;
	gm->ram[0] = (struct guest_range){0, MIN(mem, iogap)};
	gm->nram = 1;
	if (mem > iogap)
		gm->ram[gm->nram++] = (struct guest_range){GUEST_HIGHMEM_BASE, mem - iogap};
}

static unsigned effective_page_shift(unsigned wanted, bool cpu_2m, bool cpu_1g)
{
	if (wanted >= PAGE_1G_SHIFT && !cpu_1g) {
		kprintf("vm: ept=1g: this CPU has no 1 GiB EPT pages; using 2 MiB pages\n");
		wanted = PAGE_2M_SHIFT;
	}
	if (wanted >= PAGE_2M_SHIFT && !cpu_2m) {
		kprintf("vm: ept=2m: this CPU has no 2 MiB EPT pages; using 4 KiB pages\n");
		wanted = PAGE_SHIFT;
	}
	return wanted;
}

static unsigned page_sizes_for(unsigned shift)
{
	if (shift >= PAGE_1G_SHIFT)
		return PT_SIZE_4K | PT_SIZE_2M | PT_SIZE_1G;
	if (shift >= PAGE_2M_SHIFT)
		return PT_SIZE_4K | PT_SIZE_2M;
	return PT_SIZE_4K;
}

/* Largest buddy order usable for a block at gpa with len bytes left. */
static unsigned block_order(u64 gpa, u64 len)
{
	unsigned order = PMM_MAX_ORDER;

	while (order > 0 && ((PAGE_SIZE << order) > len || !IS_ALIGNED(gpa, PAGE_SIZE << order)))
		order--;
	return order;
}

/* Back [gpa, gpa+len) with host blocks, largest first, and map them. */
static int back_range(struct guestmem *gm, u64 gpa, u64 len)
{
	while (len) {
		unsigned order = block_order(gpa, len);
		u64 hpa = PMM_NONE;

		for (;; order--) {
			hpa = pmm_alloc(gm->pmm, order);
			if (hpa != PMM_NONE || order == 0)
				break;
		}
		if (hpa == PMM_NONE)
			return -DV_ENOMEM;
		if (gm->nbacking == GUEST_MAX_BACKING) {
			pmm_free(gm->pmm, hpa, order);
			return -DV_ENOMEM;
		}
		gm->backing[gm->nbacking++] = (struct guest_backing){gpa, hpa, order};
		u64 size = PAGE_SIZE << order;
		zero_host(hpa, size);
		if (pt_map(&gm->ept, gpa, hpa, size, PT_RWX) < 0)
			return -DV_ENOMEM;
		gpa += size;
		len -= size;
	}
	return 0;
}

int guestmem_init(struct guestmem *gm, struct pmm *pmm, u64 mem, u64 iogap, unsigned page_shift,
		  bool cpu_2m, bool cpu_1g)
{
	struct pt_ops ops = {
		.alloc_table = pmm_table_alloc,
		.free_table = pmm_table_free,
		.table_ptr = NULL,
		.window = 0, /* host memory is identity-mapped */
		.ctx = pmm,
	};

	memset(gm, 0, sizeof(*gm));
	gm->pmm = pmm;
	gm->ept_2m_supported = cpu_2m;
	gm->ept_1g_supported = cpu_1g;
	gm->ept_page_shift = effective_page_shift(page_shift, cpu_2m, cpu_1g);
	layout(gm, mem, iogap);
	if (pt_init(&gm->ept, PT_FMT_EPT, page_sizes_for(gm->ept_page_shift), &ops) < 0)
		return -DV_ENOMEM;
	for (unsigned i = 0; i < gm->nram; i++) {
		if (back_range(gm, gm->ram[i].gpa, gm->ram[i].len) < 0) {
			guestmem_destroy(gm);
			return -DV_ENOMEM;
		}
	}
	/* The local APIC is passed through, uncached (docs/guest-platform.md). */
	if (pt_map(&gm->ept, GUEST_LAPIC_BASE, GUEST_LAPIC_BASE, PAGE_SIZE, PT_RW | PT_UC) < 0) {
		guestmem_destroy(gm);
		return -DV_ENOMEM;
	}
	return 0;
}

void guestmem_destroy(struct guestmem *gm)
{
	for (unsigned i = 0; i < gm->nbacking; i++)
		pmm_free(gm->pmm, gm->backing[i].hpa, gm->backing[i].order);
	gm->nbacking = 0;
	pt_destroy(&gm->ept);
}

bool guestmem_is_ram(const struct guestmem *gm, u64 gpa, u64 len)
{
	return guest_ranges_contain(gm->ram, gm->nram, gpa, len);
}

void *guestmem_ptr(const struct guestmem *gm, u64 gpa, u64 len)
{
	u64 hpa;

	if (len == 0 || (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE || !guestmem_is_ram(gm, gpa, len))
		return NULL;
	if (pt_translate(&gm->ept, gpa, &hpa, NULL, NULL) < 0)
		return NULL;
	return (void *)hpa;
}

/* Write src (zeros when NULL) page by page to [gpa, gpa+len), after checking
 * it is all RAM. */
static int write_pages(const struct guestmem *gm, u64 gpa, const u8 *src, u64 len)
{
	if (len && !guestmem_is_ram(gm, gpa, len))
		return -DV_EFAULT;
	while (len) {
		u64 chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		u8 *p = guestmem_ptr(gm, gpa, chunk);
		if (!p)
			return -DV_EFAULT;
		if (src) {
			memcpy(p, src, chunk);
			src += chunk;
		} else {
			memset(p, 0, chunk);
		}
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int guestmem_write(const struct guestmem *gm, u64 gpa, const void *src, u64 len)
{
	return write_pages(gm, gpa, src, len);
}

int guestmem_zero(const struct guestmem *gm, u64 gpa, u64 len)
{
	return write_pages(gm, gpa, NULL, len);
}

u64 guestmem_eptp(const struct guestmem *gm)
{
	return gm->ept.root | EPTP_WALK_4 | EPTP_MEMTYPE_WB;
}
