/* The linear model of Table IV (PAPER.md), in floating point: host only.
 * The guard keeps `make check-model-freestanding`, which compiles every file
 * in mm/model, from seeing floating point. */
#include "mm/model/cost.h"

#ifdef DV_HOSTED

void cost_linear_params_from_refs(struct cost_linear_params *p, const struct cost_ref_params *r,
				  unsigned guest_levels, unsigned nested_levels)
{
	double ref = r->cycles_per_ref, add = r->cycles_per_add;
	unsigned g = guest_levels, h = nested_levels;

	p->c_n = g * ref;
	p->c_v = ((g + 1) * (h + 1) - 1) * ref;
	p->delta_vd = (g + 1) * add; /* g table gPAs + the final gPA */
	p->delta_gd = add;	     /* gPA = gVA + OFFSET_g */
}

void cost_linear_params_default(struct cost_linear_params *p)
{
	struct cost_ref_params r;

	cost_ref_params_default(&r);
	cost_linear_params_from_refs(p, &r, 4, 4);
}

static double cost_frac(u64 n, u64 m)
{
	return m ? (double)n / (double)m : 0.0;
}

void cost_fractions_of(const struct cost_miss_counts *c, enum cost_design d,
		       struct cost_fractions *f)
{
	u64 m = c->m_n;

	*f = (struct cost_fractions){.m_n = (double)m};
	switch (d) {
	case COST_DIRECT_SEGMENT:
		f->f_ds = cost_frac(c->guest_only + c->both, m);
		break;
	case COST_DUAL_DIRECT:
		f->f_dd = cost_frac(c->both, m);
		f->f_vd = cost_frac(c->vmm_only, m);
		f->f_gd = cost_frac(c->guest_only, m);
		break;
	case COST_VMM_DIRECT: /* no guest segment: every VMM-segment miss is F_VD */
		f->f_vd = cost_frac(c->vmm_only + c->both, m);
		break;
	case COST_GUEST_DIRECT: /* no VMM segment: every guest-segment miss is F_GD */
		f->f_gd = cost_frac(c->guest_only + c->both, m);
		break;
	default:
		break;
	}
}

double cost_linear_cycles(const struct cost_linear_params *p, enum cost_design d,
			  const struct cost_fractions *f)
{
	switch (d) {
	case COST_NATIVE:
		return p->c_n * f->m_n;
	case COST_DIRECT_SEGMENT:
		return p->c_n * (1 - f->f_ds) * f->m_n;
	case COST_BASE_VIRT:
		return p->c_v * f->m_n;
	case COST_DUAL_DIRECT:
		return ((p->c_n + p->delta_vd) * f->f_vd + (p->c_n + p->delta_gd) * f->f_gd +
			p->c_v * (1 - f->f_gd - f->f_vd - f->f_dd)) *
		       f->m_n;
	case COST_VMM_DIRECT:
		return ((p->c_n + p->delta_vd) * f->f_vd + p->c_v * (1 - f->f_vd)) * f->m_n;
	case COST_GUEST_DIRECT:
		return ((p->c_n + p->delta_gd) * f->f_gd + p->c_v * (1 - f->f_gd)) * f->m_n;
	default:
		return 0.0;
	}
}

double cost_linear_cycles_of(const struct cost_linear_params *p, enum cost_design d,
			     const struct cost_miss_counts *c)
{
	struct cost_fractions f;

	cost_fractions_of(c, d, &f);
	return cost_linear_cycles(p, d, &f);
}

double cost_ratio(double a, double b)
{
	return b != 0.0 ? a / b : 0.0;
}

#endif /* DV_HOSTED */
