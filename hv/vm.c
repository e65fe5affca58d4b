#include "hv/vm.h"
#include "hv/guest_start.h"
#include "hv/guestmem.h"
#include "hv/invariants.h"
#include "hv/apic.h"
#include "hv/compact.h"
#include "hv/legacy.h"
#include "arch/x86_64/tsc_calibrate.h"
#include "hv/io.h"
#include "hv/loader.h"
#include "hv/memory.h"
#include "hv/mode.h"
#include "hv/report.h"
#include "hv/vcpu.h"
#include "lib/log.h"
#include "lib/string.h"
#include <dimvisor/errno.h>
#include <dimvisor/exitcodes.h>

static struct guestmem guest_mem;
static struct vcpu vcpu0;

static int target_write(void *ctx, u64 gpa, const void *src, u64 len)
{
	return guestmem_write(ctx, gpa, src, len);
}

/* Explicitly: a bss may overlap the file data of another segment. */
static int target_zero(void *ctx, u64 gpa, u64 len)
{
	return guestmem_zero(ctx, gpa, len);
}

/* The boot modules after the guest kernel become the guest's own modules. */
static unsigned guest_modules(const struct boot_module *boot_mods, unsigned nboot,
			      struct loader_module *mods)
{
	unsigned n = 0;

	for (unsigned i = 1; i < nboot && n < LOADER_MAX_MODULES; i++, n++)
		mods[n] = (struct loader_module){.data = (const u8 *)boot_mods[i].start,
						 .len = boot_mods[i].end - boot_mods[i].start,
						 .cmdline = boot_mods[i].cmdline};
	return n;
}

static void print_modules(const struct guest_boot *boot, const struct loader_module *mods,
			  unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		kinfo("vm: guest module %u at 0x%lx-0x%lx (%lu bytes), command line \"%s\"\n", i,
		      boot->module_gpa[i], boot->module_gpa[i] + mods[i].len, mods[i].len,
		      mods[i].cmdline);
}

static int load_guest(const struct boot_module *boot_mods, unsigned nboot, struct guest_boot *boot)
{
	const struct boot_module *m = &boot_mods[0];
	struct loader_target t = {.ram = guest_mem.ram,
				  .nram = guest_mem.nram,
				  .write = target_write,
				  .zero = target_zero,
				  .ctx = &guest_mem};
	struct loader_module mods[LOADER_MAX_MODULES];
	unsigned nmods = guest_modules(boot_mods, nboot, mods);
	char err[200];

	if (m->end <= m->start) {
		kprintf("dimvisor: the guest module is empty\n");
		return -DV_EINVAL;
	}
	if (loader_load(&t, (const u8 *)m->start, m->end - m->start, m->cmdline, mods, nmods, boot,
			err, sizeof(err)) < 0) {
		kprintf("dimvisor: cannot load the guest kernel: %s\n", err);
		return -DV_EINVAL;
	}
	kinfo("vm: loaded the guest kernel (%s) at 0x%lx-0x%lx, entry 0x%lx, command line \"%s\"\n",
	      loader_kind_name(boot->kind), boot->load_lo, boot->load_hi, boot->entry, m->cmdline);
	print_modules(boot, mods, nmods);
	return 0;
}

