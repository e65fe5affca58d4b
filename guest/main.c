/* The guest's C entry: console, descriptor tables, boot information, command
 * line, page tables, dimvisor detection, then the test suite and the exit. */
#include <dimvisor/types.h>
#include <dimvisor/version.h>
#include "guest/bootinfo.h"
#include "guest/cmdline.h"
#include "guest/console.h"
#include "guest/exit.h"
#include "guest/gdt.h"
#include "guest/hypercall.h"
#include "guest/idt.h"
#include "guest/paging.h"
#include "guest/tests.h"
#include "guest/usermode.h"
#include "lib/printf.h"
#include "lib/string.h"

#define ERR_MAX 1024

void guest_main(u32 magic, u32 info);

static struct boot_info boot;

static void print_environment(bool dimvisor)
{
	struct cpuid_regs features;

	if (!dimvisor) {
		kprintf("guest: running natively (no dimvisor signature at CPUID 0x%x)\n",
			DV_CPUID_SIGNATURE_LEAF);
		return;
	}
	features = cpuid(DV_CPUID_FEATURES_LEAF, 0);
	kprintf("guest: running under dimvisor (ABI %u, features 0x%x)\n", features.ebx,
		features.eax);
}

/* Called by guest/entry.asm in long mode with the loader's EAX and EBX. */
void guest_main(u32 magic, u32 info)
{
	struct guest_options opt;
	char err[ERR_MAX];
	bool dimvisor;
	int rc;

	console_init();
	gdt_init();
	idt_init();
	kprintf("\nguest: dimvisor test guest %s\n", DV_VERSION_STRING);

	/* First copy the boot information out: paging and the tests reuse RAM. */
	if (bootinfo_parse(magic, info, &boot, err, sizeof(err))) {
		kprintf("guest: bad boot information: %s\n", err);
		guest_exit(GUEST_EXIT_BAD_BOOT);
	}
	bootinfo_print(&boot);
	/* QEMU -kernel's command line starts with the image's file name. */
	if (cmdline_parse(boot.cmdline, strcmp(boot.loader, "qemu") == 0, &opt, err, sizeof(err))) {
		kprintf("guest: bad command line: %s\n", err);
		guest_exit(GUEST_EXIT_BAD_CMDLINE);
	}
	if (paging_init(&boot, err, sizeof(err))) {
		kprintf("guest: paging: %s\n", err);
		guest_exit(GUEST_EXIT_NO_MEMORY);
	}
	rc = usermode_init();
	if (rc) {
		kprintf("guest: mapping the ring-3 pages failed (%s)\n", dv_strerror(rc));
		guest_exit(GUEST_EXIT_NO_MEMORY);
	}
	dimvisor = dv_detect();
	print_environment(dimvisor);
	test_gseg_configure(opt.gseg_level);
	test_hc_fuzz_configure(opt.fuzz_calls);
	test_workloads_configure(&opt.wl, opt.gseg_level);
	guest_exit(tests_run(opt.tests, &boot, dimvisor));
}
