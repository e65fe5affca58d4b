/* dimvisor version, reported in the banner and by the version hypercall. */
#ifndef DIMVISOR_VERSION_H
#define DIMVISOR_VERSION_H

#define DV_VERSION_MAJOR  0
#define DV_VERSION_MINOR  1
#define DV_VERSION_STRING "0.1"

#endif
