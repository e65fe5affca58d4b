/* Unit tests for hv/multiboot.c. Multiboot 1 and 2 information structures are
 * built byte by byte in a fake physical window [WIN_BASE, WIN_BASE + WIN_SIZE).
 * The reader hands out a fresh, exactly sized copy of every range it grants,
 * so AddressSanitizer reports any read beyond what the parser was granted,
 * not merely beyond the window. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hv/multiboot.h"
#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>

#define WIN_BASE      0x100000ULL
#define WIN_SIZE      0x10000ULL
#define INFO	      (WIN_BASE + 0x1000) /* the info structure */
#define STRS	      (WIN_BASE + 0x2000) /* Multiboot 1 strings */
#define MODS	      (WIN_BASE + 0x3000) /* Multiboot 1 module list */
#define MMAP	      (WIN_BASE + 0x4000) /* Multiboot 1 memory map */
#define FIXTURE_BYTES 0x5000		  /* the fixtures live below this window offset */
#define OUTSIDE	      0x9000000ULL	  /* an address the reader refuses */

#define MB1_ALL                                                                                    \
	(MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MEM_MAP |                   \
	 MB1_INFO_LOADER_NAME)

/* ---------------------------------------------------------------------------
 * The fake physical window and its strict reader.
 * ------------------------------------------------------------------------- */

static u8 *win;
static void **grants;
static size_t ngrants, grants_cap;

static void grants_free(void)
{
	for (size_t i = 0; i < ngrants; i++)
		free(grants[i]);
	ngrants = 0;
}

static const void *strict_read(void *ctx, u64 phys, u64 len)
{
	u8 *copy;

	(void)ctx;
	if (phys < WIN_BASE || phys - WIN_BASE > WIN_SIZE || len > WIN_SIZE - (phys - WIN_BASE))
		return NULL;
	copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, win + (phys - WIN_BASE), len);
	if (ngrants == grants_cap) {
		grants_cap = grants_cap ? 2 * grants_cap : 64;
		grants = realloc(grants, grants_cap * sizeof(*grants));
		if (!grants)
			abort();
	}
	grants[ngrants++] = copy;
	return copy;
}

static int setup(void **state)
{
	win = calloc(1, WIN_SIZE);
	return win ? 0 : -1;
}

static int teardown(void **state)
{
	grants_free();
	free(grants);
	grants = NULL;
	grants_cap = 0;
	free(win);
	win = NULL;
	return 0;
}

static u8 *at(u64 phys, u64 len)
{
	assert_true(phys >= WIN_BASE && phys - WIN_BASE + len <= WIN_SIZE);
	return win + (phys - WIN_BASE);
}

