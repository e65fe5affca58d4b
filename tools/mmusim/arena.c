/* The table arena; see arena.h. */
#define _GNU_SOURCE /* mremap */
#include <sys/mman.h>

#include <dimvisor/errno.h>
#include "arena.h"

/* Walks read tables at random: huge pages keep the simulating machine's own
 * TLB misses down. Advice only; failure is harmless. */
static void arena_advise(void *p, u64 bytes)
{
	madvise(p, bytes, MADV_HUGEPAGE);
}

int arena_init(struct arena *a, u64 limit)
{
	u64 bytes = MIN(limit, ARENA_INITIAL_BYTES);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -DV_ENOMEM;
	arena_advise(p, bytes);
	a->base = p;
	a->reserved = bytes;
	a->limit = limit;
	a->used = PAGE_SIZE; /* physical page 0 stays unused: 0 never names a table */
	a->moves = 0;
	return 0;
}

void arena_fini(struct arena *a)
{
	if (a->base)
		munmap(a->base, a->reserved);
	a->base = NULL;
}

int arena_make_room(struct arena *a, u64 tables)
{
	u64 want = MIN(a->used + tables * PAGE_SIZE, a->limit), bytes = a->reserved;
	void *p;

	if (want <= a->reserved)
		return 0;
	while (bytes < want)
		bytes = MIN(bytes * 2, a->limit);
	/* In place if the address space after it is free, else elsewhere: the
	 * kernel moves the pages, nothing is copied. */
	p = mremap(a->base, a->reserved, bytes, 0);
	if (p == MAP_FAILED) {
		p = mremap(a->base, a->reserved, bytes, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return -DV_ENOMEM;
	}
	arena_advise(p, bytes);
	if ((u8 *)p != a->base)
		a->moves++;
	a->base = p;
	a->reserved = bytes;
	return 0;
}

static u64 arena_alloc_table(void *ctx)
{
	struct arena *a = ctx;
	u64 phys = a->used;

	if (phys + PAGE_SIZE > a->reserved)
		return PT_NO_TABLE;
	a->used += PAGE_SIZE;
	return phys;
}

/* mmusim only adds mappings, so tables are freed only when a large leaf
 * replaces them, which the layout never asks for; dropping the page is
 * enough. */
static void arena_free_table(void *ctx, u64 phys)
{
}

void arena_pt_ops(struct arena *a, struct pt_ops *ops)
{
	*ops = (struct pt_ops){
		.alloc_table = arena_alloc_table,
		.free_table = arena_free_table,
		.table_ptr = NULL,
		.window = (u64)(uintptr_t)a->base,
		.ctx = a,
	};
}
