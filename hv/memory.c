#include "hv/memory.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/pte.h"
#include "hv/bootmem.h"
#include "hv/identity.h"
#include "hv/memmap.h"
#include "lib/log.h"
#include "lib/string.h"
#include <dimvisor/exitcodes.h>

extern char __image_start[], __image_end[];

static struct pmm pmm;
static struct pmm pool; /* page tables (EPT) and the hypervisor's data */
static bool have_pool;
static struct bootmem bootmem;
static struct boot_mmap_entry norm_map[BOOT_MAX_MMAP], usable_map[BOOT_MAX_MMAP];

struct pmm *host_pmm(void)
{
	return &pmm;
}

struct pmm *host_pool(void)
{
	return have_pool ? &pool : NULL;
}

static __noreturn void memory_fail(int status, const char *what)
{
	kprintf("dimvisor: %s\n", what);
	platform_exit(status);
}

/* "639 KiB", "511 MiB", "4 GiB": the largest unit that divides exactly, so
 * nothing is rounded away in the report. */
static void print_size(u64 bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= 1024 && (bytes & 1023) == 0) {
		bytes >>= 10;
		u++;
	}
	kinfo("%lu %s", bytes, units[u]);
}

static void print_memory_map(const struct boot_info *bi)
{
	kinfo("memory map: %u entries from the boot loader%s\n", bi->nmmap,
	      bi->mmap_from_meminfo ? " (synthesised from mem_lower/mem_upper)" : "");
	for (unsigned i = 0; i < bi->nmmap; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		kinfo("  %016lx-%016lx %-10s ", e->base, e->base + e->len,
		      boot_mmap_type_name(e->type));
		print_size(e->len);
		kinfo("\n");
	}
}

static void mark_busy(u64 base, u64 len, const char *what)
{
	if (bootmem_mark_busy(&bootmem, base, len, what) < 0)
		memory_fail(DV_EXIT_BAD_BOOT, "too many boot-time memory reservations");
}

static void mark_string(const char *s, const char *what)
{
	if (s)
		mark_busy((u64)s, strlen(s) + 1, what);
}

/* Everything the boot loader and our own image occupy: never hand it out. */
static void mark_boot_ranges(const struct boot_info *bi)
{
	mark_busy(0, 1ULL << 20, "first MiB (BIOS data, real-mode area)");
	mark_busy((u64)__image_start, (u64)__image_end - (u64)__image_start, "dimvisor image");
	mark_busy(bi->info_phys, bi->info_len, "multiboot information");
	mark_string(bi->cmdline, "command line");
	mark_string(bi->loader_name, "boot loader name");
	for (unsigned i = 0; i < bi->nmodules; i++) {
		mark_busy(bi->modules[i].start, bi->modules[i].end - bi->modules[i].start,
			  "module");
		mark_string(bi->modules[i].cmdline, "module command line");
	}
}

static u64 prepare_usable_map(const struct boot_info *bi)
{
	int n = memmap_normalize(bi->mmap, bi->nmmap, norm_map, BOOT_MAX_MMAP);
	if (n < 0)
		memory_fail(DV_EXIT_BAD_BOOT, "memory map has too many entries after normalising");
	unsigned nusable = memmap_usable(norm_map, (unsigned)n, usable_map, BOOT_MAX_MMAP);
	if (nusable == 0)
		memory_fail(DV_EXIT_BAD_BOOT, "memory map reports no usable RAM");
	u64 top = memmap_top_of_ram(norm_map, (unsigned)n);
	if (top > HOST_IDENTITY_MAX) {
		kprintf("memory: RAM above %lu GiB is not used (top of RAM 0x%lx)\n",
			(u64)(HOST_IDENTITY_MAX >> 30), top);
		top = HOST_IDENTITY_MAX;
	}
	bootmem_init(&bootmem, usable_map, nusable, BOOT_IDENTITY_LIMIT);
	return top;
}

struct add_free_ctx {
	u64 top;
	int err;
};

static void add_free_range(void *ctx, u64 base, u64 len)
{
	struct add_free_ctx *c = ctx;
	u64 end = MIN(base + len, c->top);

	if (base < end && pmm_add_free(&pmm, base, end - base) < 0)
		c->err = 1;
}