static void w32(u64 phys, u32 v)
{
	u8 *p = at(phys, 4);

	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void w64(u64 phys, u64 v)
{
	w32(phys, (u32)v);
	w32(phys + 4, (u32)(v >> 32));
}

static u64 wstr(u64 phys, const char *s)
{
	memcpy(at(phys, strlen(s) + 1), s, strlen(s) + 1);
	return phys;
}

/* ---------------------------------------------------------------------------
 * Parsing and checking results.
 * ------------------------------------------------------------------------- */

static struct boot_info bi;
static char err[256];

static int parse(u32 magic, u64 phys)
{
	memset(err, 0, sizeof(err));
	return multiboot_parse(magic, phys, strict_read, NULL, &bi, err, sizeof(err));
}

static void assert_ok(int rc)
{
	if (rc != 0)
		fail_msg("parse failed (%d): %s", rc, err);
}

/* rc is -DV_EINVAL and the message contains every one of the substrings. */
static void assert_error(int rc, const char *const *words)
{
	if (rc != -DV_EINVAL)
		fail_msg("expected -DV_EINVAL, got %d (err \"%s\")", rc, err);
	for (; *words; words++)
		if (!strstr(err, *words))
			fail_msg("error \"%s\" lacks \"%s\"", err, *words);
}

#define ASSERT_ERROR(rc, ...) assert_error((rc), (const char *const[]){__VA_ARGS__, NULL})

static void assert_mmap(unsigned i, u64 base, u64 len, u32 type)
{
	const struct boot_mmap_entry *e = &bi.mmap[i];

	assert_true(i < bi.nmmap);
	if (e->base != base || e->len != len || e->type != type)
		fail_msg("mmap[%u] = {0x%llx, 0x%llx, %u}, expected {0x%llx, 0x%llx, %u}", i,
			 (unsigned long long)e->base, (unsigned long long)e->len, e->type,
			 (unsigned long long)base, (unsigned long long)len, type);
}

static void assert_module(unsigned i, u64 start, u64 end, const char *cmdline)
{
	assert_true(i < bi.nmodules);
	assert_true(bi.modules[i].start == start);
	assert_true(bi.modules[i].end == end);
	assert_string_equal(bi.modules[i].cmdline, cmdline);
}

/* A BIOS-like map with every type. */
static const struct boot_mmap_entry sample_map[] = {
	{0x0, 0x9fc00, BOOT_MEM_AVAILABLE},
	{0x9fc00, 0x400, BOOT_MEM_RESERVED},
	{0x100000, 0x7ee0000, BOOT_MEM_AVAILABLE},
	{0x7fe0000, 0x20000, BOOT_MEM_ACPI},
	{0xfffc0000, 0x40000, BOOT_MEM_NVS},
	{0x100000000ULL, 0x40000000ULL, BOOT_MEM_AVAILABLE},
	{0x140000000ULL, 0x1000, BOOT_MEM_BAD},
};
#define SAMPLE_N 7u

static void assert_sample_map(void)
{
	assert_int_equal(bi.nmmap, SAMPLE_N);
	assert_mmap(0, 0x0, 0x9fc00, 1);
	assert_mmap(1, 0x9fc00, 0x400, 2);
	assert_mmap(2, 0x100000, 0x7ee0000, 1);
	assert_mmap(3, 0x7fe0000, 0x20000, 3);
	assert_mmap(4, 0xfffc0000, 0x40000, 4);
	assert_mmap(5, 0x100000000ULL, 0x40000000ULL, 1);
	assert_mmap(6, 0x140000000ULL, 0x1000, 5);
	assert_false(bi.mmap_from_meminfo);
}

/* ---------------------------------------------------------------------------
 * Multiboot 2 builder: tags appended at mb2_cur, 8-byte aligned.
 * ------------------------------------------------------------------------- */

static u64 mb2_cur;

static void mb2_begin(void)
{
	mb2_cur = INFO + 8;
}

static u64 mb2_tag(u32 type, u32 size)
{
	u64 t = mb2_cur;

	w32(t, type);
	w32(t + 4, size);
	mb2_cur += (size + 7) & ~7u;
	return t;
}

static void mb2_string_tag(u32 type, const char *s)
{
	u64 t = mb2_tag(type, 8 + (u32)strlen(s) + 1);

	wstr(t + 8, s);
}

static void mb2_module_tag(u32 start, u32 end, const char *s)
{
	u64 t = mb2_tag(MB2_TAG_MODULE, 16 + (u32)strlen(s) + 1);

	w32(t + 8, start);
	w32(t + 12, end);
	wstr(t + 16, s);
}

static void mb2_meminfo_tag(u32 lower, u32 upper)
{
	u64 t = mb2_tag(MB2_TAG_BASIC_MEMINFO, 16);

	w32(t + 8, lower);
	w32(t + 12, upper);
}

static u64 mb2_mmap_tag_sized(u32 entry_size, const struct boot_mmap_entry *e, unsigned n)
{
	u64 t = mb2_tag(MB2_TAG_MMAP, 16 + n * entry_size);

	w32(t + 8, entry_size);
	w32(t + 12, 0);
	for (unsigned i = 0; i < n; i++) {
		u64 ent = t + 16 + (u64)i * entry_size;

		w64(ent, e[i].base);
		w64(ent + 8, e[i].len);
		w32(ent + 16, e[i].type);
		for (u32 k = 20; k < entry_size; k++)
			*at(ent + k, 1) = 0xee; /* reserved and future fields */
	}
	return t;
}

static u64 mb2_mmap_tag(const struct boot_mmap_entry *e, unsigned n)
{
	return mb2_mmap_tag_sized(24, e, n);
}

/* Append the END tag and set total_size; returns total_size. */
static u32 mb2_finish(void)
{
	u32 total;

	mb2_tag(MB2_TAG_END, 8);
	total = (u32)(mb2_cur - INFO);
	w32(INFO, total);
	w32(INFO + 4, 0);
	return total;
}

/* Everything a GRUB boot of dimvisor provides; 344 bytes in all. */
static u32 mb2_build_full(void)
{
	mb2_begin();
	mb2_string_tag(MB2_TAG_CMDLINE, "mode=base mem=512M"); /* 27 -> 32 */
	mb2_string_tag(MB2_TAG_BOOT_LOADER_NAME, "GRUB 2.06"); /* 18 -> 24 */
	mb2_module_tag(0x200000, 0x280000, "guest.elf quiet"); /* 32 */
	mb2_module_tag(0x300000, 0x300000, "");		       /* 17 -> 24 */
	mb2_meminfo_tag(639, 130048);			       /* 16 */
	mb2_tag(MB2_TAG_FRAMEBUFFER, 13);		       /* 13 -> 16, skipped */
	mb2_mmap_tag(sample_map, SAMPLE_N);		       /* 184 */
	return mb2_finish();				       /* 8 + ... + 8 */
}

/* ---------------------------------------------------------------------------
 * Multiboot 1 builder.
 * ------------------------------------------------------------------------- */

#define MB1_SET(field, v) w32(INFO + offsetof(struct mb1_info, field), (v))

/* Write n entries at phys, entry i with 'size' field sizes[i] (>= 20; extra
 * bytes are filler). Returns the bytes written (the mmap_length). */
static u32 mb1_put_mmap(u64 phys, const u32 *sizes, const struct boot_mmap_entry *e, unsigned n)
{
	u64 p = phys;

	for (unsigned i = 0; i < n; i++) {
		w32(p, sizes[i]);
		w64(p + 4, e[i].base);
		w64(p + 12, e[i].len);
		w32(p + 20, e[i].type);
		for (u32 k = 20; k < sizes[i]; k++)
			*at(p + 4 + k, 1) = 0xee;
		p += 4 + sizes[i];
	}
	return (u32)(p - phys);
}

static const u32 sizes_20[SAMPLE_N] = {20, 20, 20, 20, 20, 20, 20};

/* What QEMU -kernel provides, plus a boot loader name. */
static void mb1_build_full(void)
{
	MB1_SET(flags, MB1_ALL);
	MB1_SET(mem_lower, 639);
	MB1_SET(mem_upper, 130048);
	MB1_SET(cmdline, (u32)wstr(STRS, "dimvisor.elf mode=base"));
	MB1_SET(boot_loader_name, (u32)wstr(STRS + 0x100, "qemu"));
	MB1_SET(mods_count, 2);
	MB1_SET(mods_addr, (u32)MODS);
	w32(MODS + 0, 0x200000);
	w32(MODS + 4, 0x280000);
	w32(MODS + 8, (u32)wstr(STRS + 0x200, "guest.elf quiet"));
	w32(MODS + 16, 0x300000);
	w32(MODS + 20, 0x301000);
	w32(MODS + 24, 0); /* no string */
	MB1_SET(mmap_addr, (u32)MMAP);
	MB1_SET(mmap_length, mb1_put_mmap(MMAP, sizes_20, sample_map, SAMPLE_N));
}

/* ---------------------------------------------------------------------------
 * Layout of the shared header against the specifications.
 * ------------------------------------------------------------------------- */

static void test_header_layout_matches_specs(void **state)
{
	assert_int_equal(offsetof(struct mb1_info, cmdline), 16);
	assert_int_equal(offsetof(struct mb1_info, mods_addr), 24);
	assert_int_equal(offsetof(struct mb1_info, mmap_length), 44);
	assert_int_equal(offsetof(struct mb1_info, mmap_addr), 48);
	assert_int_equal(offsetof(struct mb1_info, boot_loader_name), 64);
	assert_int_equal(offsetof(struct mb1_info, framebuffer_addr), 88);
	assert_int_equal(offsetof(struct mb1_mmap_entry, base_addr), 4);
	assert_int_equal(offsetof(struct mb1_header, entry_addr), 28);
	assert_int_equal(offsetof(struct mb2_tag_mmap, entries), 16);
	assert_int_equal(offsetof(struct mb2_tag_module, cmdline), 16);
	assert_int_equal(MB1_HEADER_MAGIC + MB1_HEADER_CHECKSUM(0x10003) + 0x10003, 0);
	assert_int_equal((u32)(MB2_HEADER_MAGIC + MB2_ARCH_I386 + 24 +
			       MB2_HEADER_CHECKSUM(MB2_ARCH_I386, 24)),
			 0);
}

/* ---------------------------------------------------------------------------
 * Multiboot 2: well-formed.
 * ------------------------------------------------------------------------- */

static void test_mb2_full_info(void **state)
{
	assert_int_equal(mb2_build_full(), 344);
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.protocol, 2);
	assert_string_equal(bi.cmdline, "mode=base mem=512M");
	assert_string_equal(bi.loader_name, "GRUB 2.06");
	assert_int_equal(bi.nmodules, 2);
	assert_module(0, 0x200000, 0x280000, "guest.elf quiet");
	assert_module(1, 0x300000, 0x300000, "");
	assert_sample_map();
	assert_true(bi.info_phys == 0x101000);
	assert_true(bi.info_len == 344);
}

