#include "hv/exit.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "hv/cpu_rules.h"
#include "arch/x86_64/exception.h"
#include "hv/apic.h"
#include "hv/events.h"
#include "hv/hypercall.h"
#include "hv/io.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>

#define VEC_UD 6
#define VEC_GP 13

#define CPUID1_ECX_VMX	      (1u << 5)
#define CPUIDX_ECX_SVM	      (1u << 2) /* CPUID.80000001H:ECX, AMD APM Vol. 3 E.4.2 */
#define CPUID1_ECX_OSXSAVE    (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

typedef void (*exit_handler)(struct vcpu *v);

static void stop_with_dump(struct vcpu *v, int status)
{
	vcpu_dump(v);
	vcpu_stop(v, status);
}

/* --- CPUID: the host's answers, with hardware virtualization (VMX, SVM)
 * hidden and dimvisor's leaves added. */
static void handle_cpuid(struct vcpu *v)
{
	u32 leaf = (u32)v->regs.rax, sub = (u32)v->regs.rcx;
	struct cpuid_regs r = {0, 0, 0, 0};

	if (leaf == DV_CPUID_SIGNATURE_LEAF) {
		r = (struct cpuid_regs){DV_CPUID_MAX_LEAF, DV_CPUID_SIG_EBX, DV_CPUID_SIG_ECX,
					DV_CPUID_SIG_EDX};
	} else if (leaf == DV_CPUID_FEATURES_LEAF) {
		r.eax = hypercall_features();
		r.ebx = DV_ABI_VERSION;
	} else if (leaf >= 0x40000000u && leaf < 0x40000100u) {
		/* other hypervisor leaves: all zero */
	} else {
		r = cpuid(leaf, sub);
		if (leaf == 1) {
			r.ecx &= ~CPUID1_ECX_VMX;
			r.ecx |= CPUID1_ECX_HYPERVISOR;
			/* OSXSAVE mirrors the guest's CR4, not the host's. */
			r.ecx &= ~CPUID1_ECX_OSXSAVE;
			if (vcpu_get(v, VCPU_CR4) & CR4_OSXSAVE)
				r.ecx |= CPUID1_ECX_OSXSAVE;
		} else if (leaf == 0x80000001u) {
			r.ecx &= ~CPUIDX_ECX_SVM;
		}
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction(v);
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
		why = cr4_write_check(val, &ctx, &v->rules);
		if (!why && (val & CR4_VMXE))
			why = "sets VMXE (hardware virtualization is not offered to the guest)";
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

/* --- MSRs: an explicit allow list; anything else gets #GP. */
enum msr_kind { MSR_STATE, MSR_PASS, MSR_CONST, MSR_TSC };

struct msr_rule {
	u32 msr;
	enum msr_kind kind;
	enum vcpu_reg reg; /* MSR_STATE: the vCPU keeps it */
	u64 value;	   /* MSR_CONST: what reads return; writes are ignored */
	const char *name;
};

#define MSR_MTRRCAP	   0xfe
#define MSR_MISC_ENABLE	   0x1a0
#define MSR_MTRR_DEF_TYPE  0x2ff
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_SFMASK	   0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX	   0xc0000103
#define MSR_TSC		   0x10

/* The guest's own long-mode MSRs are the real ones: the hypervisor never
 * uses SYSCALL or swapgs, so the guest may own them outright. */
static const struct msr_rule msr_rules[] = {
	{MSR_IA32_EFER, MSR_STATE, VCPU_EFER, 0, "IA32_EFER"},
	{MSR_IA32_PAT, MSR_STATE, VCPU_PAT, 0, "IA32_PAT"},
	{MSR_FS_BASE, MSR_STATE, VCPU_FS_BASE, 0, "FS_BASE"},
	{MSR_GS_BASE, MSR_STATE, VCPU_GS_BASE, 0, "GS_BASE"},
	{MSR_IA32_SYSENTER_CS, MSR_STATE, VCPU_SYSENTER_CS, 0, "SYSENTER_CS"},
	{MSR_IA32_SYSENTER_ESP, MSR_STATE, VCPU_SYSENTER_ESP, 0, "SYSENTER_ESP"},
	{MSR_IA32_SYSENTER_EIP, MSR_STATE, VCPU_SYSENTER_EIP, 0, "SYSENTER_EIP"},
	{MSR_STAR, MSR_PASS, VCPU_RAX, 0, "STAR"},
	{MSR_LSTAR, MSR_PASS, VCPU_RAX, 0, "LSTAR"},
	{MSR_CSTAR, MSR_PASS, VCPU_RAX, 0, "CSTAR"},
	{MSR_SFMASK, MSR_PASS, VCPU_RAX, 0, "SFMASK"},
	{MSR_KERNEL_GS_BASE, MSR_PASS, VCPU_RAX, 0, "KERNEL_GS_BASE"},
	{MSR_TSC, MSR_TSC, VCPU_RAX, 0, "TSC"},
	{MSR_MTRRCAP, MSR_CONST, VCPU_RAX, 0, "MTRRCAP"}, /* no MTRRs offered */
	{MSR_MTRR_DEF_TYPE, MSR_CONST, VCPU_RAX, 0, "MTRR_DEF_TYPE"},
	{MSR_MISC_ENABLE, MSR_CONST, VCPU_RAX, 1, "MISC_ENABLE"}, /* fast strings */
};

static const struct msr_rule *find_msr(u32 msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msr_rules); i++)
		if (msr_rules[i].msr == msr)
			return &msr_rules[i];
	return NULL;
}

