/* The compaction planner and steps (mm/compact.c) over a fake host: frames
 * that are free, fixed or back a guest page, each with a content tag that
 * moves with its page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "mm/compact.h"

#define NFRAMES 8192 /* 32 MiB of fake host at hPA 0 */
#define NGPA	1024 /* 4 MiB of guest memory */
#define LEN	(2 * COMPACT_CHUNK)

enum state { FREE, GUEST, FIXED, TAKEN };

static struct {
	enum state st[NFRAMES];
	u64 owner[NFRAMES];   /* gPA of a GUEST frame */
	u64 content[NFRAMES]; /* what the frame holds */
	u64 where[NGPA];      /* hPA of each guest page, COMPACT_NONE: ballooned */
	unsigned moves, fail_move_after;
} h;

static enum compact_frame fake_frame(void *ctx, u64 hpa, u64 *gpa)
{
	u64 f = hpa / PAGE_SIZE;

	(void)ctx;
	if (f >= NFRAMES)
		return COMPACT_FIXED;
	if (h.st[f] == GUEST) {
		*gpa = h.owner[f];
		return COMPACT_GUEST;
	}
	return h.st[f] == FREE ? COMPACT_FREE : COMPACT_FIXED;
}

static u64 fake_where(void *ctx, u64 gpa)
{
	(void)ctx;
	return h.where[gpa / PAGE_SIZE];
}

static int fake_claim(void *ctx, u64 hpa)
{
	(void)ctx;
	if (h.st[hpa / PAGE_SIZE] != FREE)
		return -DV_EBUSY;
	h.st[hpa / PAGE_SIZE] = TAKEN;
	return 0;
}

static u64 fake_alloc(void *ctx)
{
	(void)ctx;
	for (u64 f = NFRAMES; f-- > 0;) { /* from the top: the planner prefers low ranges */
		if (h.st[f] == FREE) {
			h.st[f] = TAKEN;
			return f * PAGE_SIZE;
		}
	}
	return COMPACT_NONE;
}

static int fake_move(void *ctx, u64 gpa, u64 to)
{
	u64 from = h.where[gpa / PAGE_SIZE];

	(void)ctx;
	if (h.fail_move_after && h.moves == h.fail_move_after)
		return -DV_ENOMEM;
	assert_int_equal(h.st[to / PAGE_SIZE], TAKEN); /* only ever into a frame it holds */
	assert_int_equal(h.st[from / PAGE_SIZE], GUEST);
	h.content[to / PAGE_SIZE] = h.content[from / PAGE_SIZE];
	h.st[to / PAGE_SIZE] = GUEST;
	h.owner[to / PAGE_SIZE] = gpa;
	h.st[from / PAGE_SIZE] = TAKEN;
	h.where[gpa / PAGE_SIZE] = to;
	h.moves++;
	return 0;
}

static void fake_release(void *ctx, u64 hpa)
{
	(void)ctx;
	assert_int_equal(h.st[hpa / PAGE_SIZE], TAKEN);
	h.st[hpa / PAGE_SIZE] = FREE;
}

static const struct compact_ops ops = {fake_frame, fake_where,	 fake_claim, fake_alloc,
				       fake_move,  fake_release, NULL};

/* Guest pages [0, NGPA) scattered: page g at frame (g * 7) % 1031 * 3 + 16,
 * fixed frames every 97 from 7000 on, the rest free. */
static void scatter(void)
{
	memset(&h, 0, sizeof(h));
	for (u64 f = 7000; f < NFRAMES; f += 97)
		h.st[f] = FIXED;
	for (u64 g = 0; g < NGPA; g++) {
		u64 f = (g * 7) % 1031 * 3 + 16;

		h.st[f] = GUEST;
		h.owner[f] = g * PAGE_SIZE;
		h.content[f] = 0xc0ffee00000ULL + g;
		h.where[g] = f * PAGE_SIZE;
	}
}

static unsigned count(enum state s)
{
	unsigned n = 0;

	for (unsigned f = 0; f < NFRAMES; f++)
		n += h.st[f] == s;
	return n;
}

static u16 fixed[128], guest[128];
static u64 held[LEN / PAGE_SIZE / 64];

static void choose_skips_fixed_and_prefers_few_moves(void **state)
{
	u64 base = 0, moves = 0;

	(void)state;
	scatter();
	assert_int_equal(compact_choose(&ops, 0, NFRAMES * PAGE_SIZE, LEN, COMPACT_CHUNK, fixed,
					guest, 128, &base, &moves),
			 0);
	/* guest pages sit in frames 16..3106, fixed ones from 7000: the best
	 * 4 MiB window is free, past the guest pages and below the fixed ones */
	assert_int_equal(moves, 0);
	assert_true(base >= 3107 * PAGE_SIZE && base + LEN <= 7000 * PAGE_SIZE);
	/* a fixed frame in every window: nowhere */
	for (u64 f = 0; f < NFRAMES; f += 256)
		h.st[f] = FIXED;
	assert_int_equal(compact_choose(&ops, 0, NFRAMES * PAGE_SIZE, LEN, COMPACT_CHUNK, fixed,
					guest, 128, &base, &moves),
			 -DV_ENOMEM);
	assert_int_equal(compact_choose(&ops, 0, NFRAMES * PAGE_SIZE, LEN, 4096, fixed, guest, 64,
					&base, &moves),
			 -DV_EINVAL);
}

