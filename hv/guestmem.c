#include "hv/guestmem.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/ept.h"
#include <dimvisor/errno.h>

/* EPT tables come from the pool, so that they never sit inside memory the guest
 * may need contiguous or that may move; from the main pmm only when the pool is
 * empty (counted, so the report can say the pool is too small). */
static u64 table_alloc(void *ctx)
{
	struct guestmem *gm = ctx;
	u64 p = gm->pool ? pmm_alloc(gm->pool, 0) : PMM_NONE;

	if (p == PMM_NONE) {
		p = pmm_alloc(gm->pmm, 0);
		if (p != PMM_NONE && gm->pool)
			gm->tables_outside_pool++;
	}
	return p == PMM_NONE ? PT_NO_TABLE : p;
}

static void table_free(void *ctx, u64 phys)
{
	struct guestmem *gm = ctx;
	bool in_pool = gm->pool && pmm_page_state(gm->pool, phys) != PMM_PAGE_ABSENT;

	pmm_free(in_pool ? gm->pool : gm->pmm, phys, 0);
}

/* Zero host memory with rep stosq: much faster than a word loop, in Bochs
 * above all (it runs string instructions in bulk). */
void guestmem_zero_host(u64 hpa, u64 len)
{
	u64 count = len / 8;
	void *dst = (void *)hpa;

	__asm__ volatile("rep stosq" : "+D"(dst), "+c"(count) : "a"(0ULL) : "memory");
}

static unsigned effective_page_shift(unsigned wanted, bool cpu_2m, bool cpu_1g)
{
	if (wanted >= PAGE_1G_SHIFT && !cpu_1g) {
		kprintf("vm: ept=1g: this CPU has no 1 GiB EPT pages; using 2 MiB pages\n");
		wanted = PAGE_2M_SHIFT;
	}
	if (wanted >= PAGE_2M_SHIFT && !cpu_2m) {
		kprintf("vm: ept=2m: this CPU has no 2 MiB EPT pages; using 4 KiB pages\n");
		wanted = PAGE_SHIFT;
	}
	return wanted;
}

/* Largest buddy order usable for a block at gpa with len bytes left. */
static unsigned block_order(u64 gpa, u64 len)
{
	unsigned order = PMM_MAX_ORDER;

	while (order > 0 && ((PAGE_SIZE << order) > len || !IS_ALIGNED(gpa, PAGE_SIZE << order)))
		order--;
	return order;
}

/* Back [gpa, gpa+len) with zeroed host blocks, largest first, as RAM extents. */
static int back_range(struct guestmem *gm, u64 gpa, u64 len)
{
	while (len) {
		unsigned order = block_order(gpa, len);
		u64 hpa = PMM_NONE, size;
		struct extent x;
		int err;

		for (;; order--) {
			hpa = pmm_alloc(gm->pmm, order);
			if (hpa != PMM_NONE || order == 0)
				break;
		}
		if (hpa == PMM_NONE)
			return -DV_ENOMEM;
		size = PAGE_SIZE << order;
		x = (struct extent){.gpa = gpa, .hpa = hpa, .len = size, .kind = EXTENT_RAM};
		err = extent_add(&gm->map, &x);
		if (err) {
			pmm_free(gm->pmm, hpa, order);
			return -DV_ENOMEM; /* -DV_E2BIG: host memory too fragmented for the map */
		}
		/* -DV_ENOSYS without an owner map: nothing to record then */
		pmm_owner_set(gm->pmm, hpa, gpa, size);
		guestmem_zero_host(hpa, size);
		gpa += size;
		len -= size;
	}
	return 0;
}

/* The RAM ranges the loader and the guest see: guest memory, merged where it is
 * contiguous in gPA (whatever backs it). -DV_E2BIG if there are too many. */
static int derive_ranges(struct guestmem *gm)
{
	const struct extent *x;

	gm->nram = 0;
	for (x = extent_next(&gm->map, 0); x; x = extent_next(&gm->map, x->gpa + x->len)) {
		struct guest_range *last = gm->nram ? &gm->ram[gm->nram - 1] : NULL;

		if (!(EXTENT_GUEST_MEMORY & EXTENT_KIND_BIT(x->kind)))
			continue;
		if (last && last->gpa + last->len == x->gpa) {
			last->len += x->len;
			continue;
		}
		if (gm->nram == GUEST_MAX_RAM_RANGES)
			return -DV_E2BIG;
		gm->ram[gm->nram++] = (struct guest_range){x->gpa, x->len};
	}
	return 0;
}

