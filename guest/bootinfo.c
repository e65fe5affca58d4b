/* Multiboot 1 and 2 boot information, read defensively: every length is
 * checked against its container before it is used. Layouts:
 * include/dimvisor/multiboot.h (Multiboot 0.6.96 s3.3, Multiboot2 s3.6). */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>
#include "guest/bootinfo.h"
#include "lib/printf.h"
#include "lib/string.h"

#define PROTOCOL_MB1 "multiboot"
#define PROTOCOL_MB2 "multiboot2"

static const char *const region_type_names[] = {
	[MB1_MEMORY_AVAILABLE] = "available",
	[MB1_MEMORY_RESERVED] = "reserved",
	[MB1_MEMORY_ACPI_RECLAIMABLE] = "ACPI reclaimable",
	[MB1_MEMORY_NVS] = "ACPI NVS",
	[MB1_MEMORY_BADRAM] = "bad RAM",
};

/* Copy at most srcmax bytes of the string at src into dst (always
 * terminated), stopping at its NUL. */
static void copy_string(char *dst, size_t dstsize, const char *src, size_t srcmax)
{
	size_t n = strnlen(src, srcmax);

	if (n >= dstsize)
		n = dstsize - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int add_region(struct boot_info *bi, u64 base, u64 length, u32 type, char *err,
		      size_t errlen)
{
	if (length == 0)
		return 0;
	if (base + length < base) {
		ksnprintf(err, errlen, "memory map entry 0x%lx+0x%lx wraps around", base, length);
		return -DV_EINVAL;
	}
	if (bi->nregions == BOOT_REGIONS_MAX) {
		ksnprintf(err, errlen, "memory map has more than %u entries", BOOT_REGIONS_MAX);
		return -DV_EINVAL;
	}
	bi->regions[bi->nregions++] = (struct boot_region){base, length, type};
	return 0;
}

static int add_module(struct boot_info *bi, u64 start, u64 end, const char *cmdline,
		      size_t cmdline_max, char *err, size_t errlen)
{
	if (bi->nmodules == BOOT_MODULES_MAX) {
		ksnprintf(err, errlen, "more than %u boot modules", BOOT_MODULES_MAX);
		return -DV_EINVAL;
	}
	if (end < start) {
		ksnprintf(err, errlen, "module %u ends (0x%lx) before it starts (0x%lx)",
			  bi->nmodules, end, start);
		return -DV_EINVAL;
	}
	struct boot_module *m = &bi->modules[bi->nmodules++];

	m->start = start;
	m->end = end;
	copy_string(m->cmdline, sizeof(m->cmdline), cmdline ? cmdline : "", cmdline_max);
	return 0;
}

/* 3.3: mods_count entries of 16 bytes at mods_addr; a string address of 0
 * means no command line. */
static int mb1_modules(const struct mb1_info *mi, struct boot_info *bi, char *err, size_t errlen)
{
	const struct mb1_module *mod = (const struct mb1_module *)(u64)mi->mods_addr;
	int rc = 0;

	for (u32 i = 0; rc == 0 && i < mi->mods_count; i++)
		rc = add_module(bi, mod[i].mod_start, mod[i].mod_end,
				mod[i].string ? (const char *)(u64)mod[i].string : "",
				BOOT_MODULE_CMDLINE_MAX, err, errlen);
	return rc;
}

static int mb1_parse(u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	const struct mb1_info *mi = (const struct mb1_info *)info;
	int rc = 0;

	bi->protocol = PROTOCOL_MB1;
	bi->info_start = info;
	bi->info_end = info + sizeof(*mi);
	if (mi->flags & MB1_INFO_MODS)
		rc = mb1_modules(mi, bi, err, errlen);
	if (rc)
		return rc;
	if (mi->flags & MB1_INFO_CMDLINE)
		copy_string(bi->cmdline, sizeof(bi->cmdline), (const char *)(u64)mi->cmdline,
			    BOOT_CMDLINE_MAX);
	if (mi->flags & MB1_INFO_LOADER_NAME)
		copy_string(bi->loader, sizeof(bi->loader), (const char *)(u64)mi->boot_loader_name,
			    BOOT_LOADER_MAX);
	if (mi->flags & MB1_INFO_MEM_MAP) {
		u64 p = mi->mmap_addr, end = p + mi->mmap_length;

		/* 3.3: 'size' counts the bytes after itself; entries may be longer. */
		while (rc == 0 && p + sizeof(u32) <= end) {
			const struct mb1_mmap_entry *e = (const struct mb1_mmap_entry *)p;

			if (e->size < MB1_MMAP_ENTRY_MIN_SIZE || p + sizeof(u32) + e->size > end) {
				ksnprintf(err, errlen, "memory map entry at 0x%lx has size %u", p,
					  e->size);
				return -DV_EINVAL;
			}
			rc = add_region(bi, e->base_addr, e->length, e->type, err, errlen);
			p += sizeof(u32) + e->size;
		}
		return rc;
	}
	if (mi->flags & MB1_INFO_MEMORY) {
		bi->from_meminfo = true;
		rc = add_region(bi, 0, (u64)mi->mem_lower * KiB, BOOT_RAM_TYPE, err, errlen);
		if (rc == 0)
			rc = add_region(bi, 1 * MiB, (u64)mi->mem_upper * KiB, BOOT_RAM_TYPE, err,
					errlen);
		return rc;
	}
	ksnprintf(err, errlen, "the multiboot information has no memory map (flags 0x%x)",
		  mi->flags);
	return -DV_EINVAL;
}

static int mb2_mmap(const struct mb2_tag_mmap *t, struct boot_info *bi, char *err, size_t errlen)
{
	int rc = 0;

	if (t->size < sizeof(*t) || t->entry_size < sizeof(struct mb2_mmap_entry) ||
	    t->entry_size % 8) {
		ksnprintf(err, errlen, "memory map tag: size %u, entry size %u", t->size,
			  t->entry_size);
		return -DV_EINVAL;
	}
	/* 3.6.8: step by entry_size, which may grow in later versions. */
	for (u64 off = sizeof(*t); rc == 0 && off + t->entry_size <= t->size;
	     off += t->entry_size) {
		const struct mb2_mmap_entry *e = (const struct mb2_mmap_entry *)((u64)t + off);

		rc = add_region(bi, e->base_addr, e->length, e->type, err, errlen);
	}
	return rc;
}

static int mb2_parse(u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	const struct mb2_info *mi = (const struct mb2_info *)info;
	const struct mb2_tag_basic_meminfo *meminfo = NULL;
	bool have_map = false;
	int rc = 0;

	bi->protocol = PROTOCOL_MB2;
	if (mi->total_size < sizeof(*mi) + sizeof(struct mb2_tag)) {
		ksnprintf(err, errlen, "multiboot2 information is %u bytes long", mi->total_size);
		return -DV_EINVAL;
	}
	bi->info_start = info;
	bi->info_end = info + mi->total_size;
	for (u64 off = sizeof(*mi); rc == 0;) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(info + off);

		if (off + sizeof(*tag) > mi->total_size || tag->size < sizeof(*tag) ||
		    off + tag->size > mi->total_size) {
			ksnprintf(err, errlen,
				  "multiboot2 tag at offset %lu runs past the end (%u bytes)", off,
				  mi->total_size);
			return -DV_EINVAL;
		}
		const char *payload = (const char *)tag + sizeof(*tag);
		size_t payload_len = tag->size - sizeof(*tag);

		switch (tag->type) {
		case MB2_TAG_END:
			if (!have_map && meminfo) {
				bi->from_meminfo = true;
				rc = add_region(bi, 0, (u64)meminfo->mem_lower * KiB, BOOT_RAM_TYPE,
						err, errlen);
				if (rc == 0)
					rc = add_region(bi, 1 * MiB, (u64)meminfo->mem_upper * KiB,
							BOOT_RAM_TYPE, err, errlen);
			} else if (!have_map) {
				ksnprintf(err, errlen,
					  "the multiboot2 information has no memory map");
				rc = -DV_EINVAL;
			}
			return rc;
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, sizeof(bi->cmdline), payload, payload_len);
			break;
		case MB2_TAG_BOOT_LOADER_NAME:
			copy_string(bi->loader, sizeof(bi->loader), payload, payload_len);
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *mod = (const struct mb2_tag_module *)tag;

			if (tag->size < sizeof(*mod)) {
				ksnprintf(err, errlen, "module tag at offset %lu is %u bytes long",
					  off, tag->size);
				return -DV_EINVAL;
			}
			rc = add_module(bi, mod->mod_start, mod->mod_end, mod->cmdline,
					tag->size - sizeof(*mod), err, errlen);
			break;
		}
		case MB2_TAG_MMAP:
			have_map = true;
			rc = mb2_mmap((const struct mb2_tag_mmap *)tag, bi, err, errlen);
			break;
		case MB2_TAG_BASIC_MEMINFO:
			if (tag->size >= sizeof(*meminfo))
				meminfo = (const struct mb2_tag_basic_meminfo *)tag;
			break;
		default:
			break; /* tags we do not need */
		}
		off = ALIGN_UP(off + tag->size, MB2_TAG_ALIGN);
	}
	return rc;
}

