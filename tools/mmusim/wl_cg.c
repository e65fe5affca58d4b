/* cg: the memory behaviour of the NAS Parallel Benchmarks CG kernel (Bailey
 * et al., "The NAS Parallel Benchmarks", RNR-94-007, 1994): conjugate-gradient
 * iterations on a sparse matrix in compressed-row form. One iteration is
 *   q = A p        rowstr[], colidx[] (4 bytes), a[] (8 bytes), p[colidx]
 *   d = p . q
 *   z += alpha p; r -= alpha q
 *   rho = r . r
 *   p = r + beta p
 * as in NPB's conj_grad. The matrix is not stored: row j has CG_NZR nonzeros
 * whose columns are drawn from a keyed hash, one per stride of n / CG_NZR
 * columns so a row's columns are sorted (as NPB's are) yet spread over the
 * whole vector; the same matrix is replayed every iteration. */
#include <stdio.h>
#include <stdlib.h>

#include <dimvisor/errno.h>
#include "rng.h"
#include "workload.h"

/* Nonzeros per row: our choice, not NPB's; large enough that the matrix is
 * most of the footprint, as in NPB. */
#define CG_NZR 32
/* Per row: rowstr (4) + 4 vectors (8 each) + CG_NZR * (colidx 4 + a 8). */
#define CG_ROW_BYTES (4 + 4 * 8 + CG_NZR * 12)

enum cg_phase { CG_MATVEC, CG_DOT_PQ, CG_AXPY, CG_DOT_RR, CG_UPDATE_P, CG_PHASES };

struct cg {
	u64 rowstr, colidx, a, p, q, r, z;
	u64 n;
	u64 stride; /* n / CG_NZR: columns per nonzero slot */
	u64 key;
	enum cg_phase phase;
	u64 j;	    /* row or vector element */
	unsigned k; /* nonzero within row j */
};

static int cg_init(struct workload *wl, const struct workload_params *p, char *err, size_t errlen)
{
	struct cg *c;
	u64 n = vspace_usable(&wl->vs, 7) / CG_ROW_BYTES;

	if (n < CG_NZR) {
		snprintf(err, errlen, "cg: footprint too small (at least %d rows needed)", CG_NZR);
		return -DV_EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -DV_ENOMEM;
	c->n = n;
	c->stride = n / CG_NZR;
	c->key = rng_mix64(p->seed ^ 0xc9);
	c->rowstr = vspace_alloc(&wl->vs, "rowstr", (n + 1) * 4);
	c->colidx = vspace_alloc(&wl->vs, "colidx", n * CG_NZR * 4);
	c->a = vspace_alloc(&wl->vs, "a", n * CG_NZR * 8);
	c->p = vspace_alloc(&wl->vs, "p", n * 8);
	c->q = vspace_alloc(&wl->vs, "q", n * 8);
	c->r = vspace_alloc(&wl->vs, "r", n * 8);
	c->z = vspace_alloc(&wl->vs, "z", n * 8);
	wl->st = c;
	snprintf(wl->desc, sizeof(wl->desc), "cg: %llu rows, %d nonzeros per row",
		 (unsigned long long)n, CG_NZR);
	return 0;
}

static inline struct access rd(u64 va, u32 size)
{
	return (struct access){.va = va, .size = size, .kind = ACCESS_READ};
}

static inline struct access wr(u64 va, u32 size)
{
	return (struct access){.va = va, .size = size, .kind = ACCESS_WRITE};
}

/* One nonzero of q = A p, or the row's start / end. Returns accesses made. */
static size_t cg_matvec_step(struct cg *c, struct access *b)
{
	size_t n = 0;

	if (c->k == 0)
		b[n++] = rd(c->rowstr + (c->j + 1) * 4, 4); /* rowstr[j] is carried */
	if (c->k < CG_NZR) {
		u64 e = c->j * CG_NZR + c->k;
		u64 col = c->k * c->stride + rng_below(rng_mix64(c->key ^ e), c->stride);

		b[n++] = rd(c->colidx + e * 4, 4);
		b[n++] = rd(c->a + e * 8, 8);
		b[n++] = rd(c->p + col * 8, 8);
		c->k++;
		return n;
	}
	b[n++] = wr(c->q + c->j * 8, 8);
	c->k = 0;
	c->j++;
	return n;
}

/* One element of the vector phases. */
static size_t cg_vector_step(struct cg *c, struct access *b)
{
	u64 o = c->j * 8;
	size_t n = 0;

	switch (c->phase) {
	case CG_DOT_PQ:
		b[n++] = rd(c->p + o, 8);
		b[n++] = rd(c->q + o, 8);
		break;
	case CG_AXPY:
		b[n++] = rd(c->z + o, 8);
		b[n++] = rd(c->p + o, 8);
		b[n++] = wr(c->z + o, 8);
		b[n++] = rd(c->r + o, 8);
		b[n++] = rd(c->q + o, 8);
		b[n++] = wr(c->r + o, 8);
		break;
	case CG_DOT_RR:
		b[n++] = rd(c->r + o, 8);
		break;
	default: /* CG_UPDATE_P */
		b[n++] = rd(c->r + o, 8);
		b[n++] = rd(c->p + o, 8);
		b[n++] = wr(c->p + o, 8);
		break;
	}
	c->j++;
	return n;
}

static size_t cg_next(void *st, struct access *buf, size_t max)
{
	struct cg *c = st;
	size_t n = 0;

	while (n + 8 <= max) {
		if (c->phase == CG_MATVEC)
			n += cg_matvec_step(c, buf + n);
		else
			n += cg_vector_step(c, buf + n);
		if (c->j == c->n) {
			c->j = 0;
			c->phase = (c->phase + 1) % CG_PHASES;
		}
	}
	return n;
}

static void cg_fini(void *st)
{
	free(st);
}

const struct workload_ops wl_cg_ops = {
	.name = "cg",
	.help = "NPB CG-like conjugate gradient: sparse matrix-vector product and vector updates",
	.init = cg_init,
	.next = cg_next,
	.fini = cg_fini,
};
