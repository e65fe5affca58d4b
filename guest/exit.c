/* Ending the guest with a status, under dimvisor or natively. */
#include <dimvisor/types.h>
#include <dimvisor/exitcodes.h>
#include "arch/x86_64/cpu.h"
#include "guest/console.h"
#include "guest/exit.h"
#include "guest/hypercall.h"
#include "lib/printf.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4   /* -device isa-debug-exit,iobase=0xf4: exits (v << 1) | 1 */
#define BOCHS_SHUTDOWN_PORT  0x8900 /* the bytes of "Shutdown" end Bochs (status 1) */

static void bochs_shutdown(void)
{
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*p);
}

/* Bochs with magic_break enabled stops at xchg bx,bx; the launcher's
 * debugger script then quits with status 0. Elsewhere it is a no-op. */
static void bochs_magic_break(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

/* Set on the first exit: if DV_HC_EXIT itself faults, the exception dump
 * exits again, and that second exit must not try the hypercall again. */
static bool exiting;

void guest_exit(int status)
{
	bool first = !exiting;

	exiting = true;
	if (status < 0 || status > DV_EXIT_GUEST_MAX)
		status = GUEST_EXIT_FAIL;
	kprintf("guest: exit status %d\n", status);
	console_flush();
	if (first && dv_detect())
		dv_hc_exit((u64)status); /* returns only if dimvisor refused */
	outl(QEMU_DEBUG_EXIT_PORT, (u32)status);
	if (status == 0)
		bochs_magic_break();
	bochs_shutdown();
	cpu_halt_forever();
}
