/* VM-exit dispatch: a table indexed by basic exit reason. Every reason
 * without a handler ends the guest with a decoded dump. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include "hv/vcpu.h"

void exit_dispatch(struct vcpu *v);
/* The exit qualification in words for the reasons dimvisor handles
 * ("OUT 1 byte to port 0x3f8", "MOV to CR0 from RAX", "write of a guest-physical
 * address, allowed R-X"); "" for the others. */
void exit_describe(u32 reason, u64 qualification, char *buf, size_t len);

#endif
