#include "hv/exit.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fixup.h"
#include "hv/cpu_rules.h"
#include "arch/x86_64/exception.h"
#include "hv/hypercall.h"
#include "hv/io.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>

#define VEC_UD 6
#define VEC_GP 13

#define CPUID1_ECX_VMX	      (1u << 5)
#define CPUID1_ECX_OSXSAVE    (1u << 27)
#define CPUID1_ECX_HYPERVISOR (1u << 31)

typedef void (*exit_handler)(struct vcpu *v);

static void stop_with_dump(struct vcpu *v, int status)
{
	vcpu_dump(v);
	vcpu_stop(v, status);
}

/* --- CPUID: the host's answers, with VMX hidden and dimvisor's leaves added. */
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
			if (vcpu_cr4() & CR4_OSXSAVE)
				r.ecx |= CPUID1_ECX_OSXSAVE;
		}
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_instruction();
}

/* --- control registers: SDM Vol. 3C Table 28-3 (exit qualification). */

/* Enter or leave IA-32e mode as the CPU would on a CR0.PG change with
 * EFER.LME set, when the write reached us instead of the CPU. SDM 10.8.5. */
static void update_long_mode(struct vcpu *v, u64 old_cr0, u64 new_cr0)
{
	u64 efer = vcpu_efer();

	if (!(efer & EFER_LME) || ((old_cr0 ^ new_cr0) & CR0_PG) == 0)
		return;
	if (new_cr0 & CR0_PG) {
		efer |= EFER_LMA;
		v->entry_controls |= ENTRY_IA32E_GUEST;
	} else {
		efer &= ~EFER_LMA;
		v->entry_controls &= ~ENTRY_IA32E_GUEST;
	}
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_ENTRY_CONTROLS, v->entry_controls);
}

static void guest_write_cr0(struct vcpu *v, u64 val)
{
	const struct vmx_caps *c = v->caps;
	u64 old = vcpu_guest_cr0(v);
	u64 fixed0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);

	v->entry_controls = (u32)vmcs_read(VMCS_ENTRY_CONTROLS);
	vmcs_write(VMCS_CR0_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, (val | fixed0) & c->cr0_fixed1);
	update_long_mode(v, old, val);
}

static bool guest_write_cr4(struct vcpu *v, u64 val)
{
	const struct vmx_caps *c = v->caps;

	if (val & CR4_VMXE)
		return false; /* VMX is not offered to the guest */
	vmcs_write(VMCS_CR4_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, (val | c->cr4_fixed0) & c->cr4_fixed1);
	return true;
}

static u64 read_gpr(struct vcpu *v, unsigned reg)
{
	return reg == 4 ? vmcs_read(VMCS_GUEST_RSP) : *vcpu_gpr(v, reg);
}

static void set_gpr(struct vcpu *v, unsigned reg, u64 val)
{
	if (reg == 4)
		vmcs_write(VMCS_GUEST_RSP, val);
	else
		*vcpu_gpr(v, reg) = val;
}

static void handle_cr_access(struct vcpu *v)
{
	u64 q = v->exit_qualification;
	unsigned cr = q & 0xf, type = (q >> 4) & 3, reg = (q >> 8) & 0xf;
	u64 val;

	switch (type) {
	case 0: /* MOV to CR */
		val = read_gpr(v, reg);
		if (cr == 0) {
			guest_write_cr0(v, val);
		} else if (cr == 4) {
			if (!guest_write_cr4(v, val)) {
				vcpu_inject_exception(VEC_GP, true, 0);
				return;
			}
		} else if (cr == 3) {
			vmcs_write(VMCS_GUEST_CR3, val);
		} else {
			break;
		}
		vcpu_skip_instruction();
		return;
	case 1: /* MOV from CR: only CR3 can exit this way (CR3-store exiting) */
		if (cr != 3)
			break;
		set_gpr(v, reg, vmcs_read(VMCS_GUEST_CR3));
		vcpu_skip_instruction();
		return;
	case 2: /* CLTS */
		guest_write_cr0(v, vcpu_guest_cr0(v) & ~(1ULL << 3));
		vcpu_skip_instruction();
		return;
	case 3: /* LMSW: bits 3:0 of the source; cannot clear PE */
		val = (q >> 16) & 0xf;
		u64 old = vcpu_guest_cr0(v);
		guest_write_cr0(v, (old & ~0xeULL) | val | (old & CR0_PE));
		vcpu_skip_instruction();
		return;
	}
	kprintf("\ndimvisor: unhandled control-register access: CR%u, access type %u, register "
		"%u\n",
		cr, type, reg);
	stop_with_dump(v, DV_EXIT_VMX_FAILURE);
}