static void sort_regions(struct boot_info *bi)
{
	for (unsigned i = 1; i < bi->nregions; i++) {
		struct boot_region r = bi->regions[i];
		unsigned j = i;

		for (; j > 0 && bi->regions[j - 1].base > r.base; j--)
			bi->regions[j] = bi->regions[j - 1];
		bi->regions[j] = r;
	}
}

/* Sum up RAM; two available regions that overlap make the map unusable. */
static int summarise_ram(struct boot_info *bi, char *err, size_t errlen)
{
	u64 prev_end = 0;

	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		if (r->type != BOOT_RAM_TYPE)
			continue;
		if (r->base < prev_end) {
			ksnprintf(err, errlen, "available regions overlap at 0x%lx", r->base);
			return -DV_EINVAL;
		}
		prev_end = r->base + r->length;
		bi->ram_bytes += r->length;
		bi->ram_top = prev_end;
	}
	if (bi->ram_bytes == 0) {
		ksnprintf(err, errlen, "the memory map has no available RAM");
		return -DV_EINVAL;
	}
	return 0;
}

int bootinfo_parse(u32 magic, u64 info, struct boot_info *bi, char *err, size_t errlen)
{
	int rc;

	memset(bi, 0, sizeof(*bi));
	if (magic == MB1_BOOT_MAGIC) {
		rc = mb1_parse(info, bi, err, errlen);
	} else if (magic == MB2_BOOT_MAGIC) {
		rc = mb2_parse(info, bi, err, errlen);
	} else {
		ksnprintf(err, errlen,
			  "not started by a multiboot loader: EAX 0x%x is neither 0x%x nor 0x%x",
			  magic, MB1_BOOT_MAGIC, MB2_BOOT_MAGIC);
		return -DV_EINVAL;
	}
	if (rc)
		return rc;
	sort_regions(bi);
	return summarise_ram(bi, err, errlen);
}