static void print_layout(void)
{
	const struct vmm_segment *vs = &guest_mem.vseg;

	if (guest_mem.vseg_active)
		kinfo("vm: VMM segment: gPA %016lx-%016lx at hPA %016lx (OFFSET_v 0x%lx), mapped "
		      "with %s EPT leaves, %u escaped page%s\n",
		      vs->regs.base, vs->regs.limit, vs->hpa, vs->regs.offset,
		      page_shift_name(vs->leaf_shift), vs->nholes, vs->nholes == 1 ? "" : "s");
	const struct extent_map *m = &guest_mem.map;

	for (unsigned i = 0; i < guest_mem.nram; i++)
		kinfo("vm: guest RAM %016lx-%016lx (%lu MiB)\n", guest_mem.ram[i].gpa,
		      guest_mem.ram[i].gpa + guest_mem.ram[i].len, guest_mem.ram[i].len >> 20);
	kinfo("vm: EPT pages up to %s%s; %lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB leaves; "
	      "backed by %u host range%s\n",
	      page_shift_name(guest_mem.ept_page_shift),
	      guest_mem.vseg_active ? " outside the VMM segment" : "", guest_mem.ept.leaves[3],
	      guest_mem.ept.leaves[2], guest_mem.ept.leaves[1], extent_count(m),
	      extent_count(m) == 1 ? "" : "s");
	for (const struct extent *x = extent_next(m, 0); x; x = extent_next(m, x->gpa + x->len))
		kdebug("vm: gPA %016lx-%016lx backed by hPA %016lx (%s)\n", x->gpa, x->gpa + x->len,
		       x->hpa, extent_kind_name(x->kind));
	if (guest_mem.tables_outside_pool)
		kprintf("vm: the table pool ran out: %lu EPT tables taken from guest memory's "
			"allocator\n",
			guest_mem.tables_outside_pool);
}

#define TENANT_ORDER 8 /* the other tenant's blocks: 1 MiB */

static u64 tenant_blocks = PMM_NONE; /* a list through the blocks themselves */

/* fragment=yes|leave: leave no free host range longer than 1 MiB, so that
 * the modes that need contiguous memory must degrade: take every free 1 MiB
 * block, then give back every other one, as if another tenant held them.
 * With yes the tenant stays (nothing can make room: compaction fails and
 * says why); with leave it goes once guest memory is laid out
 * (tenant_leaves), so the guest's memory lies scattered in 1 MiB pieces
 * with free memory between: what compaction is for. */
static void fragment_host_memory(void)
{
	const unsigned order = TENANT_ORDER;
	u64 head = PMM_NONE, taken = 0, freed = 0, hpa;

	while ((hpa = pmm_alloc(host_pmm(), order)) != PMM_NONE) {
		*(u64 *)hpa = head;
		head = hpa;
		taken++;
	}
	for (u64 i = 0; head != PMM_NONE; i++) {
		u64 next = *(u64 *)head;

		if (i % 2) {
			pmm_free(host_pmm(), head, order);
			freed++;
		} else {
			*(u64 *)head = tenant_blocks;
			tenant_blocks = head;
		}
		head = next;
	}
	kprintf("vm: fragment: %lu of %lu free 1 MiB blocks given back; largest free range "
		"now %lu KiB\n",
		freed, taken, pmm_largest_free_range(host_pmm(), NULL) >> 10);
}

/* fragment=leave: the other tenant goes, its blocks back to the host. */
static void tenant_leaves(void)
{
	u64 n = 0;

	while (tenant_blocks != PMM_NONE) {
		u64 next = *(u64 *)tenant_blocks;

		pmm_free(host_pmm(), tenant_blocks, TENANT_ORDER);
		tenant_blocks = next;
		n++;
	}
	kprintf("vm: fragment=leave: the other tenant's %lu blocks are free again; largest free "
		"range now %lu KiB\n",
		n, pmm_largest_free_range(host_pmm(), NULL) >> 10);
}

/* selftest=corrupt-ept: point the last page of guest RAM at the host frame
 * after the one backing it, as a bug in EPT maintenance would. */
static void corrupt_ept_for_selftest(void)
{
	const struct guest_range *r = &guest_mem.ram[guest_mem.nram - 1];
	u64 gpa = r->gpa + r->len - PAGE_SIZE, hpa = 0;

	if (pt_translate(&guest_mem.ept, gpa, &hpa, NULL, NULL) < 0 ||
	    pt_unmap(&guest_mem.ept, gpa, PAGE_SIZE) < 0 ||
	    pt_map(&guest_mem.ept, gpa, hpa ^ (u64)PAGE_SIZE, PAGE_SIZE, PT_RWX) < 0) {
		kprintf("selftest: could not remap gPA 0x%lx\n", gpa);
		return;
	}
	kprintf("selftest: gPA 0x%lx now maps hPA 0x%lx instead of 0x%lx\n", gpa,
		hpa ^ (u64)PAGE_SIZE, hpa);
}