/* Steps of at most 64 pages until done: every page at its place, its
 * content with it, no frame lost, fixed frames untouched. */
static void run_to_completion(u64 base)
{
	struct compact_plan p;
	unsigned free_before = count(FREE), fixed_before = count(FIXED), steps = 0;
	int rc;

	assert_int_equal(compact_begin(&p, &ops, 0, LEN, base, held), 0);
	do {
		unsigned before = h.moves;

		rc = compact_step(&p, &ops, 64);
		assert_true(h.moves - before <= 64); /* bounded: the guest runs between */
		steps++;
	} while (rc == 0);
	assert_int_equal(rc, 1);
	assert_true(steps > 1);
	for (u64 g = 0; g < NGPA; g++) {
		assert_int_equal(h.where[g], base + g * PAGE_SIZE);
		assert_int_equal(h.content[h.where[g] / PAGE_SIZE], 0xc0ffee00000ULL + g);
	}
	assert_int_equal(count(TAKEN), 0);
	assert_int_equal(count(FREE), free_before);
	assert_int_equal(count(FIXED), fixed_before);
	assert_int_equal(p.moved, h.moves);
}

static void moves_into_a_free_range(void **state)
{
	u64 base, moves;

	(void)state;
	scatter();
	assert_int_equal(compact_choose(&ops, 0, NFRAMES * PAGE_SIZE, LEN, COMPACT_CHUNK, fixed,
					guest, 128, &base, &moves),
			 0);
	run_to_completion(base);
	assert_int_equal(h.moves, NGPA);
}

/* The target full of guest pages in the wrong places: each moves out first
 * (to its own place when that is free), and everything ends in place. */
static void moves_out_of_an_occupied_range(void **state)
{
	(void)state;
	scatter();
	run_to_completion(0); /* frames 16.. hold scattered pages */
	assert_true(h.moves > NGPA);
}

static void a_ballooned_page_stops_it(void **state)
{
	struct compact_plan p;

	(void)state;
	scatter();
	h.st[h.where[5] / PAGE_SIZE] = FREE; /* page 5 given back */
	h.where[5] = COMPACT_NONE;
	assert_int_equal(compact_begin(&p, &ops, 0, LEN, 0, held), 0);
	while (compact_step(&p, &ops, 2) == 0)
		;
	assert_int_equal(compact_step(&p, &ops, 2), -DV_ENOENT);
	assert_int_equal(p.cursor, 5 * PAGE_SIZE);
	compact_abandon(&p, &ops);
	assert_int_equal(count(TAKEN), 0);
}

static void begin_refuses_a_fixed_frame_and_undoes(void **state)
{
	struct compact_plan p;
	unsigned free_before;

	(void)state;
	scatter();
	h.st[1000] = FIXED;
	free_before = count(FREE);
	assert_int_equal(compact_begin(&p, &ops, 0, LEN, 0, held), -DV_EBUSY);
	assert_int_equal(count(FREE), free_before);
}

/* A failed move leaves a consistent state that can be abandoned. */
static void a_failed_move_abandons_cleanly(void **state)
{
	struct compact_plan p;
	unsigned guests = 0;
	int rc;

	(void)state;
	scatter();
	h.fail_move_after = 100;
	assert_int_equal(compact_begin(&p, &ops, 0, LEN, 0, held), 0);
	while ((rc = compact_step(&p, &ops, 16)) == 0)
		;
	assert_int_equal(rc, -DV_ENOMEM);
	compact_abandon(&p, &ops);
	assert_int_equal(count(TAKEN), 0);
	for (u64 g = 0; g < NGPA; g++) {
		assert_int_equal(h.content[h.where[g] / PAGE_SIZE], 0xc0ffee00000ULL + g);
		guests += h.st[h.where[g] / PAGE_SIZE] == GUEST;
	}
	assert_int_equal(guests, NGPA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(choose_skips_fixed_and_prefers_few_moves),
		cmocka_unit_test(moves_into_a_free_range),
		cmocka_unit_test(moves_out_of_an_occupied_range),
		cmocka_unit_test(a_ballooned_page_stops_it),
		cmocka_unit_test(begin_refuses_a_fixed_frame_and_undoes),
		cmocka_unit_test(a_failed_move_abandons_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
