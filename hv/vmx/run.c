/* The VT-x backend: the entry/exit loop and the failure dump. SDM Vol. 3C
 * chapters 27-28. */
#include "arch/x86_64/cpu.h"
#include "hv/events.h"
#include "hv/exit.h"
#include "hv/vmx/vcpu_arch.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

/* --- failure dump ------------------------------------------------------------------ */

static void dump_segment(const char *name, enum vmcs_field sel)
{
	unsigned i = (sel - VMCS_GUEST_ES_SEL) / 2;

	kprintf("  %-4s sel %04lx base %016lx limit %08lx ar %05lx\n", name, vmcs_read(sel),
		vmcs_read(VMCS_GUEST_ES_BASE + 2 * i), vmcs_read(VMCS_GUEST_ES_LIMIT + 2 * i),
		vmcs_read(VMCS_GUEST_ES_AR + 2 * i));
}

void vcpu_dump(const struct vcpu *v)
{
	kprintf("  guest RIP %016lx RSP %016lx RFLAGS %016lx\n", vmcs_read(VMCS_GUEST_RIP),
		vmcs_read(VMCS_GUEST_RSP), vmcs_read(VMCS_GUEST_RFLAGS));
	kprintf("  guest CR0 %016lx CR3 %016lx CR4 %016lx EFER %016lx\n", vmcs_read(VMCS_GUEST_CR0),
		vmcs_read(VMCS_GUEST_CR3), vmcs_read(VMCS_GUEST_CR4),
		vmcs_read(VMCS_GUEST_IA32_EFER));
	kprintf("  guest CR0 shadow %016lx CR4 shadow %016lx entry controls %08lx\n",
		vmcs_read(VMCS_CR0_READ_SHADOW), vmcs_read(VMCS_CR4_READ_SHADOW),
		vmcs_read(VMCS_ENTRY_CONTROLS));
	kprintf("  guest DR7 %016lx IA32_DEBUGCTL %016lx pending debug %lx\n",
		vmcs_read(VMCS_GUEST_DR7), vmcs_read(VMCS_GUEST_IA32_DEBUGCTL),
		vmcs_read(VMCS_GUEST_PENDING_DBG));
	kprintf("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", v->regs.rax, v->regs.rbx,
		v->regs.rcx, v->regs.rdx);
	kprintf("  RSI %016lx RDI %016lx RBP %016lx CR2 %016lx\n", v->regs.rsi, v->regs.rdi,
		v->regs.rbp, v->regs.cr2);
	dump_segment("CS", VMCS_GUEST_CS_SEL);
	dump_segment("SS", VMCS_GUEST_SS_SEL);
	dump_segment("DS", VMCS_GUEST_DS_SEL);
	dump_segment("ES", VMCS_GUEST_ES_SEL);
	dump_segment("FS", VMCS_GUEST_FS_SEL);
	dump_segment("GS", VMCS_GUEST_GS_SEL);
	dump_segment("TR", VMCS_GUEST_TR_SEL);
	dump_segment("LDTR", VMCS_GUEST_LDTR_SEL);
	kprintf("  GDTR base %016lx limit %04lx  IDTR base %016lx limit %04lx\n",
		vmcs_read(VMCS_GUEST_GDTR_BASE), vmcs_read(VMCS_GUEST_GDTR_LIMIT),
		vmcs_read(VMCS_GUEST_IDTR_BASE), vmcs_read(VMCS_GUEST_IDTR_LIMIT));
	kprintf("  interruptibility %lx activity %lx\n", vmcs_read(VMCS_GUEST_INTERRUPTIBILITY),
		vmcs_read(VMCS_GUEST_ACTIVITY_STATE));
	kprintf("  last exits (oldest first):\n");
	for (unsigned i = 0; i < VCPU_RECENT_EXITS; i++) {
		const struct vmx_exit_record *r =
			&v->arch->recent[(v->arch->recent_next + i) % VCPU_RECENT_EXITS];
		char what[80];

		if (!r->rip && !r->reason)
			continue;
		vmx_describe_exit(r->reason, r->qualification, what, sizeof(what));
		kprintf("    %-28s RIP %016lx qualification %lx %s\n",
			vmx_exit_reason_name(r->reason), r->rip, r->qualification, what);
	}
}

