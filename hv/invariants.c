#include "hv/invariants.h"
#include "lib/panic.h"
#include "lib/log.h"
#include "lib/printf.h"

static u64 free_at_start;
static u64 checks;

u64 invariants_checks(void)
{
	return checks;
}

void invariants_start(const struct vcpu *v)
{
	free_at_start = pmm_free_bytes(v->mem->pmm);
}

/* Each backing block must be mapped by EPT at its gPA, onto its hPA, for
 * its first page, its last, and a stride of pages between. */
static void check_backing(const struct guestmem *gm, const struct guest_backing *b,
			  const char *when)
{
	u64 size = PAGE_SIZE << b->order;
	u64 stride = size > 64 * PAGE_SIZE ? size / 64 : PAGE_SIZE;

	for (u64 off = 0; off < size; off += stride) {
		u64 last = off + stride >= size ? size - PAGE_SIZE : off;
		u64 hpa = 0;
		int rc = pt_translate(&gm->ept, b->gpa + last, &hpa, NULL, NULL);

		if (rc < 0 || hpa != b->hpa + last)
			panic("invariant broken (%s): EPT maps gPA 0x%lx to 0x%lx (rc %d), the "
			      "backing says hPA 0x%lx",
			      when, b->gpa + last, hpa, rc, b->hpa + last);
	}
}

void invariants_check(const struct vcpu *v, const char *when)
{
	const struct guestmem *gm = v->mem;
	u64 backed = 0;

	checks++;
	for (unsigned i = 0; i < gm->nbacking; i++) {
		if (!guestmem_is_ram(gm, gm->backing[i].gpa, PAGE_SIZE << gm->backing[i].order))
			panic("invariant broken (%s): backing block %u (gPA 0x%lx) is not guest "
			      "RAM",
			      when, i, gm->backing[i].gpa);
		check_backing(gm, &gm->backing[i], when);
		backed += PAGE_SIZE << gm->backing[i].order;
	}
	if (backed != gm->ram_bytes)
		panic("invariant broken (%s): %lu bytes backed, %lu bytes of guest RAM", when,
		      backed, gm->ram_bytes);
	/* Nothing allocates host memory while a base-mode guest runs. */
	if (pmm_free_bytes(gm->pmm) != free_at_start)
		panic("invariant broken (%s): host memory free went from %lu to %lu bytes", when,
		      free_at_start, pmm_free_bytes(gm->pmm));
	kdebug("invariants: check %lu (%s) holds\n", checks, when);
}