/* Zero the segment's host range, except its bad pages. */
static void zero_segment(const struct vmm_segment *s, const u64 *bad, unsigned nbad)
{
	u64 hpa = s->hpa;

	for (unsigned i = 0; i <= nbad; i++) {
		u64 end = i < nbad ? bad[i] : s->hpa + s->len;

		if (end > hpa)
			guestmem_zero_host(hpa, end - hpa);
		hpa = end + PAGE_SIZE;
	}
}

/* VMM Direct: the run r from one contiguous host range. -DV_ENOMEM when none
 * is free (nothing taken: the caller backs the RAM as in base mode). */
static int lay_out_segment(struct guestmem *gm, struct guest_range r)
{
	u64 bad[VMM_SEGMENT_MAX_HOLES], len = r.len;
	unsigned nbad = 0;
	int err = vmm_segment_claim(&gm->vseg, gm->pmm, r.gpa, len, gm->ept_2m_supported,
				    gm->ept_1g_supported, bad, &nbad);

	if (err)
		return err;
	if (len >= PAGE_1G && gm->vseg.leaf_shift < PAGE_1G_SHIFT)
		kprintf("vm: VMM segment: %s; using %s leaves\n",
			gm->ept_1g_supported ? "no 1 GiB-aligned host range is free"
					     : "this CPU has no 1 GiB EPT pages",
			page_shift_name(gm->vseg.leaf_shift));
	zero_segment(&gm->vseg, bad, nbad);
	err = vmm_segment_map(&gm->vseg, &gm->map, gm->pmm, bad, nbad);
	if (err) {
		extent_map_init(&gm->map, gm->extents, GUEST_MAX_EXTENTS);
		vmm_segment_release(&gm->vseg, gm->pmm);
		return err;
	}
	for (unsigned i = 0; i < gm->vseg.nholes; i++)
		guestmem_zero_host(gm->vseg.hole_spare[i], PAGE_SIZE);
	gm->vseg_active = true;
	return 0;
}

/* RAM below the I/O gap, then the rest from 4 GiB, into the map; the longer
 * of the two runs (the lower of equals, as guestmem_segment_range picks) is
 * the VMM segment when one is wanted and can be had. */
static int lay_out(struct guestmem *gm, u64 mem, u64 iogap)
{
	const struct guest_range run[2] = {{0, MIN(mem, iogap)},
					   {GUEST_HIGHMEM_BASE, mem > iogap ? mem - iogap : 0}};
	unsigned seg = run[1].len > run[0].len;
	bool in_segment = gm->vseg_wanted && lay_out_segment(gm, run[seg]) == 0;

	for (unsigned i = 0; i < 2; i++) {
		int err = run[i].len && !(in_segment && i == seg)
				  ? back_range(gm, run[i].gpa, run[i].len)
				  : 0;

		if (err)
			return err;
	}
	return 0;
}