/* A WRMSR the architecture refuses: #GP, as the CPU would. */
static void refuse_wrmsr(struct vcpu *v, const struct msr_rule *r, u64 val, const char *why)
{
	kprintf("dimvisor: guest WRMSR of %s (0x%x) = 0x%lx at RIP 0x%lx %s: injecting #GP\n",
		r->name, r->msr, val, vcpu_get(v, VCPU_RIP), why);
	vcpu_inject_exception(v, VEC_GP, true, 0);
}

static bool guest_paging(struct vcpu *v)
{
	return (vcpu_get(v, VCPU_CR0) & CR0_PG) != 0;
}

/* Returns false when the write was refused (a fault is already injected). */
static bool msr_write(struct vcpu *v, const struct msr_rule *r, u64 val)
{
	u64 efer = vcpu_get(v, VCPU_EFER);
	const char *why = msr_write_check(r->msr, val, efer, guest_paging(v), &v->rules);
	int vector;

	if (r->kind == MSR_PASS && v->unchecked_guest_values)
		why = NULL;

	if (why) {
		refuse_wrmsr(v, r, val, why);
		return false;
	}
	if (r->msr == MSR_IA32_EFER)
		val = efer_after_write(efer, val);
	if (r->kind == MSR_STATE) {
		vcpu_set(v, r->reg, val);
	} else if (r->kind == MSR_PASS) {
		/* The real MSR: a check missed above must not crash the host. */
		vector = wrmsr_safe(r->msr, val);
		if (vector) {
			kprintf("dimvisor: host WRMSR of %s = 0x%lx took %s with no check "
				"refusing it first (a dimvisor bug)\n",
				r->name, val, exception_name((unsigned)vector));
			refuse_wrmsr(v, r, val, "faulted in the host");
			return false;
		}
	}
	return true;
}

static void handle_msr(struct vcpu *v)
{
	bool write = v->exit.kind == DV_EXIT_KIND_MSR_WRITE;
	u32 msr = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	const struct msr_rule *r = find_msr(msr);

	if (apic_owns_msr(msr)) {
		apic_msr(v, write, msr, val);
		return;
	}
	if (!r) {
		kprintf("dimvisor: guest %s of MSR 0x%x (not on the allow list) at RIP 0x%lx: "
			"injecting #GP\n",
			write ? "WRMSR" : "RDMSR", msr, vcpu_get(v, VCPU_RIP));
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	if (write) {
		if (!msr_write(v, r, val))
			return;
	} else {
		if (r->kind == MSR_STATE)
			val = vcpu_get(v, r->reg);
		else if (r->kind == MSR_PASS)
			val = rdmsr(msr);
		else if (r->kind == MSR_TSC)
			val = rdtsc();
		else
			val = r->value;
		v->regs.rax = (u32)val;
		v->regs.rdx = val >> 32;
	}
	vcpu_skip_instruction(v);
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

/* An access the nested page tables refused: outside guest RAM (no device
 * there), or not permitted. The guest cannot go on without it. */
static void handle_nested_fault(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	const char *access = e->nested.fetch   ? "instruction fetch"
			     : e->nested.write ? "write"
					       : "read";

	if (apic_mmio_owns(v, e->nested.gpa)) {
		apic_mmio(v);
		return;
	}

	kprintf("\ndimvisor: guest %s of guest-physical 0x%lx at RIP 0x%lx", access, e->nested.gpa,
		vcpu_get(v, VCPU_RIP));
	if (e->nested.gva_valid)
		kprintf(" (linear 0x%lx)", e->nested.gva);
	kprintf(": EPT violation, qualification 0x%lx: %s\n", e->qualification,
		guestmem_is_ram(v->mem, e->nested.gpa, 1) ? "access not permitted"
							  : "not guest RAM and no device there");
	kprintf("dimvisor: stopping the guest; the hypervisor is unaffected\n");
	stop_with_dump(v, DV_EXIT_GUEST_FAULT);
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

static const exit_handler exit_handlers[DV_EXIT_KINDS] = {
	[DV_EXIT_KIND_HOST_NMI] = handle_host_nmi,
	[DV_EXIT_KIND_HOST_INTERRUPT] = handle_host_interrupt,
	[DV_EXIT_KIND_INTERRUPT_WINDOW] = handle_event_exit,
	[DV_EXIT_KIND_NMI_WINDOW] = handle_event_exit,
	[DV_EXIT_KIND_TIMER] = handle_event_exit,
	[DV_EXIT_KIND_TRIPLE_FAULT] = handle_triple_fault,
	[DV_EXIT_KIND_CPUID] = handle_cpuid,
	[DV_EXIT_KIND_HLT] = handle_hlt,
	[DV_EXIT_KIND_CACHE_FLUSH] = handle_cache_flush,
	[DV_EXIT_KIND_HYPERCALL] = hypercall_handle,
	[DV_EXIT_KIND_VIRT_INSN] = handle_virt_instruction,
	[DV_EXIT_KIND_CR_ACCESS] = handle_cr_access,
	[DV_EXIT_KIND_IO] = io_handle_exit,
	[DV_EXIT_KIND_MSR_READ] = handle_msr,
	[DV_EXIT_KIND_MSR_WRITE] = handle_msr,
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
};

const char *exit_kind_name(unsigned kind)
{
	return kind < DV_EXIT_KINDS && exit_kind_names[kind] ? exit_kind_names[kind] : "?";
}

void exit_dispatch(struct vcpu *v)
{
	exit_handler h = v->exit.kind < DV_EXIT_KINDS ? exit_handlers[v->exit.kind] : NULL;

	if (!h) {
		char what[160];

		vcpu_exit_describe(v, what, sizeof(what));
		kprintf("\ndimvisor: unhandled VM exit: %s\n", what);
		stop_with_dump(v, DV_EXIT_VMX_FAILURE);
		return;
	}
	h(v);
}
