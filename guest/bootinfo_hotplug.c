/* The guest's memory map after hot-unplug and hot-add (bootinfo.h): what an
 * OS does to its own map when memory leaves and arrives. Kept apart from the
 * multiboot parser so that the host can unit-test it. */
#include <dimvisor/errno.h>
#include "guest/bootinfo.h"

static void recount(struct boot_info *bi)
{
	bi->ram_bytes = bi->ram_top = 0;
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		if (r->type != BOOT_RAM_TYPE)
			continue;
		bi->ram_bytes += r->length;
		bi->ram_top = r->base + r->length;
	}
}

/* Make room at index i (regions after it move up one). */
static int insert_at(struct boot_info *bi, unsigned i, struct boot_region r)
{
	if (bi->nregions == BOOT_REGIONS_MAX)
		return -DV_E2BIG;
	for (unsigned j = bi->nregions; j > i; j--)
		bi->regions[j] = bi->regions[j - 1];
	bi->regions[i] = r;
	bi->nregions++;
	return 0;
}

static void remove_at(struct boot_info *bi, unsigned i)
{
	for (unsigned j = i; j + 1 < bi->nregions; j++)
		bi->regions[j] = bi->regions[j + 1];
	bi->nregions--;
}

/* The available region holding all of [base, base + len), or -1. */
static int ram_holding(const struct boot_info *bi, u64 base, u64 len)
{
	for (unsigned i = 0; i < bi->nregions; i++) {
		const struct boot_region *r = &bi->regions[i];

		if (r->type == BOOT_RAM_TYPE && base >= r->base && len <= r->length &&
		    base - r->base <= r->length - len)
			return (int)i;
	}
	return -1;
}

int bootinfo_remove_ram(struct boot_info *bi, u64 base, u64 len)
{
	int i = len ? ram_holding(bi, base, len) : -1;
	struct boot_region *r;
	u64 end;

	if (i < 0)
		return -DV_EINVAL;
	r = &bi->regions[i];
	end = r->base + r->length;
	if (base > r->base && base + len < end) { /* from the middle: two pieces */
		struct boot_region above = {base + len, end - (base + len), BOOT_RAM_TYPE};
		int err = insert_at(bi, (unsigned)i + 1, above);

		if (err)
			return err;
		r = &bi->regions[i];
		r->length = base - r->base;
	} else if (base == r->base && len == r->length) {
		remove_at(bi, (unsigned)i);
	} else if (base == r->base) {
		r->base += len;
		r->length -= len;
	} else {
		r->length -= len;
	}
	recount(bi);
	return 0;
}

static bool overlaps(const struct boot_region *r, u64 base, u64 len)
{
	return base < r->base + r->length && r->base < base + len;
}

int bootinfo_add_ram(struct boot_info *bi, u64 base, u64 len)
{
	unsigned at = 0;

	if (len == 0 || base + len < base)
		return -DV_EINVAL;
	for (unsigned i = 0; i < bi->nregions; i++)
		if (overlaps(&bi->regions[i], base, len))
			return -DV_EEXIST;
	while (at < bi->nregions && bi->regions[at].base < base)
		at++;
	/* continues the available region before it: grow that one (and join the
	 * one after when the new piece fills the space between them) */
	if (at > 0 && bi->regions[at - 1].type == BOOT_RAM_TYPE &&
	    bi->regions[at - 1].base + bi->regions[at - 1].length == base) {
		bi->regions[at - 1].length += len;
		if (at < bi->nregions && bi->regions[at].type == BOOT_RAM_TYPE &&
		    bi->regions[at].base == base + len) {
			bi->regions[at - 1].length += bi->regions[at].length;
			remove_at(bi, at);
		}
	} else if (at < bi->nregions && bi->regions[at].type == BOOT_RAM_TYPE &&
		   bi->regions[at].base == base + len) {
		bi->regions[at].base = base;
		bi->regions[at].length += len;
	} else {
		int err = insert_at(bi, at, (struct boot_region){base, len, BOOT_RAM_TYPE});

		if (err)
			return err;
	}
	recount(bi);
	return 0;
}
