/* The VT-x backend, events: injecting external interrupts and NMIs at VM
 * entry, interrupt- and NMI-window exiting, the VMX-preemption timer, the
 * HLT activity state, and re-delivering an event an exit cut short.
 * SDM Vol. 3C 25.4.2 (interruptibility, activity), 25.6.13-14 (windows),
 * 26.6 (event injection), 26.5.1 (preemption timer), 28.2.4 (IDT-vectoring). */
#include "arch/x86_64/cpu.h"
#include "hv/vmx/vcpu_arch.h"

#define VECTOR_NMI 2

static bool injecting(void)
{
	return (vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) != 0;
}

static u32 interruptibility(void)
{
	return (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
}

bool vcpu_interrupt_allowed(const struct vcpu *v)
{
	(void)v;
	return !injecting() && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(interruptibility() & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS));
}

bool vcpu_nmi_allowed(const struct vcpu *v)
{
	(void)v;
	/* Entry refuses an NMI in an STI shadow on some CPUs (26.3.1.5): wait. */
	return !injecting() &&
	       !(interruptibility() &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS | INTERRUPTIBILITY_NMI));
}

static void wake(void)
{
	if (vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
}

void vcpu_inject_interrupt(struct vcpu *v, u8 vector)
{
	(void)v;
	vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | vector);
	wake();
}

void vcpu_inject_nmi(struct vcpu *v)
{
	(void)v;
	vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VECTOR_NMI);
	wake();
}

static void set_proc_control(struct vcpu *v, u32 bit, bool on)
{
	u32 want = on ? v->arch->proc_controls | bit : v->arch->proc_controls & ~bit;

	if (want != v->arch->proc_controls) {
		v->arch->proc_controls = want;
		vmcs_write(VMCS_PROC_CONTROLS, want);
	}
}

void vcpu_request_interrupt_window(struct vcpu *v, bool on)
{
	set_proc_control(v, PROC_INTERRUPT_WINDOW, on);
}

void vcpu_request_nmi_window(struct vcpu *v, bool on)
{
	/* Without it an NMI waits for the next exit of any kind. */
	if (v->arch->has_nmi_window)
		set_proc_control(v, PROC_NMI_WINDOW, on);
}

bool vcpu_monitor_trap(struct vcpu *v, bool on)
{
	if (!v->arch->has_monitor_trap)
		return false;
	set_proc_control(v, PROC_MONITOR_TRAP, on);
	return true;
}

bool vcpu_set_timer(struct vcpu *v, u64 host_tsc_deadline)
{
	struct vcpu_arch *a = v->arch;
	u32 pin = a->pin_controls & ~PIN_PREEMPTION_TIMER;

	if (!a->has_timer)
		return false;
	if (host_tsc_deadline) {
		u64 now = rdtsc();
		u64 ticks =
			host_tsc_deadline > now ? (host_tsc_deadline - now) >> a->timer_shift : 0;

		/* A longer wait is cut in pieces: the timer exit just re-arms it. */
		vmcs_write(VMCS_PREEMPTION_TIMER, ticks > 0xffffffffULL ? 0xffffffffULL : ticks);
		pin |= PIN_PREEMPTION_TIMER;
	}
	if (pin != a->pin_controls) {
		a->pin_controls = pin;
		vmcs_write(VMCS_PIN_CONTROLS, pin);
	}
	return true;
}

bool vcpu_halt(struct vcpu *v)
{
	if (!v->arch->has_halt)
		return false;
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	return true;
}

bool vcpu_halted(const struct vcpu *v)
{
	(void)v;
	return vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT;
}

void vmx_save_vectoring(struct vcpu *v)
{
	struct vcpu_arch *a = v->arch;

	a->vectoring_info = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);
	if (!(a->vectoring_info & INTR_INFO_VALID))
		return;
	a->vectoring_error = (u32)vmcs_read(VMCS_IDT_VECTORING_ERROR);
	a->vectoring_len = (u32)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
}

void vmx_reinject_vectoring(struct vcpu *v)
{
	struct vcpu_arch *a = v->arch;
	u32 info = a->vectoring_info, type = info & INTR_TYPE_MASK;

	if (!(info & INTR_INFO_VALID) || injecting() || v->stopped)
		return;
	/* The same event again: bits 30:12 of the entry field are reserved
	 * (vector, type and the error-code bit are bits 11:0 of both). */
	vmcs_write(VMCS_ENTRY_INTR_INFO, info & (INTR_INFO_VALID | 0xfffu));
	if (info & INTR_INFO_DELIVER_ERROR)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, a->vectoring_error);
	if (type == INTR_TYPE_SOFTWARE_INT || type == INTR_TYPE_PRIV_SW_EXC ||
	    type == INTR_TYPE_SW_EXCEPTION)
		vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, a->vectoring_len);
	a->vectoring_info = 0;
	v->events.reinjected++;
}