/* The owner map (frame -> guest-physical page, for migrating frames) costs 4 bytes
 * per 4 KiB of the span; it is optional, so a machine too large for it below 4 GiB
 * runs without it. Taken before the pmm is given any free memory. */
static void start_owner_map(void)
{
	size_t len = pmm_owner_map_size(&pmm);
	u64 map = bootmem_alloc(&bootmem, len, PAGE_SIZE, "pmm owner map");

	if (map == BOOTMEM_NONE || pmm_owner_map_init(&pmm, (void *)map, len) < 0)
		kprintf("pmm: no room below 4 GiB for the owner map (%lu KiB); running without "
			"it\n",
			(u64)len >> 10);
}

/* The pmm writes list nodes into free blocks as soon as it is given them, so
 * it is only ever given usable RAM minus everything bootmem knows is busy
 * (image, boot data, tables, the pmm's own metadata). */
static void start_pmm(u64 top)
{
	size_t meta_len = pmm_metadata_size(0, top);
	u64 meta = bootmem_alloc(&bootmem, meta_len, PAGE_SIZE, "pmm metadata");
	struct add_free_ctx c = {.top = top, .err = 0};

	if (meta == BOOTMEM_NONE)
		memory_fail(DV_EXIT_NO_MEMORY, "no room below 4 GiB for the pmm metadata");
	if (pmm_init(&pmm, 0, top, (void *)meta, meta_len, 0) < 0)
		memory_fail(DV_EXIT_BAD_BOOT, "pmm_init failed");
	start_owner_map();
	bootmem_for_each_free(&bootmem, add_free_range, &c);
	if (c.err)
		memory_fail(DV_EXIT_BAD_BOOT, "usable memory ranges overlap");
}

/* Bad pages are never handed out, but stay known to the pmm: a VMM segment may span
 * them, and they become its escape holes. */
static void reserve_bad_pages(const struct dv_config *cfg)
{
	for (unsigned i = 0; i < cfg->nbadmem; i++) {
		u64 page = cfg->badmem[i];
		bool was_free = pmm_is_free(&pmm, page);

		if (was_free && pmm_mark_bad(&pmm, page) < 0)
			memory_fail(DV_EXIT_BAD_BOOT, "more bad pages than the pmm can remember");
		kinfo("pmm: bad page 0x%lx %s\n", page,
		      was_free ? "reserved" : "was not free RAM (nothing to do)");
	}
}

/* The pool for EPT tables and the hypervisor's data: carved at boot from the lowest
 * free memory (already broken up by the image and the boot data), so tables never sit
 * inside the large blocks that back guest RAM or a VMM segment, and never pin guest
 * memory in place. Sized for a 4 KiB-leaf EPT of mem= twice over (the old and new
 * tables of a remap live together until the flush), plus 2 MiB. Without it (no room)
 * tables come from the main pmm, as before. */
static void carve_pool(const struct dv_config *cfg)
{
	u64 size = ALIGN_UP(cfg->mem / 256 + 2 * MiB, 2 * MiB);

	if (pmm_carve_pool(&pool, &pmm, size, 2 * MiB) < 0) {
		kprintf("pmm: no room for a %lu MiB table pool; tables come from the main "
			"allocator\n",
			size >> 20);
		return;
	}
	have_pool = true;
	kinfo("pmm: table pool of %lu KiB for EPT tables\n", pmm_free_bytes(&pool) >> 10);
}

void host_memory_init(const struct boot_info *bi, const struct dv_config *cfg)
{
	print_memory_map(bi);
	u64 top = prepare_usable_map(bi);
	mark_boot_ranges(bi);
	host_identity_map_all(&bootmem, top);
	start_pmm(top);
	reserve_bad_pages(cfg);
	carve_pool(cfg);
	if (log_enabled(LOG_LEVEL_DEBUG))
		for (unsigned i = 0; i < bootmem.nbusy; i++)
			kdebug("bootmem: reserved %016lx-%016lx %s\n", bootmem.busy[i].base,
			       bootmem.busy[i].end, bootmem.busy[i].what);
	if (log_enabled(LOG_LEVEL_INFO))
		pmm_print_summary(&pmm);
}