int guestmem_init(struct guestmem *gm, struct pmm *pmm, struct pmm *pool, u64 mem, u64 iogap,
		  unsigned page_shift, bool cpu_2m, bool cpu_1g, bool vmm_segment)
{
	struct pt_ops ops = {
		.alloc_table = table_alloc,
		.free_table = table_free,
		.table_ptr = NULL,
		.window = 0, /* host memory is identity-mapped */
		.ctx = gm,
	};
	struct ept_caps caps = {{0}};

	memset(gm, 0, sizeof(*gm));
	gm->pmm = pmm;
	gm->pool = pool;
	gm->ept_2m_supported = cpu_2m;
	gm->ept_1g_supported = cpu_1g;
	gm->vseg_wanted = vmm_segment;
	gm->ept_page_shift = effective_page_shift(page_shift, cpu_2m, cpu_1g);
	extent_map_init(&gm->map, gm->extents, GUEST_MAX_EXTENTS);
	/* One EPT holds every leaf size the CPU has; each kind of extent is
	 * capped: RAM at ept=, the segment at its own leaves, holes at 4 KiB. */
	if (ept_init(&gm->ept,
		     ept_page_sizes(cpu_1g   ? PAGE_1G_SHIFT
				    : cpu_2m ? PAGE_2M_SHIFT
					     : PAGE_SHIFT),
		     &ops) < 0)
		return -DV_ENOMEM;
	if (lay_out(gm, mem, iogap) < 0)
		goto fail;
	for (unsigned k = 0; k < EXTENT_NKINDS; k++)
		caps.max_size[k] = guestmem_ept_cap(gm, (enum extent_kind)k);
	/* Nothing but RAM is mapped: the local APIC's page faults into
	 * dimvisor, which emulates it (hv/apic.c). */
	if (derive_ranges(gm) < 0 || ept_map_all(&gm->ept, &gm->map, &caps) < 0)
		goto fail;
	return 0;
fail:
	guestmem_destroy(gm);
	return -DV_ENOMEM;
}

void guestmem_destroy(struct guestmem *gm)
{
	for (unsigned i = 0; i < extent_count(&gm->map); i++) {
		const struct extent *x = &gm->map.e[i];

		if (x->hpa != EXTENT_NO_HPA && x->kind != EXTENT_SEGMENT && x->kind != EXTENT_HOLE)
			pmm_free_range(gm->pmm, x->hpa, x->len); /* clears the owners too */
	}
	if (gm->vseg_active)
		vmm_segment_release(&gm->vseg, gm->pmm);
	gm->vseg_active = false;
	extent_map_init(&gm->map, gm->extents, GUEST_MAX_EXTENTS);
	gm->nram = 0;
	pt_destroy(&gm->ept);
}

unsigned guestmem_ept_cap(const struct guestmem *gm, enum extent_kind kind)
{
	switch (kind) {
	case EXTENT_RAM:
	case EXTENT_HOTADD:
		return ept_largest_size(ept_page_sizes(gm->ept_page_shift));
	case EXTENT_SEGMENT:
		return gm->vseg_active ? ept_largest_size(ept_page_sizes(gm->vseg.leaf_shift)) : 0;
	case EXTENT_HOLE:
		return PT_SIZE_4K;
	default:
		return 0; /* ballooned: no host memory, never mapped */
	}
}

u64 guestmem_ram_bytes(const struct guestmem *gm)
{
	return extent_bytes(&gm->map, EXTENT_GUEST_MEMORY);
}

bool guestmem_was_unplugged(const struct guestmem *gm, u64 gpa)
{
	return guest_ranges_contain(gm->unplugged, gm->nunplugged, ALIGN_DOWN(gpa, PAGE_SIZE),
				    PAGE_SIZE);
}

bool guestmem_is_ram(const struct guestmem *gm, u64 gpa, u64 len)
{
	return extent_covers(&gm->map, gpa, len, EXTENT_GUEST_MEMORY);
}

