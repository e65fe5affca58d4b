/* The hypervisor checking itself while a guest runs: guest memory and EPT
 * agree, host memory is accounted. A broken invariant is a dimvisor bug: it
 * is printed and the machine stops with the panic status (71), loudly,
 * rather than running on with corrupt state. */
#ifndef HV_INVARIANTS_H
#define HV_INVARIANTS_H

#include "hv/vcpu.h"

/* How many hypercalls between two checks while the guest runs. */
#define INVARIANTS_EVERY_HYPERCALLS 1024

/* Remember what must stay as it is (host memory free at guest start). */
void invariants_start(const struct vcpu *v);
/* Check every invariant; when says where from ("hypercall 4096", "end of run"). */
void invariants_check(const struct vcpu *v, const char *when);
/* How many checks have run (each held, or the machine would have stopped). */
u64 invariants_checks(void);

#endif
