#include "hv/tsc.h"
#include "arch/x86_64/cpu.h"

u64 tsc_guest_now(const struct vcpu *v)
{
	return rdtsc() + vcpu_get(v, VCPU_TSC_OFFSET);
}

void tsc_guest_set(struct vcpu *v, u64 value)
{
	u64 delta = value - tsc_guest_now(v);

	vcpu_set(v, VCPU_TSC_OFFSET, vcpu_get(v, VCPU_TSC_OFFSET) + delta);
	v->tsc_adjust += delta;
}

void tsc_guest_set_adjust(struct vcpu *v, u64 value)
{
	vcpu_set(v, VCPU_TSC_OFFSET, vcpu_get(v, VCPU_TSC_OFFSET) + (value - v->tsc_adjust));
	v->tsc_adjust = value;
}
