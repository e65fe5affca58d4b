/* Ballooning and hot-add with host memory and the EPT; see balloon.h. */
#include "hv/balloon.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/string.h"
#include "mm/ept.h"
#include <dimvisor/errno.h>

/* Scratch for one call (the hypervisor runs one vCPU; calls do not nest). */
static u64 scratch[DV_BALLOON_MAX];
static struct extent removed[DV_BALLOON_MAX];
static struct extent hot[DV_BALLOON_MAX]; /* host blocks of a hot-add, at most a page each */
static u64 frames[DV_BALLOON_MAX];
static struct extent backup[GUEST_MAX_EXTENTS];

static unsigned floor_order(u64 pages)
{
	unsigned order = 0;

	while (order < PMM_MAX_ORDER && (2ULL << order) <= pages)
		order++;
	return order;
}

static void free_hot(struct guestmem *gm, unsigned nhot)
{
	for (unsigned i = 0; i < nhot; i++)
		pmm_free_range(gm->pmm, hot[i].hpa, hot[i].len);
}

/* Back [gpa, gpa+len) with the largest host blocks there are (the guest only
 * needs gPA contiguity; contiguous host memory keeps the EPT leaves large and
 * the extents few). Fills hot[], *nhot; -DV_ENOMEM frees what it took. */
static int hotadd_alloc(struct guestmem *gm, u64 gpa, u64 len, unsigned *nhot)
{
	unsigned ceiling = PMM_MAX_ORDER; /* no larger block is left after a failure */

	*nhot = 0;
	while (len) {
		unsigned order = MIN(ceiling, floor_order(len >> PAGE_SHIFT));
		u64 hpa;

		while ((hpa = pmm_alloc(gm->pmm, order)) == PMM_NONE && order > 0)
			order--;
		if (hpa == PMM_NONE) {
			free_hot(gm, *nhot);
			return -DV_ENOMEM;
		}
		ceiling = order;
		hot[(*nhot)++] = (struct extent){
			.gpa = gpa, .hpa = hpa, .len = PAGE_SIZE << order, .kind = EXTENT_HOTADD};
		gpa += PAGE_SIZE << order;
		len -= PAGE_SIZE << order;
	}
	return 0;
}

/* The map is already restored: give the EPT its old mappings back (the
 * tables split for the unmaps are still there, so this needs none) and take
 * the hot-added ones away. A failure here is a broken invariant. */
static void ept_undo_inflate(struct guestmem *gm, unsigned unmapped, unsigned mapped)
{
	for (unsigned i = 0; i < unmapped; i++)
		if (ept_map_extent(&gm->ept, &removed[i], PT_SIZE_4K) < 0)
			panic("balloon: cannot map gPA 0x%lx back after a failed inflate",
			      removed[i].gpa);
	for (unsigned i = 0; i < mapped; i++)
		ept_unmap_extent(&gm->ept, &hot[i]);
}

/* Unmap each ballooned page (a large leaf is split around it) and map the
 * hot-added blocks. -DV_ENOMEM with everything as it was when the EPT has no
 * table left. */
static int ept_inflate(struct guestmem *gm, unsigned n, unsigned nhot)
{
	unsigned unmapped = 0, mapped = 0, cap = guestmem_ept_cap(gm, EXTENT_HOTADD);
	int err = 0;

	pt_defer_frees(&gm->ept, &gm->deferred);
	for (; unmapped < n && !err; unmapped += !err)
		err = ept_unmap_extent(&gm->ept, &removed[unmapped]);
	for (; !err && mapped < nhot; mapped += !err)
		err = ept_map_extent(&gm->ept, &hot[mapped], cap);
	if (err)
		ept_undo_inflate(gm, unmapped, mapped);
	pt_defer_frees(&gm->ept, NULL);
	return err ? -DV_ENOMEM : 0;
}

static void restore_map(struct guestmem *gm, unsigned n)
{
	memcpy(gm->map.e, backup, n * sizeof(backup[0]));
	gm->map.n = n;
}

/* Where the hot-add goes: re-added memory continues the RAM above 4 GiB,
 * other hot-added memory starts on a 1 GiB boundary above everything. */
static int plan_hotadd(const struct guestmem *gm, u64 len, bool unplug, u64 *gpa)
{
	return unplug ? balloon_plan_readd(&gm->map, len, PMM_OWNER_MAX, gpa)
		      : balloon_plan_hotadd(&gm->map, len, PMM_OWNER_MAX, gpa);
}

/* Remember where the unplugged pages were: a page continuing the last run
 * extends it, another starts a run while there is room. */
static void remember_unplugged(struct guestmem *gm, const u64 *pfn, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct guest_range *last =
			gm->nunplugged ? &gm->unplugged[gm->nunplugged - 1] : NULL;
		u64 gpa = pfn[i] << PAGE_SHIFT;

		if (last && last->gpa + last->len == gpa)
			last->len += PAGE_SIZE;
		else if (gm->nunplugged < GUEST_UNPLUGGED_RUNS)
			gm->unplugged[gm->nunplugged++] = (struct guest_range){gpa, PAGE_SIZE};
	}
}

