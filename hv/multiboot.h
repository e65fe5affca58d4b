/* Boot information from a Multiboot 1 or Multiboot 2 boot loader, parsed into
 * one protocol-neutral struct boot_info. The parser reads physical memory only
 * through a phys_reader, so the same code parses the real structure (through
 * the identity map) and byte arrays in the unit tests, and it never trusts a
 * length or pointer it found in the structure. */
#ifndef HV_MULTIBOOT_H
#define HV_MULTIBOOT_H

#include <dimvisor/types.h>

#define BOOT_MAX_MMAP	  128
#define BOOT_MAX_MODULES  16
#define BOOT_MAX_STRING	  4096	     /* strings must be NUL-terminated within this many bytes */
#define BOOT_MB2_MAX_INFO (1u << 20) /* a larger Multiboot 2 total_size is rejected */

/* Memory types, as in both Multiboot specifications (and E820). Any other
 * value is passed through and treated as not available. */
#define BOOT_MEM_AVAILABLE 1u
#define BOOT_MEM_RESERVED  2u
#define BOOT_MEM_ACPI	   3u /* ACPI reclaimable */
#define BOOT_MEM_NVS	   4u /* ACPI NVS: preserve across sleep */
#define BOOT_MEM_BAD	   5u

struct boot_mmap_entry {
	u64 base, len;
	u32 type;
};

/* A module occupies [start, end). */
struct boot_module {
	u64 start, end;
	const char *cmdline; /* never NULL: "" when absent; as GRUB gives it, without
			      * the file name QEMU -kernel puts first */
};

struct boot_info {
	int protocol;		 /* 1 or 2 */
	const char *cmdline;	 /* never NULL: "" when absent */
	const char *loader_name; /* never NULL: "unknown" when absent */
	struct boot_mmap_entry mmap[BOOT_MAX_MMAP];
	unsigned nmmap; /* entries as the loader gave them: unsorted, may overlap */
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nmodules;
	/* Where the info structure itself lies, to reserve it. Multiboot 2: the
	 * whole structure (strings included). Multiboot 1: only the fixed part; the
	 * strings, module list and memory map lie elsewhere, wherever the loader put
	 * them (copy what you keep before reusing memory). */
	u64 info_phys, info_len;
	bool mmap_from_meminfo; /* true when only mem_lower/mem_upper were available */
};

/* Returns a pointer to len readable bytes at phys, or NULL when that range is
 * not (entirely) readable. */
typedef const void *(*phys_reader)(void *ctx, u64 phys, u64 len);

/* Parse the boot information at info_phys, handed over with magic (EAX at
 * entry). Returns 0, or -DV_EINVAL with a one-line message in err (errlen
 * bytes, always NUL-terminated when errlen > 0). The string pointers in out
 * point at bytes the reader returned. Never reads outside what read granted. */
int multiboot_parse(u32 magic, u64 info_phys, phys_reader read, void *ctx, struct boot_info *out,
		    char *err, size_t errlen);

/* "available", "reserved", "ACPI", "NVS", "bad", or "type N" for other values
 * (the last in a static buffer: not reentrant, overwritten by the next call). */
const char *boot_mmap_type_name(u32 type);

#endif
