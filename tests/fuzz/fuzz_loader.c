/* libFuzzer target: the guest loader (hv/loader.c) over a fake guest RAM, as
 * tests/unit/test_loader.c drives it: 16 MiB at gPA 0 and, when asked, 1 MiB
 * at 4 GiB. Input: byte 0 holds options (bit 0: repair the checksum of a
 * Multiboot 1 header, bit 1: of a Multiboot 2 header, so mutations get past
 * it; bit 2: two RAM ranges; bit 3: no command line; bits 7:4 the error
 * buffer's size / 8); the rest is the image, handed over as an exactly sized
 * copy so ASan reports any read past its end.
 * Checks: the loader never writes or zeroes outside guest RAM; it returns 0
 * or -DV_EINVAL / -DV_ERANGE / -DV_ENOTSUP with a message; on success the
 * entry point and the info structure lie in RAM below 4 GiB (multiboot), the
 * image range is ordered and free_gpa is page-aligned and past the image, and
 * the multiboot information parses (hv/multiboot.c) to the command line, the
 * loader's name and the guest's RAM. */
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>
#include "hv/loader.h"
#include "hv/multiboot.h"

#define LOW_SIZE  0x1000000ULL
#define HIGH_BASE 0x100000000ULL
#define HIGH_SIZE 0x100000ULL

static const struct guest_range ram[2] = {{0, LOW_SIZE}, {HIGH_BASE, HIGH_SIZE}};
static u8 *host[2];

static u8 *span(u64 gpa, u64 len, unsigned nram)
{
	for (unsigned i = 0; i < nram; i++)
		if (gpa >= ram[i].gpa && gpa - ram[i].gpa <= ram[i].len &&
		    len <= ram[i].len - (gpa - ram[i].gpa))
			return host[i] + (gpa - ram[i].gpa);
	return NULL;
}

static int fake_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	u8 *dst = span(gpa, len, *(unsigned *)ctx);

	CHECK(dst != NULL); /* a write outside guest RAM: the loader must check first */
	memcpy(dst, src, len);
	return 0;
}

static int fake_zero(void *ctx, u64 gpa, u64 len)
{
	CHECK(span(gpa, len, *(unsigned *)ctx) != NULL);
	return 0; /* range checked; 16 MiB of memset per input would be the whole cost */
}

static const void *ram_reader(void *ctx, u64 phys, u64 len)
{
	return span(phys, len, *(unsigned *)ctx);
}

/* The multiboot information the loader wrote is what the guest will parse:
 * hv/multiboot.c must accept it and find the command line, the loader's
 * name and exactly the guest's RAM ranges as available memory. */
static void check_info(const struct guest_boot *boot, unsigned nram, const char *cmdline)
{
	static struct boot_info info;
	char err[128];

	if (multiboot_parse(boot->magic, boot->info_gpa, ram_reader, &nram, &info, err,
			    sizeof(err)) != 0)
		__builtin_trap(); /* the guest could not parse its own boot information */
	CHECK(info.protocol == (boot->kind == BOOT_MULTIBOOT2 ? 2 : 1));
	CHECK(strcmp(info.cmdline, cmdline ? cmdline : "") == 0);
	CHECK(strcmp(info.loader_name, LOADER_NAME) == 0);
	CHECK(info.nmmap == nram);
	for (unsigned i = 0; i < nram; i++) {
		CHECK(info.mmap[i].base == ram[i].gpa && info.mmap[i].len == ram[i].len);
		CHECK(info.mmap[i].type == BOOT_MEM_AVAILABLE);
	}
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* Give the first header found the checksum its specification asks for. */
static void repair_checksums(u8 *img, size_t len, bool mb1, bool mb2)
{
	for (size_t off = 0; mb1 && off + 12 <= len && off < MB1_HEADER_SEARCH; off += 4) {
		if (get32(img + off) == MB1_HEADER_MAGIC) {
			put32(img + off + 8, MB1_HEADER_CHECKSUM(get32(img + off + 4)));
			break;
		}
	}
	for (size_t off = 0; mb2 && off + 16 <= len && off < MB2_HEADER_SEARCH; off += 8) {
		if (get32(img + off) == MB2_HEADER_MAGIC) {
			put32(img + off + 12,
			      MB2_HEADER_CHECKSUM(get32(img + off + 4), get32(img + off + 8)));
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loader_target t;
	struct guest_boot boot;
	unsigned nram;
	const char *cmdline;
	size_t errlen;
	char *err;
	u8 *img;
	int rc;

	if (size < 1)
		return 0;
	if (!host[0]) {
		host[0] = malloc(LOW_SIZE);
		host[1] = malloc(HIGH_SIZE);
	}
	nram = data[0] & 4 ? 2 : 1;
	errlen = (size_t)(data[0] >> 4) * 8;
	err = errlen ? malloc(errlen) : NULL;
	img = malloc(size - 1 ? size - 1 : 1);
	memcpy(img, data + 1, size - 1);
	repair_checksums(img, size - 1, data[0] & 1, data[0] & 2);
	t = (struct loader_target){ram, nram, fake_write, fake_zero, &nram};
	memset(&boot, 0xa5, sizeof(boot));

	cmdline = data[0] & 8 ? NULL : "console=serial quiet";
	rc = loader_load(&t, img, size - 1, cmdline, NULL, 0, &boot, err, errlen);
	CHECK(rc == 0 || rc == -DV_EINVAL || rc == -DV_ERANGE || rc == -DV_ENOTSUP);
	if (rc) {
		if (errlen)
			CHECK(memchr(err, '\0', errlen) != NULL);
		CHECK(errlen < 2 || err[0] != '\0'); /* a message naming the problem */
	} else {
		CHECK(boot.kind == BOOT_MULTIBOOT1 || boot.kind == BOOT_MULTIBOOT2 ||
		      boot.kind == BOOT_ELF64);
		CHECK(boot.load_lo <= boot.load_hi);
		CHECK(boot.free_gpa % 4096 == 0 && boot.free_gpa >= boot.load_hi);
		if (boot.kind != BOOT_ELF64) {
			CHECK(boot.entry < HIGH_BASE && span(boot.entry, 1, nram));
			CHECK(boot.info_gpa < HIGH_BASE && span(boot.info_gpa, 8, nram));
			CHECK(boot.magic == MB1_BOOT_MAGIC || boot.magic == MB2_BOOT_MAGIC);
			check_info(&boot, nram, cmdline);
		}
	}
	free(img);
	free(err);
	return 0;
}
