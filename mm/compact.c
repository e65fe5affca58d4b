#include "mm/compact.h"
#include <dimvisor/errno.h>

#define FRAMES_PER_CHUNK (COMPACT_CHUNK / PAGE_SIZE)

/* --- the planner ------------------------------------------------------------------ */

/* Per chunk of [lo, hi): frames that cannot move, and guest pages. */
static void count_chunks(const struct compact_ops *o, u64 lo, unsigned n, u16 *fixed, u16 *guest)
{
	for (unsigned c = 0; c < n; c++) {
		fixed[c] = guest[c] = 0;
		for (u64 f = 0; f < FRAMES_PER_CHUNK; f++) {
			u64 gpa;
			enum compact_frame k =
				o->frame(o->ctx, lo + c * COMPACT_CHUNK + f * PAGE_SIZE, &gpa);

			fixed[c] += k == COMPACT_FIXED;
			guest[c] += k == COMPACT_GUEST;
		}
	}
}

int compact_choose(const struct compact_ops *o, u64 lo, u64 hi, u64 len, u64 align, u16 *fixed,
		   u16 *guest, unsigned maxchunks, u64 *base, u64 *moves)
{
	u64 span = ALIGN_UP(len, COMPACT_CHUNK) / COMPACT_CHUNK, best = COMPACT_NONE;
	unsigned n;

	if (!len || len % PAGE_SIZE || align < COMPACT_CHUNK || (align & (align - 1)) || hi <= lo)
		return -DV_EINVAL;
	lo = ALIGN_UP(lo, COMPACT_CHUNK);
	n = (unsigned)MIN((ALIGN_DOWN(hi, COMPACT_CHUNK) - lo) / COMPACT_CHUNK, (u64)maxchunks);
	count_chunks(o, lo, n, fixed, guest);
	for (u64 at = ALIGN_UP(lo, align); (at - lo) / COMPACT_CHUNK + span <= n; at += align) {
		u64 first = (at - lo) / COMPACT_CHUNK, cost = 0;
		bool ok = true;

		for (u64 c = first; c < first + span && ok; c++) {
			ok = fixed[c] == 0;
			cost += guest[c];
		}
		if (ok && (best == COMPACT_NONE || cost < *moves)) {
			best = at;
			*moves = cost;
		}
	}
	if (best == COMPACT_NONE)
		return -DV_ENOMEM;
	*base = best;
	return 0;
}

/* --- the steps -------------------------------------------------------------------- */

static bool is_held(const struct compact_plan *p, u64 hpa)
{
	u64 i = (hpa - p->base) / PAGE_SIZE;

	return p->held[i / 64] & (1ULL << (i % 64));
}

static void set_held(struct compact_plan *p, u64 hpa, bool on)
{
	u64 i = (hpa - p->base) / PAGE_SIZE;

	if (on)
		p->held[i / 64] |= 1ULL << (i % 64);
	else
		p->held[i / 64] &= ~(1ULL << (i % 64));
}

static bool in_target(const struct compact_plan *p, u64 hpa)
{
	return hpa - p->base < p->len;
}

int compact_begin(struct compact_plan *p, const struct compact_ops *o, u64 gpa0, u64 len, u64 base,
		  u64 *held)
{
	*p = (struct compact_plan){.gpa0 = gpa0, .len = len, .base = base, .held = held};
	for (u64 i = 0; i < (len / PAGE_SIZE + 63) / 64; i++)
		held[i] = 0;
	for (u64 off = 0; off < len; off += PAGE_SIZE) {
		u64 gpa;
		enum compact_frame k = o->frame(o->ctx, base + off, &gpa);

		if (k == COMPACT_GUEST)
			continue;
		if (k == COMPACT_FIXED || o->claim(o->ctx, base + off) < 0) {
			compact_abandon(p, o);
			return -DV_EBUSY;
		}
		set_held(p, base + off, true);
	}
	return 0;
}

/* The page of another gPA sits on frame at, which the cursor's page needs:
 * move it to its own target when that is held, else out of the target. */
static int move_away(struct compact_plan *p, const struct compact_ops *o, u64 at, u64 gpa)
{
	u64 own = p->base + (gpa - p->gpa0), to;
	bool home = gpa - p->gpa0 < p->len && is_held(p, own);
	int err;

	to = home ? own : o->alloc(o->ctx);
	if (to == COMPACT_NONE)
		return -DV_ENOMEM;
	err = o->move(o->ctx, gpa, to);
	if (err) {
		if (!home)
			o->release(o->ctx, to);
		return err;
	}
	if (home)
		set_held(p, own, false);
	set_held(p, at, true);
	p->moved++;
	return 0;
}

/* Make the cursor's target frame held (free of pages, ours). */
static int clear_target(struct compact_plan *p, const struct compact_ops *o, u64 target)
{
	u64 other;

	if (is_held(p, target))
		return 0;
	switch (o->frame(o->ctx, target, &other)) {
	case COMPACT_GUEST:
		return move_away(p, o, target, other);
	case COMPACT_FREE: /* a frame the guest gave back meanwhile (ballooning) */
		if (o->claim(o->ctx, target) < 0)
			return -DV_EBUSY;
		set_held(p, target, true);
		return 0;
	default:
		return -DV_EBUSY;
	}
}

int compact_step(struct compact_plan *p, const struct compact_ops *o, unsigned budget)
{
	while (p->cursor < p->len) {
		u64 gpa = p->gpa0 + p->cursor, target = p->base + p->cursor;
		u64 from = o->where(o->ctx, gpa);
		int err;

		if (from == COMPACT_NONE)
			return -DV_ENOENT;
		if (from == target) {
			p->cursor += PAGE_SIZE;
			continue;
		}
		if (budget < 2)
			return 0; /* a move here may take two */
		err = clear_target(p, o, target);
		if (!err)
			err = o->move(o->ctx, gpa, target);
		if (err)
			return err;
		set_held(p, target, false);
		if (in_target(p, from))
			set_held(p, from, true);
		else
			o->release(o->ctx, from);
		p->moved++;
		p->cursor += PAGE_SIZE;
		budget -= 2;
	}
	return 1;
}

void compact_abandon(struct compact_plan *p, const struct compact_ops *o)
{
	for (u64 off = 0; off < p->len; off += PAGE_SIZE) {
		if (is_held(p, p->base + off)) {
			o->release(o->ctx, p->base + off);
			set_held(p, p->base + off, false);
		}
	}
}
