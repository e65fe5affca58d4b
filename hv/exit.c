#include "hv/exit.h"
#include "hv/sample.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "hv/cpu_rules.h"
#include "hv/cpuid.h"
#include "arch/x86_64/exception.h"
#include "hv/apic.h"
#include "hv/events.h"
#include "hv/hypercall.h"
#include "hv/io.h"
#include "hv/msr.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>

#define VEC_UD 6
#define VEC_GP 13

typedef void (*exit_handler)(struct vcpu *v);

static void stop_with_dump(struct vcpu *v, int status)
{
	vcpu_dump(v);
	vcpu_stop(v, status);
}

/* --- control registers, on a decoded CR-access exit. */

static struct cr_context cr_context(const struct vcpu *v)
{
	return (struct cr_context){.cr0 = vcpu_get(v, VCPU_CR0),
				   .cr3 = vcpu_get(v, VCPU_CR3),
				   .cr4 = vcpu_get(v, VCPU_CR4),
				   .efer = vcpu_get(v, VCPU_EFER),
				   .in_64bit_code = vcpu_in_64bit_mode(v)};
}

/* MOV to CR0/CR3/CR4 that reached us: apply the CPU's checks, then write.
 * Returns the reason for a #GP, or NULL when the write was done. */
static const char *guest_write_cr(struct vcpu *v, unsigned cr, u64 val)
{
	struct cr_context ctx = cr_context(v);
	const char *why = NULL;
	u64 stored;

	if (cr == 0) {
		why = cr0_write_check(val, &ctx);
		if (!why)
			vcpu_set(v, VCPU_CR0, val);
	} else if (cr == 4) {
		/* VMXE too: the guest's CPUID does not advertise VMX. */
		why = cr4_write_check(val, &ctx, &v->rules);
		if (!why)
			vcpu_set(v, VCPU_CR4, val);
	} else {
		why = cr3_write_check(val, &ctx, &v->rules, &stored);
		if (!why)
			vcpu_set(v, VCPU_CR3, stored);
	}
	return why;
}

static void handle_cr_access(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	u64 val, cr0 = vcpu_get(v, VCPU_CR0);

	switch (e->cr.op) {
	case VCPU_CR_MOV_TO: {
		const char *why;

		if (e->cr.cr != 0 && e->cr.cr != 3 && e->cr.cr != 4 && e->cr.cr != 8)
			break;
		val = vcpu_get(v, (enum vcpu_reg)e->cr.gpr);
		if (e->cr.cr == 8)
			why = apic_cr8_write(v, val) ? NULL : "sets reserved bits 63:4";
		else
			why = guest_write_cr(v, e->cr.cr, val);
		if (why) {
			kprintf("dimvisor: guest MOV to CR%u of 0x%lx at RIP 0x%lx %s: injecting "
				"#GP\n",
				e->cr.cr, val, vcpu_get(v, VCPU_RIP), why);
			vcpu_inject_exception(v, VEC_GP, true, 0);
			return;
		}
		vcpu_skip_instruction(v);
		return;
	}
	case VCPU_CR_MOV_FROM: /* CR3 (CR3-store exiting), CR8 (the APIC's TPR) */
		if (e->cr.cr != 3 && e->cr.cr != 8)
			break;
		vcpu_set(v, (enum vcpu_reg)e->cr.gpr,
			 e->cr.cr == 8 ? apic_cr8_read(v) : vcpu_get(v, VCPU_CR3));
		vcpu_skip_instruction(v);
		return;
	case VCPU_CR_CLTS: /* cannot break a rule: only TS changes */
		vcpu_set(v, VCPU_CR0, cr0 & ~CR0_TS);
		vcpu_skip_instruction(v);
		return;
	case VCPU_CR_LMSW: /* bits 3:0 of the source; cannot clear PE. SDM Vol. 2A LMSW */
		val = e->cr.lmsw_source & 0xf;
		vcpu_set(v, VCPU_CR0, (cr0 & ~0xeULL) | val | (cr0 & CR0_PE));
		vcpu_skip_instruction(v);
		return;
	}
	kprintf("\ndimvisor: unhandled control-register access: CR%u, access type %u, register "
		"%u\n",
		e->cr.cr, e->cr.op, e->cr.gpr);
	stop_with_dump(v, DV_EXIT_VMX_FAILURE);
}

/* --- the rest */

static void handle_hlt(struct vcpu *v)
{
	events_hlt(v);
	if (v->stopped)
		vcpu_dump(v);
}