static const char *region_type_name(u32 type)
{
	if (type < ARRAY_SIZE(region_type_names) && region_type_names[type])
		return region_type_names[type];
	return "unknown type";
}

void bootinfo_print(const struct boot_info *bi)
{
	unsigned nram = 0;

	kprintf("guest: booted by %s via %s\n", bi->loader[0] ? bi->loader : "an unnamed loader",
		bi->protocol);
	kprintf("guest: command line \"%s\"\n", bi->cmdline);
	kprintf("guest: memory map: %u entries%s\n", bi->nregions,
		bi->from_meminfo ? " (from mem_lower/mem_upper: the loader gave no map)" : "");
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		kprintf("guest:   0x%016lx-0x%016lx %s (type %u), %lu KiB\n", r->base,
			r->base + r->length - 1, region_type_name(r->type), r->type,
			(u64)(r->length / KiB));
		nram += r->type == BOOT_RAM_TYPE;
	}
	kprintf("guest: RAM %lu MiB (%lu bytes) in %u regions, top 0x%lx\n",
		(u64)(bi->ram_bytes / MiB), bi->ram_bytes, nram, bi->ram_top);
	for (unsigned i = 0; i < bi->nmodules; i++)
		kprintf("guest: module %u at 0x%lx-0x%lx (%lu bytes) \"%s\"\n", i,
			bi->modules[i].start, bi->modules[i].end,
			bi->modules[i].end - bi->modules[i].start, bi->modules[i].cmdline);
}

u64 bootinfo_gap_start(const struct boot_info *bi)
{
	for (unsigned i = 0; i + 1 < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i], *next = &bi->regions[i + 1];
		u64 end = r->base + r->length;

		if (r->type == BOOT_RAM_TYPE && end < next->base && end < 4 * GiB)
			return end;
	}
	return 0;
}
