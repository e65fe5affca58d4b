/* The VT-x backend, set-up: VM-execution controls from the capability MSRs
 * (SDM Vol. 3D App. A), host state, and the guest's initial state from a
 * vendor-neutral struct vcpu_start. SDM Vol. 3C chapters 25-27. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "hv/msr.h"
#include "hv/vmx/vcpu_arch.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

extern char vmx_exit[];

static u8 vmcs_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...) __printf_like(4, 5);
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

struct control_bit {
	u32 bit;
	const char *name;
};

/* (wanted | allowed0) & allowed1, and every required bit must survive. SDM
 * Vol. 3D A.3-A.5: allowed-0 settings in bits 31:0, allowed-1 in 63:32. */
static int adjust_controls(const char *what, u64 msr, u32 wanted,
			   const struct control_bit *required, unsigned nrequired, u32 *out,
			   char *err, size_t errlen)
{
	u32 v = (wanted | (u32)msr) & (u32)(msr >> 32);

	for (unsigned i = 0; i < nrequired; i++)
		if (!(v & required[i].bit))
			return errf(
				err, errlen, -DV_ENOTSUP,
				"this CPU does not allow the %s control '%s', which dimvisor needs",
				what, required[i].name);
	*out = v;
	return 0;
}

static const struct control_bit pin_required[] = {
	{PIN_EXTERNAL_INTERRUPT_EXITING, "external-interrupt exiting"},
	{PIN_NMI_EXITING, "NMI exiting"},
};
static const struct control_bit proc_required[] = {
	{PROC_USE_TSC_OFFSETTING, "use TSC offsetting"},
	{PROC_HLT_EXITING, "HLT exiting"},
	{PROC_UNCOND_IO_EXITING, "unconditional I/O exiting"},
	{PROC_ACTIVATE_SECONDARY, "activate secondary controls"},
};
static const struct control_bit proc2_required[] = {
	{PROC2_ENABLE_EPT, "enable EPT"},
	{PROC2_UNRESTRICTED_GUEST, "unrestricted guest (multiboot guests start with paging off)"},
};
/* The guest's DR7 and IA32_DEBUGCTL live in the VMCS: a VM exit sets DR7 to
 * 0x400 and clears IA32_DEBUGCTL (SDM Vol. 3C 28.5.1), so without these the
 * guest's breakpoints would vanish at its first exit. Bochs does not make
 * them default-1 in the TRUE control MSRs. */
