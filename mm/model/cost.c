/* The per-reference cost model's parameters (integer, every build). */
#include "mm/model/cost.h"

void cost_ref_params_default(struct cost_ref_params *p)
{
	p->cycles_per_ref = COST_DEFAULT_CYCLES_PER_REF;
	p->cycles_per_add = COST_DEFAULT_CYCLES_PER_ADD;
}
