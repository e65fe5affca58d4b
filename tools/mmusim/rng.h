/* mmusim's random numbers: the freestanding ones every side shares
 * (lib/rng.h), plus the floating-point one only the host uses. */
#ifndef MMUSIM_RNG_H
#define MMUSIM_RNG_H

#include "lib/rng.h"

/* A uniform double in [0, 1) from the top 53 bits of r. */
static inline double rng_unit(u64 r)
{
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

#endif
