/* modules: the boot modules the loader handed over (under dimvisor, the
 * files of tools/dimvisor-run --module) lie where the information says: in
 * RAM, on a page boundary, clear of the kernel image, of the information and
 * of each other. Each is then listed with its command line, size, CRC-32 and
 * first line, which the system tests compare with the files they gave. */
#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"
#include "guest/tests.h"

#define CRC32_POLY     0xedb88320u /* IEEE 802.3, reflected: zlib's crc32 */
#define FIRST_LINE_MAX 48

extern u8 __image_start[], __image_end[];

static u32 crc32(const u8 *p, u64 len)
{
	u32 crc = ~0u;

	for (u64 i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (CRC32_POLY & -(crc & 1));
	}
	return ~crc;
}

/* The module's first line, unprintable bytes as '.', at most FIRST_LINE_MAX. */
static void first_line(const struct boot_module *m, char *out)
{
	const u8 *p = (const u8 *)m->start;
	u64 n = 0;

	for (; n < m->end - m->start && n < FIRST_LINE_MAX && p[n] != '\n'; n++)
		out[n] = p[n] >= ' ' && p[n] <= '~' ? (char)p[n] : '.';
	out[n] = '\0';
}

static bool overlap(u64 a_start, u64 a_end, u64 b_start, u64 b_end)
{
	return a_start < b_end && b_start < a_end;
}

static bool in_ram(const struct boot_info *bi, u64 start, u64 end)
{
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		if (r->type == BOOT_RAM_TYPE && start >= r->base && end <= r->base + r->length)
			return true;
	}
	return false;
}

static void check_module(struct test *t, const struct boot_info *bi, unsigned i)
{
	const struct boot_module *m = &bi->modules[i];

	test_check(t, IS_ALIGNED(m->start, PAGE_SIZE),
		   "module %u starts at 0x%lx, not on a page boundary", i, m->start);
	test_check(t, in_ram(bi, m->start, m->end),
		   "module %u [0x%lx, 0x%lx) is not inside one RAM region of the memory map", i,
		   m->start, m->end);
	test_check(t, !overlap(m->start, m->end, (u64)__image_start, (u64)__image_end),
		   "module %u [0x%lx, 0x%lx) overlaps the kernel image", i, m->start, m->end);
	test_check(t, !overlap(m->start, m->end, bi->info_start, bi->info_end),
		   "module %u [0x%lx, 0x%lx) overlaps the multiboot information [0x%lx, 0x%lx)", i,
		   m->start, m->end, bi->info_start, bi->info_end);
	for (unsigned j = 0; j < i; j++)
		test_check(t, !overlap(m->start, m->end, bi->modules[j].start, bi->modules[j].end),
			   "modules %u and %u overlap", j, i);
}

void test_modules(struct test *t)
{
	const struct boot_info *bi = t->boot;
	char line[FIRST_LINE_MAX + 1];

	if (!test_check(t, bi->nmodules > 0,
			"the boot loader passed no modules (tools/dimvisor-run --module FILE)"))
		return;
	for (unsigned i = 0; i < bi->nmodules; i++) {
		const struct boot_module *m = &bi->modules[i];

		check_module(t, bi, i);
		first_line(m, line);
		test_note(t, "module %u: %lu bytes, crc32 0x%08x, command line \"%s\": %s", i,
			  m->end - m->start, crc32((const u8 *)m->start, m->end - m->start),
			  m->cmdline, line);
	}
}
