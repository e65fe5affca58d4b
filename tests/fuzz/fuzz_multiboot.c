/* libFuzzer target: the Multiboot 1 and 2 information parser (hv/multiboot.c).
 * Input: byte 0 picks the magic (Multiboot 1, 2, or a wrong one), bytes 1..2
 * the offset of the info structure in the window (little-endian), byte 3 the
 * error buffer's size; the rest is a physical window at WIN_BASE. The reader
 * grants only ranges inside the window, each as a fresh, exactly sized copy,
 * so ASan reports a read beyond any grant.
 * Checks: 0 or -DV_EINVAL; the message terminated inside its buffer; on
 * success the protocol, counts and strings within their documented bounds. */
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include <dimvisor/multiboot.h>
#include "hv/multiboot.h"

#define WIN_BASE   0x100000ULL
#define MAX_GRANTS 4096

struct window {
	const u8 *bytes;
	u64 size;
	void *grants[MAX_GRANTS];
	unsigned ngrants;
};

static const void *strict_read(void *ctx, u64 phys, u64 len)
{
	struct window *w = ctx;
	u8 *copy;

	if (phys < WIN_BASE || phys - WIN_BASE > w->size || len > w->size - (phys - WIN_BASE))
		return NULL;
	if (w->ngrants == MAX_GRANTS)
		return NULL; /* a parser that reads this often is stuck in a loop */
	copy = malloc(len ? len : 1);
	memcpy(copy, w->bytes + (phys - WIN_BASE), len);
	w->grants[w->ngrants++] = copy;
	return copy;
}

static void check_string(const char *s)
{
	CHECK(s != NULL);
	CHECK(strnlen(s, BOOT_MAX_STRING) < BOOT_MAX_STRING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const u32 magics[] = {MB1_BOOT_MAGIC, MB2_BOOT_MAGIC, 0x2badb003u, 0};
	struct window w = {0};
	struct boot_info *info;
	size_t errlen;
	char *err;
	u32 magic;
	int rc;

	if (size < 4)
		return 0;
	magic = magics[data[0] % 4];
	w.bytes = data + 4;
	w.size = size - 4;
	errlen = data[3];
	err = errlen ? malloc(errlen) : NULL;
	info = malloc(sizeof(*info));
	memset(info, 0xa5, sizeof(*info));

	rc = multiboot_parse(magic, WIN_BASE + (data[1] | (u64)data[2] << 8), strict_read, &w, info,
			     err, errlen);
	CHECK(rc == 0 || rc == -DV_EINVAL);
	if (rc && errlen)
		CHECK(memchr(err, '\0', errlen) != NULL);
	if (rc == 0) {
		CHECK(info->protocol == (magic == MB1_BOOT_MAGIC ? 1 : 2));
		CHECK(magic == MB1_BOOT_MAGIC || magic == MB2_BOOT_MAGIC);
		check_string(info->cmdline);
		check_string(info->loader_name);
		CHECK(info->nmmap <= BOOT_MAX_MMAP);
		CHECK(info->nmodules <= BOOT_MAX_MODULES);
		for (unsigned i = 0; i < info->nmodules; i++) {
			CHECK(info->modules[i].start <= info->modules[i].end);
			check_string(info->modules[i].cmdline);
		}
		for (unsigned i = 0; i < info->nmmap; i++)
			(void)boot_mmap_type_name(info->mmap[i].type);
	}
	for (unsigned i = 0; i < w.ngrants; i++)
		free(w.grants[i]);
	free(info);
	free(err);
	return 0;
}
