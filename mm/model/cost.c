/* The per-reference cost model's parameters, and Table IV in integers (every
 * build: the hypervisor's TLB-miss sampling evaluates it). */
#include "mm/model/cost.h"

void cost_ref_params_default(struct cost_ref_params *p)
{
	p->cycles_per_ref = COST_DEFAULT_CYCLES_PER_REF;
	p->cycles_per_add = COST_DEFAULT_CYCLES_PER_ADD;
}

void cost_linear_int_from_refs(struct cost_linear_int *p, const struct cost_ref_params *r,
			       unsigned guest_levels, unsigned nested_levels)
{
	u64 g = guest_levels, h = nested_levels;

	p->c_n = g * r->cycles_per_ref;
	p->c_v = ((g + 1) * (h + 1) - 1) * r->cycles_per_ref;
	p->delta_vd = (g + 1) * r->cycles_per_add; /* g table gPAs + the final gPA */
	p->delta_gd = r->cycles_per_add;	   /* gPA = gVA + OFFSET_g */
}

/* Table IV with each M_n * F_x written as the count of misses it stands for; a
 * design only has the segments it names, so the others' misses walk in full. */
u64 cost_linear_int_cycles(const struct cost_linear_int *p, enum cost_design d,
			   const struct cost_miss_counts *c)
{
	u64 m = c->m_n, g = c->guest_only + c->both, v = c->vmm_only + c->both;

	switch (d) {
	case COST_NATIVE:
		return p->c_n * m;
	case COST_DIRECT_SEGMENT: /* native with the guest segment: its misses cost nothing */
		return p->c_n * (m - g);
	case COST_BASE_VIRT:
		return p->c_v * m;
	case COST_DUAL_DIRECT: /* misses in both segments cost nothing */
		return (p->c_n + p->delta_vd) * c->vmm_only +
		       (p->c_n + p->delta_gd) * c->guest_only +
		       p->c_v * (m - c->guest_only - c->vmm_only - c->both);
	case COST_VMM_DIRECT:
		return (p->c_n + p->delta_vd) * v + p->c_v * (m - v);
	case COST_GUEST_DIRECT:
		return (p->c_n + p->delta_gd) * g + p->c_v * (m - g);
	default:
		return 0;
	}
}
