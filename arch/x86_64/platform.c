#include "arch/x86_64/platform.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

/* QEMU fw_cfg: select key 0 (signature) on 0x510, read "QEMU" from 0x511.
 * QEMU docs/specs/fw_cfg.rst. */
#define FW_CFG_PORT_SEL	 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
/* QEMU -device isa-debug-exit,iobase=0xf4: QEMU exits with (value << 1) | 1. */
#define QEMU_DEBUG_EXIT_PORT 0xf4
/* Bochs: port 0xe9 reads back 0xe9 with port_e9_hack enabled; writing
 * "Shutdown" to 0x8900 powers off. Bochs docs, "port_e9_hack" and iodev/unmapped.cc. */
#define BOCHS_E9_PORT	    0xe9
#define BOCHS_SHUTDOWN_PORT 0x8900

static bool qemu_fw_cfg_present(void)
{
	static const char sig[4] = {'Q', 'E', 'M', 'U'};

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		if (inb(FW_CFG_PORT_DATA) != (u8)sig[i])
			return false;
	return true;
}

enum platform_kind platform_detect(void)
{
	if (qemu_fw_cfg_present())
		return PLATFORM_QEMU;
	if (inb(BOCHS_E9_PORT) == BOCHS_E9_PORT)
		return PLATFORM_BOCHS;
	return PLATFORM_HARDWARE;
}

const char *platform_name(enum platform_kind k)
{
	static const char *const names[] = {
		[PLATFORM_HARDWARE] = "hardware (or an unrecognised emulator)",
		[PLATFORM_QEMU] = "QEMU",
		[PLATFORM_BOCHS] = "Bochs",
	};
	return names[k];
}

static void bochs_shutdown(void)
{
	static const char cmd[] = "Shutdown";

	for (const char *c = cmd; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*c);
}

__noreturn void platform_exit(int status)
{
	kprintf("%s%d\n", DV_EXIT_LINE, status);
	serial_flush();
	switch (platform_detect()) {
	case PLATFORM_QEMU:
		outl(QEMU_DEBUG_EXIT_PORT, (u32)status);
		break;
	case PLATFORM_BOCHS:
		if (status == 0)
			__asm__ volatile("xchg %%bx, %%bx" ::: "memory"); /* magic breakpoint */
		else
			bochs_shutdown();
		break;
	case PLATFORM_HARDWARE:
		kprintf("dimvisor: halted; reset the machine to continue\n");
		break;
	}
	cpu_halt_forever();
}
