/* VM-exit dispatch: a table indexed by basic exit reason. Every reason
 * without a handler ends the guest with a decoded dump. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include "hv/vcpu.h"

void exit_dispatch(struct vcpu *v);

#endif
