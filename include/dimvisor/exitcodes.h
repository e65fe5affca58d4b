/* Exit statuses of a dimvisor run, as printed on the final console line
 * "dimvisor: exit status N" and returned by tools/dimvisor-run. A guest's own
 * status (0..DV_EXIT_GUEST_MAX) passes through unchanged; the hypervisor's
 * own failures use the values above it so the two never mix. */
#ifndef DIMVISOR_EXITCODES_H
#define DIMVISOR_EXITCODES_H

#define DV_EXIT_OK	     0
#define DV_EXIT_GUEST_MAX    63 /* statuses a guest may report */
#define DV_EXIT_BAD_CONFIG   64 /* malformed command line */
#define DV_EXIT_BAD_BOOT     65 /* unusable multiboot information or memory map */
#define DV_EXIT_NO_VMX	     66 /* VT-x (or a feature dimvisor needs) not available */
#define DV_EXIT_NO_MEMORY    67 /* not enough host memory */
#define DV_EXIT_BAD_GUEST    68 /* missing or corrupt guest image */
#define DV_EXIT_GUEST_FAULT  69 /* guest stopped: bad access, triple fault, ... */
#define DV_EXIT_VMX_FAILURE  70 /* VM entry failed or unhandled exit */
#define DV_EXIT_PANIC	     71 /* hypervisor bug: panic or CPU exception */
#define DV_EXIT_NO_LONG_MODE 1	/* printed by the 32-bit entry, before C runs */

/* The console line the launcher looks for; keep in sync with tools/dimvisor-run. */
#define DV_EXIT_LINE "dimvisor: exit status "

#endif
