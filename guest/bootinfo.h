/* What the guest keeps of its multiboot information: the command line, the
 * loader's name, the memory map and the boot modules. Everything is copied
 * out of the loader's structures at once, so the memory they occupy may be
 * reused (page tables, the memory test); the modules' bytes stay where they
 * are, and paging.c puts its tables after them. */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <dimvisor/types.h>

#define BOOT_REGIONS_MAX	128
#define BOOT_CMDLINE_MAX	512
#define BOOT_LOADER_MAX		64
#define BOOT_RAM_TYPE		1 /* "available" in Multiboot 1 and 2 (and E820) */
#define BOOT_MODULES_MAX	16
#define BOOT_MODULE_CMDLINE_MAX 256

struct boot_region {
	u64 base, length;
	u32 type;
};

/* A boot module: its bytes lie at [start, end). */
struct boot_module {
	u64 start, end;
	char cmdline[BOOT_MODULE_CMDLINE_MAX]; /* cut to fit, always terminated */
};

struct boot_info {
	const char *protocol; /* "multiboot" or "multiboot2" */
	char loader[BOOT_LOADER_MAX];
	char cmdline[BOOT_CMDLINE_MAX];
	bool from_meminfo; /* no map given: synthesised from mem_lower/mem_upper */
	unsigned nregions;
	struct boot_region regions[BOOT_REGIONS_MAX]; /* sorted by base, none empty */
	u64 ram_bytes; /* sum of the lengths of the available regions */
	u64 ram_top;   /* end of the highest available region */
	unsigned nmodules;
	struct boot_module modules[BOOT_MODULES_MAX];
	u64 info_start, info_end; /* the information structure (Multiboot 1: its fixed part) */
};

/* Copy the boot information at physical address info (identity-mapped), given
 * the loader's EAX magic. Returns 0, or -DV_EINVAL with a reason in err. */
int bootinfo_parse(u32 magic, u64 info, struct boot_info *bi, char *err, size_t errlen);

/* The end of the first RAM region that a hole (the I/O gap) follows, below
 * 4 GiB; 0 when RAM has no such hole. */
u64 bootinfo_gap_start(const struct boot_info *bi);

/* Hot-unplug and hot-add (guest/bootinfo_hotplug.c): take [base, base + len)
 * out of the available RAM that holds all of it (-DV_EINVAL otherwise), or add
 * it as available RAM, joined with the available regions it continues
 * (-DV_EINVAL for an empty or wrapping range, -DV_EEXIST when it overlaps any
 * region). Either keeps the regions sorted and ram_bytes and ram_top right;
 * -DV_E2BIG when a new region would not fit. Nothing changes on error. */
int bootinfo_remove_ram(struct boot_info *bi, u64 base, u64 len);
int bootinfo_add_ram(struct boot_info *bi, u64 base, u64 len);

/* Print the loader, the command line and the memory map. */
void bootinfo_print(const struct boot_info *bi);

#endif
