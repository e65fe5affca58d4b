/* Multiboot 1 and Multiboot 2 protocol definitions, shared by the hypervisor's
 * parser (hv/multiboot.c), the guest loader that builds boot information for a
 * guest, and the guest kernel that parses it.
 *
 * Multiboot 1: "Multiboot Specification version 0.6.96" (GNU), section 3.1 (OS
 * image format: the header) and 3.3 (Boot information format).
 * Multiboot 2: "Multiboot2 Specification version 2.0" (GNU), section 3.1 (the
 * header and its tags) and 3.6 (Boot information: tags).
 *
 * All fields are little-endian. Addresses in Multiboot 1 and in the Multiboot 2
 * module tag are 32-bit physical addresses. */
#ifndef DIMVISOR_MULTIBOOT_H
#define DIMVISOR_MULTIBOOT_H

#include <dimvisor/types.h>

/* ---------------------------------------------------------------------------
 * Multiboot 1 (spec 0.6.96)
 * ------------------------------------------------------------------------- */

/* 3.1.1/3.1.2: the header lies in the first 8192 bytes of the image, 4-byte aligned. */
#define MB1_HEADER_MAGIC  0x1BADB002u
#define MB1_HEADER_SEARCH 8192u
#define MB1_HEADER_ALIGN  4u

/* 3.1.2: header flags. */
#define MB1_HEADER_PAGE_ALIGN  (1u << 0)  /* modules aligned on 4 KiB */
#define MB1_HEADER_MEMORY_INFO (1u << 1)  /* mem_* (and mmap_* if possible) required */
#define MB1_HEADER_VIDEO_MODE  (1u << 2)  /* video mode table requested */
#define MB1_HEADER_AOUT_KLUDGE (1u << 16) /* address fields (offsets 12..28) valid */

/* checksum makes magic + flags + checksum == 0 (mod 2^32). */
#define MB1_HEADER_CHECKSUM(flags) ((u32)(0u - (MB1_HEADER_MAGIC + (u32)(flags))))

/* 3.2: EAX on entry to the OS image. */
#define MB1_BOOT_MAGIC 0x2BADB002u

/* 3.1.1: the header. Address fields are valid with MB1_HEADER_AOUT_KLUDGE,
 * graphics fields with MB1_HEADER_VIDEO_MODE. */
struct mb1_header {
	u32 magic;
	u32 flags;
	u32 checksum;
	u32 header_addr;   /* 3.1.3: physical address of this header */
	u32 load_addr;	   /* start of the text segment */
	u32 load_end_addr; /* end of the data segment (0: whole file) */
	u32 bss_end_addr;  /* end of bss (0: no bss) */
	u32 entry_addr;	   /* entry point */
	u32 mode_type;	   /* 3.1.4: 0 linear graphics, 1 EGA text */
	u32 width;
	u32 height;
	u32 depth;
} __packed;

/* 3.3: flags of the boot information; each bit says which fields are valid. */
#define MB1_INFO_MEMORY	     (1u << 0)	/* mem_lower, mem_upper */
#define MB1_INFO_BOOTDEV     (1u << 1)	/* boot_device */
#define MB1_INFO_CMDLINE     (1u << 2)	/* cmdline */
#define MB1_INFO_MODS	     (1u << 3)	/* mods_count, mods_addr */
#define MB1_INFO_AOUT_SYMS   (1u << 4)	/* syms: a.out symbol table */
#define MB1_INFO_ELF_SHDR    (1u << 5)	/* syms: ELF section headers (exclusive with bit 4) */
#define MB1_INFO_MEM_MAP     (1u << 6)	/* mmap_length, mmap_addr */
#define MB1_INFO_DRIVE_INFO  (1u << 7)	/* drives_length, drives_addr */
#define MB1_INFO_CONFIG	     (1u << 8)	/* config_table */
#define MB1_INFO_LOADER_NAME (1u << 9)	/* boot_loader_name */
#define MB1_INFO_APM_TABLE   (1u << 10) /* apm_table */
#define MB1_INFO_VBE	     (1u << 11) /* vbe_* */
#define MB1_INFO_FRAMEBUFFER (1u << 12) /* framebuffer_* */

