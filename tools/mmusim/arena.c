/* The table arena; see arena.h. */
#include <sys/mman.h>

#include <dimvisor/errno.h>
#include "arena.h"

int arena_init(struct arena *a, u64 bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -DV_ENOMEM;
	/* Walks read tables at random: huge pages keep the simulating
	 * machine's own TLB misses down. Advice only; failure is harmless. */
	madvise(p, bytes, MADV_HUGEPAGE);
	a->base = p;
	a->reserved = bytes;
	a->used = PAGE_SIZE; /* physical page 0 stays unused: 0 never names a table */
	return 0;
}

void arena_fini(struct arena *a)
{
	if (a->base)
		munmap(a->base, a->reserved);
	a->base = NULL;
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