/* --- MSRs: an explicit allow list; anything else gets #GP. */
enum msr_kind { MSR_VMCS, MSR_PASS, MSR_CONST, MSR_TSC };

struct msr_rule {
	u32 msr;
	enum msr_kind kind;
	enum vmcs_field field; /* MSR_VMCS */
	u64 value;	       /* MSR_CONST: what reads return; writes are ignored */
	const char *name;
};

#define MSR_APIC_BASE	   0x1b
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
	{MSR_IA32_EFER, MSR_VMCS, VMCS_GUEST_IA32_EFER, 0, "IA32_EFER"},
	{MSR_IA32_PAT, MSR_VMCS, VMCS_GUEST_IA32_PAT, 0, "IA32_PAT"},
	{MSR_FS_BASE, MSR_VMCS, VMCS_GUEST_FS_BASE, 0, "FS_BASE"},
	{MSR_GS_BASE, MSR_VMCS, VMCS_GUEST_GS_BASE, 0, "GS_BASE"},
	{MSR_IA32_SYSENTER_CS, MSR_VMCS, VMCS_GUEST_SYSENTER_CS, 0, "SYSENTER_CS"},
	{MSR_IA32_SYSENTER_ESP, MSR_VMCS, VMCS_GUEST_SYSENTER_ESP, 0, "SYSENTER_ESP"},
	{MSR_IA32_SYSENTER_EIP, MSR_VMCS, VMCS_GUEST_SYSENTER_EIP, 0, "SYSENTER_EIP"},
	{MSR_STAR, MSR_PASS, 0, 0, "STAR"},
	{MSR_LSTAR, MSR_PASS, 0, 0, "LSTAR"},
	{MSR_CSTAR, MSR_PASS, 0, 0, "CSTAR"},
	{MSR_SFMASK, MSR_PASS, 0, 0, "SFMASK"},
	{MSR_KERNEL_GS_BASE, MSR_PASS, 0, 0, "KERNEL_GS_BASE"},
	{MSR_TSC, MSR_TSC, 0, 0, "TSC"},
	{MSR_APIC_BASE, MSR_CONST, 0, 0xfee00900ULL, "APIC_BASE"}, /* BSP, enabled, 0xfee00000 */
	{MSR_MTRRCAP, MSR_CONST, 0, 0, "MTRRCAP"},		   /* no MTRRs offered */
	{MSR_MTRR_DEF_TYPE, MSR_CONST, 0, 0, "MTRR_DEF_TYPE"},
	{MSR_MISC_ENABLE, MSR_CONST, 0, 1, "MISC_ENABLE"}, /* fast strings */
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
		r->name, r->msr, val, vcpu_rip(), why);
	vcpu_inject_exception(VEC_GP, true, 0);
}

static bool guest_paging(struct vcpu *v)
{
	return (vcpu_guest_cr0(v) & CR0_PG) != 0;
}