/* 3.3: the boot information structure; EBX holds its physical address. */
struct mb1_info {
	u32 flags;
	u32 mem_lower; /* KiB of memory from 0 (at most 640) */
	u32 mem_upper; /* KiB of memory from 1 MiB up to the first hole */
	u32 boot_device;
	u32 cmdline; /* physical address of a NUL-terminated string */
	u32 mods_count;
	u32 mods_addr; /* physical address of mods_count struct mb1_module */
	u32 syms[4];
	u32 mmap_length; /* bytes in the buffer at mmap_addr */
	u32 mmap_addr;	 /* address of the first entry's size field */
	u32 drives_length;
	u32 drives_addr;
	u32 config_table;
	u32 boot_loader_name; /* physical address of a NUL-terminated string */
	u32 apm_table;
	u32 vbe_control_info;
	u32 vbe_mode_info;
	u16 vbe_mode;
	u16 vbe_interface_seg;
	u16 vbe_interface_off;
	u16 vbe_interface_len;
	u64 framebuffer_addr;
	u32 framebuffer_pitch;
	u32 framebuffer_width;
	u32 framebuffer_height;
	u8 framebuffer_bpp;
	u8 framebuffer_type;
	u8 color_info[6];
} __packed;

/* 3.3: one module: [mod_start, mod_end) and its command line string. */
struct mb1_module {
	u32 mod_start;
	u32 mod_end;
	u32 string; /* physical address of a NUL-terminated string */
	u32 reserved;
} __packed;

/* 3.3: one memory map entry. 'size' is the size of the rest of the entry (at
 * least 20); the next entry starts at (u8 *)&entry->base_addr + size. */
struct mb1_mmap_entry {
	u32 size;
	u64 base_addr;
	u64 length;
	u32 type;
} __packed;

#define MB1_MMAP_ENTRY_MIN_SIZE 20u /* the 'size' of an entry without extensions */

/* 3.3: memory types. 0.6.96 names only 1 (available) and treats every other
 * value as reserved; 3..5 follow the E820 types and Multiboot 2. */
#define MB1_MEMORY_AVAILABLE	    1u
#define MB1_MEMORY_RESERVED	    2u
#define MB1_MEMORY_ACPI_RECLAIMABLE 3u
#define MB1_MEMORY_NVS		    4u
#define MB1_MEMORY_BADRAM	    5u

/* ---------------------------------------------------------------------------
 * Multiboot 2 (spec 2.0)
 * ------------------------------------------------------------------------- */

/* 3.1.1/3.1.2: the header lies in the first 32768 bytes of the image, 8-byte aligned. */
#define MB2_HEADER_MAGIC  0xE85250D6u
#define MB2_HEADER_SEARCH 32768u
#define MB2_HEADER_ALIGN  8u

#define MB2_ARCH_I386	0u /* 32-bit protected mode of i386 */
#define MB2_ARCH_MIPS32 4u

/* checksum makes magic + architecture + header_length + checksum == 0 (mod 2^32). */
#define MB2_HEADER_CHECKSUM(arch, len) ((u32)(0u - (MB2_HEADER_MAGIC + (u32)(arch) + (u32)(len))))

/* 3.1.1: the fixed part of the header, followed by 8-byte aligned tags. */
struct mb2_header {
	u32 magic;
	u32 architecture;
	u32 header_length; /* bytes, including all tags */
	u32 checksum;
} __packed;

/* 3.1.3: header tag types. */
#define MB2_HEADER_TAG_END		   0u
#define MB2_HEADER_TAG_INFORMATION_REQUEST 1u
#define MB2_HEADER_TAG_ADDRESS		   2u
#define MB2_HEADER_TAG_ENTRY_ADDRESS	   3u
#define MB2_HEADER_TAG_CONSOLE_FLAGS	   4u
#define MB2_HEADER_TAG_FRAMEBUFFER	   5u
#define MB2_HEADER_TAG_MODULE_ALIGN	   6u
#define MB2_HEADER_TAG_EFI_BS		   7u
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI32 8u
#define MB2_HEADER_TAG_ENTRY_ADDRESS_EFI64 9u
#define MB2_HEADER_TAG_RELOCATABLE	   10u

#define MB2_HEADER_TAG_OPTIONAL 1u /* flags bit 0: the loader may ignore the tag */
#define MB2_TAG_ALIGN		8u /* header tags and info tags start 8-byte aligned */

/* 3.1.3: every header tag starts like this; size includes these 8 bytes. */
struct mb2_header_tag {
	u16 type;
	u16 flags;
	u32 size;
} __packed;

/* 3.1.4: asks for the info tags listed in requests[] ((size - 8) / 4 of them). */
struct mb2_header_tag_information_request {
	u16 type;
	u16 flags;
	u32 size;
	u32 requests[];
} __packed;

/* 3.1.5: load addresses, like the Multiboot 1 a.out kludge. */
struct mb2_header_tag_address {
	u16 type;
	u16 flags;
	u32 size; /* 24 */
	u32 header_addr;
	u32 load_addr;
	u32 load_end_addr;
	u32 bss_end_addr;
} __packed;

