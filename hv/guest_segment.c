#include "hv/guest_segment.h"
#include "hv/cpu_rules.h"
#include "arch/x86_64/pte.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

#define CR3_TABLE_MASK PTE_ADDR_MASK

int guest_segment_check(const struct segment *s, guest_ram_fn is_ram, void *ram_ctx,
			const struct walk_tables *t, const struct walk_env *env, u64 *bad)
{
	u64 len = s->limit - s->base;

	*bad = s->base;
	if (s->limit <= s->base || !IS_ALIGNED(s->base | s->limit | s->offset, PAGE_SIZE))
		return -DV_EINVAL;
	/* both ends canonical and on the same side of the hole */
	if (!is_canonical(s->base, 48) || !is_canonical(s->limit - 1, 48) ||
	    ((s->base ^ (s->limit - 1)) >> 63))
		return -DV_EINVAL;
	if (s->base + s->offset + len < s->base + s->offset || /* wraps */
	    !is_ram(ram_ctx, s->base + s->offset, len))
		return -DV_ERANGE;
	for (u64 gva = s->base; gva < s->limit;) {
		struct walk_refs refs;
		struct walk_leaf leaf;
		struct walk_fault f;

		memset(&refs, 0, sizeof(refs));
		*bad = gva;
		if (walk_x86(t, gva, 0, env, NULL, &refs, &leaf, &f) < 0 ||
		    leaf.pa != gva + s->offset)
			return -DV_EFAULT;
		/* the leaf maps its whole aligned block linearly: skip to its end */
		gva = (gva | ((1ULL << leaf.shift) - 1)) + 1;
		if (gva == 0)
			break;
	}
	return 0;
}

static struct guest_segment_space *find(struct guest_segments *g, u64 cr3)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->space[i].cr3 == (cr3 & CR3_TABLE_MASK))
			return &g->space[i];
	return NULL;
}

int guest_segments_set(struct guest_segments *g, u64 cr3, const struct segment *s)
{
	struct guest_segment_space *sp = find(g, cr3);

	if (!sp) {
		if (g->n == GUEST_SEGMENT_SPACES)
			return -DV_E2BIG;
		sp = &g->space[g->n++];
		sp->cr3 = cr3 & CR3_TABLE_MASK;
	}
	sp->seg = *s;
	return 0;
}

int guest_segments_clear(struct guest_segments *g, u64 cr3)
{
	struct guest_segment_space *sp = find(g, cr3);

	if (!sp)
		return -DV_ENOENT;
	*sp = g->space[--g->n];
	return 0;
}

const struct segment *guest_segments_lookup(const struct guest_segments *g, u64 cr3)
{
	struct guest_segment_space *sp = find((struct guest_segments *)g, cr3);

	return sp ? &sp->seg : NULL;
}
