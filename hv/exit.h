/* Exit handling on decoded, vendor-neutral exits (struct vcpu_exit): a table
 * indexed by exit kind. Every kind without a handler ends the guest with a
 * decoded dump. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include "hv/vcpu.h"

void exit_dispatch(struct vcpu *v);
/* "CPUID", "hypercall", "nested page fault", ...; "?" past the known kinds. */
const char *exit_kind_name(unsigned kind);

#endif
