#include "hv/invariants.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/ept.h"
#include <dimvisor/errno.h>

static u64 free_at_start;
static u64 checks;

u64 invariants_checks(void)
{
	return checks;
}

void invariants_start(const struct vcpu *v)
{
	free_at_start = pmm_free_bytes(v->mem->pmm) + v->mem->taken_while_running;
}

/* An extent of guest memory must be guest RAM to the rest of dimvisor, be
 * mapped by EPT at its gPA onto its hPA, and own its host frames: checked for
 * its first page, its last, and a stride of pages between. */
static void check_extent(const struct guestmem *gm, const struct extent *x, const char *when)
{
	u64 stride = x->len > 64 * PAGE_SIZE ? (x->len / 64) & ~(PAGE_SIZE - 1) : PAGE_SIZE;

	if (!guestmem_is_ram(gm, x->gpa, x->len))
		panic("invariant broken (%s): extent gPA 0x%lx+0x%lx (%s) is not guest RAM", when,
		      x->gpa, x->len, extent_kind_name(x->kind));
	for (u64 off = 0; off < x->len; off += stride) {
		u64 at = off + stride >= x->len ? x->len - PAGE_SIZE : off;
		u64 hpa = 0, owner = 0;
		int rc = ept_translate(&gm->ept, x->gpa + at, &hpa);

		if (rc < 0 || hpa != x->hpa + at)
			panic("invariant broken (%s): EPT maps gPA 0x%lx to 0x%lx (rc %d), the "
			      "extent map says hPA 0x%lx",
			      when, x->gpa + at, hpa, rc, x->hpa + at);
		rc = pmm_owner_get(gm->pmm, x->hpa + at, &owner);
		if (rc != -DV_ENOSYS && (rc < 0 || owner != x->gpa + at))
			panic("invariant broken (%s): host frame 0x%lx belongs to gPA 0x%lx (rc "
			      "%d), "
			      "the extent map says 0x%lx",
			      when, x->hpa + at, owner, rc, x->gpa + at);
	}
}

/* A ballooned extent must be nobody's memory: not guest RAM to dimvisor,
 * unmapped in EPT (a translation there would serve the guest a page it gave
 * away, or one the host has handed to someone else since), and outside the
 * VMM segment (whose hardware translation would serve it regardless). */
static void check_ballooned(const struct guestmem *gm, const struct extent *x, const char *when)
{
	u64 stride = x->len > 64 * PAGE_SIZE ? (x->len / 64) & ~(PAGE_SIZE - 1) : PAGE_SIZE;

	if (guestmem_is_ram(gm, x->gpa, PAGE_SIZE))
		panic("invariant broken (%s): ballooned gPA 0x%lx is guest RAM", when, x->gpa);
	if (gm->vseg_active && x->gpa < gm->vseg.regs.limit && x->gpa + x->len > gm->vseg.regs.base)
		panic("invariant broken (%s): ballooned gPA 0x%lx+0x%lx is inside the VMM segment",
		      when, x->gpa, x->len);
	for (u64 off = 0; off < x->len; off += stride) {
		u64 at = off + stride >= x->len ? x->len - PAGE_SIZE : off, hpa = 0;

		if (ept_translate(&gm->ept, x->gpa + at, &hpa) != -DV_ENOENT)
			panic("invariant broken (%s): ballooned gPA 0x%lx is mapped in EPT (to "
			      "0x%lx)",
			      when, x->gpa + at, hpa);
	}
}

/* A hot-unplugged page (as far as remembered) that is in no extent must be
 * unmapped in EPT; checked at a stride, as ballooned extents are. (One that
 * is in the map again was re-added: a later re-add can land on unplugged
 * pages at the top of RAM, and check_extent covers it.) */
static void check_unplugged(const struct guestmem *gm, const struct guest_range *r,
			    const char *when)
{
	u64 stride = r->len > 64 * PAGE_SIZE ? (r->len / 64) & ~(PAGE_SIZE - 1) : PAGE_SIZE;

	for (u64 off = 0; off < r->len; off += stride) {
		u64 at = off + stride >= r->len ? r->len - PAGE_SIZE : off, hpa = 0;

		if (!extent_lookup(&gm->map, r->gpa + at) &&
		    ept_translate(&gm->ept, r->gpa + at, &hpa) != -DV_ENOENT)
			panic("invariant broken (%s): unplugged gPA 0x%lx is mapped in EPT (to "
			      "0x%lx)",
			      when, r->gpa + at, hpa);
	}
}

void invariants_check(const struct vcpu *v, const char *when)
{
	const struct guestmem *gm = v->mem;
	u64 backed = 0;
	int rc;

	checks++;
	for (const struct extent *x = extent_next(&gm->map, 0); x;
	     x = extent_next(&gm->map, x->gpa + x->len)) {
		if (x->kind == EXTENT_BALLOON)
			check_ballooned(gm, x, when);
		if (!(EXTENT_GUEST_MEMORY & EXTENT_KIND_BIT(x->kind)) || x->hpa == EXTENT_NO_HPA)
			continue;
		check_extent(gm, x, when);
		backed += x->len;
	}
	for (unsigned i = 0; i < gm->nunplugged; i++)
		check_unplugged(gm, &gm->unplugged[i], when);
	if (backed != guestmem_ram_bytes(gm))
		panic("invariant broken (%s): %lu bytes backed, %lu bytes of guest RAM", when,
		      backed, guestmem_ram_bytes(gm));
	/* Host memory is only taken while the guest runs, or given back, for what
	 * guestmem counts (live escapes, hot-add; ballooned pages). */
	if (pmm_free_bytes(gm->pmm) + gm->taken_while_running != free_at_start)
		panic("invariant broken (%s): host memory free went from %lu to %lu bytes, with "
		      "%ld taken on purpose",
		      when, free_at_start, pmm_free_bytes(gm->pmm), (s64)gm->taken_while_running);
	/* The allocator's own check is linear in all of host memory: every 16th
	 * time, and always at the end of a run. */
	rc = checks % 16 == 1 || strcmp(when, "end of run") == 0 ? pmm_check(gm->pmm) : 0;
	if (rc < 0)
		panic("invariant broken (%s): the host allocator's invariant %d", when, -rc);
	kdebug("invariants: check %lu (%s) holds\n", checks, when);
}
