#include "mm/segment.h"
#include "arch/x86_64/pte.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

/* The paper's filter: 256 bits, 4 hashes (docs/model.md). */
#define ESCAPE_BITS   256
#define ESCAPE_HASHES 4

unsigned vmm_segment_leaf_shift(u64 len, bool cpu_2m, bool cpu_1g)
{
	if (cpu_1g && len >= PAGE_1G)
		return PAGE_1G_SHIFT;
	if (cpu_2m && len >= PAGE_2M)
		return PAGE_2M_SHIFT;
	return PAGE_SHIFT;
}

int vmm_segment_claim(struct vmm_segment *s, struct pmm *pmm, u64 base, u64 len, bool cpu_2m,
		      bool cpu_1g, u64 *bad, unsigned *nbad)
{
	unsigned shift = vmm_segment_leaf_shift(len, cpu_2m, cpu_1g);
	u64 hpa = PMM_NONE;

	memset(s, 0, sizeof(*s));
	*nbad = 0;
	if (len == 0 || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE))
		return -DV_EINVAL;
	/* hPA = gPA + OFFSET_v with both congruent modulo the leaf: base must be
	 * aligned to it. When no range aligned for the largest leaf is free, one
	 * aligned for the next size down still beats 4 KiB leaves. */
	if (!IS_ALIGNED(base, 1ULL << shift))
		return -DV_EINVAL;
	for (;; shift = shift == PAGE_1G_SHIFT ? PAGE_2M_SHIFT : PAGE_SHIFT) {
		hpa = pmm_alloc_contig_bad(pmm, len, 1ULL << shift, bad, VMM_SEGMENT_MAX_HOLES,
					   nbad);
		if (hpa != PMM_NONE || shift == PAGE_SHIFT || (shift == PAGE_2M_SHIFT && !cpu_2m))
			break;
	}
	if (hpa == PMM_NONE)
		return -DV_ENOMEM;
	vmm_segment_adopt(s, base, len, hpa, shift);
	return 0;
}

void vmm_segment_adopt(struct vmm_segment *s, u64 base, u64 len, u64 hpa, unsigned leaf_shift)
{
	memset(s, 0, sizeof(*s));
	s->regs = (struct segment){.base = base, .limit = base + len, .offset = hpa - base};
	s->hpa = hpa;
	s->len = len;
	s->leaf_shift = leaf_shift;
	escape_init(&s->filter, ESCAPE_BITS, ESCAPE_HASHES); /* valid geometry: cannot fail */
}

/* Where a hole at gpa goes in the ascending list. */
static unsigned hole_slot(const struct vmm_segment *s, u64 gpa)
{
	unsigned i = 0;

	while (i < s->nholes && s->hole_gpa[i] < gpa)
		i++;
	return i;
}

bool vmm_segment_has_hole(const struct vmm_segment *s, u64 gpa)
{
	unsigned at = hole_slot(s, gpa);

	return at < s->nholes && s->hole_gpa[at] == gpa;
}

int vmm_segment_add_hole(struct vmm_segment *s, u64 gpa, u64 spare)
{
	unsigned at = hole_slot(s, gpa);
	int err;

	if (s->nholes == VMM_SEGMENT_MAX_HOLES)
		return -DV_E2BIG;
	err = escape_add(&s->filter, gpa);
	if (err)
		return err;
	for (unsigned i = s->nholes; i > at; i--) {
		s->hole_gpa[i] = s->hole_gpa[i - 1];
		s->hole_spare[i] = s->hole_spare[i - 1];
	}
	s->hole_gpa[at] = gpa;
	s->hole_spare[at] = spare;
	s->nholes++;
	return 0;
}

static int add_extent(struct extent_map *m, u64 gpa, u64 hpa, u64 len, enum extent_kind kind)
{
	struct extent x = {.gpa = gpa, .hpa = hpa, .len = len, .kind = kind};

	return len ? extent_add(m, &x) : 0;
}

int vmm_segment_map(struct vmm_segment *s, struct extent_map *m, struct pmm *pmm, const u64 *bad,
		    unsigned nbad)
{
	u64 gpa = s->regs.base;
	int err;

	for (unsigned i = 0; i < nbad; i++) {
		u64 hole = bad[i] - s->regs.offset;
		u64 spare = pmm_alloc(pmm, 0);

		if (spare == PMM_NONE)
			return -DV_ENOMEM;
		err = vmm_segment_add_hole(s, hole, spare);
		if (!err)
			err = add_extent(m, gpa, gpa + s->regs.offset, hole - gpa, EXTENT_SEGMENT);
		if (!err)
			err = add_extent(m, hole, spare, PAGE_SIZE, EXTENT_HOLE);
		if (err)
			return err;
		pmm_owner_set(pmm, spare, hole, PAGE_SIZE);
		gpa = hole + PAGE_SIZE;
	}
	err = add_extent(m, gpa, gpa + s->regs.offset, s->regs.limit - gpa, EXTENT_SEGMENT);
	if (err)
		return err;
	/* Owners of the segment's good frames, between the holes. */
	gpa = s->regs.base;
	for (unsigned i = 0; i <= s->nholes; i++) {
		u64 end = i < s->nholes ? s->hole_gpa[i] : s->regs.limit;

		if (end > gpa)
			pmm_owner_set(pmm, gpa + s->regs.offset, gpa, end - gpa);
		gpa = end + PAGE_SIZE;
	}
	return 0;
}

void vmm_segment_release(struct vmm_segment *s, struct pmm *pmm)
{
	for (unsigned i = 0; i < s->nholes; i++)
		pmm_free_range(pmm, s->hole_spare[i], PAGE_SIZE);
	if (s->len)
		pmm_free_range(pmm, s->hpa, s->len); /* skips the bad pages */
	memset(s, 0, sizeof(*s));
}

u64 vmm_segment_false_positives(const struct vmm_segment *s)
{
	u64 fp = 0;
	unsigned h = 0;

	for (u64 gpa = s->regs.base; gpa < s->regs.limit; gpa += PAGE_SIZE) {
		bool escaped = h < s->nholes && s->hole_gpa[h] == gpa;

		if (escaped)
			h++;
		else if (escape_may_contain(&s->filter, gpa))
			fp++;
	}
	return fp;
}
