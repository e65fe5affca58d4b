/* The short report printed when a guest ends. */
#ifndef HV_REPORT_H
#define HV_REPORT_H

#include "hv/vcpu.h"

/* mode_asked / mode_effect: the mode on the command line and the one the
 * guest ran in (they differ when a mode degraded). */
void report_print(const struct vcpu *v, const char *mode_asked, const char *mode_effect);

#endif
