/* How a run ends: on QEMU through isa-debug-exit, on Bochs through the magic
 * breakpoint (status 0) or the 0x8900 shutdown port (non-zero), on real
 * hardware by halting. In every case the last console line is
 * "dimvisor: exit status N" so the launcher can return the exact status. */
#ifndef ARCH_X86_64_PLATFORM_H
#define ARCH_X86_64_PLATFORM_H

#include <dimvisor/types.h>

enum platform_kind { PLATFORM_HARDWARE, PLATFORM_QEMU, PLATFORM_BOCHS };

enum platform_kind platform_detect(void);
const char *platform_name(enum platform_kind k);
__noreturn void platform_exit(int status);

#endif