static void handle_triple_fault(struct vcpu *v)
{
	kprintf("\ndimvisor: guest triple fault (an exception it could not handle) at RIP 0x%lx\n",
		vcpu_get(v, VCPU_RIP));
	stop_with_dump(v, DV_EXIT_GUEST_FAULT);
}

static void handle_cache_flush(struct vcpu *v)
{
	vcpu_skip_instruction(v); /* INVD, WBINVD: caches are the host's business */
}

static void handle_xsetbv(struct vcpu *v)
{
	u32 index = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	const char *why = v->unchecked_guest_values ? NULL : xsetbv_check(index, val, &v->rules);
	int vector;

	if (!why && vcpu_cpl(v) != 0)
		why = "at CPL > 0";
	if (!why) {
		/* The real XCR0: a rule missed above must not crash the host. */
		vector = xsetbv_safe(index, val);
		if (vector) {
			kprintf("dimvisor: host XSETBV of XCR%u = 0x%lx took %s with no check "
				"refusing it first (a dimvisor bug)\n",
				index, val, exception_name((unsigned)vector));
			why = "faulted in the host";
		}
	}
	if (why) {
		kprintf("dimvisor: guest XSETBV of XCR%u = 0x%lx at RIP 0x%lx %s: injecting #GP\n",
			index, val, vcpu_get(v, VCPU_RIP), why);
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	vcpu_skip_instruction(v);
}

static void handle_virt_instruction(struct vcpu *v)
{
	/* Hardware virtualization is not offered to the guest (CPUID hides it). */
	vcpu_inject_exception(v, VEC_UD, false, 0);
}

/* What the map says of a gPA the guest could not access: a ballooned page is
 * named as such (the guest gave it away), never served. */
static const char *nested_fault_why(const struct guestmem *gm, u64 gpa)
{
	const struct extent *x = extent_lookup(&gm->map, gpa);

	if (x && x->kind == EXTENT_BALLOON)
		return "the page is ballooned: the guest gave it to dimvisor";
	if (!x && guestmem_was_unplugged(gm, gpa))
		return "the page was hot-unplugged: it is no longer guest RAM";
	return guestmem_is_ram(gm, gpa, 1) ? "access not permitted"
					   : "not guest RAM and no device there";
}

/* An access the nested page tables refused: outside guest RAM (no device
 * there), a ballooned page, or not permitted. The guest cannot go on
 * without it. */
static void handle_nested_fault(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	const char *access = e->nested.fetch   ? "instruction fetch"
			     : e->nested.write ? "write"
					       : "read";

	if (sample_nested_fault(v)) /* a sampled TLB miss: the access is retried */
		return;
	if (apic_mmio_owns(v, e->nested.gpa)) {
		apic_mmio(v);
		return;
	}

	kprintf("\ndimvisor: guest %s of guest-physical 0x%lx at RIP 0x%lx", access, e->nested.gpa,
		vcpu_get(v, VCPU_RIP));
	if (e->nested.gva_valid)
		kprintf(" (linear 0x%lx)", e->nested.gva);
	kprintf(": EPT violation, qualification 0x%lx: %s\n", e->qualification,
		nested_fault_why(v->mem, e->nested.gpa));
	kprintf("dimvisor: stopping the guest; the hypervisor is unaffected\n");
	stop_with_dump(v, DV_EXIT_GUEST_FAULT);
}

/* The instruction a sampled miss stopped has completed (hv/sample.h). */
static void handle_single_step(struct vcpu *v)
{
	sample_single_step(v);
}

static void handle_nested_misconfig(struct vcpu *v)
{
	kprintf("\ndimvisor: EPT misconfiguration at guest-physical 0x%lx: a hypervisor bug\n",
		v->exit.nested.gpa);
	stop_with_dump(v, DV_EXIT_VMX_FAILURE);
}

static void handle_host_nmi(struct vcpu *v)
{
	events_host_nmi(v);
}

static void handle_host_interrupt(struct vcpu *v)
{
	events_host_interrupt(v, v->exit.intr.vector);
}

/* Interrupt window, NMI window, timer: the exit itself was the point;
 * events_deliver() acts before the next entry. */
static void handle_event_exit(struct vcpu *v)
{
	(void)v;
}

/* The CPU's APIC virtualization (hv/apic.c): a TPR lowered below the
 * threshold is an event exit too. */
static void handle_apic_access(struct vcpu *v)
{
	apic_access_exit(v);
}

static void handle_apic_write(struct vcpu *v)
{
	apic_write_exit(v);
}

static const exit_handler exit_handlers[DV_EXIT_KINDS] = {
	[DV_EXIT_KIND_HOST_NMI] = handle_host_nmi,
	[DV_EXIT_KIND_HOST_INTERRUPT] = handle_host_interrupt,
	[DV_EXIT_KIND_INTERRUPT_WINDOW] = handle_event_exit,
	[DV_EXIT_KIND_NMI_WINDOW] = handle_event_exit,
	[DV_EXIT_KIND_TIMER] = handle_event_exit,
	[DV_EXIT_KIND_APIC_ACCESS] = handle_apic_access,
	[DV_EXIT_KIND_APIC_WRITE] = handle_apic_write,
	[DV_EXIT_KIND_TPR_BELOW] = handle_event_exit,
	[DV_EXIT_KIND_SINGLE_STEP] = handle_single_step,
	[DV_EXIT_KIND_TRIPLE_FAULT] = handle_triple_fault,
	[DV_EXIT_KIND_CPUID] = cpuid_handle_exit,
	[DV_EXIT_KIND_HLT] = handle_hlt,
	[DV_EXIT_KIND_CACHE_FLUSH] = handle_cache_flush,
	[DV_EXIT_KIND_HYPERCALL] = hypercall_handle,
	[DV_EXIT_KIND_VIRT_INSN] = handle_virt_instruction,
	[DV_EXIT_KIND_CR_ACCESS] = handle_cr_access,
	[DV_EXIT_KIND_IO] = io_handle_exit,
	[DV_EXIT_KIND_MSR_READ] = msr_handle_exit,
	[DV_EXIT_KIND_MSR_WRITE] = msr_handle_exit,
	[DV_EXIT_KIND_NESTED_FAULT] = handle_nested_fault,
	[DV_EXIT_KIND_NESTED_MISCONFIG] = handle_nested_misconfig,
	[DV_EXIT_KIND_XSETBV] = handle_xsetbv,
};

static const char *const exit_kind_names[DV_EXIT_KINDS] = {
	[DV_EXIT_KIND_OTHER] = "other",
	[DV_EXIT_KIND_CPUID] = "CPUID",
	[DV_EXIT_KIND_HLT] = "HLT",
	[DV_EXIT_KIND_IO] = "I/O instruction",
	[DV_EXIT_KIND_MSR_READ] = "RDMSR",
	[DV_EXIT_KIND_MSR_WRITE] = "WRMSR",
	[DV_EXIT_KIND_CR_ACCESS] = "control-register access",
	[DV_EXIT_KIND_XSETBV] = "XSETBV",
	[DV_EXIT_KIND_HYPERCALL] = "hypercall",
	[DV_EXIT_KIND_NESTED_FAULT] = "nested page fault",
	[DV_EXIT_KIND_NESTED_MISCONFIG] = "nested page misconfiguration",
	[DV_EXIT_KIND_TRIPLE_FAULT] = "triple fault",
	[DV_EXIT_KIND_CACHE_FLUSH] = "INVD/WBINVD",
	[DV_EXIT_KIND_VIRT_INSN] = "virtualization instruction",
	[DV_EXIT_KIND_HOST_NMI] = "host NMI",
	[DV_EXIT_KIND_TASK_SWITCH] = "task switch",
	[DV_EXIT_KIND_ENTRY_FAILURE] = "VM-entry failure",
	[DV_EXIT_KIND_INTERRUPT_WINDOW] = "interrupt window",
	[DV_EXIT_KIND_NMI_WINDOW] = "NMI window",
	[DV_EXIT_KIND_TIMER] = "timer",
	[DV_EXIT_KIND_HOST_INTERRUPT] = "host interrupt",
	[DV_EXIT_KIND_APIC_ACCESS] = "APIC access",
	[DV_EXIT_KIND_APIC_WRITE] = "APIC write",
	[DV_EXIT_KIND_TPR_BELOW] = "TPR below threshold",
	[DV_EXIT_KIND_SINGLE_STEP] = "single step (monitor trap)",
};

const char *exit_kind_name(unsigned kind)
{
	return kind < DV_EXIT_KINDS && exit_kind_names[kind] ? exit_kind_names[kind] : "?";
}

void exit_dispatch(struct vcpu *v)
{
	exit_handler h = v->exit.kind < DV_EXIT_KINDS ? exit_handlers[v->exit.kind] : NULL;

	apic_after_exit(v);

	if (!h) {
		char what[160];

		vcpu_exit_describe(v, what, sizeof(what));
		kprintf("\ndimvisor: unhandled VM exit: %s\n", what);
		stop_with_dump(v, DV_EXIT_VMX_FAILURE);
		return;
	}
	h(v);
}