static void test_mb2_missing_optional_tags(void **state)
{
	mb2_begin();
	mb2_mmap_tag(sample_map, SAMPLE_N);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "unknown");
	assert_int_equal(bi.nmodules, 0);
	assert_sample_map();
}

static void test_mb2_basic_meminfo_fallback(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 130048);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmmap, 2);
	assert_mmap(0, 0x0, 0x9fc00, BOOT_MEM_AVAILABLE);
	assert_mmap(1, 0x100000, 0x7f00000, BOOT_MEM_AVAILABLE);
	assert_true(bi.mmap_from_meminfo);
}

static void test_mb2_empty_mmap_falls_back_to_meminfo(void **state)
{
	mb2_begin();
	mb2_mmap_tag(sample_map, 0);
	mb2_meminfo_tag(600, 1024);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmmap, 2);
	assert_mmap(0, 0x0, 0x96000, BOOT_MEM_AVAILABLE);
	assert_mmap(1, 0x100000, 0x100000, BOOT_MEM_AVAILABLE);
	assert_true(bi.mmap_from_meminfo);
}

static void test_mb2_mmap_preferred_over_meminfo(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 130048);
	mb2_mmap_tag(sample_map, SAMPLE_N);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_sample_map();
}

static void test_mb2_mmap_larger_entry_size(void **state)
{
	mb2_begin();
	mb2_mmap_tag_sized(32, sample_map, SAMPLE_N);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_sample_map();
}

static void test_mb2_unknown_tags_skipped(void **state)
{
	mb2_begin();
	mb2_tag(MB2_TAG_ACPI_NEW, 44);
	mb2_tag(99, 9);
	mb2_tag(0xffffffff, 8);
	mb2_mmap_tag(sample_map, 1);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmmap, 1);
	assert_mmap(0, 0x0, 0x9fc00, BOOT_MEM_AVAILABLE);
}

static void test_mb2_sixteen_modules_accepted(void **state)
{
	mb2_begin();
	for (u32 i = 0; i < 16; i++)
		mb2_module_tag(0x200000 + i * 0x1000, 0x201000 + i * 0x1000, "m");
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmodules, 16);
	assert_module(15, 0x20f000, 0x210000, "m");
}

static void test_mb2_bytes_after_end_tag_ignored(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	w32(INFO, 0x80); /* total_size larger than the tags: trailing garbage */
	memset(at(INFO + 0x20, 0x60), 0xff, 0x60);
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_true(bi.info_len == 0x80);
}

/* ---------------------------------------------------------------------------
 * Multiboot 2: malformed.
 * ------------------------------------------------------------------------- */

static void test_wrong_magic(void **state)
{
	mb2_build_full();
	assert_int_equal(parse(0x12345678, INFO), -DV_EINVAL);
	assert_string_equal(err, "not loaded by a multiboot boot loader (magic 0x12345678)");
}

static void test_mb2_total_size_too_small(void **state)
{
	mb2_build_full();
	w32(INFO, 4);
	assert_int_equal(parse(MB2_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot2: info at 0x101000 claims total_size 4 (minimum 16)");
}

static void test_mb2_total_size_beyond_window(void **state)
{
	mb2_build_full();
	w32(INFO, (u32)WIN_SIZE); /* from INFO, 0x1000 past the end of the window */
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "multiboot2", "total_size 0x10000",
		     "beyond readable memory");
}

static void test_mb2_total_size_above_limit(void **state)
{
	mb2_build_full();
	w32(INFO, 0x100008);
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "total_size 0x100008", "maximum 0x100000");
}

