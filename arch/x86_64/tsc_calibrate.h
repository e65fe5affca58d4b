/* The TSC's rate, measured against the PC's PIT (channel 2, which no one
 * else uses at boot). */
#ifndef ARCH_X86_64_TSC_CALIBRATE_H
#define ARCH_X86_64_TSC_CALIBRATE_H

#include <dimvisor/types.h>

/* TSC ticks per second, or 0 when the PIT never counted down. */
u64 tsc_calibrate_hz(void);

#endif
