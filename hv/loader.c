#include "hv/loader.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/elf.h>
#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>

/* The largest multiboot information we build, with every command line at its
 * longest: Multiboot 1 (the fixed part, the map, the module list, strings) or
 * Multiboot 2 (a tag per item, with its header and padding). */
#define INFO_MB1_MAX                                                                               \
	(ALIGN_UP(sizeof(struct mb1_info), 8) +                                                    \
	 GUEST_MAX_RAM_RANGES * sizeof(struct mb1_mmap_entry) +                                    \
	 LOADER_MAX_MODULES * sizeof(struct mb1_module) + sizeof(LOADER_NAME) +                    \
	 (LOADER_MAX_MODULES + 1) * LOADER_MAX_CMDLINE)
#define INFO_TAG_MAX(body) ALIGN_UP(8 + (body), 8)
#define INFO_MB2_MAX                                                                               \
	(sizeof(struct mb2_info) + INFO_TAG_MAX(LOADER_MAX_CMDLINE) +                              \
	 INFO_TAG_MAX(sizeof(LOADER_NAME)) + INFO_TAG_MAX(8) +                                     \
	 INFO_TAG_MAX(8 + GUEST_MAX_RAM_RANGES * sizeof(struct mb2_mmap_entry)) +                  \
	 LOADER_MAX_MODULES * INFO_TAG_MAX(8 + LOADER_MAX_CMDLINE) + INFO_TAG_MAX(0))
#define INFO_MAX (INFO_MB1_MAX > INFO_MB2_MAX ? INFO_MB1_MAX : INFO_MB2_MAX)

struct load_ctx {
	const struct loader_target *t;
	const u8 *image;
	u64 len;
	char *err;
	size_t errlen;
	u64 lo, hi; /* guest-physical extent loaded so far */
};

