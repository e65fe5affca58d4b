/* Multiboot 1 and Multiboot 2 boot information parser.
 *
 * Every byte comes through the caller's phys_reader and every length or
 * address found in the structure is checked against what the reader granted
 * before use, so a broken or hostile structure yields an error message, never
 * an out-of-bounds read or an endless loop. Fields are read byte by byte
 * (little-endian), so no alignment is assumed of the reader's pointers.
 *
 * Self-contained on purpose (no lib/ dependency): it runs before anything else
 * in hv/main.c, and it is tested hosted. */
#include "hv/multiboot.h"

#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>
#include <stdarg.h>

#define FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* ---------------------------------------------------------------------------
 * Error messages: a minimal formatter for %s %u %x %lu %lx %%.
 * ------------------------------------------------------------------------- */

struct msgbuf {
	char *buf;
	size_t len, pos;
};

static void msg_putc(struct msgbuf *m, char c)
{
	if (m->pos + 1 < m->len) {
		m->buf[m->pos++] = c;
		m->buf[m->pos] = '\0';
	}
}

static void msg_puts(struct msgbuf *m, const char *s)
{
	for (size_t i = 0; s && s[i] && i < BOOT_MAX_STRING; i++)
		msg_putc(m, s[i]);
}

static void msg_putnum(struct msgbuf *m, u64 v, unsigned base)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n > 0)
		msg_putc(m, digits[--n]);
}

static void msg_vformat(struct msgbuf *m, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool is_long = false;
		u64 v;

		if (*fmt != '%') {
			msg_putc(m, *fmt);
			continue;
		}
		if (*++fmt == 'l') {
			is_long = true;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			msg_puts(m, va_arg(ap, const char *));
			break;
		case 'u':
		case 'x':
			v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			msg_putnum(m, v, *fmt == 'x' ? 16 : 10);
			break;
		case '%':
			msg_putc(m, '%');
			break;
		default: /* unsupported conversion or a trailing '%' */
			return;
		}
	}
}

