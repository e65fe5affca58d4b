/* gseg: the guest segment (Guest Direct, Dual Direct). The guest maps its
 * primary region, gVA [BASE_g, LIMIT_g) onto gPA [BASE_g + OFFSET_g, ...),
 * with the pages gseg= asks for, registers the triple, and checks what
 * dimvisor believes through DV_HC_SEGMENT_INFO. Then it tries triples that
 * are malformed or lie about its tables: each must be refused with its error
 * code and change nothing. Last, a second address space with a triple of its
 * own: dimvisor keeps each with the address space it was checked for. In a
 * mode without the guest segment, SET must say -DV_ENOTSUP. */
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/hypercall.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "lib/string.h"

#define BASE_G	    0x0000100000000000UL /* a PML4 slot of its own */
#define BASE_G2	    0x0000200000000000UL /* the second address space's region */
#define NONCANON_VA 0x0000800000000000UL

static unsigned leaf_level = 2;

void test_gseg_configure(unsigned level)
{
	leaf_level = level;
}

static const char *const level_names[] = {"", "4 KiB", "2 MiB", "1 GiB"};

bool test_segment_info(struct test *t, struct dv_segment_info *i)
{
	return test_expect(t, "SEGMENT_INFO", dv_hc_segment_info((u64)i, sizeof(*i)), sizeof(*i));
}

bool test_stats(struct test *t, struct dv_stats *s)
{
	return test_expect(t, "STATS", dv_hc_stats((u64)s, sizeof(*s)), sizeof(*s));
}

/* The guest triple dimvisor holds for the current address space is this one. */
static bool holds(struct test *t, const char *when, u64 base, u64 limit, u64 offset)
{
	struct dv_segment_info i;

	if (!test_segment_info(t, &i))
		return false;
	return test_check(
		t, i.guest.base == base && i.guest.limit == limit && i.guest.offset == offset,
		"%s: dimvisor holds BASE_g 0x%lx LIMIT_g 0x%lx OFFSET_g 0x%lx, expected "
		"0x%lx 0x%lx 0x%lx",
		when, i.guest.base, i.guest.limit, i.guest.offset, base, limit, offset);
}

/* The primary region: its size and where it lies in guest-physical memory.
 * 1 GiB pages cover gPA [0, 1 GiB); smaller ones a region in the upper half of
 * RAM, free for the guest to scribble on. False when RAM is too small. */
static bool pick_region(const struct test *t, u64 *gpa, u64 *size)
{
	u64 top = t->boot->ram_top;

	if (leaf_level == 3) {
		*gpa = 0;
		*size = PAGE_1G;
		return top >= PAGE_1G && t->boot->regions[0].base == 0;
	}
	*size = leaf_level == 2 ? 64 * MiB : 8 * MiB;
	/* the upper half of the highest RAM region that has room for twice the
	 * region (the lie cases look just past it) */
	for (unsigned i = t->boot->nregions; i-- > 0;) {
		const struct boot_region *r = &t->boot->regions[i];

		if (r->type != BOOT_RAM_TYPE)
			continue;
		*gpa = ALIGN_UP(r->base + r->length / 2, *size);
		if (*gpa >= paging_reserved_end() && *gpa + 2 * *size <= r->base + r->length)
			return true;
	}
	return false;
}

/* Malformed and lying triples: each refused with its code, nothing changed. */
static void refusals(struct test *t, u64 gpa, u64 size)
{
	const u64 off = gpa - BASE_G, top = t->boot->ram_top, gap = bootinfo_gap_start(t->boot);
	unsigned kinds = 0;

	kinds += test_expect(t, "a misaligned BASE_g",
			     dv_hc_guest_segment_set(BASE_G + 0x800, BASE_G + size, off),
			     -DV_EINVAL);
	kinds += test_expect(t, "BASE_g = LIMIT_g", dv_hc_guest_segment_set(BASE_G, BASE_G, off),
			     -DV_EINVAL);
	kinds += test_expect(t, "BASE_g > LIMIT_g",
			     dv_hc_guest_segment_set(BASE_G + size, BASE_G, off), -DV_EINVAL);
	kinds += test_expect(
		t, "a non-canonical range",
		dv_hc_guest_segment_set(NONCANON_VA, NONCANON_VA + size, gpa - NONCANON_VA),
		-DV_EINVAL);
	kinds += test_expect(
		t, "a gPA range past the end of RAM",
		dv_hc_guest_segment_set(BASE_G, BASE_G + size, ALIGN_UP(top, size) - BASE_G),
		-DV_ERANGE);
	if (gap) {
		kinds += test_expect(
			t, "a gPA range across the I/O gap",
			dv_hc_guest_segment_set(BASE_G, BASE_G + 4 * MiB, gap - 2 * MiB - BASE_G),
			-DV_ERANGE);
	} else {
		test_note(t, "no I/O gap in this memory map: that case not run");
	}
	/* RAM, but not what the tables say: every page maps gpa, not gpa + 2 MiB
	 * (pick_region leaves room for this past the region) */
	if (gpa + size + 2 * MiB <= top)
		kinds += test_expect(t, "a lie: OFFSET_g off by 2 MiB",
				     dv_hc_guest_segment_set(BASE_G, BASE_G + size, off + 2 * MiB),
				     -DV_EFAULT);
	/* RAM past the region, but not mapped there */
	if (gpa + size + 2 * MiB <= top)
		kinds += test_expect(t, "a lie: LIMIT_g past the mapped region",
				     dv_hc_guest_segment_set(BASE_G, BASE_G + size + 2 * MiB, off),
				     -DV_EFAULT);
	test_note(t, "%u kinds of bad triple refused", kinds);
	test_check(t, kinds >= 5, "only %u kinds of bad triple could be tried", kinds);
}