/* Returns false when the write was refused (a fault is already injected). */
static bool msr_write(struct vcpu *v, const struct msr_rule *r, u64 val)
{
	u64 efer = vcpu_efer();
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
	if (r->kind == MSR_VMCS) {
		vmcs_write(r->field, val);
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
	bool write = v->exit_reason == EXIT_WRMSR;
	u32 msr = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	const struct msr_rule *r = find_msr(msr);

	if (!r) {
		kprintf("dimvisor: guest %s of MSR 0x%x (not on the allow list) at RIP 0x%lx: "
			"injecting #GP\n",
			write ? "WRMSR" : "RDMSR", msr, vcpu_rip());
		vcpu_inject_exception(VEC_GP, true, 0);
		return;
	}
	if (write) {
		if (!msr_write(v, r, val))
			return;
	} else {
		if (r->kind == MSR_VMCS)
			val = vmcs_read(r->field);
		else if (r->kind == MSR_PASS)
			val = rdmsr(msr);
		else if (r->kind == MSR_TSC)
			val = rdtsc();
		else
			val = r->value;
		v->regs.rax = (u32)val;
		v->regs.rdx = val >> 32;
	}
	vcpu_skip_instruction();
}

/* --- the rest */

static void handle_hlt(struct vcpu *v)
{
	if (!(vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
		kprintf("\ndimvisor: guest executed HLT with interrupts disabled at RIP 0x%lx: "
			"it can never resume; stopping it\n",
			vcpu_rip());
		vcpu_stop(v, DV_EXIT_GUEST_FAULT);
		return;
	}
	vcpu_skip_instruction(); /* no virtual interrupts yet: HLT is a no-op */
}

static void handle_triple_fault(struct vcpu *v)
{
	kprintf("\ndimvisor: guest triple fault (an exception it could not handle) at RIP 0x%lx\n",
		vcpu_rip());
	stop_with_dump(v, DV_EXIT_GUEST_FAULT);
}

static void handle_skip(struct vcpu *v)
{
	(void)v;
	vcpu_skip_instruction(); /* INVD, WBINVD: caches are the host's business */
}

static void handle_xsetbv(struct vcpu *v)
{
	u32 index = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	const char *why = v->unchecked_guest_values ? NULL : xsetbv_check(index, val, &v->rules);
	int vector;

	if (!why && vcpu_cpl() != 0)
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
			index, val, vcpu_rip(), why);
		vcpu_inject_exception(VEC_GP, true, 0);
		return;
	}
	vcpu_skip_instruction();
}

static void handle_vmx_instruction(struct vcpu *v)
{
	(void)v;
	vcpu_inject_exception(VEC_UD, false, 0); /* VMX is not offered to the guest */
}

/* EPT violation qualification: SDM Vol. 3C Table 28-7. */
static void handle_ept_violation(struct vcpu *v)
{
	u64 q = v->exit_qualification;
	u64 gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	const char *access = q & 4 ? "instruction fetch" : q & 2 ? "write" : "read";

	kprintf("\ndimvisor: guest %s of guest-physical 0x%lx at RIP 0x%lx", access, gpa,
		vcpu_rip());
	if (q & (1 << 7))
		kprintf(" (linear 0x%lx)", vmcs_read(VMCS_GUEST_LINEAR_ADDRESS));
	kprintf(": EPT violation, qualification 0x%lx: %s\n", q,
		guestmem_is_ram(v->mem, gpa, 1) ? "access not permitted"
						: "not guest RAM and no device there");
	kprintf("dimvisor: stopping the guest; the hypervisor is unaffected\n");
	stop_with_dump(v, DV_EXIT_GUEST_FAULT);
}

static void handle_ept_misconfig(struct vcpu *v)
{
	kprintf("\ndimvisor: EPT misconfiguration at guest-physical 0x%lx: a hypervisor bug\n",
		vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS));
	stop_with_dump(v, DV_EXIT_VMX_FAILURE);
}

static void handle_nmi(struct vcpu *v)
{
	kprintf("dimvisor: NMI while the guest ran (interruption info 0x%lx); ignored\n",
		vmcs_read(VMCS_EXIT_INTR_INFO));
	(void)v;
}