static void test_mb2_info_outside_window(void **state)
{
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, OUTSIDE), "multiboot2: info at 0x9000000",
		     "not readable");
}

static void test_mb2_info_misaligned(void **state)
{
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO + 4), "info at 0x101004", "not 8-byte aligned");
}

static void test_mb2_tag_overrunning(void **state)
{
	mb2_begin();
	mb2_string_tag(MB2_TAG_CMDLINE,
		       "0123456789012345678901234567890123456789012345"); /* 0x38 */
	mb2_tag(MB2_TAG_MMAP, 0x200);
	w32(INFO, 0x80);
	assert_int_equal(parse(MB2_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot2: tag type 6 at offset 0x40 has size 0x200, "
				 "overrunning the info structure (0x80 bytes)");
}

static void test_mb2_zero_size_tag(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 1024);
	mb2_tag(MB2_TAG_BOOTDEV, 0);
	w32(INFO, 0x40); /* no END tag needed: the walk must stop at the empty tag */
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "tag type 5 at offset 0x18", "size 0",
		     "minimum 8");
}

static void test_mb2_missing_end_tag(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 1024);
	w32(INFO, (u32)(mb2_cur - INFO)); /* total_size ends right after meminfo */
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "no END tag", "total_size 0x18");
}

static void test_mb2_end_tag_cut_by_total_size(void **state)
{
	mb2_begin();
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	w32(INFO, 0x1c); /* half of the END tag */
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "no END tag");
}

static void test_mb2_mmap_entry_size_too_small(void **state)
{
	mb2_begin();
	mb2_mmap_tag_sized(16, sample_map, 2);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "mmap tag at offset 0x8", "entry_size 16",
		     "at least 24");
}

static void test_mb2_mmap_entry_size_zero(void **state)
{
	mb2_begin();
	mb2_mmap_tag_sized(24, sample_map, 2);
	w32(INFO + 8 + 8, 0);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "entry_size 0");
}

static void test_mb2_mmap_entry_size_not_multiple_of_8(void **state)
{
	mb2_begin();
	mb2_mmap_tag_sized(28, sample_map, 2);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "entry_size 28", "multiple of 8");
}

static void test_mb2_mmap_partial_entry(void **state)
{
	u64 t;

	mb2_begin();
	t = mb2_mmap_tag(sample_map, 2);
	w32(t + 4, 16 + 48 - 8); /* one and two thirds of an entry */
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "holds 40 bytes", "not a whole number");
}

static void test_mb2_cmdline_unterminated(void **state)
{
	u64 t;

	mb2_begin();
	mb2_meminfo_tag(639, 1024);
	t = mb2_tag(MB2_TAG_CMDLINE, 8 + 5);
	memcpy(at(t + 8, 5), "abcde", 5);
	*at(t + 13, 1) = '\0'; /* a NUL in the padding does not count */
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "command line at 0x101020",
		     "not NUL-terminated within 5 bytes");
}

static void test_mb2_cmdline_longer_than_limit(void **state)
{
	u64 t;

	mb2_begin();
	t = mb2_tag(MB2_TAG_CMDLINE, 8 + 5000);
	memset(at(t + 8, 4999), 'x', 4999);
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "command line",
		     "not NUL-terminated within 4096 bytes");
}

static void test_mb2_loader_name_unterminated(void **state)
{
	u64 t;

	mb2_begin();
	t = mb2_tag(MB2_TAG_BOOT_LOADER_NAME, 8 + 4);
	memcpy(at(t + 8, 4), "GRUB", 4);
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "boot loader name", "not NUL-terminated");
}

static void test_mb2_string_tag_without_string(void **state)
{
	mb2_begin();
	mb2_tag(MB2_TAG_CMDLINE, 8);
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "command line tag at offset 0x8",
		     "size 8 (minimum 9)");
}

static void test_mb2_module_tag_too_small(void **state)
{
	mb2_begin();
	mb2_tag(MB2_TAG_MODULE, 16);
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "module tag at offset 0x8",
		     "size 16 (minimum 17)");
}

static void test_mb2_module_cmdline_unterminated(void **state)
{
	u64 t;

	mb2_begin();
	mb2_module_tag(0x200000, 0x201000, "first");
	t = mb2_tag(MB2_TAG_MODULE, 16 + 3);
	memcpy(at(t + 16, 3), "abc", 3);
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "module 1 command line", "not NUL-terminated");
}

static void test_mb2_module_end_before_start(void **state)
{
	mb2_begin();
	mb2_module_tag(0x200000, 0x201000, "a");
	mb2_module_tag(0x2000, 0x1000, "b");
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	assert_int_equal(parse(MB2_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot: module 1 ends (0x1000) before it starts (0x2000)");
}

static void test_mb2_too_many_modules(void **state)
{
	mb2_begin();
	for (u32 i = 0; i < 17; i++)
		mb2_module_tag(0x200000, 0x201000, "m");
	mb2_meminfo_tag(639, 1024);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "too many modules (17, at most 16)");
}

static void test_mb2_too_many_mmap_entries(void **state)
{
	struct boot_mmap_entry many[BOOT_MAX_MMAP + 1];

	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct boot_mmap_entry){i * 0x1000ULL, 0x1000, BOOT_MEM_AVAILABLE};
	mb2_begin();
	mb2_mmap_tag(many, BOOT_MAX_MMAP);
	mb2_finish();
	assert_ok(parse(MB2_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmmap, BOOT_MAX_MMAP);

	mb2_begin();
	mb2_mmap_tag(many, ARRAY_SIZE(many));
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "too many memory map entries", "128");
}

