/* The VT-x backend: guest state by name (hv/vcpu.h), kept in the VMCS and in
 * the general registers the entry stub saves. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exception.h"
#include "hv/vmx/vcpu_arch.h"

/* Registers that live in a VMCS field as they are. */
static const enum vmcs_field vmcs_reg_field[VCPU_REG_COUNT] = {
	[VCPU_RSP] = VMCS_GUEST_RSP,
	[VCPU_RIP] = VMCS_GUEST_RIP,
	[VCPU_RFLAGS] = VMCS_GUEST_RFLAGS,
	[VCPU_CR3] = VMCS_GUEST_CR3,
	[VCPU_EFER] = VMCS_GUEST_IA32_EFER,
	[VCPU_PAT] = VMCS_GUEST_IA32_PAT,
	[VCPU_FS_BASE] = VMCS_GUEST_FS_BASE,
	[VCPU_GS_BASE] = VMCS_GUEST_GS_BASE,
	[VCPU_SYSENTER_CS] = VMCS_GUEST_SYSENTER_CS,
	[VCPU_SYSENTER_ESP] = VMCS_GUEST_SYSENTER_ESP,
	[VCPU_SYSENTER_EIP] = VMCS_GUEST_SYSENTER_EIP,
	[VCPU_DR7] = VMCS_GUEST_DR7,
	[VCPU_DEBUGCTL] = VMCS_GUEST_IA32_DEBUGCTL,
	[VCPU_TSC_OFFSET] = VMCS_TSC_OFFSET,
};

/* The saved general registers in the SDM's encoding order (RSP: the VMCS). */
static u64 *gpr_slot(struct vcpu *v, enum vcpu_reg r)
{
	u64 *const map[16] = {
		&v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx, NULL,	      &v->regs.rbp,
		&v->regs.rsi, &v->regs.rdi, &v->regs.r8,  &v->regs.r9,	&v->regs.r10, &v->regs.r11,
		&v->regs.r12, &v->regs.r13, &v->regs.r14, &v->regs.r15,
	};
	return r < 16 ? map[r] : NULL;
}

/* A guest-visible CR: the real register for the bits the guest owns, the read
 * shadow for the bits the host keeps (the guest/host mask). SDM 25.6.6. */
static u64 guest_view(enum vmcs_field real, enum vmcs_field shadow, u64 mask)
{
	return (vmcs_read(real) & ~mask) | (vmcs_read(shadow) & mask);
}

u64 vcpu_get(const struct vcpu *v, enum vcpu_reg r)
{
	u64 *slot = gpr_slot((struct vcpu *)v, r);

	if (slot)
		return *slot;
	if (r == VCPU_CR0)
		return guest_view(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, v->arch->cr0_mask);
	if (r == VCPU_CR4)
		return guest_view(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, v->arch->cr4_mask);
	return vmcs_read(vmcs_reg_field[r]);
}

/* Enter or leave IA-32e mode as the CPU would on a CR0.PG change with
 * EFER.LME set, since the write reached us instead of the CPU. SDM 10.8.5. */
static void update_long_mode(struct vcpu *v, u64 old_cr0, u64 new_cr0)
{
	u64 efer = vmcs_read(VMCS_GUEST_IA32_EFER);

	if (!(efer & EFER_LME) || ((old_cr0 ^ new_cr0) & CR0_PG) == 0)
		return;
	if (new_cr0 & CR0_PG) {
		efer |= EFER_LMA;
		v->arch->entry_controls |= ENTRY_IA32E_GUEST;
	} else {
		efer &= ~EFER_LMA;
		v->arch->entry_controls &= ~ENTRY_IA32E_GUEST;
	}
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_ENTRY_CONTROLS, v->arch->entry_controls);
}

static void set_cr0(struct vcpu *v, u64 val)
{
	const struct vmx_caps *c = v->arch->caps;
	u64 old = vcpu_get(v, VCPU_CR0);
	u64 fixed0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG); /* unrestricted guest */

	vmcs_write(VMCS_CR0_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, (val | fixed0) & c->cr0_fixed1);
	update_long_mode(v, old, val);
}