static __printf_like(3, 4) void msg_format(char *buf, size_t len, const char *fmt, ...)
{
	struct msgbuf m = {.buf = buf, .len = len, .pos = 0};
	va_list ap;

	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	va_start(ap, fmt);
	msg_vformat(&m, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------------------
 * Parser state and helpers shared by both protocols.
 * ------------------------------------------------------------------------- */

struct parser {
	phys_reader read;
	void *ctx;
	struct boot_info *out;
	char *err;
	size_t errlen;
	bool have_meminfo;
	u32 mem_lower, mem_upper; /* KiB, valid with have_meminfo */
	u32 mb2_seen;		  /* bit t: a Multiboot 2 tag of type t (< 32) was seen */
};

/* Format the message into the caller's err and return -DV_EINVAL. */
static __printf_like(2, 3) int fail(struct parser *p, const char *fmt, ...)
{
	struct msgbuf m = {.buf = p->err, .len = p->errlen, .pos = 0};
	va_list ap;

	if (!p->err || p->errlen == 0)
		return -DV_EINVAL;
	p->err[0] = '\0';
	va_start(ap, fmt);
	msg_vformat(&m, fmt, ap);
	va_end(ap);
	return -DV_EINVAL;
}

static u32 ld32(const u8 *b)
{
	return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
}

static u64 ld64(const u8 *b)
{
	return (u64)ld32(b) | (u64)ld32(b + 4) << 32;
}

static const u8 *read_phys(struct parser *p, u64 phys, u64 len)
{
	return p->read(p->ctx, phys, len);
}

/* Length of the NUL-terminated string in s[0..avail), or -1 when there is no
 * NUL within avail (capped at BOOT_MAX_STRING) bytes. */
static s64 bounded_strlen(const u8 *s, u64 avail)
{
	for (u64 i = 0; i < avail && i < BOOT_MAX_STRING; i++)
		if (s[i] == '\0')
			return (s64)i;
	return -1;
}

/* Point *str at the NUL-terminated string at phys. Tries one BOOT_MAX_STRING
 * read, then byte by byte, so a string ending just before unreadable memory is
 * still accepted. */
static int read_phys_string(struct parser *p, const char *what, u64 phys, const char **str)
{
	const u8 *s = read_phys(p, phys, BOOT_MAX_STRING);
	u64 i;

	if (s) {
		if (bounded_strlen(s, BOOT_MAX_STRING) < 0)
			goto unterminated;
		*str = (const char *)s;
		return 0;
	}
	for (i = 0; i < BOOT_MAX_STRING; i++) {
		const u8 *c = read_phys(p, phys + i, 1);

		if (!c)
			return fail(p,
				    "multiboot: %s at 0x%lx runs into unreadable memory at 0x%lx",
				    what, phys, phys + i);
		if (*c == '\0')
			break;
	}
	if (i == BOOT_MAX_STRING)
		goto unterminated;
	s = read_phys(p, phys, i + 1);
	if (!s)
		return fail(p, "multiboot: %s at 0x%lx (%lu bytes) is not readable as a whole",
			    what, phys, i + 1);
	*str = (const char *)s;
	return 0;
unterminated:
	return fail(p, "multiboot: %s at 0x%lx is not NUL-terminated within %u bytes", what, phys,
		    BOOT_MAX_STRING);
}

static int add_mmap(struct parser *p, u64 base, u64 len, u32 type)
{
	struct boot_info *out = p->out;

	if (out->nmmap >= BOOT_MAX_MMAP)
		return fail(p, "multiboot: too many memory map entries (more than %u)",
			    BOOT_MAX_MMAP);
	out->mmap[out->nmmap++] = (struct boot_mmap_entry){.base = base, .len = len, .type = type};
	return 0;
}

/* A module [start, end); end == start is an empty module, end < start an error. */
static int add_module(struct parser *p, u64 start, u64 end, const char *cmdline)
{
	struct boot_info *out = p->out;

	if (out->nmodules >= BOOT_MAX_MODULES)
		return fail(p, "multiboot: too many modules (%u, at most %u)", out->nmodules + 1,
			    BOOT_MAX_MODULES);
	if (end < start)
		return fail(p, "multiboot: module %u ends (0x%lx) before it starts (0x%lx)",
			    out->nmodules, end, start);
	out->modules[out->nmodules++] =
		(struct boot_module){.start = start, .end = end, .cmdline = cmdline};
	return 0;
}

/* Without a memory map, describe what basic meminfo says: 0..mem_lower KiB and
 * 1 MiB..1 MiB + mem_upper KiB available (both specifications, "mem_lower"). */
static int synthesise_mmap(struct parser *p)
{
	int rc;

	if (!p->have_meminfo)
		return fail(p, "multiboot: no memory map (neither mmap nor basic meminfo)");
	rc = add_mmap(p, 0, (u64)p->mem_lower * KiB, BOOT_MEM_AVAILABLE);
	if (rc == 0)
		rc = add_mmap(p, 1 * MiB, (u64)p->mem_upper * KiB, BOOT_MEM_AVAILABLE);
	p->out->mmap_from_meminfo = true;
	return rc;
}

/* ---------------------------------------------------------------------------
 * Multiboot 1 (spec 0.6.96, 3.3): a fixed structure whose flags say which
 * fields are valid; strings, modules and the memory map lie elsewhere.
 * ------------------------------------------------------------------------- */

#define MB1_FIELD(f) (info + offsetof(struct mb1_info, f))

/* A string address of 0 means "none": address 0 holds the real-mode
 * interrupt vector table, never a string. */
static int mb1_string(struct parser *p, const char *what, u32 addr, const char **str)
{
	if (addr == 0)
		return 0;
	return read_phys_string(p, what, addr, str);
}

static int mb1_meminfo(struct parser *p, const u8 *info)
{
	p->have_meminfo = true;
	p->mem_lower = ld32(MB1_FIELD(mem_lower));
	p->mem_upper = ld32(MB1_FIELD(mem_upper));
	return 0;
}

static int mb1_cmdline(struct parser *p, const u8 *info)
{
	return mb1_string(p, "command line", ld32(MB1_FIELD(cmdline)), &p->out->cmdline);
}

static int mb1_loader_name(struct parser *p, const u8 *info)
{
	return mb1_string(p, "boot loader name", ld32(MB1_FIELD(boot_loader_name)),
			  &p->out->loader_name);
}

static int mb1_mods(struct parser *p, const u8 *info)
{
	u32 count = ld32(MB1_FIELD(mods_count));
	u32 addr = ld32(MB1_FIELD(mods_addr));
	const u8 *list;

	if (count == 0)
		return 0;
	if (count > BOOT_MAX_MODULES)
		return fail(p, "multiboot1: too many modules (%u, at most %u)", count,
			    BOOT_MAX_MODULES);
	list = read_phys(p, addr, (u64)count * sizeof(struct mb1_module));
	if (!list)
		return fail(p, "multiboot1: module list at 0x%x (%u entries) is not readable", addr,
			    count);
	for (u32 i = 0; i < count; i++) {
		const u8 *mod = list + i * sizeof(struct mb1_module);
		const char *cmdline = "";
		char what[32];
		int rc;

		msg_format(what, sizeof(what), "module %u command line", i);
		rc = mb1_string(p, what, ld32(mod + offsetof(struct mb1_module, string)), &cmdline);
		if (rc == 0)
			rc = add_module(p, ld32(mod + offsetof(struct mb1_module, mod_start)),
					ld32(mod + offsetof(struct mb1_module, mod_end)), cmdline);
		if (rc)
			return rc;
	}
	return 0;
}

/* Entries are variable-size: each starts with its 'size' (not counting the
 * size field itself), at least 20. An empty map counts as absent. */
static int mb1_mmap(struct parser *p, const u8 *info)
{
	u32 length = ld32(MB1_FIELD(mmap_length));
	u32 addr = ld32(MB1_FIELD(mmap_addr));
	const u8 *map;

	if (length == 0)
		return 0;
	map = read_phys(p, addr, length);
	if (!map)
		return fail(p, "multiboot1: memory map at 0x%x (0x%x bytes) is not readable", addr,
			    length);
	for (u64 off = 0; off < length;) {
		const u8 *e = map + off;
		u32 size;
		int rc;

		if (length - off < sizeof(u32))
			return fail(p,
				    "multiboot1: mmap_length 0x%x is not a whole number of entries",
				    length);
		size = ld32(e);
		if (size < MB1_MMAP_ENTRY_MIN_SIZE)
			return fail(
				p,
				"multiboot1: mmap entry at offset 0x%lx has size %u (minimum %u)",
				off, size, MB1_MMAP_ENTRY_MIN_SIZE);
		if ((u64)size > length - off - sizeof(u32))
			return fail(p,
				    "multiboot1: mmap_length 0x%x is not a whole number of entries",
				    length);
		rc = add_mmap(p, ld64(e + offsetof(struct mb1_mmap_entry, base_addr)),
			      ld64(e + offsetof(struct mb1_mmap_entry, length)),
			      ld32(e + offsetof(struct mb1_mmap_entry, type)));
		if (rc)
			return rc;
		off += sizeof(u32) + size;
	}
	return 0;
}

/* The flags bits we honour, the part of the fixed structure each needs, and
 * its handler; the order is the order of parsing. */
static const struct mb1_field {
	u32 flag;
	u32 end;
	int (*parse)(struct parser *p, const u8 *info);
} mb1_fields[] = {
	{MB1_INFO_MEMORY, FIELD_END(struct mb1_info, mem_upper), mb1_meminfo},
	{MB1_INFO_CMDLINE, FIELD_END(struct mb1_info, cmdline), mb1_cmdline},
	{MB1_INFO_LOADER_NAME, FIELD_END(struct mb1_info, boot_loader_name), mb1_loader_name},
	{MB1_INFO_MODS, FIELD_END(struct mb1_info, mods_addr), mb1_mods},
	{MB1_INFO_MEM_MAP, FIELD_END(struct mb1_info, mmap_addr), mb1_mmap},
};

static int mb1_parse(struct parser *p, u64 phys)
{
	const u8 *info = read_phys(p, phys, sizeof(u32));
	u32 flags, need = sizeof(u32);

	if (!info)
		return fail(p, "multiboot1: info at 0x%lx is not readable", phys);
	flags = ld32(info);
	for (size_t i = 0; i < ARRAY_SIZE(mb1_fields); i++)
		if (flags & mb1_fields[i].flag)
			need = MAX(need, mb1_fields[i].end);
	info = read_phys(p, phys, need);
	if (!info)
		return fail(p,
			    "multiboot1: info at 0x%lx (%u bytes for flags 0x%x) is not readable",
			    phys, need, flags);
	p->out->info_phys = phys;
	p->out->info_len = need;
	for (size_t i = 0; i < ARRAY_SIZE(mb1_fields); i++) {
		if (flags & mb1_fields[i].flag) {
			int rc = mb1_fields[i].parse(p, info);

			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Multiboot 2 (spec 2.0, 3.6): one structure of 8-byte aligned tags, read in
 * one piece; every tag lies within total_size.
 * ------------------------------------------------------------------------- */

struct mb2_tagview {
	const u8 *b; /* the tag's bytes, size of them readable */
	u32 type, size;
	u32 off;  /* offset in the info structure */
	u64 phys; /* physical address of the tag */
};

/* A string that starts at offset 'at' of the tag and must end inside it. */
static int mb2_string(struct parser *p, const struct mb2_tagview *t, u32 at, const char *what,
		      const char **str)
{
	if (bounded_strlen(t->b + at, t->size - at) < 0)
		return fail(p, "multiboot: %s at 0x%lx is not NUL-terminated within %u bytes", what,
			    t->phys + at, (unsigned)MIN(t->size - at, (u32)BOOT_MAX_STRING));
	*str = (const char *)(t->b + at);
	return 0;
}

static int mb2_cmdline(struct parser *p, const struct mb2_tagview *t)
{
	return mb2_string(p, t, sizeof(struct mb2_tag), "command line", &p->out->cmdline);
}

static int mb2_loader_name(struct parser *p, const struct mb2_tagview *t)
{
	return mb2_string(p, t, sizeof(struct mb2_tag), "boot loader name", &p->out->loader_name);
}

static int mb2_module(struct parser *p, const struct mb2_tagview *t)
{
	const char *cmdline;
	char what[32];
	int rc;

	msg_format(what, sizeof(what), "module %u command line", p->out->nmodules);
	rc = mb2_string(p, t, offsetof(struct mb2_tag_module, cmdline), what, &cmdline);
	if (rc)
		return rc;
	return add_module(p, ld32(t->b + offsetof(struct mb2_tag_module, mod_start)),
			  ld32(t->b + offsetof(struct mb2_tag_module, mod_end)), cmdline);
}

static int mb2_meminfo(struct parser *p, const struct mb2_tagview *t)
{
	p->have_meminfo = true;
	p->mem_lower = ld32(t->b + offsetof(struct mb2_tag_basic_meminfo, mem_lower));
	p->mem_upper = ld32(t->b + offsetof(struct mb2_tag_basic_meminfo, mem_upper));
	return 0;
}

/* entry_size may exceed the 24 bytes we know (future fields): step by it. */
static int mb2_mmap(struct parser *p, const struct mb2_tagview *t)
{
	u32 entry_size = ld32(t->b + offsetof(struct mb2_tag_mmap, entry_size));
	u32 bytes = t->size - (u32)sizeof(struct mb2_tag_mmap);

	if (entry_size < sizeof(struct mb2_mmap_entry) || entry_size % 8 != 0)
		return fail(p,
			    "multiboot2: mmap tag at offset 0x%x has entry_size %u (must be a "
			    "multiple of 8, at least %u)",
			    t->off, entry_size, (unsigned)sizeof(struct mb2_mmap_entry));
	if (bytes % entry_size != 0)
		return fail(p,
			    "multiboot2: mmap tag at offset 0x%x holds %u bytes of entries, not a "
			    "whole number of %u-byte entries",
			    t->off, bytes, entry_size);
	for (u32 off = sizeof(struct mb2_tag_mmap); off < t->size; off += entry_size) {
		const u8 *e = t->b + off;
		int rc = add_mmap(p, ld64(e + offsetof(struct mb2_mmap_entry, base_addr)),
				  ld64(e + offsetof(struct mb2_mmap_entry, length)),
				  ld32(e + offsetof(struct mb2_mmap_entry, type)));

		if (rc)
			return rc;
	}
	return 0;
}

/* Tags we read, by type. Others (and unknown types) are skipped, as the
 * specification asks. min_size includes the 8-byte tag header and, for
 * strings, at least the NUL. */
static const struct mb2_tag_handler {
	const char *name;
	u32 min_size;
	bool once;
	int (*parse)(struct parser *p, const struct mb2_tagview *t);
} mb2_handlers[] = {
	[MB2_TAG_CMDLINE] = {"command line", sizeof(struct mb2_tag) + 1, true, mb2_cmdline},
	[MB2_TAG_BOOT_LOADER_NAME] = {"boot loader name", sizeof(struct mb2_tag) + 1, true,
				      mb2_loader_name},
	[MB2_TAG_MODULE] = {"module", sizeof(struct mb2_tag_module) + 1, false, mb2_module},
	[MB2_TAG_BASIC_MEMINFO] = {"basic meminfo", sizeof(struct mb2_tag_basic_meminfo), true,
				   mb2_meminfo},
	[MB2_TAG_MMAP] = {"mmap", sizeof(struct mb2_tag_mmap), true, mb2_mmap},
};

static int mb2_dispatch(struct parser *p, const struct mb2_tagview *t)
{
	const struct mb2_tag_handler *h;

	if (t->type >= ARRAY_SIZE(mb2_handlers) || !mb2_handlers[t->type].parse)
		return 0;
	h = &mb2_handlers[t->type];
	if (t->size < h->min_size)
		return fail(p, "multiboot2: %s tag at offset 0x%x has size %u (minimum %u)",
			    h->name, t->off, t->size, h->min_size);
	if (h->once && (p->mb2_seen & (1u << t->type)))
		return fail(p, "multiboot2: more than one %s tag (another at offset 0x%x)", h->name,
			    t->off);
	p->mb2_seen |= 1u << t->type;
	return h->parse(p, t);
}

static int mb2_parse(struct parser *p, u64 phys)
{
	const u8 *info;
	u32 total, off;

	if (!IS_ALIGNED(phys, MB2_INFO_ALIGN))
		return fail(p, "multiboot2: info at 0x%lx is not 8-byte aligned", phys);
	info = read_phys(p, phys, sizeof(struct mb2_info));
	if (!info)
		return fail(p, "multiboot2: info at 0x%lx is not readable", phys);
	total = ld32(info + offsetof(struct mb2_info, total_size));
	if (total < sizeof(struct mb2_info) + sizeof(struct mb2_tag))
		return fail(p, "multiboot2: info at 0x%lx claims total_size %u (minimum %u)", phys,
			    total, (unsigned)(sizeof(struct mb2_info) + sizeof(struct mb2_tag)));
	if (total > BOOT_MB2_MAX_INFO)
		return fail(p, "multiboot2: info at 0x%lx claims total_size 0x%x (maximum 0x%x)",
			    phys, total, BOOT_MB2_MAX_INFO);
	info = read_phys(p, phys, total);
	if (!info)
		return fail(p,
			    "multiboot2: info at 0x%lx claims total_size 0x%x, beyond readable "
			    "memory",
			    phys, total);
	p->out->info_phys = phys;
	p->out->info_len = total;

	/* off + size <= total <= 1 MiB throughout, so nothing below overflows; each
	 * step advances by at least 8 bytes, so the walk ends. */
	for (off = sizeof(struct mb2_info);;) {
		struct mb2_tagview t;
		int rc;

		if (off >= total || total - off < sizeof(struct mb2_tag))
			return fail(p, "multiboot2: no END tag within total_size 0x%x", total);
		t = (struct mb2_tagview){.b = info + off, .off = off, .phys = phys + off};
		t.type = ld32(t.b + offsetof(struct mb2_tag, type));
		t.size = ld32(t.b + offsetof(struct mb2_tag, size));
		if (t.size < sizeof(struct mb2_tag))
			return fail(
				p,
				"multiboot2: tag type %u at offset 0x%x has size %u (minimum %u)",
				t.type, off, t.size, (unsigned)sizeof(struct mb2_tag));
		if (t.size > total - off)
			return fail(
				p,
				"multiboot2: tag type %u at offset 0x%x has size 0x%x, overrunning "
				"the info structure (0x%x bytes)",
				t.type, off, t.size, total);
		if (t.type == MB2_TAG_END)
			return 0;
		rc = mb2_dispatch(p, &t);
		if (rc)
			return rc;
		off += (u32)ALIGN_UP(t.size, MB2_TAG_ALIGN);
	}
}

/* ---------------------------------------------------------------------------
 * Module command lines as GRUB gives them.
 * ------------------------------------------------------------------------- */

static bool string_is(const char *s, const char *want)
{
	while (*s && *s == *want) {
		s++;
		want++;
	}
	return *s == *want;
}

/* QEMU -kernel puts a module's whole -initrd entry, its file name first, in
 * the module's command line (hw/i386/multiboot.c); GRUB 2 passes only what
 * follows the file name. Drop QEMU's name and the spaces after it, so that a
 * module's command line (the guest's, for module 0) is the same under both. */
static void drop_qemu_module_file_names(struct boot_info *out)
{
	if (out->protocol != 1 || !string_is(out->loader_name, "qemu"))
		return;
	for (unsigned i = 0; i < out->nmodules; i++) {
		const char *c = out->modules[i].cmdline;

		while (*c && *c != ' ')
			c++;
		while (*c == ' ')
			c++;
		out->modules[i].cmdline = c;
	}
}

/* ---------------------------------------------------------------------------
 * Entry points.
 * ------------------------------------------------------------------------- */

int multiboot_parse(u32 magic, u64 info_phys, phys_reader read, void *ctx, struct boot_info *out,
		    char *err, size_t errlen)
{
	struct parser p = {.read = read, .ctx = ctx, .out = out, .err = err, .errlen = errlen};
	int rc;

	if (err && errlen)
		err[0] = '\0';
	out->protocol = 0;
	out->cmdline = "";
	out->loader_name = "unknown";
	out->nmmap = 0;
	out->nmodules = 0;
	out->info_phys = 0;
	out->info_len = 0;
	out->mmap_from_meminfo = false;

	if (magic == MB1_BOOT_MAGIC) {
		out->protocol = 1;
		rc = mb1_parse(&p, info_phys);
	} else if (magic == MB2_BOOT_MAGIC) {
		out->protocol = 2;
		rc = mb2_parse(&p, info_phys);
	} else {
		return fail(&p, "not loaded by a multiboot boot loader (magic 0x%x)", magic);
	}
	if (rc == 0 && out->nmmap == 0)
		rc = synthesise_mmap(&p);
	if (rc == 0)
		drop_qemu_module_file_names(out);
	return rc;
}

const char *boot_mmap_type_name(u32 type)
{
	static const char *const names[] = {
		[BOOT_MEM_AVAILABLE] = "available",
		[BOOT_MEM_RESERVED] = "reserved",
		[BOOT_MEM_ACPI] = "ACPI",
		[BOOT_MEM_NVS] = "NVS",
		[BOOT_MEM_BAD] = "bad",
	};
	static char other[16];

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	msg_format(other, sizeof(other), "type %u", type);
	return other;
}