static void test_mb2_duplicate_mmap_tag(void **state)
{
	mb2_begin();
	mb2_mmap_tag(sample_map, 2);
	mb2_mmap_tag(sample_map, 2);
	mb2_finish();
	ASSERT_ERROR(parse(MB2_BOOT_MAGIC, INFO), "more than one mmap tag", "offset 0x48");
}

static void test_mb2_no_memory_information(void **state)
{
	mb2_begin();
	mb2_string_tag(MB2_TAG_CMDLINE, "x");
	mb2_finish();
	assert_int_equal(parse(MB2_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot: no memory map (neither mmap nor basic meminfo)");
}

/* ---------------------------------------------------------------------------
 * Multiboot 1: well-formed.
 * ------------------------------------------------------------------------- */

static void test_mb1_full_info(void **state)
{
	mb1_build_full();
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_int_equal(bi.protocol, 1);
	assert_string_equal(bi.cmdline, "dimvisor.elf mode=base");
	assert_string_equal(bi.loader_name, "qemu");
	assert_int_equal(bi.nmodules, 2);
	assert_module(0, 0x200000, 0x280000, "quiet"); /* QEMU's "guest.elf " dropped */
	assert_module(1, 0x300000, 0x301000, "");
	assert_sample_map();
	assert_true(bi.info_phys == 0x101000);
	assert_true(bi.info_len == 68); /* through boot_loader_name */
}

/* QEMU -kernel: "-initrd 'FILE ARGS'" gives the module the command line
 * "FILE ARGS"; dimvisor keeps ARGS only, exactly (inner spaces too). */
static void test_mb1_qemu_module_file_name_is_dropped(void **state)
{
	mb1_build_full();
	w32(MODS + 8, (u32)wstr(STRS + 0x200, "build/guest.elf   test=a,b  x"));
	w32(MODS + 24, (u32)wstr(STRS + 0x300, "env.txt"));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_module(0, 0x200000, 0x280000, "test=a,b  x");
	assert_module(1, 0x300000, 0x301000, "");
	assert_string_equal(bi.cmdline, "dimvisor.elf mode=base"); /* the kernel's: untouched */
}

/* GRUB (and any loader but QEMU) passes a module's arguments only: a first
 * word is the guest's, not a file name. */
static void test_mb1_grub_module_cmdline_is_kept_whole(void **state)
{
	mb1_build_full();
	MB1_SET(boot_loader_name, (u32)wstr(STRS + 0x100, "GRUB 2.06"));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_module(0, 0x200000, 0x280000, "guest.elf quiet");
}

/* Only the loader named exactly "qemu": not a name that merely starts so. */
static void test_mb1_loader_named_qemu_something_keeps_cmdline(void **state)
{
	mb1_build_full();
	MB1_SET(boot_loader_name, (u32)wstr(STRS + 0x100, "qemux"));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_module(0, 0x200000, 0x280000, "guest.elf quiet");
}

static void test_mb1_mmap_entries_of_size_24(void **state)
{
	static const u32 sizes[SAMPLE_N] = {24, 24, 24, 24, 24, 24, 24};

	mb1_build_full();
	MB1_SET(mmap_length, mb1_put_mmap(MMAP, sizes, sample_map, SAMPLE_N));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_sample_map();
}

static void test_mb1_mmap_entries_of_odd_sizes(void **state)
{
	static const u32 sizes[SAMPLE_N] = {21, 20, 27, 33, 20, 23, 20};

	mb1_build_full();
	MB1_SET(mmap_length, mb1_put_mmap(MMAP, sizes, sample_map, SAMPLE_N));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_sample_map();
}

static void test_mb1_meminfo_only(void **state)
{
	MB1_SET(flags, MB1_INFO_MEMORY);
	MB1_SET(mem_lower, 639);
	MB1_SET(mem_upper, 130048);
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "unknown");
	assert_int_equal(bi.nmodules, 0);
	assert_int_equal(bi.nmmap, 2);
	assert_mmap(0, 0x0, 0x9fc00, BOOT_MEM_AVAILABLE);
	assert_mmap(1, 0x100000, 0x7f00000, BOOT_MEM_AVAILABLE);
	assert_true(bi.mmap_from_meminfo);
	assert_true(bi.info_len == 12);
}

static void test_mb1_fields_without_flag_ignored(void **state)
{
	mb1_build_full();
	MB1_SET(flags, MB1_INFO_MEMORY);
	MB1_SET(cmdline, 0xdeadbeef);
	MB1_SET(boot_loader_name, 0xdeadbeef);
	MB1_SET(mods_count, 1000);
	MB1_SET(mods_addr, 0xdeadbeef);
	MB1_SET(mmap_length, 3);
	MB1_SET(mmap_addr, 0xdeadbeef);
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "unknown");
	assert_int_equal(bi.nmodules, 0);
	assert_true(bi.mmap_from_meminfo);
}

static void test_mb1_mmap_without_meminfo(void **state)
{
	mb1_build_full();
	MB1_SET(flags, MB1_INFO_MEM_MAP);
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_sample_map();
	assert_true(bi.info_len == 52);
}

static void test_mb1_null_string_addresses_mean_absent(void **state)
{
	mb1_build_full();
	MB1_SET(cmdline, 0);
	MB1_SET(boot_loader_name, 0);
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "unknown");
}

static void test_mb1_string_ending_at_window_end(void **state)
{
	mb1_build_full();
	MB1_SET(cmdline, (u32)wstr(WIN_BASE + WIN_SIZE - 4, "abc"));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_string_equal(bi.cmdline, "abc");
}

