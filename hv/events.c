/* See hv/events.h. Priorities follow SDM Vol. 3A 6.9: an NMI before a
 * maskable interrupt; a maskable one only with RFLAGS.IF set, outside an STI
 * or MOV SS shadow, and from the APIC only when its priority is above the
 * PPR (hv/vlapic.c). */
#include "hv/events.h"
#include "arch/x86_64/cpu.h"
#include "hv/apic.h"
#include "hv/compact.h"
#include "hv/legacy.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

static void stop_for_init(struct vcpu *v)
{
	kprintf("\ndimvisor: guest sent an INIT to itself at RIP 0x%lx: the CPU resets into its "
		"firmware at 0xfffffff0, and dimvisor's platform has no firmware; ending the run "
		"as a reset does under QEMU -no-reboot\n",
		vcpu_get(v, VCPU_RIP));
	vcpu_stop(v, DV_EXIT_GUEST_FAULT);
}

/* The APIC's interrupts by priority; the PICs' (ExtINT) when the APIC has
 * none to give. The next waits for an EOI or a new one: both exit. */
static void deliver_interrupt(struct vcpu *v)
{
	struct vlapic *a = &v->apic;
	int vector = vlapic_pending_vector(a);
	bool from_pic = false;

	if (vector < 0) {
		vector = legacy_pending(v);
		from_pic = true;
	}
	if (vector >= 0 && vcpu_interrupt_allowed(v)) {
		if (from_pic)
			vector = legacy_ack();
		else
			vlapic_accept(a, (u8)vector);
		vcpu_inject_interrupt(v, (u8)vector);
		v->events.interrupts++;
		vector = -1;
	}
	vcpu_request_interrupt_window(v, vector >= 0);
}

/* The earlier of two guest TSC deadlines (0: none). */
static u64 earlier(u64 a, u64 b)
{
	return !a || (b && b < a) ? b : a;
}

/* The guest TSC of the next timer event that could interrupt it, or 0. */
static u64 next_event(const struct vcpu *v)
{
	return earlier(vlapic_next_event(&v->apic), legacy_next_event(v));
}

/* Bring the timers (the APIC's, the PIT's) up to the guest's TSC now. */
static void advance_timers(struct vcpu *v)
{
	u64 now = apic_now(v);

	vlapic_advance(&v->apic, now);
	legacy_advance(now);
}

void events_deliver(struct vcpu *v)
{
	struct vlapic *a = &v->apic;
	u64 next, offset = vcpu_get(v, VCPU_TSC_OFFSET);

	advance_timers(v);
	if (vlapic_take_init(a)) {
		stop_for_init(v);
		return;
	}
	if (vlapic_take_nmi(a))
		v->nmi_pending = true;
	if (v->nmi_pending && vcpu_nmi_allowed(v)) {
		vcpu_inject_nmi(v);
		v->nmi_pending = false;
		v->events.nmis++;
	}
	deliver_interrupt(v);
	vcpu_request_nmi_window(v, v->nmi_pending);
	compact_tick(v); /* hv/compact.h: the guest runs between its steps */
	next = earlier(next_event(v), compact_next_event(v));
	vcpu_set_timer(v, next ? next - offset : 0);
	apic_before_entry(v);
}

static bool event_waiting(struct vcpu *v)
{
	struct vlapic *a = &v->apic;

	advance_timers(v);
	return v->nmi_pending || a->nmi_pending || a->init_pending ||
	       vlapic_pending_vector(a) >= 0 || legacy_pending(v) >= 0;
}

void events_hlt(struct vcpu *v)
{
	u64 next;

	if (!(vcpu_get(v, VCPU_RFLAGS) & RFLAGS_IF)) {
		kprintf("\ndimvisor: guest executed HLT with interrupts disabled at RIP 0x%lx: "
			"it can never resume; stopping it\n",
			vcpu_get(v, VCPU_RIP));
		vcpu_stop(v, DV_EXIT_GUEST_FAULT);
		return;
	}
	vcpu_skip_instruction(v); /* an interrupt returns to the next instruction */
	v->events.halts++;
	if (event_waiting(v))
		return;
	next = next_event(v);
	if (!next) {
		kprintf("\ndimvisor: guest executed HLT at RIP 0x%lx with interrupts enabled but "
			"nothing that could wake it (no interrupt pending, neither the APIC "
			"timer nor an unmasked PIT armed): it would wait forever; stopping it\n",
			vcpu_get(v, VCPU_RIP));
		vcpu_stop(v, DV_EXIT_GUEST_FAULT);
		return;
	}
	if (vcpu_halt(v))
		return; /* the CPU waits, until the timer exit or an injection */
	/* No HLT state to run the guest in: wait here for the deadline. */
	while (apic_now(v) < next)
		cpu_relax();
}

void events_host_nmi(struct vcpu *v)
{
	v->events.host_nmis++;
	v->nmi_pending = true;
	kprintf("dimvisor: NMI while the guest ran (at guest RIP 0x%lx): delivered to the "
		"guest\n",
		vcpu_get(v, VCPU_RIP));
}

void events_host_interrupt(struct vcpu *v, u8 vector)
{
	v->events.host_interrupts++;
	if (v->events.host_interrupts <= 8)
		kprintf("dimvisor: host interrupt vector %u while the guest ran (dimvisor "
			"programs none): acknowledged and dropped\n",
			vector);
}