_Static_assert(BOOT_MAX_MODULES - 1 <= LOADER_MAX_MODULES,
	       "every boot module after the kernel fits the guest's module list");

/* The TSC's rate, for the guest's PIT (hv/vpit.c): measured once against the
 * platform's own PIT. */
static u64 measure_tsc(void)
{
	u64 hz = tsc_calibrate_hz();

	if (!hz) {
		hz = 1000000000ULL;
		kprintf("tsc: the PIT did not count down; assuming 1 GHz for the guest's PIT\n");
	}
	kinfo("tsc: %lu.%03lu MHz, measured against the PIT\n", hz / 1000000, hz / 1000 % 1000);
	return hz;
}

int vm_run(const struct boot_module *mods, unsigned nmods, const struct dv_config *cfg,
	   const struct vcpu_hw *hw)
{
	const struct boot_module *guest = &mods[0];
	struct guest_boot boot;
	struct vcpu_start start;
	char err[200];
	u64 tsc_hz;
	int rc;

	if (cfg->fragment)
		fragment_host_memory();
	if (guestmem_init(&guest_mem, host_pmm(), host_pool(), cfg->mem, cfg->iogap,
			  cfg->ept_page_shift, hw->nested_2m, hw->nested_1g,
			  mode_has_vmm_segment(cfg->mode)) < 0) {
		kprintf("dimvisor: not enough host memory for mem=%lu MiB of guest RAM (%lu MiB "
			"free)\n",
			cfg->mem >> 20, pmm_free_bytes(host_pmm()) >> 20);
		return DV_EXIT_NO_MEMORY;
	}
	mode_init(cfg->mode, &guest_mem);
	if (cfg->fragment == FRAGMENT_LEAVE)
		tenant_leaves();
	print_layout();
	if (load_guest(mods, nmods, &boot) < 0)
		return DV_EXIT_BAD_GUEST;
	/* Each failure its own status: a guest too big for its identity map is a
	 * guest problem, not a missing CPU feature. */
	if (guest_start_state(&boot, &guest_mem, &start, err, sizeof(err)) < 0) {
		kprintf("dimvisor: cannot start the guest kernel: %s\n", err);
		return DV_EXIT_BAD_GUEST;
	}
	start.no_apic_help = cfg->no_apicv;
	if (vcpu_hw_enable(err, sizeof(err)) < 0) {
		kprintf("dimvisor: cannot run a guest: %s\n", err);
		return DV_EXIT_NO_VMX;
	}
	rc = vcpu_init(&vcpu0, &guest_mem, &start, err, sizeof(err));
	if (rc < 0) {
		kprintf("dimvisor: cannot run a guest: %s\n", err);
		return rc == -DV_ENOTSUP ? DV_EXIT_NO_VMX : DV_EXIT_VMX_FAILURE;
	}
	apic_init(&vcpu0);
	tsc_hz = measure_tsc();
	legacy_init(tsc_hz);
	io_init(guestmem_ram_bytes(&guest_mem), guest->cmdline);
	if (cfg->selftest == SELFTEST_VMENTRY_GUEST_STATE ||
	    cfg->selftest == SELFTEST_VMENTRY_CONTROL) {
		kprintf("selftest: breaking the VMCS before VMLAUNCH\n");
		vcpu_break_for_selftest(&vcpu0, cfg->selftest == SELFTEST_VMENTRY_GUEST_STATE);
	}
	if (cfg->selftest == SELFTEST_UNCHECKED) {
		kprintf("selftest: XSETBV and WRMSR of passed-through MSRs go to the CPU "
			"unchecked; the exception fixup must catch what it refuses\n");
		vcpu0.unchecked_guest_values = true;
	}
	kinfo("vm: starting the guest\n");
	if (cfg->selftest == SELFTEST_CORRUPT_EPT)
		corrupt_ept_for_selftest();
	compact_init(&vcpu0, cfg->compact, tsc_hz);
	invariants_start(&vcpu0);
	int status = vcpu_run(&vcpu0);
	invariants_check(&vcpu0, "end of run");
	report_print(&vcpu0);
	return status;
}
