#include "hv/identity.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/platform.h"
#include "hv/memory.h"
#include "lib/log.h"
#include <dimvisor/exitcodes.h>

#define CPUID_EXT_1G_PAGES (1u << 26) /* CPUID 0x80000001 EDX, SDM Vol. 2A CPUID */

static struct pagetable host_pt;

static u64 bootmem_table_alloc(void *ctx)
{
	u64 p = bootmem_alloc(ctx, PAGE_SIZE, PAGE_SIZE, "identity map tables");
	return p == BOOTMEM_NONE ? PT_NO_TABLE : p;
}

/* bootmem cannot free; a table the engine drops while building stays reserved. */
static void bootmem_table_free(void *ctx, u64 phys)
{
	(void)ctx;
	(void)phys;
}

static bool cpu_has_1g_pages(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000001 &&
	       (cpuid(0x80000001, 0).edx & CPUID_EXT_1G_PAGES);
}

void host_identity_map_all(struct bootmem *bm, u64 top)
{
	struct pt_ops ops = {
		.alloc_table = bootmem_table_alloc,
		.free_table = bootmem_table_free,
		.table_ptr = NULL,
		.window = 0, /* tables live below 4 GiB, identity-mapped already */
		.ctx = bm,
	};
	bool big = cpu_has_1g_pages();
	unsigned sizes = PT_SIZE_4K | PT_SIZE_2M | (big ? PT_SIZE_1G : 0);
	u64 end = ALIGN_UP(MAX(top, BOOT_IDENTITY_LIMIT), PAGE_SIZE);

	if (pt_init(&host_pt, PT_FMT_X86, sizes, &ops) < 0 ||
	    pt_map(&host_pt, 0, 0, end, PT_RWX) < 0) {
		kprintf("dimvisor: out of memory below 4 GiB for the identity map of 0x%lx bytes\n",
			end);
		platform_exit(DV_EXIT_NO_MEMORY);
	}
	write_cr3(host_pt.root);
	kinfo("memory: identity map 0-0x%lx: %lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB pages, "
	      "%lu tables (%s)\n",
	      end, host_pt.leaves[3], host_pt.leaves[2], host_pt.leaves[1],
	      host_pt.tables[1] + host_pt.tables[2] + host_pt.tables[3] + host_pt.tables[4],
	      big ? "CPU has 1 GiB pages" : "CPU lacks 1 GiB pages");
}