/* A second address space, its own region at BASE_G2 onto the same gPA, its
 * own triple; switching CR3 switches which triple dimvisor applies. */
static void two_address_spaces(struct test *t, u64 gpa, u64 size)
{
	u64 *root2 = paging_clone_root(), cr3 = read_cr3();
	const u64 off2 = gpa - BASE_G2;

	if (!test_check(t, root2 != NULL, "no page for a second PML4"))
		return;
	root2[PT_INDEX(BASE_G, 4)] = 0; /* the first region is not this space's */
	if (!test_expect(t, "mapping the second region",
			 paging_map_in(root2, BASE_G2, gpa, size, X86_PTE_RW, leaf_level), 0))
		return;
	write_cr3((u64)root2);
	holds(t, "a new address space", 0, 0, 0);
	test_expect(t, "the first space's triple in the second (not mapped there)",
		    dv_hc_guest_segment_set(BASE_G, BASE_G + size, gpa - BASE_G), -DV_EFAULT);
	test_expect(t, "SET in the second address space",
		    dv_hc_guest_segment_set(BASE_G2, BASE_G2 + size, off2), 0);
	holds(t, "the second address space", BASE_G2, BASE_G2 + size, off2);
	write_cr3(cr3);
	holds(t, "back in the first", BASE_G, BASE_G + size, gpa - BASE_G);
	write_cr3((u64)root2);
	test_expect(t, "CLEAR in the second", dv_hc_guest_segment_clear(), 0);
	holds(t, "the second after CLEAR", 0, 0, 0);
	test_expect(t, "CLEAR again", dv_hc_guest_segment_clear(), -DV_ENOENT);
	write_cr3(cr3);
	holds(t, "the first, untouched", BASE_G, BASE_G + size, gpa - BASE_G);
}

void test_gseg(struct test *t)
{
	struct dv_segment_info i;
	u64 gpa, size, probe, pa;
	volatile u64 *through;

	if (!(dv_hc_features() & DV_HC_FEATURE_GUEST_SEGMENT)) {
		test_expect(t, "SET where the mode has no guest segment",
			    dv_hc_guest_segment_set(BASE_G, BASE_G + PAGE_2M, 0), -DV_ENOTSUP);
		test_skip(t, "the guest segment is not offered in this mode");
		return;
	}
	if (!pick_region(t, &gpa, &size)) {
		test_skip(t, "RAM too small for a primary region of %s pages",
			  level_names[leaf_level]);
		return;
	}
	if (!test_expect(t, "mapping the primary region",
			 paging_map_in(paging_root(), BASE_G, gpa, size, X86_PTE_RW, leaf_level),
			 0))
		return;
	test_note(t, "primary region gVA 0x%lx-0x%lx -> gPA 0x%lx with %s pages", BASE_G,
		  BASE_G + size, gpa, level_names[leaf_level]);
	/* the region works as mapped: a word through it lands at its gPA */
	probe = size / 2 + 8 * leaf_level;
	through = (volatile u64 *)(BASE_G + probe);
	*through = 0x5e6d0000 + leaf_level;
	test_check(t,
		   paging_translate(BASE_G + probe, &pa) && pa == gpa + probe &&
			   *(volatile u64 *)(gpa + probe) == 0x5e6d0000 + leaf_level,
		   "a write through the region did not land at gPA 0x%lx", gpa + probe);

	holds(t, "before SET", 0, 0, 0);
	if (!test_expect(t, "SET of the primary region",
			 dv_hc_guest_segment_set(BASE_G, BASE_G + size, gpa - BASE_G), 0))
		return;
	holds(t, "after SET", BASE_G, BASE_G + size, gpa - BASE_G);
	if (test_segment_info(t, &i))
		test_check(t,
			   i.mode_effect == DV_MODE_GUEST_DIRECT ||
				   i.mode_effect == DV_MODE_DUAL_DIRECT,
			   "mode in effect %u after SET, expected Guest or Dual Direct",
			   i.mode_effect);
	refusals(t, gpa, size);
	holds(t, "after the refusals", BASE_G, BASE_G + size, gpa - BASE_G);
	two_address_spaces(t, gpa, size);
}
