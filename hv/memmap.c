/* Memory-map normalisation. The map is small (at most a few hundred entries),
 * so normalize sweeps over the entries' boundaries in address order, asking at
 * each one which type wins there: O(n^2), no allocation, no scratch space. */
#include "hv/memmap.h"

#include <dimvisor/errno.h>

/* End (exclusive) of e; an entry that would wrap past 2^64 ends at 2^64 - 1. */
static u64 entry_end(const struct boot_mmap_entry *e)
{
	return e->len > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->len;
}

static bool entry_empty(const struct boot_mmap_entry *e)
{
	return entry_end(e) == e->base;
}

/* Precedence where entries overlap: available loses to everything; otherwise
 * the higher (more restrictive) type number wins. */
static u64 type_rank(u32 type)
{
	return type == BOOT_MEM_AVAILABLE ? 0 : (u64)type + 1;
}

/* The winning type among the entries covering address x; false when none does. */
static bool type_at(const struct boot_mmap_entry *in, unsigned n, u64 x, u32 *type)
{
	bool covered = false;

	for (unsigned i = 0; i < n; i++) {
		if (in[i].base > x || entry_end(&in[i]) <= x)
			continue;
		if (!covered || type_rank(in[i].type) > type_rank(*type))
			*type = in[i].type;
		covered = true;
	}
	return covered;
}

/* The lowest entry start or end above x (or at/above x with inclusive, used
 * for the very first point); false when there is none. */
static bool next_boundary(const struct boot_mmap_entry *in, unsigned n, u64 x, bool inclusive,
			  u64 *next)
{
	bool found = false;

	for (unsigned i = 0; i < n; i++) {
		const u64 points[2] = {in[i].base, entry_end(&in[i])};

		if (entry_empty(&in[i]))
			continue;
		for (unsigned k = 0; k < 2; k++) {
			bool above = inclusive ? points[k] >= x : points[k] > x;

			if (above && (!found || points[k] < *next)) {
				*next = points[k];
				found = true;
			}
		}
	}
	return found;
}

/* Append [base, end) of type to out, merging with the previous range when it
 * touches and has the same type. */
static int emit(struct boot_mmap_entry *out, unsigned *count, unsigned max_out, u64 base, u64 end,
		u32 type)
{
	if (*count > 0) {
		struct boot_mmap_entry *last = &out[*count - 1];

		if (last->type == type && last->base + last->len == base) {
			last->len += end - base;
			return 0;
		}
	}
	if (*count >= max_out)
		return -DV_E2BIG;
	out[(*count)++] = (struct boot_mmap_entry){.base = base, .len = end - base, .type = type};
	return 0;
}

int memmap_normalize(const struct boot_mmap_entry *in, unsigned n, struct boot_mmap_entry *out,
		     unsigned max_out)
{
	unsigned count = 0;
	u64 x, next;

	if (!next_boundary(in, n, 0, true, &x))
		return 0;
	/* Between two consecutive boundaries the set of covering entries is
	 * constant, so one lookup per elementary interval decides its type. */
	while (next_boundary(in, n, x, false, &next)) {
		u32 type = 0; /* set by type_at; initialised for -O2 maybe-uninitialized */

		if (type_at(in, n, x, &type)) {
			int rc = emit(out, &count, max_out, x, next, type);

			if (rc)
				return rc;
		}
		x = next;
	}
	return (int)count;
}

unsigned memmap_usable(const struct boot_mmap_entry *norm, unsigned n, struct boot_mmap_entry *out,
		       unsigned max)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++) {
		u64 start, end;

		if (norm[i].type != BOOT_MEM_AVAILABLE || entry_empty(&norm[i]))
			continue;
		if (norm[i].base > ALIGN_DOWN(UINT64_MAX, MEMMAP_PAGE))
			continue; /* rounding up would wrap: less than a page left */
		start = ALIGN_UP(norm[i].base, MEMMAP_PAGE);
		end = ALIGN_DOWN(entry_end(&norm[i]), MEMMAP_PAGE);
		if (end <= start)
			continue;
		if (count < max)
			out[count] = (struct boot_mmap_entry){
				.base = start, .len = end - start, .type = BOOT_MEM_AVAILABLE};
		count++;
	}
	return count;
}

u64 memmap_top_of_ram(const struct boot_mmap_entry *map, unsigned n)
{
	u64 top = 0;

	for (unsigned i = 0; i < n; i++)
		if (map[i].type == BOOT_MEM_AVAILABLE && !entry_empty(&map[i]))
			top = MAX(top, entry_end(&map[i]));
	return top;
}