static void entry_failed(struct vcpu *v, enum vmx_status st)
{
	kprintf("\ndimvisor: VM entry failed: %s", v->arch->launched ? "VMRESUME" : "VMLAUNCH");
	if (st == VMX_FAIL_INVALID) {
		kprintf(" VMfailInvalid (no valid current VMCS)\n");
	} else {
		u64 e = vmcs_read(VMCS_INSTRUCTION_ERROR);
		kprintf(" VMfailValid: VM-instruction error %lu: %s\n", e,
			vmx_instruction_error_name((unsigned)e));
	}
	vcpu_dump(v);
	vcpu_stop(v, DV_EXIT_VMX_FAILURE);
}

/* Decode the exit into v->exit, with the addresses of a nested fault. */
static void read_exit(struct vcpu *v, u32 reason)
{
	struct vcpu_exit *e = &v->exit;

	vmx_decode_exit(reason, vmcs_read(VMCS_EXIT_QUALIFICATION), e);
	if (e->kind == DV_EXIT_KIND_NESTED_FAULT || e->kind == DV_EXIT_KIND_NESTED_MISCONFIG)
		e->nested.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	if (e->kind == DV_EXIT_KIND_NESTED_FAULT && e->nested.gva_valid)
		e->nested.gva = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
	if (e->kind == DV_EXIT_KIND_HOST_INTERRUPT) /* acknowledged on exit: SDM 27.2.2 */
		e->intr.vector = (u8)vmcs_read(VMCS_EXIT_INTR_INFO);
	if (e->kind == DV_EXIT_KIND_IO && e->io.string) {
		/* SDM Vol. 3C 28.2.1: the linear address of the memory operand */
		e->io.linear = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
		if (v->arch->caps->ins_outs_info)
			vmx_decode_string_io((u32)vmcs_read(VMCS_EXIT_INSTRUCTION_INFO), e);
	}
}

void vcpu_exit_describe(const struct vcpu *v, char *buf, size_t len)
{
	char what[80];

	vmx_describe_exit(v->exit.reason, v->exit.qualification, what, sizeof(what));
	ksnprintf(buf, len, "reason %u (%s), qualification 0x%lx %s", v->exit.reason,
		  vmx_exit_reason_name(v->exit.reason), v->exit.qualification, what);
}

static void record_exit(struct vcpu *v)
{
	struct vcpu_arch *a = v->arch;

	v->exits_total++;
	v->exits[v->exit.kind]++;
	a->recent[a->recent_next] = (struct vmx_exit_record){
		v->exit.reason, vmcs_read(VMCS_GUEST_RIP), v->exit.qualification};
	a->recent_next = (a->recent_next + 1) % VCPU_RECENT_EXITS;
}

int vcpu_run(struct vcpu *v)
{
	v->tsc_start = rdtsc();
	while (!v->stopped) {
		events_deliver(v);
		if (v->stopped)
			break;
		enum vmx_status st = vmx_enter(&v->regs, v->arch->launched);
		if (st != VMX_OK) {
			entry_failed(v, st);
			break;
		}
		v->arch->launched = true;
		u32 raw = (u32)vmcs_read(VMCS_EXIT_REASON);
		read_exit(v, raw & 0xffff);
		if (raw & EXIT_REASON_ENTRY_FAILURE)
			v->exit.kind = DV_EXIT_KIND_ENTRY_FAILURE;
		record_exit(v);
		if (raw & EXIT_REASON_ENTRY_FAILURE) {
			kprintf("\ndimvisor: VM entry failed: exit reason %u (%s), qualification "
				"%lx\n",
				v->exit.reason, vmx_exit_reason_name(v->exit.reason),
				v->exit.qualification);
			vcpu_dump(v);
			vcpu_stop(v, DV_EXIT_VMX_FAILURE);
			break;
		}
		vmx_save_vectoring(v);
		exit_dispatch(v);
		vmx_reinject_vectoring(v);
	}
	v->tsc_end = rdtsc();
	return v->status;
}
