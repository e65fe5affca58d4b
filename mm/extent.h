/* The guest-physical map: which host memory backs each part of the guest's physical
 * address space, and as what. One map per VM; the EPT, the guest's memory map, the
 * fw_cfg RAM size and the loader are all derived from it.
 *
 * An extent is [gpa, gpa+len) -> [hpa, hpa+len), page-aligned, of one kind. Extents
 * never overlap; the map keeps them sorted by gpa in a caller-supplied array. Adding
 * an extent that continues a neighbour (same kind, adjacent in gPA and in hPA) merges
 * the two, so guest RAM backed by adjacent buddy blocks is one extent.
 * Not thread-safe: callers serialise. */
#ifndef MM_EXTENT_H
#define MM_EXTENT_H

#include <dimvisor/types.h>

enum extent_kind {
	EXTENT_RAM,	/* ordinary guest RAM, mapped with ept= leaves */
	EXTENT_SEGMENT, /* inside the VMM segment: hPA = gPA + OFFSET_v, largest leaves */
	EXTENT_HOLE,	/* an escaped 4 KiB page of the segment, backed elsewhere */
	EXTENT_HOTADD,	/* RAM hot-added for ballooned memory (mm/balloon.c) */
	EXTENT_BALLOON, /* given away by the guest's balloon: no host memory, not in EPT */
	EXTENT_NKINDS,
};

#define EXTENT_KIND_BIT(k) (1u << (k))
/* Kinds the guest can read and write: everything but ballooned memory. */
#define EXTENT_GUEST_MEMORY                                                                        \
	(EXTENT_KIND_BIT(EXTENT_RAM) | EXTENT_KIND_BIT(EXTENT_SEGMENT) |                           \
	 EXTENT_KIND_BIT(EXTENT_HOLE) | EXTENT_KIND_BIT(EXTENT_HOTADD))
#define EXTENT_ALL_KINDS ((1u << EXTENT_NKINDS) - 1)
#define EXTENT_NO_HPA	 (~0ULL)      /* hpa of an extent without host memory (ballooned) */
#define EXTENT_GPA_LIMIT (1ULL << 48) /* 4-level EPT input (SDM Vol. 3C 29.3) */

struct extent {
	u64 gpa, hpa, len;
	enum extent_kind kind;
};

struct extent_map {
	struct extent *e; /* sorted by gpa, non-overlapping */
	unsigned n, cap;
};

/* An empty map over slots[0..cap). */
void extent_map_init(struct extent_map *m, struct extent *slots, unsigned cap);

/* Add *x, merged with a neighbour it continues. -DV_EINVAL if empty, misaligned, at
 * or past EXTENT_GPA_LIMIT, of an unknown kind, or with hPA wrapping (EXTENT_NO_HPA
 * is required for, and only allowed for, EXTENT_BALLOON); -DV_EEXIST if it overlaps
 * an extent; -DV_E2BIG if the map is full. Nothing changes on error. */
int extent_add(struct extent_map *m, const struct extent *x);

/* Split the extent containing gpa so that one ends and the next starts at gpa.
 * 0 also when gpa already starts an extent. -DV_EINVAL if gpa is misaligned,
 * -DV_ENOENT if no extent contains it, -DV_E2BIG if the map is full. */
int extent_split(struct extent_map *m, u64 gpa);

/* Remove [gpa, gpa+len) from the map; parts not covered are fine, extents partly
 * covered keep the rest. The removed pieces go to out[0..max) in gPA order (out may
 * be NULL when max is 0) so the caller can free and unmap them; returns how many
 * there were. -DV_EINVAL for a misaligned range, -DV_E2BIG if more than max pieces
 * or the map has no slot for a split; nothing changes on error. */
int extent_remove(struct extent_map *m, u64 gpa, u64 len, struct extent *out, unsigned max);

/* The extent containing gpa, or NULL. */
const struct extent *extent_lookup(const struct extent_map *m, u64 gpa);
/* The first extent that ends after gpa (contains it or lies above it), or NULL.
 * Iterate in gPA order: for (e = extent_next(m, 0); e; e = extent_next(m, e->gpa + e->len)). */
const struct extent *extent_next(const struct extent_map *m, u64 gpa);

/* hPA backing gpa: 0, or -DV_ENOENT if gpa is in no extent or one without host memory. */
int extent_translate(const struct extent_map *m, u64 gpa, u64 *hpa);
/* True when [gpa, gpa+len) (len > 0) is covered, without gaps, by extents whose kinds
 * are in the mask (EXTENT_KIND_BIT). */
bool extent_covers(const struct extent_map *m, u64 gpa, u64 len, unsigned kinds);
/* Total bytes of the extents whose kinds are in the mask. */
u64 extent_bytes(const struct extent_map *m, unsigned kinds);
/* The longest run of gPA-contiguous extents whose kinds are in the mask: its
 * length, and its start in *gpa (the lowest of equals; 0 and 0 when none). */
u64 extent_longest_run(const struct extent_map *m, unsigned kinds, u64 *gpa);
/* Number of extents. */
unsigned extent_count(const struct extent_map *m);

const char *extent_kind_name(enum extent_kind kind);

#endif
