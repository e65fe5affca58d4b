/* dimvisor's C entry: console, boot information, command line, host memory,
 * CPU checks. boot/entry.asm calls dv_main in long mode with the identity map
 * of the first 4 GiB, the GDT and TSS loaded and a 64 KiB stack. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpuident.h"
#include "hv/config.h"
#include "hv/memory.h"
#include "hv/multiboot.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "lib/panic.h"
#include "lib/log.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>
#include <dimvisor/version.h>

void dv_main(u64 magic, u64 info_phys);

static struct boot_info boot_info;
static struct dv_config config;
static struct cpu_ident cpu;
static const struct vcpu_hw *hw;

static void panic_halt(void)
{
	platform_exit(DV_EXIT_PANIC);
}

static void console_init(void)
{
	serial_init();
	console_set_sink(serial_sink, NULL);
	panic_set_halt(panic_halt);
}

/* Boot information is read in place: the first 4 GiB are identity-mapped. */
static const void *read_low_phys(void *ctx, u64 phys, u64 len)
{
	(void)ctx;
	if (phys == 0 || len > BOOT_IDENTITY_LIMIT || phys > BOOT_IDENTITY_LIMIT - len)
		return NULL;
	return (const void *)phys;
}

static void load_boot_info(u32 magic, u64 info_phys)
{
	char err[160];

	if (multiboot_parse(magic, info_phys, read_low_phys, NULL, &boot_info, err, sizeof(err))) {
		kprintf("dimvisor: bad multiboot information: %s\n", err);
		platform_exit(DV_EXIT_BAD_BOOT);
	}
}

static void print_boot_info(void)
{
	kinfo("boot: %s via multiboot%s, info at 0x%lx\n", boot_info.loader_name,
	      boot_info.protocol == 2 ? "2" : "", boot_info.info_phys);
	kinfo("boot: command line \"%s\"\n", boot_info.cmdline);
	for (unsigned i = 0; i < boot_info.nmodules; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		kinfo("boot: module %u at 0x%lx-0x%lx (%lu KiB) \"%s\"\n", i, m->start, m->end,
		      (m->end - m->start) >> 10, m->cmdline);
	}
}

static void load_config(void)
{
	char err[256];

	config_defaults(&config);
	if (config_parse(boot_info.cmdline, &config, err, sizeof(err))) {
		kprintf("dimvisor: bad command line: %s\n", err);
		platform_exit(DV_EXIT_BAD_CONFIG);
	}
	log_set_level((enum log_level)config.log);
	print_boot_info();
	if (log_enabled(LOG_LEVEL_INFO))
		config_print(&config);
}

/* selftest=: trip one of the hypervisor's own failure paths on purpose. */
static void run_selftest(enum dv_selftest t)
{
	switch (t) {
	case SELFTEST_NONE:
	case SELFTEST_VMENTRY_GUEST_STATE: /* done by hv/vm.c before VMLAUNCH */
	case SELFTEST_VMENTRY_CONTROL:
	case SELFTEST_UNCHECKED:
	case SELFTEST_CORRUPT_EPT:
		return;
	case SELFTEST_PAGE_FAULT:
		kprintf("selftest: writing to an unmapped address\n");
		*(volatile u64 *)0x7fff00000000ULL = 1;
		break;
	case SELFTEST_INVALID_OPCODE:
		kprintf("selftest: executing ud2\n");
		__asm__ volatile("ud2");
		break;
	case SELFTEST_NMI:
		kprintf("selftest: sending this CPU an NMI through its local APIC\n");
		if (!lapic_send_self_nmi()) {
			kprintf("selftest: the local APIC is disabled; no NMI sent\n");
			return;
		}
		for (u32 spin = 0; spin < 10000000 && idt_host_nmi_count() == 0; spin++)
			cpu_relax();
		kprintf("selftest: %lu NMI(s) taken; continuing\n", idt_host_nmi_count());
		return;
	case SELFTEST_PANIC:
		panic("selftest: panic requested on the command line");
	}
}

static void check_vtx(void)
{
	cpu_identify(&cpu);
	hw = vcpu_hw_probe(&cpu, log_enabled(LOG_LEVEL_INFO));
	if (!hw->usable) {
		kprintf("dimvisor: %s not available: %s\n", hw->name, hw->why_not);
		platform_exit(DV_EXIT_NO_VMX);
	}
}

void dv_main(u64 magic, u64 info_phys)
{
	console_init();
	tss_init();
	idt_init();
	pic_mask_all();
	kprintf("\ndimvisor %s: a Type-1 hypervisor with direct segments (MICRO 2014) on %s\n",
		DV_VERSION_STRING, platform_name(platform_detect()));

	load_boot_info((u32)magic, info_phys);
	load_config();
	host_memory_init(&boot_info, &config);
	run_selftest(config.selftest);
	check_vtx();

	if (boot_info.nmodules == 0) {
		kprintf("dimvisor: no guest kernel: give one as the first boot module (GRUB "
			"module2 line, QEMU -initrd, tools/dimvisor-run --guest FILE)\n");
		platform_exit(DV_EXIT_BAD_GUEST);
	}
	platform_exit(vm_run(boot_info.modules, boot_info.nmodules, &config, hw));
}
