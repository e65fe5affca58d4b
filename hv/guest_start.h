/* The guest's first instruction and the machine state around it, as its boot
 * protocol defines them; vendor-neutral (the vCPU backend loads the result). */
#ifndef HV_GUEST_START_H
#define HV_GUEST_START_H

#include "hv/guestmem.h"
#include "hv/loader.h"
#include "hv/vcpu.h"

/* Multiboot: 32-bit protected mode, paging off, EAX = magic, EBX = info
 * (Multiboot 0.6.96 3.2, Multiboot2 3.3). ELF64: 64-bit mode on an identity
 * map of guest RAM built in guest memory right after the image. Returns 0, or
 * -DV_ENOMEM with a reason in err when the map does not fit. */
int guest_start_state(const struct guest_boot *boot, struct guestmem *mem, struct vcpu_start *start,
		      char *err, size_t errlen);

#endif