static void set_cr4(struct vcpu *v, u64 val)
{
	const struct vmx_caps *c = v->arch->caps;

	vmcs_write(VMCS_CR4_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, (val | c->cr4_fixed0) & c->cr4_fixed1);
}

void vcpu_set(struct vcpu *v, enum vcpu_reg r, u64 value)
{
	u64 *slot = gpr_slot(v, r);

	if (slot)
		*slot = value;
	else if (r == VCPU_CR0)
		set_cr0(v, value);
	else if (r == VCPU_CR4)
		set_cr4(v, value);
	else
		vmcs_write(vmcs_reg_field[r], value);
}

unsigned vcpu_cpl(const struct vcpu *v)
{
	(void)v;
	return (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3; /* CPL = SS.DPL, SDM 25.4.1 */
}

void vcpu_get_segment(const struct vcpu *v, enum vcpu_sreg s, struct vcpu_segment *seg)
{
	/* The guest segment fields follow the SDM's register order, 2 apart. */
	unsigned off = 2 * (unsigned)s;

	(void)v;
	vmx_segment_from_ar(vmcs_read(VMCS_GUEST_ES_BASE + off),
			    (u32)vmcs_read(VMCS_GUEST_ES_LIMIT + off),
			    (u32)vmcs_read(VMCS_GUEST_ES_AR + off), seg);
}

bool vcpu_in_64bit_mode(const struct vcpu *v)
{
	(void)v;
	/* CS access rights bit 13 is L. SDM Vol. 3C 25.4.1. */
	return (vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read(VMCS_GUEST_CS_AR) & (1u << 13));
}

void vcpu_complete_instruction(struct vcpu *v, unsigned len)
{
	u64 rflags = vmcs_read(VMCS_GUEST_RFLAGS);

	(void)v;
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + len);
	/* An instruction completed: blocking by STI / MOV SS ends. SDM 26.3.1.5. */
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & ~3ULL);
	/* With RFLAGS.TF the CPU would trap right after it (not after the next
	 * one): a single-step #DB pending at the entry. BTF makes it wait for a
	 * branch, which no emulated instruction is. SDM Vol. 3A 18.3.1.4. */
	if ((rflags & RFLAGS_TF) && !(vmcs_read(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmcs_write(VMCS_GUEST_PENDING_DBG,
			   vmcs_read(VMCS_GUEST_PENDING_DBG) | PENDING_DBG_BS);
}

void vcpu_skip_instruction(struct vcpu *v)
{
	vcpu_complete_instruction(v, (unsigned)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN));
}

/* As the CPU delivers the exception itself: the error code only for the
 * vectors that have one and never in real mode (a VM entry fails otherwise,
 * SDM Vol. 3C 27.2.1.3), and RF set in the pushed RFLAGS for a fault, which
 * VM entry does not do on its own ("the value pushed for the RF flag is not
 * modified based on the type of event", SDM Vol. 3C 27.6.1.1). */
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, u32 error)
{
	bool protected_mode = vcpu_get(v, VCPU_CR0) & CR0_PE;
	bool deliver_error = exception_has_error_code(vector) && protected_mode;

	(void)has_error; /* the architecture decides, not the caller */
	if (exception_sets_rf(vector))
		vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
	vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
						 (deliver_error ? INTR_INFO_DELIVER_ERROR : 0));
	if (deliver_error)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
}

void vcpu_stop(struct vcpu *v, int status)
{
	v->stopped = true;
	v->status = status;
}

void vcpu_flush_nested(struct vcpu *v)
{
	const struct vmx_caps *c = v->arch->caps;

	/* SDM Vol. 3C 29.4.3.1: single-context when the CPU has it, else all. */
	if (c->invept)
		invept(c->invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT,
		       guestmem_eptp(v->mem));
}
