/* Hypercall dispatch (VMCALL exits): the ABI of include/dimvisor/hypercall.h. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include "hv/vcpu.h"

void hypercall_handle(struct vcpu *v);
u32 hypercall_features(void);
/* Name of a call number, "unknown" if none. */
const char *hypercall_name(u64 nr);

#endif