static void say_inflated(unsigned n, bool unplug, const struct dv_mem_range *added, unsigned nhot)
{
	const char *done = unplug ? "unplugged" : "ballooned";

	if (added->len)
		kinfo("vm: balloon: %u pages %s, gPA 0x%lx-0x%lx %s in %u host block%s\n", n, done,
		      added->gpa, added->gpa + added->len, unplug ? "re-added" : "hot-added", nhot,
		      nhot == 1 ? "" : "s");
	else
		kinfo("vm: balloon: %u pages %s\n", n, done);
}

int balloon_inflate(struct guestmem *gm, const u64 *pfn, unsigned n, u32 flags,
		    struct dv_mem_range *added, struct balloon_bad *bad)
{
	bool hotadd = flags & DV_BALLOON_HOTADD, unplug = flags & DV_BALLOON_UNPLUG;
	unsigned nhot = 0, saved = gm->map.n;
	u64 gpa = 0, len = (u64)n << PAGE_SHIFT;
	int err = balloon_check_inflate(&gm->map, pfn, n, scratch, bad);

	*added = (struct dv_mem_range){0, 0};
	if (err)
		return err;
	if (hotadd) {
		err = plan_hotadd(gm, len, unplug, &gpa);
		if (!err)
			err = hotadd_alloc(gm, gpa, len, &nhot);
		if (err)
			return err;
	}
	err = unplug ? balloon_unplug_map(&gm->map, pfn, n, removed, hot, nhot, backup)
		     : balloon_inflate_map(&gm->map, pfn, n, removed, hot, nhot, backup);
	if (!err) { /* the map edit restores itself when it fails, not after */
		err = ept_inflate(gm, n, nhot);
		if (err)
			restore_map(gm, saved);
	}
	if (err) {
		free_hot(gm, nhot);
		return err;
	}
	/* From here nothing fails. The frames go back before the caller's INVEPT:
	 * nothing allocates before it, and the guest runs only after it. */
	for (unsigned i = 0; i < n; i++)
		pmm_free_range(gm->pmm, removed[i].hpa, PAGE_SIZE); /* clears the owner */
	for (unsigned i = 0; i < nhot; i++) {
		guestmem_zero_host(hot[i].hpa, hot[i].len);
		pmm_owner_set(gm->pmm, hot[i].hpa, hot[i].gpa, hot[i].len);
	}
	/* the balloon gives host memory back on purpose, the hot-add takes it */
	gm->taken_while_running += (hotadd ? len : 0) - len;
	if (unplug) {
		remember_unplugged(gm, pfn, n);
		gm->unplugged_bytes += len;
		gm->readded_bytes += hotadd ? len : 0;
	} else {
		gm->hotadded_bytes += hotadd ? len : 0;
	}
	gm->generation++;
	if (hotadd)
		*added = (struct dv_mem_range){.gpa = gpa, .len = len};
	say_inflated(n, unplug, added, nhot);
	return 0;
}

static void free_frames(struct guestmem *gm, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pmm_free(gm->pmm, frames[i], 0);
}

int balloon_deflate(struct guestmem *gm, const u64 *pfn, unsigned n, struct balloon_bad *bad)
{
	unsigned saved = gm->map.n, mapped = 0, cap = guestmem_ept_cap(gm, EXTENT_RAM);
	int err = balloon_check_deflate(&gm->map, pfn, n, scratch, bad);

	if (err)
		return err;
	for (unsigned i = 0; i < n; i++) {
		frames[i] = pmm_alloc(gm->pmm, 0);
		if (frames[i] == PMM_NONE) {
			free_frames(gm, i);
			return -DV_ENOMEM;
		}
	}
	/* Given back as ordinary RAM, wherever it was (the map edit restores
	 * itself when it fails; an EPT failure restores it here). */
	err = balloon_deflate_map(&gm->map, pfn, n, frames, EXTENT_RAM, backup);
	if (!err) {
		pt_defer_frees(&gm->ept, &gm->deferred);
		for (; !err && mapped < n; mapped += !err) {
			struct extent x = {pfn[mapped] << PAGE_SHIFT, frames[mapped], PAGE_SIZE,
					   EXTENT_RAM};

			err = ept_map_extent(&gm->ept, &x, cap);
		}
		for (unsigned i = 0; err && i < mapped; i++)
			pt_unmap(&gm->ept, pfn[i] << PAGE_SHIFT, PAGE_SIZE);
		pt_defer_frees(&gm->ept, NULL);
		if (err)
			restore_map(gm, saved);
	}
	if (err) {
		free_frames(gm, n);
		return err == -DV_E2BIG ? err : -DV_ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		guestmem_zero_host(frames[i], PAGE_SIZE);
		pmm_owner_set(gm->pmm, frames[i], pfn[i] << PAGE_SHIFT, PAGE_SIZE);
	}
	gm->taken_while_running += (u64)n << PAGE_SHIFT;
	gm->deflated_bytes += (u64)n << PAGE_SHIFT;
	gm->generation++;
	kinfo("vm: balloon: %u pages given back\n", n);
	return 0;
}

u64 balloon_bytes(const struct guestmem *gm)
{
	return extent_bytes(&gm->map, EXTENT_KIND_BIT(EXTENT_BALLOON));
}