static const struct control_bit exit_required[] = {
	{EXIT_SAVE_DEBUG, "save debug controls"},
	{EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size"},
	{EXIT_SAVE_EFER, "save IA32_EFER"},
	{EXIT_LOAD_EFER, "load IA32_EFER"},
};
static const struct control_bit entry_required[] = {
	{ENTRY_LOAD_DEBUG, "load debug controls"},
	{ENTRY_LOAD_EFER, "load IA32_EFER"},
};

/* What the CPU offers for delivering the guest's events: the preemption
 * timer (pin-based bit 6; its rate in IA32_VMX_MISC 4:0), the HLT activity
 * state (MISC bit 6), and NMI-window exiting, which needs virtual NMIs. */
static void setup_event_caps(struct vcpu *v)
{
	const struct vmx_caps *c = v->arch->caps;
	struct vcpu_arch *a = v->arch;

	a->has_timer = (c->pinbased >> 32) & PIN_PREEMPTION_TIMER;
	a->timer_shift = VMX_MISC_PREEMPTION_SHIFT(c->misc);
	a->has_halt = (c->misc & VMX_MISC_ACTIVITY_HLT) != 0;
	a->has_nmi_window =
		(a->pin_controls & PIN_VIRTUAL_NMIS) && ((c->procbased >> 32) & PROC_NMI_WINDOW);
	a->has_monitor_trap = (c->procbased >> 32) & PROC_MONITOR_TRAP;
}

/* The CPU's APIC virtualization (SDM Vol. 3C 30): the TPR shadow (CR8 and the
 * TPR without exits), APIC-access virtualization and APIC-register
 * virtualization (reads from the register page, writes exiting after the
 * fact). All three or none: without them CR8 exits and every access to the
 * APIC page is a nested fault (hv/apic.c). */
static int setup_apic_help(struct vcpu *v, const struct vcpu_start *start, u32 *proc, u32 *proc2,
			   char *err, size_t errlen)
{
	const struct vmx_caps *c = v->arch->caps;
	u32 cr8_exiting = PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	u32 allowed0 = (u32)c->procbased, allowed1 = (u32)(c->procbased >> 32);
	u32 allowed2 = (u32)(c->procbased2 >> 32);
	bool have = (allowed1 & PROC_USE_TPR_SHADOW) && (allowed2 & PROC2_VIRT_APIC_ACCESS) &&
		    (allowed2 & PROC2_APIC_REGISTER_VIRT) && !(allowed0 & cr8_exiting);

	v->arch->apic_help = have && !start->no_apic_help;
	if (v->arch->apic_help) {
		*proc = (*proc | PROC_USE_TPR_SHADOW) & ~cr8_exiting;
		*proc2 |= PROC2_VIRT_APIC_ACCESS | PROC2_APIC_REGISTER_VIRT;
		vmx_setup_apic_pages(v);
		return 0;
	}
	if ((*proc & cr8_exiting) != cr8_exiting)
		return errf(err, errlen, -DV_ENOTSUP,
			    "this CPU has neither a TPR shadow nor CR8 exiting, and CR8 is the "
			    "virtual APIC's TPR");
	return 0;
}

static int setup_controls(struct vcpu *v, const struct vcpu_start *start, char *err, size_t errlen)
{
	const struct vmx_caps *c = v->arch->caps;
	u32 pin = 0, proc = 0, proc2 = 0, exitc = 0, entry = 0;
	u32 want2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_RDTSCP |
		    PROC2_ENABLE_INVPCID | (c->vpid ? PROC2_ENABLE_VPID : 0);
	int rc;

	if (!c->ept)
		return errf(err, errlen, -DV_ENOTSUP,
			    "this CPU has no EPT (extended page tables); dimvisor needs them");
	if (!c->ept_walk4 || !c->ept_wb)
		return errf(err, errlen, -DV_ENOTSUP,
			    "EPT lacks a 4-level walk or write-back memory type");
	/* Host interrupts and NMIs exit; the guest's come from its virtual
	 * APIC (hv/events.c), by injection. */
	if ((rc = adjust_controls("pin-based", c->pinbased,
				  PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
					  PIN_VIRTUAL_NMIS,
				  pin_required, ARRAY_SIZE(pin_required), &pin, err, errlen)) ||
	    (rc = adjust_controls("processor-based", c->procbased,
				  PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING |
					  PROC_UNCOND_IO_EXITING | PROC_ACTIVATE_SECONDARY |
					  PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING,
				  proc_required, ARRAY_SIZE(proc_required), &proc, err, errlen)) ||
	    (rc = adjust_controls("secondary", c->procbased2, want2, proc2_required,
				  ARRAY_SIZE(proc2_required), &proc2, err, errlen)) ||
	    (rc = adjust_controls("VM-exit", c->exit_ctls,
				  EXIT_SAVE_DEBUG | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER |
					  EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
					  EXIT_ACK_INTERRUPT,
				  exit_required, ARRAY_SIZE(exit_required), &exitc, err, errlen)) ||
	    (rc = adjust_controls("VM-entry", c->entry_ctls,
				  ENTRY_LOAD_DEBUG | ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
				  entry_required, ARRAY_SIZE(entry_required), &entry, err, errlen)))
		return rc;
	/* Off unless the CPU insists: with EPT and unrestricted guest the guest
	 * owns CR3, and MSR/I-O bitmaps are not used (every MSR and port exits). */
	proc &= ~(u32)(PROC_USE_MSR_BITMAPS | PROC_USE_IO_BITMAPS) | (u32)c->procbased;
	rc = setup_apic_help(v, start, &proc, &proc2, err, errlen);
	if (rc)
		return rc;
	vmcs_write(VMCS_PIN_CONTROLS, pin);
	vmcs_write(VMCS_PROC_CONTROLS, proc);
	vmcs_write(VMCS_PROC2_CONTROLS, proc2);
	vmcs_write(VMCS_EXIT_CONTROLS, exitc);
	vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	v->arch->entry_controls = entry;
	v->arch->pin_controls = pin;
	v->arch->proc_controls = proc;
	setup_event_caps(v);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_TSC_OFFSET, 0); /* the guest's TSC starts as the host's */
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_EPT_POINTER, guestmem_eptp(v->mem));
	if (proc2 & PROC2_ENABLE_VPID) {
		v->arch->vpid = 1;
		vmcs_write(VMCS_VPID, v->arch->vpid);
	}
	return 0;
}