/* 3.1.6: the entry point (instead of the ELF one). */
struct mb2_header_tag_entry_address {
	u16 type;
	u16 flags;
	u32 size; /* 12 */
	u32 entry_addr;
} __packed;

/* 3.3: EAX on entry to the OS image; EBX holds the info's physical address. */
#define MB2_BOOT_MAGIC 0x36d76289u

/* 3.6.2: the info starts with this fixed part, then 8-byte aligned tags, the
 * last of which is an END tag. total_size counts the fixed part and all tags. */
struct mb2_info {
	u32 total_size;
	u32 reserved;
} __packed;

#define MB2_INFO_ALIGN 8u

/* 3.6: info tag types. */
#define MB2_TAG_END		 0u
#define MB2_TAG_CMDLINE		 1u
#define MB2_TAG_BOOT_LOADER_NAME 2u
#define MB2_TAG_MODULE		 3u
#define MB2_TAG_BASIC_MEMINFO	 4u
#define MB2_TAG_BOOTDEV		 5u
#define MB2_TAG_MMAP		 6u
#define MB2_TAG_VBE		 7u
#define MB2_TAG_FRAMEBUFFER	 8u
#define MB2_TAG_ELF_SECTIONS	 9u
#define MB2_TAG_APM		 10u
#define MB2_TAG_EFI32		 11u
#define MB2_TAG_EFI64		 12u
#define MB2_TAG_SMBIOS		 13u
#define MB2_TAG_ACPI_OLD	 14u
#define MB2_TAG_ACPI_NEW	 15u
#define MB2_TAG_NETWORK		 16u
#define MB2_TAG_EFI_MMAP	 17u
#define MB2_TAG_EFI_BS		 18u
#define MB2_TAG_EFI32_IH	 19u
#define MB2_TAG_EFI64_IH	 20u
#define MB2_TAG_LOAD_BASE_ADDR	 21u

/* 3.6.2: every info tag starts like this; size includes these 8 bytes but not
 * the padding up to the next 8-byte boundary. */
struct mb2_tag {
	u32 type;
	u32 size;
} __packed;

/* 3.6.5, 3.6.9: command line and boot loader name: a NUL-terminated string. */
struct mb2_tag_string {
	u32 type;
	u32 size;
	char string[];
} __packed;

/* 3.6.6: one module [mod_start, mod_end) and its NUL-terminated string. */
struct mb2_tag_module {
	u32 type;
	u32 size;
	u32 mod_start;
	u32 mod_end;
	char cmdline[];
} __packed;

/* 3.6.3: KiB of memory below 640 KiB and from 1 MiB up to the first hole. */
struct mb2_tag_basic_meminfo {
	u32 type;
	u32 size; /* 16 */
	u32 mem_lower;
	u32 mem_upper;
} __packed;

/* 3.6.8: one memory map entry; entry_size in the tag may be larger (future
 * fields), so step by entry_size, never by sizeof. */
struct mb2_mmap_entry {
	u64 base_addr;
	u64 length;
	u32 type;
	u32 reserved;
} __packed;

/* 3.6.8: the memory map: (size - 16) / entry_size entries. */
struct mb2_tag_mmap {
	u32 type;
	u32 size;
	u32 entry_size;	   /* a multiple of 8, at least sizeof(struct mb2_mmap_entry) */
	u32 entry_version; /* 0 */
	struct mb2_mmap_entry entries[];
} __packed;

/* 3.6.8: memory types (the same values as Multiboot 1 and E820). */
#define MB2_MEMORY_AVAILABLE	    1u
#define MB2_MEMORY_RESERVED	    2u
#define MB2_MEMORY_ACPI_RECLAIMABLE 3u
#define MB2_MEMORY_NVS		    4u
#define MB2_MEMORY_BADRAM	    5u

_Static_assert(sizeof(struct mb1_header) == 48, "mb1_header layout");
_Static_assert(sizeof(struct mb1_info) == 116, "mb1_info layout");
_Static_assert(sizeof(struct mb1_module) == 16, "mb1_module layout");
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "mb1_mmap_entry layout");
_Static_assert(sizeof(struct mb2_header) == 16, "mb2_header layout");
_Static_assert(sizeof(struct mb2_tag) == 8, "mb2_tag layout");
_Static_assert(sizeof(struct mb2_tag_module) == 16, "mb2_tag_module layout");
_Static_assert(sizeof(struct mb2_tag_basic_meminfo) == 16, "mb2_tag_basic_meminfo layout");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mb2_tag_mmap layout");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mb2_mmap_entry layout");

#endif
