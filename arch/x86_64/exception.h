/* Names of the CPU exception vectors, shared by the hypervisor and the guest
 * kernel for their crash reports. */
#ifndef ARCH_X86_64_EXCEPTION_H
#define ARCH_X86_64_EXCEPTION_H

#define EXCEPTION_VECTORS 32

/* "#PF page fault" for vector 14; "reserved" for unnamed vectors and past 31. */
const char *exception_name(unsigned vector);

#endif