static void setup_host_state(void)
{
	struct desc_ptr gdtr, idtr;

	sgdt(&gdtr);
	sidt(&idtr);
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, SEL_KERNEL_CS);
	vmcs_write(VMCS_HOST_SS_SEL, SEL_KERNEL_DS);
	vmcs_write(VMCS_HOST_DS_SEL, SEL_KERNEL_DS);
	vmcs_write(VMCS_HOST_ES_SEL, SEL_KERNEL_DS);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, SEL_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, 0);
	vmcs_write(VMCS_HOST_GS_BASE, 0);
	vmcs_write(VMCS_HOST_TR_BASE, (u64)&boot_tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (u64)vmx_exit);
}

/* Access rights: SDM Vol. 3C 25.4.1 (type, S, DPL, P, L, D/B, G). */
#define AR_CODE32   0xc09b
#define AR_CODE64   0xa09b
#define AR_DATA	    0xc093
#define AR_TSS_BUSY 0x008b

static void set_segment(enum vmcs_field sel, u16 selector, u32 ar)
{
	/* Selector, base, limit and AR fields of one segment are 2, 6, 0x14 apart
	 * relative to ES: selector 0x800 + 2i, limit 0x4800 + 2i, AR 0x4814 + 2i,
	 * base 0x6806 + 2i. SDM Vol. 3D App. B. */
	unsigned i = (sel - VMCS_GUEST_ES_SEL) / 2;

	vmcs_write(sel, selector);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * i, (ar & AR_UNUSABLE) ? 0 : 0xffffffff);
	vmcs_write(VMCS_GUEST_ES_AR + 2 * i, ar);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * i, 0);
}

/* CR0/CR4 bits the guest may not own: those fixed by VMX (except PE and PG,
 * free with unrestricted guest) are kept by the host and shadowed. Needs
 * v->rules. */
static void setup_control_registers(struct vcpu *v, u64 cr0, u64 cr4)
{
	const struct vmx_caps *c = v->arch->caps;
	u64 fixed0_cr0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);

	v->arch->cr0_mask = fixed0_cr0 | (~c->cr0_fixed1 & 0xffffffffULL);
	/* CR4: every bit the guest may not set exits, so that dimvisor refuses
	 * it as the CPU would (a bit VMX does not allow, or one the guest's
	 * CPUID does not advertise while this CPU has it). */
	v->arch->cr4_mask = c->cr4_fixed0 | ~v->rules.cr4_writable;
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, v->arch->cr0_mask);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, v->arch->cr4_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR0, (cr0 | fixed0_cr0) & c->cr0_fixed1);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | c->cr4_fixed0) & c->cr4_fixed1);
}

/* 32-bit protected mode, paging off, flat segments: the state every start
 * mode builds on (multiboot's as it is). */
