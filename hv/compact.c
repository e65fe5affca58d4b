#include "hv/compact.h"
#include "arch/x86_64/cpu.h"
#include "hv/apic.h"
#include "hv/invariants.h"
#include "hv/mode.h"
#include "hv/vcpu.h"
#include "lib/log.h"
#include "lib/printf.h"
#include "mm/compact.h"
#include <dimvisor/errno.h>

#define MAX_CHUNKS    32768			 /* 64 GiB of host memory for the planner */
#define MAX_SEG_PAGES ((4ULL << 30) / PAGE_SIZE) /* segments it builds: up to 4 GiB */

static struct {
	struct compact_stats st;
	struct compact_plan plan;
	bool allowed;
	u64 interval;	   /* guest TSC ticks between steps */
	u64 next;	   /* guest TSC of the next step */
	enum dv_mode from; /* the mode granted when it began */
} c;

static u64 held[MAX_SEG_PAGES / 64];
static u64 pending_escapes[VMM_SEGMENT_MAX_HOLES]; /* asked while compaction ran */
static unsigned npending;
static u16 chunk_fixed[MAX_CHUNKS], chunk_guest[MAX_CHUNKS];

/* --- the host as mm/compact.c sees it ---------------------------------------------- */

static enum compact_frame host_frame(void *ctx, u64 hpa, u64 *gpa)
{
	struct guestmem *gm = ctx;

	switch (pmm_page_state(gm->pmm, hpa)) {
	case PMM_PAGE_FREE:
		return COMPACT_FREE;
	case PMM_PAGE_ALLOCATED:
		return pmm_owner_get(gm->pmm, hpa, gpa) == 0 ? COMPACT_GUEST : COMPACT_FIXED;
	default:
		return COMPACT_FIXED;
	}
}

static u64 host_where(void *ctx, u64 gpa)
{
	u64 hpa;

	return extent_translate(&((struct guestmem *)ctx)->map, gpa, &hpa) < 0 ? COMPACT_NONE : hpa;
}

/* Frames taken and given back while the guest runs are what the invariant
 * checks must be told about (hv/invariants.c). */
static int host_claim(void *ctx, u64 hpa)
{
	struct guestmem *gm = ctx;
	int err = pmm_claim_range(gm->pmm, hpa, PAGE_SIZE);

	if (!err)
		gm->taken_while_running += PAGE_SIZE;
	return err;
}

static u64 host_alloc(void *ctx)
{
	struct guestmem *gm = ctx;
	u64 hpa = pmm_alloc(gm->pmm, 0);

	if (hpa == PMM_NONE)
		return COMPACT_NONE;
	gm->taken_while_running += PAGE_SIZE;
	return hpa;
}

static int host_move(void *ctx, u64 gpa, u64 to)
{
	u64 from;

	return guestmem_migrate_page(ctx, gpa, to, &from);
}

static void host_release(void *ctx, u64 hpa)
{
	struct guestmem *gm = ctx;

	pmm_free(gm->pmm, hpa, 0);
	gm->taken_while_running -= PAGE_SIZE;
}

static struct compact_ops host_ops(struct guestmem *gm)
{
	return (struct compact_ops){host_frame, host_where,   host_claim, host_alloc,
				    host_move,	host_release, gm};
}

/* --- the state -------------------------------------------------------------------- */

const struct compact_stats *compact_stats(void)
{
	return &c.st;
}

/* The mode asked for runs without its VMM segment (hv/mode.c's rule). */
static bool degraded(void)
{
	return mode_granted() != mode_state()->asked;
}

static void fail(const char *why, int err)
{
	c.st.state = DV_COMPACT_FAILED;
	kprintf("vm: compaction for the VMM segment (%lu MiB): %s (%s); the mode stays %s\n",
		c.st.len >> 20, why, dv_strerror(err), config_mode_name(mode_granted()));
}

