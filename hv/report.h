/* The short report printed when a guest ends. */
#ifndef HV_REPORT_H
#define HV_REPORT_H

#include "hv/vcpu.h"

void report_print(const struct vcpu *v);

#endif
