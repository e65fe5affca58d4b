/* How the guest ends, and with which status. Statuses stay within
 * 0..DV_EXIT_GUEST_MAX (include/dimvisor/exitcodes.h) so dimvisor passes them
 * through unchanged. */
#ifndef GUEST_EXIT_H
#define GUEST_EXIT_H

#include <dimvisor/types.h>

#define GUEST_EXIT_PASS		0 /* every selected test passed (or was skipped) */
#define GUEST_EXIT_FAIL		1 /* at least one test failed */
#define GUEST_EXIT_BAD_CMDLINE	2 /* unknown key or test name on the command line */
#define GUEST_EXIT_BAD_BOOT	3 /* not booted by multiboot, or unusable boot information */
#define GUEST_EXIT_EXCEPTION	4 /* unexpected CPU exception (dump printed) */
#define GUEST_EXIT_NO_LONG_MODE 5 /* printed by guest/entry.asm; keep in sync */
#define GUEST_EXIT_NO_MEMORY	6 /* no room for page tables */

/* Print "guest: exit status N", then end the machine: DV_HC_EXIT under
 * dimvisor; otherwise QEMU's isa-debug-exit port, then Bochs's magic
 * breakpoint (status 0) or shutdown port. Halts if all of them are absent. */
__noreturn void guest_exit(int status);

#endif