static void test_mb1_empty_mmap_falls_back_to_meminfo(void **state)
{
	mb1_build_full();
	MB1_SET(mmap_length, 0);
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_int_equal(bi.nmmap, 2);
	assert_true(bi.mmap_from_meminfo);
}

/* ---------------------------------------------------------------------------
 * Multiboot 1: malformed.
 * ------------------------------------------------------------------------- */

static void test_mb1_info_outside_window(void **state)
{
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, OUTSIDE), "multiboot1: info at 0x9000000",
		     "not readable");
}

static void test_mb1_info_truncated(void **state)
{
	/* Flags readable, the fields they announce are not. */
	w32(WIN_BASE + WIN_SIZE - 8, MB1_ALL);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, WIN_BASE + WIN_SIZE - 8), "multiboot1",
		     "68 bytes for flags 0x24d", "not readable");
}

static void test_mb1_mmap_length_not_whole(void **state)
{
	mb1_build_full();
	MB1_SET(mmap_length, 3);
	assert_int_equal(parse(MB1_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot1: mmap_length 0x3 is not a whole number of entries");
}

static void test_mb1_mmap_entry_overruns_length(void **state)
{
	mb1_build_full();
	MB1_SET(mmap_length, 24 * 2 + 10);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "mmap_length 0x3a",
		     "not a whole number of entries");
}

static void test_mb1_mmap_entry_size_too_small(void **state)
{
	static const u32 sizes[3] = {20, 19, 20};

	mb1_build_full();
	MB1_SET(mmap_length, mb1_put_mmap(MMAP, sizes, sample_map, 3));
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "mmap entry at offset 0x18",
		     "size 19 (minimum 20)");
}

static void test_mb1_mmap_entry_size_zero(void **state)
{
	mb1_build_full();
	w32(MMAP, 0);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "mmap entry at offset 0x0", "size 0");
}

static void test_mb1_mmap_outside_window(void **state)
{
	mb1_build_full();
	MB1_SET(mmap_addr, (u32)(WIN_BASE + WIN_SIZE - 0x10)); /* 0xa8 bytes from here */
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "memory map at 0x10fff0 (0xa8 bytes)",
		     "not readable");
}

static void test_mb1_cmdline_outside_window(void **state)
{
	mb1_build_full();
	MB1_SET(cmdline, (u32)OUTSIDE);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "command line at 0x9000000", "unreadable memory");
}

static void test_mb1_cmdline_runs_off_window(void **state)
{
	mb1_build_full();
	memset(at(WIN_BASE + WIN_SIZE - 16, 16), 'x', 16);
	MB1_SET(cmdline, (u32)(WIN_BASE + WIN_SIZE - 16));
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "command line at 0x10fff0",
		     "runs into unreadable memory at 0x110000");
}

static void test_mb1_cmdline_longer_than_limit(void **state)
{
	mb1_build_full();
	memset(at(WIN_BASE + 0x8000, 0x2000), 'x', 0x2000);
	MB1_SET(cmdline, (u32)(WIN_BASE + 0x8000));
	assert_int_equal(parse(MB1_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot: command line at 0x108000 is not NUL-terminated "
				 "within 4096 bytes");
}

static void test_mb1_cmdline_of_4095_chars_accepted(void **state)
{
	mb1_build_full();
	memset(at(WIN_BASE + 0x8000, 4095), 'x', 4095);
	*at(WIN_BASE + 0x8000 + 4095, 1) = '\0';
	MB1_SET(cmdline, (u32)(WIN_BASE + 0x8000));
	assert_ok(parse(MB1_BOOT_MAGIC, INFO));
	assert_int_equal(strlen(bi.cmdline), 4095);
}

static void test_mb1_loader_name_unterminated(void **state)
{
	mb1_build_full();
	memset(at(WIN_BASE + 0x8000, 0x2000), 'n', 0x2000);
	MB1_SET(boot_loader_name, (u32)(WIN_BASE + 0x8000));
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "boot loader name", "not NUL-terminated");
}

static void test_mb1_too_many_modules(void **state)
{
	mb1_build_full();
	MB1_SET(mods_count, 17);
	assert_int_equal(parse(MB1_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot1: too many modules (17, at most 16)");
}

static void test_mb1_module_list_outside_window(void **state)
{
	mb1_build_full();
	MB1_SET(mods_addr, (u32)OUTSIDE);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "module list at 0x9000000 (2 entries)",
		     "not readable");
}

static void test_mb1_module_end_before_start(void **state)
{
	mb1_build_full();
	MB1_SET(mods_count, 3);
	w32(MODS + 32, 0x500000);
	w32(MODS + 36, 0x4ff000);
	assert_int_equal(parse(MB1_BOOT_MAGIC, INFO), -DV_EINVAL);
	assert_string_equal(err, "multiboot: module 2 ends (0x4ff000) before it starts (0x500000)");
}

static void test_mb1_module_cmdline_unterminated(void **state)
{
	mb1_build_full();
	memset(at(WIN_BASE + WIN_SIZE - 8, 8), 'm', 8);
	w32(MODS + 24, (u32)(WIN_BASE + WIN_SIZE - 8));
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "module 1 command line at 0x10fff8",
		     "unreadable memory");
}

static void test_mb1_too_many_mmap_entries(void **state)
{
	static struct boot_mmap_entry many[BOOT_MAX_MMAP + 1];
	static u32 sizes[BOOT_MAX_MMAP + 1];

	for (unsigned i = 0; i < ARRAY_SIZE(many); i++) {
		many[i] = (struct boot_mmap_entry){i * 0x1000ULL, 0x1000, BOOT_MEM_AVAILABLE};
		sizes[i] = 20;
	}
	mb1_build_full();
	MB1_SET(mmap_addr, (u32)(WIN_BASE + 0x8000));
	MB1_SET(mmap_length, mb1_put_mmap(WIN_BASE + 0x8000, sizes, many, ARRAY_SIZE(many)));
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "too many memory map entries (more than 128)");
}