static int fail(struct load_ctx *c, int rc, const char *fmt, ...) __printf_like(3, 4);
static int fail(struct load_ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static bool in_file(const struct load_ctx *c, u64 off, u64 size)
{
	return off <= c->len && size <= c->len - off;
}

static bool is_ram(const struct loader_target *t, u64 gpa, u64 len)
{
	return guest_ranges_contain(t->ram, t->nram, gpa, len);
}

/* Copy filesz bytes from the image and zero up to memsz at gpa. */
static int load_segment(struct load_ctx *c, u64 gpa, u64 off, u64 filesz, u64 memsz)
{
	if (memsz < filesz)
		return fail(c, -DV_EINVAL, "segment at 0x%lx: memsz 0x%lx < filesz 0x%lx", gpa,
			    memsz, filesz);
	if (!in_file(c, off, filesz))
		return fail(c, -DV_EINVAL,
			    "truncated image: segment data 0x%lx+0x%lx lies past the end of the "
			    "file (%lu bytes)",
			    off, filesz, c->len);
	if (memsz == 0)
		return 0;
	if (gpa + memsz < gpa || !is_ram(c->t, gpa, memsz))
		return fail(c, -DV_ERANGE,
			    "segment [0x%lx, 0x%lx) does not fit in guest RAM (use a larger mem=)",
			    gpa, gpa + memsz);
	if (c->t->write(c->t->ctx, gpa, c->image + off, filesz) < 0 ||
	    c->t->zero(c->t->ctx, gpa + filesz, memsz - filesz) < 0)
		return fail(c, -DV_ERANGE, "segment at 0x%lx: guest memory write failed", gpa);
	c->lo = MIN(c->lo, gpa);
	c->hi = MAX(c->hi, gpa + memsz);
	return 0;
}

/* Load the PT_LOAD segments of an ELF32 or ELF64 executable at their
 * physical addresses, as GRUB does. */
static int load_elf(struct load_ctx *c, u64 *entry)
{
	const struct elf_ident *id = (const void *)c->image;
	unsigned loaded = 0;

	if (!in_file(c, 0, sizeof(struct elf32_ehdr)) || id->magic != ELF_MAGIC)
		return fail(c, -DV_EINVAL,
			    "not an ELF file (bad magic) and no multiboot a.out addresses");
	if (id->data != ELFDATA2LSB || (id->class != ELFCLASS32 && id->class != ELFCLASS64))
		return fail(c, -DV_EINVAL, "unsupported ELF class %u / data encoding %u", id->class,
			    id->data);
	bool is64 = id->class == ELFCLASS64;
	if (is64 && !in_file(c, 0, sizeof(struct elf64_ehdr)))
		return fail(c, -DV_EINVAL, "truncated ELF64 header");

	const struct elf32_ehdr *h32 = (const void *)c->image;
	const struct elf64_ehdr *h64 = (const void *)c->image;
	u16 type = is64 ? h64->type : h32->type, machine = is64 ? h64->machine : h32->machine;
	u64 phoff = is64 ? h64->phoff : h32->phoff;
	u16 phnum = is64 ? h64->phnum : h32->phnum,
	    phentsize = is64 ? h64->phentsize : h32->phentsize;
	u16 want = is64 ? sizeof(struct elf64_phdr) : sizeof(struct elf32_phdr);

	if (type != ET_EXEC || (machine != EM_386 && machine != EM_X86_64))
		return fail(c, -DV_EINVAL, "ELF type %u machine %u: need an x86 executable", type,
			    machine);
	if (phentsize != want || phnum == 0 || phnum > 64 || !in_file(c, phoff, (u64)phnum * want))
		return fail(c, -DV_EINVAL, "corrupt ELF program headers (%u x %u bytes at 0x%lx)",
			    phnum, phentsize, phoff);
	for (unsigned i = 0; i < phnum; i++) {
		const u8 *ph = c->image + phoff + (u64)i * want;
		const struct elf32_phdr *p32 = (const void *)ph;
		const struct elf64_phdr *p64 = (const void *)ph;
		if ((is64 ? p64->type : p32->type) != PT_LOAD)
			continue;
		u64 memsz = is64 ? p64->memsz : p32->memsz;
		int rc = is64 ? load_segment(c, p64->paddr, p64->offset, p64->filesz, p64->memsz)
			      : load_segment(c, p32->paddr, p32->offset, p32->filesz, p32->memsz);
		if (rc < 0)
			return rc;
		if (memsz)
			loaded++;
	}
	if (!loaded)
		return fail(c, -DV_EINVAL, "ELF file has no loadable segment");
	*entry = is64 ? h64->entry : h32->entry;
	return 0;
}

/* The a.out kludge: the file from header_off - (header_addr - load_addr) is
 * loaded at load_addr. Multiboot 0.6.96 3.1.3. */
static int load_aout(struct load_ctx *c, u64 header_off, u32 header_addr, u32 load_addr,
		     u32 load_end_addr, u32 bss_end_addr)
{
	if (load_addr > header_addr)
		return fail(c, -DV_EINVAL,
			    "multiboot a.out addresses: header_addr 0x%x below load_addr 0x%x",
			    header_addr, load_addr);
	if (header_addr - load_addr > header_off)
		return fail(
			c, -DV_EINVAL,
			"multiboot a.out addresses: load_addr 0x%x would start 0x%lx bytes before "
			"the beginning of the file",
			load_addr, header_addr - load_addr - header_off);
	u64 file_off = header_off - (header_addr - load_addr);
	u64 filesz = load_end_addr ? (u64)load_end_addr - load_addr : c->len - file_off;
	u64 memsz = bss_end_addr ? (u64)bss_end_addr - load_addr : filesz;

	if (load_end_addr && load_end_addr < load_addr)
		return fail(c, -DV_EINVAL,
			    "multiboot a.out addresses: load_end_addr below load_addr");
	if (bss_end_addr && bss_end_addr < load_addr + filesz)
		return fail(c, -DV_EINVAL,
			    "multiboot a.out addresses: bss_end_addr below load_end_addr");
	if (memsz == 0)
		return fail(c, -DV_EINVAL,
			    "multiboot a.out addresses load nothing (load_end_addr = load_addr)");
	return load_segment(c, load_addr, file_off, filesz, memsz);
}

/* The first header with the magic whose checksummed words (size / 4 of them,
 * magic included) add up to 0, as GRUB looks for it; when there is none, the
 * first one with the magic, so its bad checksum is what gets reported. */
static bool find_header(const struct load_ctx *c, u32 magic, u64 search, u64 align, u64 size,
			u64 *off)
{
	bool seen = false;

	for (u64 o = 0; o + size <= MIN(c->len, search); o += align) {
		u32 w[4] = {0, 0, 0, 0}, sum = 0;
		memcpy(w, c->image + o, size);
		if (w[0] != magic)
			continue;
		for (unsigned i = 0; i < size / 4; i++)
			sum += w[i];
		if (sum == 0) {
			*off = o;
			return true;
		}
		if (!seen)
			*off = o;
		seen = true;
	}
	return seen;
}

static int load_multiboot1(struct load_ctx *c, u64 off, u64 *entry)
{
	struct mb1_header h;

	memset(&h, 0, sizeof(h));
	memcpy(&h, c->image + off, MIN(sizeof(h), c->len - off));
	if ((u32)(h.magic + h.flags + h.checksum) != 0)
		return fail(c, -DV_EINVAL, "multiboot header at offset 0x%lx has a bad checksum",
			    off);
	/* Bits 0-15 are requirements: refuse what we cannot honour. Spec 3.1.2. */
	u32 unknown = h.flags & 0xffff &
		      ~(MB1_HEADER_PAGE_ALIGN | MB1_HEADER_MEMORY_INFO | MB1_HEADER_VIDEO_MODE);
	if (unknown)
		return fail(c, -DV_ENOTSUP,
			    "multiboot header requires features 0x%x that dimvisor lacks", unknown);
	if (!(h.flags & MB1_HEADER_AOUT_KLUDGE))
		return load_elf(c, entry);
	if (!in_file(c, off, 32))
		return fail(c, -DV_EINVAL, "truncated multiboot header at offset 0x%lx", off);
	*entry = h.entry_addr;
	return load_aout(c, off, h.header_addr, h.load_addr, h.load_end_addr, h.bss_end_addr);
}

/* A required information request may name only what dimvisor provides:
 * command line, modules, boot loader name, basic meminfo, memory map. Spec
 * 3.1.4. */
static int check_info_request(struct load_ctx *c, u64 t, u32 size)
{
	static const u32 provided[] = {MB2_TAG_CMDLINE, MB2_TAG_MODULE, MB2_TAG_BOOT_LOADER_NAME,
				       MB2_TAG_BASIC_MEMINFO, MB2_TAG_MMAP};

	for (u64 o = 8; o + 4 <= size; o += 4) {
		u32 type;
		bool ok = false;
		memcpy(&type, c->image + t + o, 4);
		for (unsigned i = 0; i < ARRAY_SIZE(provided); i++)
			ok |= type == provided[i];
		if (!ok)
			return fail(c, -DV_ENOTSUP,
				    "multiboot2 header requires information tag type %u, which "
				    "dimvisor "
				    "does not provide",
				    type);
	}
	return 0;
}

/* Walk the Multiboot 2 header tags: address and entry tags override the ELF;
 * a required tag dimvisor cannot honour is an error. Spec 3.1.3-3.1.12. */
static int load_multiboot2(struct load_ctx *c, u64 off, u64 *entry)
{
	struct mb2_header h;
	bool have_addr = false, have_entry = false;
	int rc;
	u32 addr[4] = {0}, entry_addr = 0;

	memcpy(&h, c->image + off, sizeof(h));
	if ((u32)(h.magic + h.architecture + h.header_length + h.checksum) != 0)
		return fail(c, -DV_EINVAL, "multiboot2 header at offset 0x%lx has a bad checksum",
			    off);
	if (h.architecture != MB2_ARCH_I386)
		return fail(c, -DV_ENOTSUP,
			    "multiboot2 header asks for architecture %u (need 0, i386)",
			    h.architecture);
	if (h.header_length < sizeof(h) + 8 || !in_file(c, off, h.header_length))
		return fail(c, -DV_EINVAL, "multiboot2 header length %u is inconsistent",
			    h.header_length);
	for (u64 t = off + sizeof(h); t + 8 <= off + h.header_length;) {
		struct mb2_header_tag tag;
		memcpy(&tag, c->image + t, sizeof(tag));
		if (tag.type == MB2_HEADER_TAG_END)
			break;
		if (tag.size < 8 || t + tag.size > off + h.header_length)
			return fail(c, -DV_EINVAL, "multiboot2 header tag %u has a bad size %u",
				    tag.type, tag.size);
		bool optional = tag.flags & MB2_HEADER_TAG_OPTIONAL;
		if (tag.type == MB2_HEADER_TAG_INFORMATION_REQUEST && !optional &&
		    (rc = check_info_request(c, t, tag.size)) < 0)
			return rc;
		if (tag.type == MB2_HEADER_TAG_ADDRESS && tag.size >= 24) {
			memcpy(addr, c->image + t + 8, sizeof(addr));
			have_addr = true;
		} else if (tag.type == MB2_HEADER_TAG_ENTRY_ADDRESS && tag.size >= 12) {
			memcpy(&entry_addr, c->image + t + 8, 4);
			have_entry = true;
		} else if (tag.type != MB2_HEADER_TAG_INFORMATION_REQUEST &&
			   tag.type != MB2_HEADER_TAG_MODULE_ALIGN &&
			   tag.type != MB2_HEADER_TAG_CONSOLE_FLAGS && !optional) {
			return fail(c, -DV_ENOTSUP,
				    "multiboot2 header requires tag type %u, which dimvisor does "
				    "not provide",
				    tag.type);
		}
		t += ALIGN_UP(tag.size, MB2_TAG_ALIGN);
	}
	/* GRUB refuses the same: without ELF headers nothing says where to start. */
	if (have_addr && !have_entry)
		return fail(c, -DV_EINVAL, "multiboot2 address tag without an entry-address tag");
	rc = have_addr ? load_aout(c, off, addr[0], addr[1], addr[2], addr[3]) : load_elf(c, entry);
	if (rc == 0 && have_entry)
		*entry = entry_addr;
	return rc;
}

/* --- the multiboot information for the guest ---------------------------------- */

static u32 mem_lower_kib(const struct loader_target *t)
{
	return (u32)(MIN(t->ram[0].len, 640 * KiB) >> 10);
}

static u32 mem_upper_kib(const struct loader_target *t)
{
	return t->ram[0].len > MiB ? (u32)(MIN(t->ram[0].len - MiB, 0xffffffffULL * KiB) >> 10) : 0;
}

/* What the information lists about the modules: each one's bytes and
 * command line, and where it was copied (0 while only its size is wanted). */
struct info_modules {
	const struct loader_module *mods;
	const u64 *gpa;
	unsigned n;
};

static u64 build_mb1_info(const struct loader_target *t, u8 *buf, u64 gpa, const char *cmdline,
			  const struct info_modules *m)
{
	struct mb1_info *info = (struct mb1_info *)buf;
	u64 pos = ALIGN_UP(sizeof(*info), 8);
	struct mb1_mmap_entry *e = (struct mb1_mmap_entry *)(buf + pos);

	info->flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MEM_MAP | MB1_INFO_LOADER_NAME;
	info->mem_lower = mem_lower_kib(t);
	info->mem_upper = mem_upper_kib(t);
	for (unsigned i = 0; i < t->nram; i++)
		e[i] = (struct mb1_mmap_entry){.size = 20,
					       .base_addr = t->ram[i].gpa,
					       .length = t->ram[i].len,
					       .type = MB1_MEMORY_AVAILABLE};
	info->mmap_addr = (u32)(gpa + pos);
	info->mmap_length = t->nram * sizeof(*e);
	pos += info->mmap_length;
	if (m->n) {
		struct mb1_module *mod = (struct mb1_module *)(buf + pos);

		info->flags |= MB1_INFO_MODS;
		info->mods_count = m->n;
		info->mods_addr = (u32)(gpa + pos);
		pos += m->n * sizeof(*mod);
		for (unsigned i = 0; i < m->n; i++) {
			mod[i] = (struct mb1_module){.mod_start = (u32)m->gpa[i],
						     .mod_end = (u32)(m->gpa[i] + m->mods[i].len),
						     .string = (u32)(gpa + pos)};
			pos += strlcpy((char *)buf + pos, m->mods[i].cmdline, INFO_MAX - pos) + 1;
		}
	}
	info->boot_loader_name = (u32)(gpa + pos);
	pos += strlcpy((char *)buf + pos, LOADER_NAME, INFO_MAX - pos) + 1;
	info->cmdline = (u32)(gpa + pos);
	pos += strlcpy((char *)buf + pos, cmdline, INFO_MAX - pos) + 1;
	return pos;
}

static u64 mb2_put_tag(u8 *buf, u64 pos, u32 type, const void *body, u32 len)
{
	struct mb2_tag_string *tag = (struct mb2_tag_string *)(buf + pos);

	tag->type = type;
	tag->size = 8 + len;
	if (len)
		memcpy(buf + pos + 8, body, len);
	return ALIGN_UP(pos + 8 + len, MB2_INFO_ALIGN);
}

/* Multiboot2 3.6.6: mod_start, mod_end, then the command line. */
static u64 mb2_put_module_tag(u8 *buf, u64 pos, u64 gpa, const struct loader_module *mod)
{
	struct mb2_tag_module *tag = (struct mb2_tag_module *)(buf + pos);
	u32 len = (u32)strlen(mod->cmdline) + 1;

	tag->type = MB2_TAG_MODULE;
	tag->size = sizeof(*tag) + len;
	tag->mod_start = (u32)gpa;
	tag->mod_end = (u32)(gpa + mod->len);
	memcpy(tag->cmdline, mod->cmdline, len);
	return ALIGN_UP(pos + tag->size, MB2_INFO_ALIGN);
}

static u64 build_mb2_info(const struct loader_target *t, u8 *buf, const char *cmdline,
			  const struct info_modules *m)
{
	u64 pos = sizeof(struct mb2_info);
	u32 meminfo[2] = {mem_lower_kib(t), mem_upper_kib(t)};
	u8 mmap[8 + GUEST_MAX_RAM_RANGES * sizeof(struct mb2_mmap_entry)];
	u32 hdr[2] = {sizeof(struct mb2_mmap_entry), 0};

	pos = mb2_put_tag(buf, pos, MB2_TAG_CMDLINE, cmdline, strlen(cmdline) + 1);
	pos = mb2_put_tag(buf, pos, MB2_TAG_BOOT_LOADER_NAME, LOADER_NAME, sizeof(LOADER_NAME));
	pos = mb2_put_tag(buf, pos, MB2_TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
	memcpy(mmap, hdr, sizeof(hdr));
	for (unsigned i = 0; i < t->nram; i++) {
		struct mb2_mmap_entry e = {.base_addr = t->ram[i].gpa,
					   .length = t->ram[i].len,
					   .type = MB2_MEMORY_AVAILABLE,
					   .reserved = 0};
		memcpy(mmap + 8 + i * sizeof(e), &e, sizeof(e));
	}
	pos = mb2_put_tag(buf, pos, MB2_TAG_MMAP, mmap,
			  8 + t->nram * sizeof(struct mb2_mmap_entry));
	for (unsigned i = 0; i < m->n; i++)
		pos = mb2_put_module_tag(buf, pos, m->gpa[i], &m->mods[i]);
	pos = mb2_put_tag(buf, pos, MB2_TAG_END, NULL, 0);
	((struct mb2_info *)buf)->total_size = (u32)pos;
	((struct mb2_info *)buf)->reserved = 0;
	return pos;
}

static u64 build_info(const struct load_ctx *c, const struct guest_boot *b, u8 *buf, u64 gpa,
		      const char *cmdline, const struct info_modules *m)
{
	memset(buf, 0, INFO_MAX);
	if (b->kind == BOOT_MULTIBOOT2)
		return build_mb2_info(c->t, buf, cmdline, m);
	return build_mb1_info(c->t, buf, gpa, cmdline, m);
}

/* The first page-aligned gPA at or above from where len bytes fit in one
 * RAM range below 4 GiB (Multiboot module addresses are 32-bit), or ~0. */
static u64 find_module_room(const struct loader_target *t, u64 from, u64 len)
{
	for (unsigned i = 0; i < t->nram; i++) {
		const struct guest_range *r = &t->ram[i];
		u64 at = ALIGN_UP(MAX(from, r->gpa), PAGE_SIZE);
		u64 end = MIN(r->gpa + r->len, 4 * GiB);

		if (at <= end && len <= end - at)
			return at;
	}
	return ~0ULL;
}

/* Copy the modules in order, each on a page boundary after the previous one. */
static int place_modules(struct load_ctx *c, struct guest_boot *b, const struct loader_module *mods,
			 unsigned n, u64 from)
{
	for (unsigned i = 0; i < n; i++) {
		u64 at = find_module_room(c->t, from, mods[i].len);

		if (at == ~0ULL)
			return fail(
				c, -DV_ERANGE,
				"guest module %u (\"%s\", %lu KiB) does not fit in guest RAM below "
				"4 GiB after 0x%lx (use a larger mem=)",
				i, mods[i].cmdline, (u64)(ALIGN_UP(mods[i].len, KiB) >> 10), from);
		if (c->t->write(c->t->ctx, at, mods[i].data, mods[i].len) < 0)
			return fail(c, -DV_ERANGE, "guest module %u: guest memory write failed", i);
		b->module_gpa[i] = at;
		from = ALIGN_UP(at + mods[i].len, PAGE_SIZE);
	}
	b->free_gpa = from;
	return 0;
}

/* Place the information on the first page after the image, as GRUB does, and
 * the modules after it. Its size does not depend on where the modules land:
 * it is built once for its size, then again with their addresses. */
static int write_info_and_modules(struct load_ctx *c, struct guest_boot *b, const char *cmdline,
				  const struct loader_module *mods, unsigned n)
{
	static u8 buf[INFO_MAX];
	u64 gpa = ALIGN_UP(c->hi, PAGE_SIZE), len;
	struct info_modules m = {.mods = mods, .gpa = b->module_gpa, .n = n};
	int rc;

	len = build_info(c, b, buf, gpa, cmdline, &m);
	if (gpa + len > 4 * GiB || !is_ram(c->t, gpa, len))
		return fail(c, -DV_ERANGE,
			    "no guest RAM after the image (ends at 0x%lx) for the multiboot "
			    "information (use a larger mem=)",
			    c->hi);
	rc = place_modules(c, b, mods, n, ALIGN_UP(gpa + len, PAGE_SIZE));
	if (rc < 0)
		return rc;
	build_info(c, b, buf, gpa, cmdline, &m);
	if (c->t->write(c->t->ctx, gpa, buf, len) < 0)
		return fail(c, -DV_ERANGE, "writing the multiboot information failed");
	b->info_gpa = gpa;
	b->info_len = len;
	return 0;
}

/* A module list the information can hold: at most LOADER_MAX_MODULES, each
 * with bytes and a command line within bounds. */
static int check_modules(struct load_ctx *c, const struct loader_module *mods, unsigned n)
{
	if (n > LOADER_MAX_MODULES || (n && !mods))
		return fail(c, -DV_EINVAL, "%u modules for the guest (at most %d)", n,
			    LOADER_MAX_MODULES);
	for (unsigned i = 0; i < n; i++) {
		if (!mods[i].cmdline || strlen(mods[i].cmdline) >= LOADER_MAX_CMDLINE)
			return fail(c, -DV_EINVAL,
				    "guest module %u: no command line, or one longer than %d bytes",
				    i, LOADER_MAX_CMDLINE - 1);
		if (!mods[i].data && mods[i].len)
			return fail(c, -DV_EINVAL, "guest module %u has no bytes", i);
	}
	return 0;
}

int loader_load(const struct loader_target *t, const u8 *image, u64 len, const char *cmdline,
		const struct loader_module *mods, unsigned nmods, struct guest_boot *b, char *err,
		size_t errlen)
{
	struct load_ctx c = {.t = t,
			     .image = image,
			     .len = len,
			     .err = err,
			     .errlen = errlen,
			     .lo = ~0ULL,
			     .hi = 0};
	u64 off, entry = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	if (t->nram == 0 || t->nram > GUEST_MAX_RAM_RANGES)
		return fail(&c, -DV_EINVAL, "guest memory has %u RAM ranges (1 to %u supported)",
			    t->nram, GUEST_MAX_RAM_RANGES);
	if (!image || len == 0)
		return fail(&c, -DV_EINVAL, "the guest image is empty");
	if (!cmdline)
		cmdline = "";
	if (strlen(cmdline) >= LOADER_MAX_CMDLINE)
		return fail(&c, -DV_EINVAL, "guest command line longer than %d bytes",
			    LOADER_MAX_CMDLINE - 1);
	rc = check_modules(&c, mods, nmods);
	if (rc < 0)
		return rc;
	if (find_header(&c, MB2_HEADER_MAGIC, MB2_HEADER_SEARCH, MB2_HEADER_ALIGN,
			sizeof(struct mb2_header), &off)) {
		b->kind = BOOT_MULTIBOOT2;
		b->magic = MB2_BOOT_MAGIC;
		rc = load_multiboot2(&c, off, &entry);
	} else if (find_header(&c, MB1_HEADER_MAGIC, MB1_HEADER_SEARCH, MB1_HEADER_ALIGN, 12,
			       &off)) {
		b->kind = BOOT_MULTIBOOT1;
		b->magic = MB1_BOOT_MAGIC;
		rc = load_multiboot1(&c, off, &entry);
	} else {
		const struct elf_ident *id = (const void *)image;
		if (len < sizeof(*id) || id->magic != ELF_MAGIC || id->class != ELFCLASS64)
			return fail(&c, -DV_EINVAL,
				    "not a guest kernel: no multiboot header in the first 32 KiB "
				    "and not an ELF64 executable");
		b->kind = BOOT_ELF64;
		rc = load_elf(&c, &entry);
	}
	if (rc < 0)
		return rc;
	if (b->kind != BOOT_ELF64 && (entry >= 4 * GiB || !is_ram(t, entry, 1)))
		return fail(&c, -DV_EINVAL, "entry point 0x%lx is not in guest RAM below 4 GiB",
			    entry);
	/* ELF64 guests start on an identity map of guest RAM. */
	if (b->kind == BOOT_ELF64 && !is_ram(t, entry, 1))
		return fail(&c, -DV_EINVAL,
			    "entry point 0x%lx is not in guest RAM (an ELF64 guest starts on an "
			    "identity map: link it at its physical address)",
			    entry);
	b->entry = entry;
	b->load_lo = c.lo;
	b->load_hi = c.hi;
	if (b->kind == BOOT_ELF64 && nmods)
		return fail(&c, -DV_ENOTSUP,
			    "a plain ELF64 guest gets no multiboot information, so it cannot be "
			    "given modules (%u given)",
			    nmods);
	if (b->kind == BOOT_ELF64) {
		b->free_gpa = ALIGN_UP(c.hi, PAGE_SIZE);
		return 0;
	}
	return write_info_and_modules(&c, b, cmdline, mods, nmods);
}

const char *loader_kind_name(enum guest_boot_kind kind)
{
	switch (kind) {
	case BOOT_MULTIBOOT1:
		return "multiboot";
	case BOOT_MULTIBOOT2:
		return "multiboot2";
	case BOOT_ELF64:
		return "ELF64";
	}
	return "?";
}
