/* Costs of address translation, two methods side by side:
 *  (a) the paper's linear model (Table IV of PAPER.md): cycles spent on page
 *      walks from the native TLB misses M_n and the fractions F of misses
 *      that fall in the direct segments; hosted only (floating point);
 *  (b) a per-reference model: cycles per walk memory reference plus cycles
 *      per segment addition, summed over what the simulation did.
 * The slides give no parameter values. dimvisor's defaults are derived from
 * (b)'s two constants and the walk lengths; see docs/model.md. */
#ifndef MM_MODEL_COST_H
#define MM_MODEL_COST_H

#include <dimvisor/types.h>

/* Translations that missed the TLBs (M_n), split by where the data address
 * lies: in the guest segment only, in the VMM segment only (its gPA, not
 * escaped), in both. The rest (neither) is m_n minus the three. */
struct cost_miss_counts {
	u64 m_n;
	u64 guest_only;
	u64 vmm_only;
	u64 both;
};

/* (b) Defaults: 12 cycles per reference is the L2-cache load latency of
 * Sandy Bridge (Intel 64 and IA-32 Architectures Optimization Reference
 * Manual, Sandy Bridge cache table: L1 4, L2 12, LLC 26-31 cycles), on the
 * reasoning that page-table entries usually hit the data caches; 1 cycle per
 * segment addition is one 64-bit ALU add. Neither comes from the paper. */
#define COST_DEFAULT_CYCLES_PER_REF 12
#define COST_DEFAULT_CYCLES_PER_ADD 1

struct cost_ref_params {
	u32 cycles_per_ref; /* one memory reference of a walk */
	u32 cycles_per_add; /* one segment addition (BASE/LIMIT check + add) */
};

void cost_ref_params_default(struct cost_ref_params *p);

/* (b) Cycles of refs walk references and adds segment additions. */
static inline u64 cost_ref_cycles(const struct cost_ref_params *p, u64 refs, u64 adds)
{
	return refs * p->cycles_per_ref + adds * p->cycles_per_add;
}

/* The designs of Table IV, plus the two baselines. Same order as
 * enum model_mode so model_cost_design() is a cast. */
enum cost_design {
	COST_NATIVE = 0,     /* C_n * M_n */
	COST_DIRECT_SEGMENT, /* C_n * (1 - F_DS) * M_n */
	COST_BASE_VIRT,	     /* C_v * M_n */
	COST_DUAL_DIRECT,
	COST_VMM_DIRECT,
	COST_GUEST_DIRECT,
	COST_DESIGNS,
};

/* (a) in integers, for the hypervisor (no floating point there): Table IV with
 * whole-cycle parameters and the miss counts themselves, M_n * F being a count.
 * Equal to cost_linear_cycles_of on the same numbers (a unit test holds it). */
struct cost_linear_int {
	u64 c_n, c_v, delta_vd, delta_gd;
};

/* from_refs in integers: C_n = g refs, C_v = ((g+1)(h+1)-1) refs, Delta_VD =
 * (g+1) adds, Delta_GD = 1 add. */
void cost_linear_int_from_refs(struct cost_linear_int *p, const struct cost_ref_params *r,
			       unsigned guest_levels, unsigned nested_levels);
u64 cost_linear_int_cycles(const struct cost_linear_int *p, enum cost_design d,
			   const struct cost_miss_counts *c);

#ifdef DV_HOSTED
/* (a) Parameters of Table IV, in cycles. */
struct cost_linear_params {
	double c_n;	 /* cycles of a native page walk */
	double c_v;	 /* cycles of a virtualized (2D) page walk */
	double delta_vd; /* extra cycles of a walk that uses the VMM segment */
	double delta_gd; /* extra cycles of a walk that uses the guest segment */
};

/* F and M_n for one design. Each F is the fraction of M_n the design's
 * enabled segments cover: a design with only the VMM segment counts misses
 * in both segments as F_VD, and so on; F_DS is the guest segment's share. */
struct cost_fractions {
	double m_n;
	double f_ds, f_dd, f_vd, f_gd;
};

/* Parameters derived from (b): C_n = g refs, C_v = (g+1)(h+1)-1 refs,
 * Delta_VD = (g+1) adds (every guest table read and the final gPA go through
 * the VMM segment), Delta_GD = 1 add; g, h = guest and nested walk levels. */
void cost_linear_params_from_refs(struct cost_linear_params *p, const struct cost_ref_params *r,
				  unsigned guest_levels, unsigned nested_levels);
/* from_refs with the default (b) parameters and 4 KiB pages (g = h = 4):
 * C_n = 48, C_v = 288, Delta_VD = 5, Delta_GD = 1. */
void cost_linear_params_default(struct cost_linear_params *p);

void cost_fractions_of(const struct cost_miss_counts *c, enum cost_design d,
		       struct cost_fractions *f);
/* Table IV evaluated for design d. */
double cost_linear_cycles(const struct cost_linear_params *p, enum cost_design d,
			  const struct cost_fractions *f);
/* cost_fractions_of then cost_linear_cycles. */
double cost_linear_cycles_of(const struct cost_linear_params *p, enum cost_design d,
			     const struct cost_miss_counts *c);
/* a / b, 0 when b is 0. */
double cost_ratio(double a, double b);
#endif

#endif