static void test_mb1_no_memory_information(void **state)
{
	mb1_build_full();
	MB1_SET(flags, MB1_INFO_CMDLINE);
	ASSERT_ERROR(parse(MB1_BOOT_MAGIC, INFO), "no memory map",
		     "neither mmap nor basic meminfo");
}

/* ---------------------------------------------------------------------------
 * Error reporting and type names.
 * ------------------------------------------------------------------------- */

static void test_error_without_buffer(void **state)
{
	assert_int_equal(multiboot_parse(0, INFO, strict_read, NULL, &bi, NULL, 0), -DV_EINVAL);
	assert_int_equal(multiboot_parse(0, INFO, strict_read, NULL, &bi, err, 0), -DV_EINVAL);
}

static void test_error_message_truncated(void **state)
{
	char small[11];

	memset(small, '#', sizeof(small));
	assert_int_equal(multiboot_parse(0x12345678, INFO, strict_read, NULL, &bi, small, 10),
			 -DV_EINVAL);
	assert_string_equal(small, "not loade");
	assert_int_equal(small[10], '#');
}

static void test_type_names(void **state)
{
	assert_string_equal(boot_mmap_type_name(1), "available");
	assert_string_equal(boot_mmap_type_name(2), "reserved");
	assert_string_equal(boot_mmap_type_name(3), "ACPI");
	assert_string_equal(boot_mmap_type_name(4), "NVS");
	assert_string_equal(boot_mmap_type_name(5), "bad");
	assert_string_equal(boot_mmap_type_name(0), "type 0");
	assert_string_equal(boot_mmap_type_name(4294967295u), "type 4294967295");
}

/* ---------------------------------------------------------------------------
 * Fuzz: random mutations of valid structures must give 0 or -DV_EINVAL with a
 * message, and never a read outside a grant (ASan watches the copies).
 * ------------------------------------------------------------------------- */

static u64 fuzz_state = 0x9e3779b97f4a7c15ULL;

static u32 fuzz_rand(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (u32)(fuzz_state >> 16);
}

static u32 fuzz_value(void)
{
	static const u32 interesting[] = {
		0,
		1,
		3,
		7,
		8,
		9,
		15,
		16,
		17,
		19,
		20,
		23,
		24,
		28,
		32,
		0x7f,
		0x80,
		0xff,
		0x1000,
		0xffff,
		0x100000,
		0x100001,
		0x7fffffff,
		0x80000000,
		0xfffffff8,
		0xffffffff,
		(u32)WIN_BASE,
		(u32)(WIN_BASE + WIN_SIZE),
		(u32)(WIN_BASE + WIN_SIZE - 1),
		(u32)INFO,
		(u32)STRS,
		(u32)MODS,
		(u32)MMAP,
	};

	switch (fuzz_rand() % 4) {
	case 0:
		return interesting[fuzz_rand() % ARRAY_SIZE(interesting)];
	case 1:
		return (u32)WIN_BASE + fuzz_rand() % (u32)WIN_SIZE;
	case 2:
		return fuzz_rand() % 0x200;
	default:
		return fuzz_rand();
	}
}

/* A stretch of the window (offsets) worth mutating. */
struct fuzz_region {
	u32 lo, hi;
};

static void fuzz_mutate(u32 lo, u32 hi)
{
	u32 off = lo + fuzz_rand() % (hi - lo);

	switch (fuzz_rand() % 4) {
	case 0:
		win[off] = (u8)fuzz_rand();
		break;
	case 1:
		win[off] ^= (u8)(1u << (fuzz_rand() % 8));
		break;
	case 2: /* a 32-bit field, naturally aligned */
		off &= ~3u;
		if (off + 4 <= hi)
			w32(WIN_BASE + off, fuzz_value());
		break;
	default: { /* wipe out terminators */
		u32 n = 1 + fuzz_rand() % 16;

		memset(win + off, 'A' + fuzz_rand() % 26, MIN(n, hi - off));
		break;
	}
	}
}

static void check_fuzz_result(int rc, unsigned *accepted, unsigned *rejected)
{
	if (rc == 0) {
		(*accepted)++;
		assert_true(bi.protocol == 1 || bi.protocol == 2);
		assert_true(bi.nmmap >= 1 && bi.nmmap <= BOOT_MAX_MMAP);
		assert_true(bi.nmodules <= BOOT_MAX_MODULES);
		/* strlen on the grant copies: ASan checks the NUL lies inside them. */
		assert_true(strlen(bi.cmdline) < BOOT_MAX_STRING);
		assert_true(strlen(bi.loader_name) < BOOT_MAX_STRING);
		for (unsigned i = 0; i < bi.nmodules; i++) {
			assert_true(bi.modules[i].start <= bi.modules[i].end);
			assert_true(strlen(bi.modules[i].cmdline) < BOOT_MAX_STRING);
		}
	} else {
		(*rejected)++;
		assert_int_equal(rc, -DV_EINVAL);
		assert_true(err[0] != '\0');
		assert_true(strlen(err) < sizeof(err));
	}
}