static void setup_guest_state(struct vcpu *v, const struct vcpu_start *start)
{
	setup_control_registers(v, CR0_PE | CR0_ET, 0);
	vmcs_write(VMCS_GUEST_CR3, 0);
	set_segment(VMCS_GUEST_CS_SEL, 0x08, AR_CODE32);
	set_segment(VMCS_GUEST_SS_SEL, 0x10, AR_DATA);
	set_segment(VMCS_GUEST_DS_SEL, 0x10, AR_DATA);
	set_segment(VMCS_GUEST_ES_SEL, 0x10, AR_DATA);
	set_segment(VMCS_GUEST_FS_SEL, 0x10, AR_DATA);
	set_segment(VMCS_GUEST_GS_SEL, 0x10, AR_DATA);
	set_segment(VMCS_GUEST_LDTR_SEL, 0, AR_UNUSABLE);
	vmcs_write(VMCS_GUEST_TR_SEL, 0);
	vmcs_write(VMCS_GUEST_TR_BASE, 0);
	vmcs_write(VMCS_GUEST_TR_LIMIT, 0xff);
	vmcs_write(VMCS_GUEST_TR_AR, AR_TSS_BUSY);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RIP, start->rip);
	vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write(VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL); /* power-on PAT, SDM 11.12.4 */
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.rax = start->rax;
	v->regs.rbx = start->rbx;
}

/* IA-32e mode, 64-bit code segment, paging on: SDM Vol. 3A 10.8.5. */
static void setup_guest_long_mode(struct vcpu *v, const struct vcpu_start *start)
{
	setup_control_registers(v, CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG, CR4_PAE);
	vmcs_write(VMCS_GUEST_CR3, start->cr3);
	set_segment(VMCS_GUEST_CS_SEL, 0x08, AR_CODE64);
	vmcs_write(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	v->arch->entry_controls |= ENTRY_IA32E_GUEST;
	vmcs_write(VMCS_ENTRY_CONTROLS, v->arch->entry_controls);
}

int vcpu_init(struct vcpu *v, struct guestmem *mem, const struct vcpu_start *start, char *err,
	      size_t errlen)
{
	static struct vcpu_arch arch; /* one vCPU */
	const struct vmx_caps *caps = vmx_hw_caps();
	int rc;

	memset(v, 0, sizeof(*v));
	memset(&arch, 0, sizeof(arch));
	v->arch = &arch;
	arch.caps = caps;
	v->mem = mem;
	memset(vmcs_region, 0, sizeof(vmcs_region));
	memcpy(vmcs_region, &caps->revision_id, 4);
	arch.vmcs_phys = (u64)vmcs_region;
	if (vmclear(arch.vmcs_phys) != VMX_OK || vmptrld(arch.vmcs_phys) != VMX_OK)
		return errf(err, errlen, -DV_EIO, "VMCLEAR/VMPTRLD of the VMCS failed");
	rc = setup_controls(v, start, err, errlen);
	if (rc)
		return rc;
	v->cr4_hw_allowed = caps->cr4_fixed1;
	msr_vcpu_reset(v); /* and the guest's rules, from its CPUID view */
	setup_host_state();
	setup_guest_state(v, start);
	if (start->mode == VCPU_START_LONG64)
		setup_guest_long_mode(v, start);
	if (caps->invept)
		invept(caps->invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT,
		       guestmem_eptp(mem));
	return 0;
}

void vcpu_break_for_selftest(struct vcpu *v, bool guest_state)
{
	(void)v;
	/* RFLAGS bit 1 clear (SDM 27.3.1.4: exit reason 33); a CR3-target count
	 * above the CPU's maximum (SDM 27.2.1.1: VMfailValid, error 7). */
	if (guest_state)
		vmcs_write(VMCS_GUEST_RFLAGS, 0);
	else
		vmcs_write(VMCS_CR3_TARGET_COUNT, 1000);
}