static void begin(struct vcpu *v)
{
	struct guestmem *gm = v->mem;
	struct compact_ops ops = host_ops(gm);
	struct guest_range run = guestmem_segment_range(gm);
	u64 len = run.len, moves = 0, base = 0;
	u64 align = 1ULL << vmm_segment_leaf_shift(len, gm->ept_2m_supported, gm->ept_1g_supported);
	int err;

	c.st.len = len;
	c.st.attempts++;
	if (align < COMPACT_CHUNK)
		align = COMPACT_CHUNK;
	if (!len || len / PAGE_SIZE > MAX_SEG_PAGES) {
		fail(len ? "its run of RAM is over 4 GiB" : "no RAM to build it from", -DV_EINVAL);
		return;
	}
	if (!guestmem_is_ram(gm, run.gpa, len)) { /* a segment would back them again */
		fail("pages of its range are ballooned", -DV_EBUSY);
		return;
	}
	err = compact_choose(&ops, gm->pmm->lo, gm->pmm->hi, len, align, chunk_fixed, chunk_guest,
			     MAX_CHUNKS, &base, &moves);
	if (err) {
		fail("every aligned host range holds memory that cannot move", err);
		return;
	}
	err = compact_begin(&c.plan, &ops, run.gpa, len, base, held);
	if (err) {
		fail("the range chosen changed under it", err);
		return;
	}
	c.st.state = DV_COMPACT_RUNNING;
	c.st.target = base;
	c.from = mode_granted();
	c.next = apic_now(v);
	kprintf("vm: compaction: freeing host range %016lx-%016lx for the VMM segment (%lu "
		"guest pages in it to move out, steps of %u pages every %u us); mode %s "
		"meanwhile\n",
		base, base + len, moves, COMPACT_STEP_PAGES, COMPACT_STEP_US,
		config_mode_name(c.from));
}

bool compact_covers(u64 gpa)
{
	return c.st.state == DV_COMPACT_RUNNING && gpa - c.plan.gpa0 < c.plan.len;
}

int compact_defer_escape(u64 gpa)
{
	if (c.st.state != DV_COMPACT_RUNNING)
		return -DV_ENOTSUP;
	if (!IS_ALIGNED(gpa, PAGE_SIZE))
		return -DV_EINVAL;
	if (!compact_covers(gpa))
		return -DV_ERANGE;
	for (unsigned i = 0; i < npending; i++)
		if (pending_escapes[i] == gpa)
			return -DV_EEXIST;
	if (npending == VMM_SEGMENT_MAX_HOLES)
		return -DV_E2BIG;
	pending_escapes[npending++] = gpa;
	kinfo("vm: escape of gPA 0x%lx taken while compaction runs: applied when the VMM "
	      "segment is built\n",
	      gpa);
	return 0;
}

/* The escapes asked for meanwhile, now that the segment exists. */
static void apply_pending_escapes(struct vcpu *v)
{
	for (unsigned i = 0; i < npending; i++) {
		int err = guestmem_escape_page(v->mem, pending_escapes[i]);

		if (err)
			kprintf("vm: the escape of gPA 0x%lx asked while compaction ran could not "
				"be applied (%s)\n",
				pending_escapes[i], dv_strerror(err));
	}
	if (npending)
		kinfo("vm: %u escapes asked while compaction ran applied\n", npending);
	npending = 0;
}

void compact_init(struct vcpu *v, bool allowed, u64 tsc_hz)
{
	c.st = (struct compact_stats){.state = DV_COMPACT_IDLE};
	c.allowed = allowed;
	c.interval = tsc_hz / 1000000 * COMPACT_STEP_US;
	if (allowed && degraded())
		begin(v);
}

/* Every page in place: adopt the range as the segment (nothing to copy) and
 * upgrade the mode; host memory changed on purpose, so the invariants are
 * checked and rebased. */