static void fuzz(u32 magic, const struct fuzz_region *regions, unsigned nregions,
		 unsigned iterations)
{
	u8 *pristine = malloc(FIXTURE_BYTES);
	unsigned accepted = 0, rejected = 0;

	assert_non_null(pristine);
	memcpy(pristine, win, FIXTURE_BYTES);
	for (unsigned it = 0; it < iterations; it++) {
		unsigned n = 1 + fuzz_rand() % 4;
		u32 m = magic;

		memcpy(win, pristine, FIXTURE_BYTES);
		for (unsigned k = 0; k < n; k++) {
			const struct fuzz_region *r = &regions[fuzz_rand() % nregions];

			fuzz_mutate(r->lo, r->hi);
		}
		if (fuzz_rand() % 32 == 0) /* the other protocol's parser on these bytes */
			m = magic == MB1_BOOT_MAGIC ? MB2_BOOT_MAGIC : MB1_BOOT_MAGIC;
		check_fuzz_result(parse(m, INFO), &accepted, &rejected);
		grants_free();
	}
	free(pristine);
	print_message("    %u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > iterations / 20);
	assert_true(rejected > iterations / 20);
}

static void test_fuzz_mb2(void **state)
{
	u32 total = mb2_build_full();
	const struct fuzz_region regions[] = {
		{(u32)(INFO - WIN_BASE), (u32)(INFO - WIN_BASE) + total},
		{(u32)(INFO - WIN_BASE), (u32)(INFO - WIN_BASE) + 16}, /* header, first tag */
	};

	fuzz(MB2_BOOT_MAGIC, regions, ARRAY_SIZE(regions), 20000);
}

static void test_fuzz_mb1(void **state)
{
	const struct fuzz_region regions[] = {
		{(u32)(INFO - WIN_BASE), (u32)(INFO - WIN_BASE) + 68}, /* the fixed part */
		{(u32)(STRS - WIN_BASE), (u32)(STRS - WIN_BASE) + 0x220},
		{(u32)(MODS - WIN_BASE), (u32)(MODS - WIN_BASE) + 32},
		{(u32)(MMAP - WIN_BASE), (u32)(MMAP - WIN_BASE) + 7 * 24},
	};

	mb1_build_full();
	fuzz(MB1_BOOT_MAGIC, regions, ARRAY_SIZE(regions), 20000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_header_layout_matches_specs),
		/* Multiboot 2 */
		T(test_mb2_full_info),
		T(test_mb2_missing_optional_tags),
		T(test_mb2_basic_meminfo_fallback),
		T(test_mb2_empty_mmap_falls_back_to_meminfo),
		T(test_mb2_mmap_preferred_over_meminfo),
		T(test_mb2_mmap_larger_entry_size),
		T(test_mb2_unknown_tags_skipped),
		T(test_mb2_sixteen_modules_accepted),
		T(test_mb2_bytes_after_end_tag_ignored),
		T(test_wrong_magic),
		T(test_mb2_total_size_too_small),
		T(test_mb2_total_size_beyond_window),
		T(test_mb2_total_size_above_limit),
		T(test_mb2_info_outside_window),
		T(test_mb2_info_misaligned),
		T(test_mb2_tag_overrunning),
		T(test_mb2_zero_size_tag),
		T(test_mb2_missing_end_tag),
		T(test_mb2_end_tag_cut_by_total_size),
		T(test_mb2_mmap_entry_size_too_small),
		T(test_mb2_mmap_entry_size_zero),
		T(test_mb2_mmap_entry_size_not_multiple_of_8),
		T(test_mb2_mmap_partial_entry),
		T(test_mb2_cmdline_unterminated),
		T(test_mb2_cmdline_longer_than_limit),
		T(test_mb2_loader_name_unterminated),
		T(test_mb2_string_tag_without_string),
		T(test_mb2_module_tag_too_small),
		T(test_mb2_module_cmdline_unterminated),
		T(test_mb2_module_end_before_start),
		T(test_mb2_too_many_modules),
		T(test_mb2_too_many_mmap_entries),
		T(test_mb2_duplicate_mmap_tag),
		T(test_mb2_no_memory_information),
		/* Multiboot 1 */
		T(test_mb1_full_info),
		T(test_mb1_qemu_module_file_name_is_dropped),
		T(test_mb1_grub_module_cmdline_is_kept_whole),
		T(test_mb1_loader_named_qemu_something_keeps_cmdline),
		T(test_mb1_mmap_entries_of_size_24),
		T(test_mb1_mmap_entries_of_odd_sizes),
		T(test_mb1_meminfo_only),
		T(test_mb1_fields_without_flag_ignored),
		T(test_mb1_mmap_without_meminfo),
		T(test_mb1_null_string_addresses_mean_absent),
		T(test_mb1_string_ending_at_window_end),
		T(test_mb1_empty_mmap_falls_back_to_meminfo),
		T(test_mb1_info_outside_window),
		T(test_mb1_info_truncated),
		T(test_mb1_mmap_length_not_whole),
		T(test_mb1_mmap_entry_overruns_length),
		T(test_mb1_mmap_entry_size_too_small),
		T(test_mb1_mmap_entry_size_zero),
		T(test_mb1_mmap_outside_window),
		T(test_mb1_cmdline_outside_window),
		T(test_mb1_cmdline_runs_off_window),
		T(test_mb1_cmdline_longer_than_limit),
		T(test_mb1_cmdline_of_4095_chars_accepted),
		T(test_mb1_loader_name_unterminated),
		T(test_mb1_too_many_modules),
		T(test_mb1_module_list_outside_window),
		T(test_mb1_module_end_before_start),
		T(test_mb1_module_cmdline_unterminated),
		T(test_mb1_too_many_mmap_entries),
		T(test_mb1_no_memory_information),
		/* both */
		T(test_error_without_buffer),
		T(test_error_message_truncated),
		T(test_type_names),
		T(test_fuzz_mb2),
		T(test_fuzz_mb1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