static const exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_EXCEPTION_NMI] = handle_nmi,
	[EXIT_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_HLT] = handle_hlt,
	[EXIT_INVD] = handle_skip,
	[EXIT_WBINVD] = handle_skip,
	[EXIT_VMCALL] = hypercall_handle,
	[EXIT_VMCLEAR] = handle_vmx_instruction,
	[EXIT_VMLAUNCH] = handle_vmx_instruction,
	[EXIT_VMPTRLD] = handle_vmx_instruction,
	[EXIT_VMPTRST] = handle_vmx_instruction,
	[EXIT_VMREAD] = handle_vmx_instruction,
	[EXIT_VMRESUME] = handle_vmx_instruction,
	[EXIT_VMWRITE] = handle_vmx_instruction,
	[EXIT_VMXOFF] = handle_vmx_instruction,
	[EXIT_VMXON] = handle_vmx_instruction,
	[EXIT_INVEPT] = handle_vmx_instruction,
	[EXIT_INVVPID] = handle_vmx_instruction,
	[EXIT_CR_ACCESS] = handle_cr_access,
	[EXIT_IO_INSTRUCTION] = io_handle_exit,
	[EXIT_RDMSR] = handle_msr,
	[EXIT_WRMSR] = handle_msr,
	[EXIT_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_XSETBV] = handle_xsetbv,
};

/* SDM Vol. 3C Tables 28-3 (CR access), 28-5 (I/O), 28-7 (EPT violation). */
void exit_describe(u32 reason, u64 q, char *buf, size_t len)
{
	static const char *const gpr[16] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
					    "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15"};
	static const char *const cr_ops[4] = {"MOV to", "MOV from", "CLTS on", "LMSW to"};

	buf[0] = '\0';
	switch (reason) {
	case EXIT_CR_ACCESS:
		ksnprintf(buf, len, "%s CR%lu %s %s", cr_ops[(q >> 4) & 3], q & 0xf,
			  ((q >> 4) & 3) == 1 ? "into" : "from", gpr[(q >> 8) & 0xf]);
		break;
	case EXIT_IO_INSTRUCTION:
		ksnprintf(buf, len, "%s%s %lu byte%s %s port 0x%lx", q & (1 << 3) ? "IN" : "OUT",
			  q & (1 << 4) ? "S" : "", (q & 7) + 1, (q & 7) ? "s" : "",
			  q & (1 << 3) ? "from" : "to", q >> 16);
		break;
	case EXIT_TASK_SWITCH: { /* SDM Vol. 3C Table 28-2 */
		static const char *const source[4] = {"CALL", "IRET", "JMP", "IDT task gate"};
		ksnprintf(buf, len, "%s to TSS selector 0x%lx", source[(q >> 30) & 3], q & 0xffff);
		break;
	}
	case EXIT_EPT_VIOLATION:
		ksnprintf(buf, len, "%s of a guest-physical address, allowed %c%c%c%s",
			  q & 4	  ? "fetch"
			  : q & 2 ? "write"
				  : "read",
			  q & 8 ? 'R' : '-', q & 16 ? 'W' : '-', q & 32 ? 'X' : '-',
			  q & (1 << 7) ? ", linear address valid" : "");
		break;
	}
}

void exit_dispatch(struct vcpu *v)
{
	exit_handler h = v->exit_reason < EXIT_REASON_COUNT ? exit_handlers[v->exit_reason] : NULL;

	if (!h) {
		char what[80];

		exit_describe(v->exit_reason, v->exit_qualification, what, sizeof(what));
		kprintf("\ndimvisor: unhandled VM exit: reason %u (%s), qualification 0x%lx %s\n",
			v->exit_reason, vmx_exit_reason_name(v->exit_reason), v->exit_qualification,
			what);
		stop_with_dump(v, DV_EXIT_VMX_FAILURE);
		return;
	}
	h(v);
}
