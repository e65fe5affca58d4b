/* The guest segment (Guest Direct, Dual Direct): the triple BASE_g, LIMIT_g,
 * OFFSET_g a guest registers for its primary region, checked against guest
 * RAM and against the guest's own live page tables before it is believed,
 * and kept per address space (the paper keeps it per process: a guest
 * switches it on a context switch by registering again, or finds the triple
 * of the address space it switches to still there). */
#ifndef HV_GUEST_SEGMENT_H
#define HV_GUEST_SEGMENT_H

#include <dimvisor/types.h>
#include "mm/model/segment.h"
#include "mm/model/walk.h"

#define GUEST_SEGMENT_SPACES 8 /* address spaces with a triple at once */

/* Whether [gpa, gpa + len) is entirely guest RAM (one piece: not across the
 * I/O gap). */
typedef bool (*guest_ram_fn)(void *ctx, u64 gpa, u64 len);

/* Check triple s: 0, or
 *   -DV_EINVAL: base >= limit, a value not 4 KiB aligned, or [base, limit) not
 *               canonical (or across the non-canonical hole);
 *   -DV_ERANGE: [base + offset, limit + offset) is not one piece of guest RAM
 *               (outside it, or across the I/O gap);
 *   -DV_EFAULT: the tables t do not map every page of [base, limit) to
 *               address + offset (a lie, or a hole): *bad is the first such gVA.
 * The tables are walked a leaf at a time with the MMU model's walker. */
int guest_segment_check(const struct segment *s, guest_ram_fn is_ram, void *ram_ctx,
			const struct walk_tables *t, const struct walk_env *env, u64 *bad);

struct guest_segment_space {
	u64 cr3; /* the address space: CR3's table address */
	struct segment seg;
};

struct guest_segments {
	struct guest_segment_space space[GUEST_SEGMENT_SPACES];
	unsigned n;
};

/* Keep s as the triple of address space cr3 (replacing one it had).
 * -DV_E2BIG when GUEST_SEGMENT_SPACES spaces have one already. */
int guest_segments_set(struct guest_segments *g, u64 cr3, const struct segment *s);
/* Forget cr3's triple: 0, or -DV_ENOENT if it had none. */
int guest_segments_clear(struct guest_segments *g, u64 cr3);
/* cr3's triple, or NULL. */
const struct segment *guest_segments_lookup(const struct guest_segments *g, u64 cr3);

#endif