static void finish(struct vcpu *v)
{
	u64 copied = 0;
	int err = guestmem_segment_on(v->mem, &copied);

	vcpu_flush_nested(v);
	guestmem_release_deferred(v->mem);
	invariants_start(v);
	invariants_check(v, "compaction done");
	if (err || !v->mem->vseg_active) {
		fail("the pages are in place, yet the segment could not be adopted", err);
		return;
	}
	c.st.state = DV_COMPACT_DONE;
	c.st.upgrades++;
	apply_pending_escapes(v);
	vcpu_flush_nested(v);
	guestmem_release_deferred(v->mem);
	kprintf("vm: compaction done: %lu pages moved in %lu steps, %lu TSC ticks; VMM segment at "
		"hPA %016lx (%lu pages copied at the end); mode %s -> %s\n",
		c.st.pages_moved, c.st.steps, c.st.tsc, v->mem->vseg.hpa, copied,
		config_mode_name(c.from), config_mode_name(mode_granted()));
}

void compact_tick(struct vcpu *v)
{
	struct compact_ops ops = host_ops(v->mem);
	u64 t0, moved;
	int rc;

	if (c.st.state != DV_COMPACT_RUNNING || apic_now(v) < c.next)
		return;
	t0 = rdtsc();
	moved = c.plan.moved;
	rc = compact_step(&c.plan, &ops, COMPACT_STEP_PAGES);
	vcpu_flush_nested(v); /* before the guest runs: the old frames go back */
	guestmem_release_deferred(v->mem);
	c.st.steps++;
	c.st.pages_moved += c.plan.moved - moved;
	c.st.tsc += rdtsc() - t0;
	c.next = apic_now(v) + c.interval;
	kdebug("compact: step %lu: %lu pages moved, %lu of %lu bytes in place\n", c.st.steps,
	       c.plan.moved - moved, c.plan.cursor, c.plan.len);
	if (rc == 1) {
		finish(v);
	} else if (rc < 0) {
		compact_abandon(&c.plan, &ops);
		fail(rc == -DV_ENOENT ? "a page of the range was ballooned"
				      : "a page could not be moved",
		     rc);
	}
}

u64 compact_next_event(const struct vcpu *v)
{
	(void)v;
	return c.st.state == DV_COMPACT_RUNNING ? c.next : 0;
}

void compact_cancel(struct vcpu *v)
{
	struct compact_ops ops = host_ops(v->mem);

	if (c.st.state != DV_COMPACT_RUNNING)
		return;
	compact_abandon(&c.plan, &ops);
	c.st.state = DV_COMPACT_IDLE;
	npending = 0; /* the mode they were asked for is gone */
	kinfo("vm: compaction stopped by a mode switch after %lu pages moved\n", c.st.pages_moved);
}

void compact_mode_changed(struct vcpu *v)
{
	if (c.allowed && c.st.state != DV_COMPACT_RUNNING && degraded())
		begin(v);
}

void compact_memory_changed(struct vcpu *v)
{
	struct compact_ops ops = host_ops(v->mem);
	struct guest_range run = guestmem_segment_range(v->mem);

	if (c.st.state != DV_COMPACT_RUNNING || (run.gpa == c.plan.gpa0 && run.len == c.plan.len))
		return;
	compact_abandon(&c.plan, &ops);
	c.st.state = DV_COMPACT_IDLE;
	kinfo("vm: compaction starts again: the segment's run is gPA 0x%lx-0x%lx now\n", run.gpa,
	      run.gpa + run.len);
	begin(v);
}

void compact_report(void)
{
	static const char *const states[] = {"idle", "running", "done", "failed"};

	if (!c.st.attempts)
		return;
	kprintf("report: compaction %s: %lu pages moved in %lu steps, %lu TSC ticks, %lu "
		"upgrade%s; target hPA %016lx, %lu MiB\n",
		states[c.st.state], c.st.pages_moved, c.st.steps, c.st.tsc, c.st.upgrades,
		c.st.upgrades == 1 ? "" : "s", c.st.target, c.st.len >> 20);
}
