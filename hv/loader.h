/* The guest loader: takes the guest kernel image (the first boot module) and
 * loads it into guest memory the way GRUB would — Multiboot 2 or Multiboot 1
 * (ELF or a.out-kludge addresses) — with a multiboot information structure
 * describing the guest's memory map, command line and modules (the further
 * boot modules, copied into guest RAM). A plain ELF64 image without a
 * multiboot header is loaded too, to be started in 64-bit mode.
 *
 * It reaches guest memory only through struct loader_target, so it is
 * unit-tested on the host over byte arrays. */
#ifndef HV_LOADER_H
#define HV_LOADER_H

#include <dimvisor/types.h>
#include "hv/guestmem.h"

#define LOADER_NAME	   "dimvisor"
#define LOADER_MAX_CMDLINE 1024
#define LOADER_MAX_MODULES 15 /* the boot loader's 16 (BOOT_MAX_MODULES) but the kernel */

struct loader_target {
	const struct guest_range *ram; /* guest RAM ranges, ascending: 1..GUEST_MAX_RAM_RANGES */
	unsigned nram;
	int (*write)(void *ctx, u64 gpa, const void *src, u64 len); /* -DV_EFAULT if not RAM */
	int (*zero)(void *ctx, u64 gpa, u64 len);		    /* -DV_EFAULT if not RAM */
	void *ctx;
};

enum guest_boot_kind { BOOT_MULTIBOOT1 = 1, BOOT_MULTIBOOT2 = 2, BOOT_ELF64 = 3 };

/* A module for the guest: len bytes at data, and its command line. */
struct loader_module {
	const u8 *data;
	u64 len;
	const char *cmdline;
};

struct guest_boot {
	enum guest_boot_kind kind;
	u64 entry;			    /* first instruction (gPA; identity for ELF64) */
	u32 magic;			    /* EAX at entry for multiboot */
	u64 info_gpa;			    /* EBX at entry: the multiboot information */
	u64 load_lo, load_hi;		    /* guest-physical range the image occupies */
	u64 info_len;			    /* bytes of the multiboot information */
	u64 module_gpa[LOADER_MAX_MODULES]; /* where each module was copied */
	u64 free_gpa; /* first page-aligned gPA after the image, the info and the modules */
};

/* Load image[0, len) with command line cmdline, and the nmods modules after
 * the information, each on a page boundary below 4 GiB. Returns 0, or
 * -DV_EINVAL / -DV_ERANGE / -DV_ENOTSUP with a message naming the problem in
 * err. */
int loader_load(const struct loader_target *t, const u8 *image, u64 len, const char *cmdline,
		const struct loader_module *mods, unsigned nmods, struct guest_boot *boot,
		char *err, size_t errlen);
const char *loader_kind_name(enum guest_boot_kind kind);

#endif