void *guestmem_ptr(const struct guestmem *gm, u64 gpa, u64 len)
{
	u64 hpa;

	if (len == 0 || (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE || !guestmem_is_ram(gm, gpa, len))
		return NULL;
	if (extent_translate(&gm->map, gpa, &hpa) < 0)
		return NULL;
	return (void *)hpa;
}

/* Write src (zeros when NULL) page by page to [gpa, gpa+len), after checking
 * it is all RAM. */
static int write_pages(const struct guestmem *gm, u64 gpa, const u8 *src, u64 len)
{
	if (len && !guestmem_is_ram(gm, gpa, len))
		return -DV_EFAULT;
	while (len) {
		u64 chunk = MIN(len, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		u8 *p = guestmem_ptr(gm, gpa, chunk);
		if (!p)
			return -DV_EFAULT;
		if (src) {
			memcpy(p, src, chunk);
			src += chunk;
		} else {
			memset(p, 0, chunk);
		}
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

int guestmem_write(const struct guestmem *gm, u64 gpa, const void *src, u64 len)
{
	return write_pages(gm, gpa, src, len);
}

int guestmem_zero(const struct guestmem *gm, u64 gpa, u64 len)
{
	return write_pages(gm, gpa, NULL, len);
}

u64 guestmem_eptp(const struct guestmem *gm)
{
	return ept_pointer(&gm->ept);
}

/* Copy host memory with rep movsq: Bochs runs it far faster than a loop. */
static void copy_host(u64 dst, u64 src, u64 len)
{
	u64 count = len / 8;
	void *d = (void *)dst;
	const void *sp = (const void *)src;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(sp), "+c"(count) : : "memory");
}

/* Move gpa's page to host frame to (the caller's), as an extent of kind
 * (EXTENT_NKINDS: the kind it has): copied, recorded in the map, mapped with a 4 KiB EPT leaf (one
 * inside a large leaf splits just the tables on its path; the caller flushes) and in the owner map.
 * The frame it leaves stays allocated, without owner, in *from. All or nothing: -DV_ENOENT,
 * -DV_E2BIG, -DV_ENOMEM. */
static int move_page(struct guestmem *gm, u64 gpa, u64 to, enum extent_kind kind, u64 *from)
{
	const struct extent *x = extent_lookup(&gm->map, gpa);
	struct extent removed[2], moved, back;
	u64 old;
	int err;

	if (!x || x->hpa == EXTENT_NO_HPA || !IS_ALIGNED(gpa, PAGE_SIZE) ||
	    !IS_ALIGNED(to, PAGE_SIZE))
		return -DV_ENOENT;
	old = x->hpa + (gpa - x->gpa);
	if (kind == EXTENT_NKINDS)
		kind = x->kind;
	moved = (struct extent){.gpa = gpa, .hpa = to, .len = PAGE_SIZE, .kind = kind};
	back = (struct extent){.gpa = gpa, .hpa = old, .len = PAGE_SIZE, .kind = x->kind};
	err = extent_remove(&gm->map, gpa, PAGE_SIZE, removed, 2);
	if (err < 0)
		return err;
	err = extent_add(&gm->map, &moved);
	if (err) {
		extent_add(&gm->map, &back);
		return err;
	}
	copy_host(to, old, PAGE_SIZE);
	pt_defer_frees(&gm->ept, &gm->deferred);
	err = ept_map_extent(&gm->ept, &moved, PT_SIZE_4K);
	pt_defer_frees(&gm->ept, NULL);
	if (err) { /* the engine is all or nothing: EPT still maps the old frame */
		extent_remove(&gm->map, gpa, PAGE_SIZE, removed, 2);
		extent_add(&gm->map, &back);
		return err;
	}
	pmm_owner_clear(gm->pmm, old, PAGE_SIZE);
	pmm_owner_set(gm->pmm, to, gpa, PAGE_SIZE);
	gm->generation++;
	*from = old;
	return 0;
}

int guestmem_migrate_page(struct guestmem *gm, u64 gpa, u64 to, u64 *from)
{
	return move_page(gm, gpa, to, EXTENT_NKINDS, from);
}

int guestmem_escape_page(struct guestmem *gm, u64 gpa)
{
	struct vmm_segment *vs = &gm->vseg;
	u64 old_hpa, spare;
	int err;

	if (!gm->vseg_active)
		return -DV_ENOTSUP;
	if (!IS_ALIGNED(gpa, PAGE_SIZE))
		return -DV_EINVAL;
	if (!segment_contains(&vs->regs, gpa))
		return -DV_ERANGE;
	if (vmm_segment_has_hole(vs, gpa))
		return -DV_EEXIST;
	if (vs->nholes == VMM_SEGMENT_MAX_HOLES)
		return -DV_E2BIG;
	spare = pmm_alloc(gm->pmm, 0);
	if (spare == PMM_NONE)
		return -DV_ENOMEM;
	/* a HOLE where the segment's page was, its contents with it */
	err = move_page(gm, gpa, spare, EXTENT_HOLE, &old_hpa);
	if (err) {
		pmm_free(gm->pmm, spare, 0);
		return err;
	}
	vmm_segment_add_hole(vs, gpa, spare); /* room checked above */
	gm->taken_while_running += PAGE_SIZE;
	return 0;
}

/* Kinds a run of the segment is made of: guest memory, and ballooned pages,
 * which stay in the run (and make it unusable until they are given back). */
#define RUN_KINDS (EXTENT_GUEST_MEMORY | EXTENT_KIND_BIT(EXTENT_BALLOON))
/* Guest memory outside the segment: what a segment can adopt in place. */
#define PLAIN_KINDS (EXTENT_KIND_BIT(EXTENT_RAM) | EXTENT_KIND_BIT(EXTENT_HOTADD))

struct guest_range guestmem_segment_range(const struct guestmem *gm)
{
	struct guest_range r;

	r.len = extent_longest_run(&gm->map, RUN_KINDS, &r.gpa);
	return r;
}

/* Whether r is backed by one host run starting at a multiple of align. */
static bool range_contiguous(const struct guestmem *gm, struct guest_range r, u64 align, u64 *hpa)
{
	const struct extent *x = extent_lookup(&gm->map, r.gpa);
	u64 next;

	if (!x || !IS_ALIGNED(x->hpa + (r.gpa - x->gpa), align))
		return false;
	*hpa = x->hpa + (r.gpa - x->gpa);
	for (next = r.gpa; next < r.gpa + r.len; next = x->gpa + x->len) {
		x = extent_lookup(&gm->map, next);
		if (!x || !(PLAIN_KINDS & EXTENT_KIND_BIT(x->kind)) ||
		    x->hpa - *hpa != x->gpa - r.gpa)
			return false;
	}
	return true;
}

/* Map every extent in r again with its kind's cap (ballooned pages stay
 * unmapped). */
static int remap_range(struct guestmem *gm, struct guest_range r)
{
	for (const struct extent *x = extent_next(&gm->map, r.gpa); x && x->gpa < r.gpa + r.len;
	     x = extent_next(&gm->map, x->gpa + x->len)) {
		unsigned cap = guestmem_ept_cap(gm, x->kind);
		int err = cap ? ept_map_extent(&gm->ept, x, cap) : 0;

		if (err)
			return err;
	}
	return 0;
}

/* The run already lies in one host range aligned for its leaves (a segment
 * turned off before, compaction's work, lucky boot blocks): only the kinds
 * and the mappings change. */
static int adopt_in_place(struct guestmem *gm, struct guest_range r, u64 hpa, unsigned shift)
{
	int err;

	vmm_segment_adopt(&gm->vseg, r.gpa, r.len, hpa, shift);
	for (unsigned i = 0; i < extent_count(&gm->map); i++)
		if (gm->map.e[i].gpa - r.gpa < r.len)
			gm->map.e[i].kind = EXTENT_SEGMENT;
	gm->vseg_active = true;
	pt_defer_frees(&gm->ept, &gm->deferred);
	err = remap_range(gm, r);
	pt_defer_frees(&gm->ept, NULL);
	return err;
}

/* Claim a contiguous host range for the run, copy the run into it and free
 * the frames it leaves. */
static int copy_into_segment(struct guestmem *gm, struct guest_range r, u64 *pages_copied)
{
	static struct extent old[GUEST_MAX_EXTENTS];
	u64 bad[VMM_SEGMENT_MAX_HOLES];
	unsigned nbad = 0;
	int nold, err = vmm_segment_claim(&gm->vseg, gm->pmm, r.gpa, r.len, gm->ept_2m_supported,
					  gm->ept_1g_supported, bad, &nbad);

	if (err)
		return err;
	/* the old extents, their contents copied to where the segment puts them */
	nold = extent_remove(&gm->map, r.gpa, r.len, old, GUEST_MAX_EXTENTS);
	if (nold < 0) {
		vmm_segment_release(&gm->vseg, gm->pmm);
		return nold;
	}
	err = vmm_segment_map(&gm->vseg, &gm->map, gm->pmm, bad, nbad);
	if (err) /* no spare frame for a hole: a broken promise we cannot undo cheaply */
		return err;
	for (int i = 0; i < nold; i++) {
		for (u64 off = 0; off < old[i].len; off += PAGE_SIZE) {
			u64 to;

			extent_translate(&gm->map, old[i].gpa + off, &to);
			copy_host(to, old[i].hpa + off, PAGE_SIZE);
		}
		pmm_free_range(gm->pmm, old[i].hpa, old[i].len); /* clears the owners */
		*pages_copied += old[i].len >> PAGE_SHIFT;
	}
	gm->vseg_active = true;
	pt_defer_frees(&gm->ept, &gm->deferred);
	err = pt_unmap(&gm->ept, r.gpa, r.len);
	if (!err)
		err = remap_range(gm, r);
	pt_defer_frees(&gm->ept, NULL);
	return err;
}

int guestmem_segment_on(struct guestmem *gm, u64 *pages_copied)
{
	struct guest_range r = guestmem_segment_range(gm);
	unsigned shift;
	u64 hpa = 0;

	*pages_copied = 0;
	if (gm->vseg_active)
		return 0;
	gm->generation++;
	if (!r.len)
		return -DV_ENOMEM;
	/* ballooned pages in the run: the segment would silently back them again */
	if (!guestmem_is_ram(gm, r.gpa, r.len))
		return -DV_EBUSY;
	shift = vmm_segment_leaf_shift(r.len, gm->ept_2m_supported, gm->ept_1g_supported);
	if (range_contiguous(gm, r, 1ULL << shift, &hpa))
		return adopt_in_place(gm, r, hpa, shift);
	return copy_into_segment(gm, r, pages_copied);
}

/* The gPA range the active segment covers. */
static struct guest_range segment_covers(const struct vmm_segment *vs)
{
	return (struct guest_range){vs->regs.base, vs->regs.limit - vs->regs.base};
}

void guestmem_segment_off(struct guestmem *gm)
{
	struct guest_range r = segment_covers(&gm->vseg);

	if (!gm->vseg_active)
		return;
	gm->generation++;
	for (unsigned i = 0; i < extent_count(&gm->map); i++)
		if (gm->map.e[i].kind == EXTENT_SEGMENT || gm->map.e[i].kind == EXTENT_HOLE)
			gm->map.e[i].kind = EXTENT_RAM;
	/* the holes' spare frames are ordinary RAM extents now, freed with the rest */
	memset(&gm->vseg, 0, sizeof(gm->vseg));
	gm->vseg_active = false;
	pt_defer_frees(&gm->ept, &gm->deferred);
	remap_range(gm, r);
	pt_defer_frees(&gm->ept, NULL);
}

bool guestmem_segment_misplaced(const struct guestmem *gm)
{
	struct guest_range r = guestmem_segment_range(gm), now = segment_covers(&gm->vseg);

	return gm->vseg_active && (r.gpa != now.gpa || r.len != now.len);
}

void guestmem_release_deferred(struct guestmem *gm)
{
	pt_release_deferred(&gm->ept, &gm->deferred);
}

const struct vseg_footprint *guestmem_segment_footprint(struct guestmem *gm)
{
	struct vseg_footprint *f = &gm->footprint;
	const struct vmm_segment *vs = &gm->vseg;
	u64 all;

	if (f->valid && f->generation == gm->generation)
		return f;
	memset(f, 0, sizeof(*f));
	if (ept_count_tables(&gm->ept, vs->regs.base, vs->len, f->tables) == 0) {
		all = f->tables[1] + f->tables[2] + f->tables[3] + f->tables[4];
		f->needed = ept_tables_needed(vs->regs.base, vs->len, vs->leaf_shift);
		f->splits = all - f->needed;
		f->counted = true;
	}
	f->false_positives = vmm_segment_false_positives(vs);
	f->generation = gm->generation;
	f->valid = true;
	return f;
}

int guestmem_map_device_page(struct guestmem *gm, u64 gpa, u64 hpa)
{
	if (guestmem_is_ram(gm, gpa, PAGE_SIZE))
		return -DV_EINVAL;
	return ept_map_mmio(&gm->ept, gpa, hpa, PAGE_SIZE) < 0 ? -DV_ENOMEM : 0;
}

void guestmem_unmap_device_page(struct guestmem *gm, u64 gpa)
{
	if (!guestmem_is_ram(gm, gpa, PAGE_SIZE))
		pt_unmap(&gm->ept, gpa, PAGE_SIZE);
}
