#include "hv/msr.h"
#include "hv/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exception.h"
#include "arch/x86_64/fixup.h"
#include "hv/cpu_rules.h"
#include "hv/cpuid.h"
#include "hv/tsc.h"
#include "lib/printf.h"

#define VEC_GP 13

/* Where an MSR lives. */
enum msr_kind {
	MSR_REG,       /* a vCPU register (reg) */
	MSR_PASS,      /* the real MSR: dimvisor itself never uses it */
	MSR_CONST,     /* reads return value; writes are ignored */
	MSR_READ_ONLY, /* reads return value; writes get #GP, as the CPU's would */
	MSR_CALL,      /* read and write functions: kept in software, or a model elsewhere */
};

struct msr_rule {
	u32 first, last; /* one MSR (last = first), or a range */
	enum msr_kind kind;
	const char *name;
	/* NULL, or whether the guest's CPU has the MSR: the CPUID flag that
	 * promises it, as the guest sees it (hv/cpuid.h) */
	bool (*present)(const struct vcpu *v);
	enum vcpu_reg reg; /* MSR_REG */
	u64 value;	   /* MSR_CONST, MSR_READ_ONLY */
	/* MSR_CALL: NULL when done, else why the CPU would refuse (#GP). */
	const char *(*read)(struct vcpu *v, u32 msr, u64 *value);
	const char *(*write)(struct vcpu *v, u32 msr, u64 value);
};

#define MSR_IA32_TSC	   0x10
#define MSR_TSC_ADJUST	   0x3b
#define MSR_MTRRCAP	   0xfe
#define MSR_MISC_ENABLE	   0x1a0
#define MSR_BIOS_SIGN_ID   0x8b
#define MSR_DEBUGCTL	   0x1d9
#define MSR_MTRR_DEF_TYPE  0x2ff
#define MSR_STAR	   0xc0000081
#define MSR_LSTAR	   0xc0000082
#define MSR_CSTAR	   0xc0000083
#define MSR_SFMASK	   0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX	   0xc0000103

#define CPUID1_EDX_MTRR	   (1u << 12)
#define CPUID7_EBX_TSC_ADJ (1u << 1)
#define CPUID7_ECX_RDPID   (1u << 22)
#define CPUIDX1_EDX_RDTSCP (1u << 27)

/* --- presence: the CPUID flag that promises the MSR */

static bool has_mtrr(const struct vcpu *v)
{
	return cpuid_guest(v, 1, 0).edx & CPUID1_EDX_MTRR;
}

static bool has_tsc_adjust(const struct vcpu *v)
{
	return cpuid_guest(v, 7, 0).ebx & CPUID7_EBX_TSC_ADJ;
}

static bool has_tsc_aux(const struct vcpu *v)
{
	return (cpuid_guest(v, 0x80000001u, 0).edx & CPUIDX1_EDX_RDTSCP) ||
	       (cpuid_guest(v, 7, 0).ecx & CPUID7_ECX_RDPID);
}

/* --- MSRs kept in software, or computed */

static const char *tsc_read(struct vcpu *v, u32 msr, u64 *value)
{
	(void)msr;
	*value = tsc_guest_now(v);
	return NULL;
}

static const char *tsc_write(struct vcpu *v, u32 msr, u64 value)
{
	(void)msr;
	tsc_guest_set(v, value);
	return NULL;
}

static const char *tsc_adjust_read(struct vcpu *v, u32 msr, u64 *value)
{
	(void)msr;
	*value = v->tsc_adjust;
	return NULL;
}

static const char *tsc_adjust_write(struct vcpu *v, u32 msr, u64 value)
{
	(void)msr;
	tsc_guest_set_adjust(v, value);
	return NULL;
}

static const char *misc_enable_read(struct vcpu *v, u32 msr, u64 *value)
{
	(void)msr;
	*value = v->misc_enable;
	return NULL;
}

/* Its bits change the guest's CPUID (maxval limit, MONITOR, NX) and so the
 * rules (EFER.NXE). */
static const char *misc_enable_write(struct vcpu *v, u32 msr, u64 value)
{
	u64 stored;
	const char *why = misc_enable_write_check(v->misc_enable, value, vcpu_get(v, VCPU_EFER),
						  &v->rules, &stored);

	(void)msr;
	if (why)
		return why;
	v->misc_enable = stored;
	cpuid_update_rules(v);
	return NULL;
}

static const char *mtrr_def_type_read(struct vcpu *v, u32 msr, u64 *value)
{
	(void)msr;
	*value = v->mtrr_def_type;
	return NULL;
}

/* Checked by msr_write_check. The guest's memory types come from EPT and
 * its PAT: its MTRRs change nothing, as SDM Vol. 3C 29.3.7.2 has it. */
static const char *mtrr_def_type_write(struct vcpu *v, u32 msr, u64 value)
{
	(void)msr;
	v->mtrr_def_type = value;
	return NULL;
}

/* --- the allow list */

#define REG(m, r, n)                                                                               \
	{                                                                                          \
		.first = (m), .last = (m), .kind = MSR_REG, .reg = (r), .name = (n)                \
	}
#define PASS(m, p, n)                                                                              \
	{                                                                                          \
		.first = (m), .last = (m), .kind = MSR_PASS, .present = (p), .name = (n)           \
	}
#define CONST(m, v, n)                                                                             \
	{                                                                                          \
		.first = (m), .last = (m), .kind = MSR_CONST, .value = (v), .name = (n)            \
	}
#define CALL(m, rd, wr, p, n)                                                                      \
	{                                                                                          \
		.first = (m), .last = (m), .kind = MSR_CALL, .read = (rd), .write = (wr),          \
		.present = (p), .name = (n)                                                        \
	}

/* The guest's own long-mode MSRs and TSC_AUX are the real ones: the
 * hypervisor never uses SYSCALL, swapgs, RDTSCP or RDPID, so the guest may
 * own them outright. Another model takes its MSRs with an MSR_CALL row, e.g.
 * {.first = 0x800, .last = 0x8ff, .kind = MSR_CALL, .read = ..., .write =
 * ..., .name = "x2APIC"}. */
static const struct msr_rule msr_rules[] = {
	REG(MSR_IA32_EFER, VCPU_EFER, "IA32_EFER"),
	REG(MSR_IA32_PAT, VCPU_PAT, "IA32_PAT"),
	REG(MSR_FS_BASE, VCPU_FS_BASE, "FS_BASE"),
	REG(MSR_GS_BASE, VCPU_GS_BASE, "GS_BASE"),
	REG(MSR_IA32_SYSENTER_CS, VCPU_SYSENTER_CS, "SYSENTER_CS"),
	REG(MSR_IA32_SYSENTER_ESP, VCPU_SYSENTER_ESP, "SYSENTER_ESP"),
	REG(MSR_IA32_SYSENTER_EIP, VCPU_SYSENTER_EIP, "SYSENTER_EIP"),
	REG(MSR_DEBUGCTL, VCPU_DEBUGCTL, "IA32_DEBUGCTL"),
	PASS(MSR_STAR, NULL, "STAR"),
	PASS(MSR_LSTAR, NULL, "LSTAR"),
	PASS(MSR_CSTAR, NULL, "CSTAR"),
	PASS(MSR_SFMASK, NULL, "SFMASK"),
	PASS(MSR_KERNEL_GS_BASE, NULL, "KERNEL_GS_BASE"),
	PASS(MSR_TSC_AUX, has_tsc_aux, "IA32_TSC_AUX"),
	CALL(MSR_IA32_TSC, tsc_read, tsc_write, NULL, "TSC"),
	CALL(MSR_TSC_ADJUST, tsc_adjust_read, tsc_adjust_write, has_tsc_adjust, "IA32_TSC_ADJUST"),
	/* the local APIC's (hv/apic.c) */
	CALL(MSR_APIC_BASE, apic_msr_read, apic_msr_write, NULL, "IA32_APIC_BASE"),
	CALL(MSR_TSC_DEADLINE, apic_msr_read, apic_msr_write, apic_has_tsc_deadline,
	     "IA32_TSC_DEADLINE"),
	{.first = X2APIC_MSR_FIRST,
	 .last = X2APIC_MSR_LAST,
	 .kind = MSR_CALL,
	 .read = apic_msr_read,
	 .write = apic_msr_write,
	 .name = "x2APIC"},
	/* MTRRs without variable or fixed ranges or write-combining */
	{.first = MSR_MTRRCAP,
	 .last = MSR_MTRRCAP,
	 .kind = MSR_READ_ONLY,
	 .value = 0,
	 .present = has_mtrr,
	 .name = "IA32_MTRRCAP"},
	CALL(MSR_MTRR_DEF_TYPE, mtrr_def_type_read, mtrr_def_type_write, has_mtrr,
	     "IA32_MTRR_DEF_TYPE"),
	CALL(MSR_MISC_ENABLE, misc_enable_read, misc_enable_write, NULL, "IA32_MISC_ENABLE"),
	/* The microcode revision (bits 63:32), which kernels read after writing
	 * 0 and running CPUID (SDM Vol. 3A 10.11.7.1): no microcode, 0; the
	 * write is the protocol's, ignored. Linux reads it unconditionally. */
	CONST(MSR_BIOS_SIGN_ID, 0, "IA32_BIOS_SIGN_ID"),
};

static const struct msr_rule *find_msr(u32 msr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msr_rules); i++)
		if (msr >= msr_rules[i].first && msr <= msr_rules[i].last)
			return &msr_rules[i];
	return NULL;
}

/* An access the architecture refuses: #GP, as the CPU would. */
static void refuse(struct vcpu *v, const struct msr_rule *r, bool write, u32 msr, u64 val,
		   const char *why)
{
	if (write)
		kprintf("dimvisor: guest WRMSR of %s (0x%x) = 0x%lx at RIP 0x%lx %s: injecting "
			"#GP\n",
			r->name, msr, val, vcpu_get(v, VCPU_RIP), why);
	else
		kprintf("dimvisor: guest RDMSR of %s (0x%x) at RIP 0x%lx %s: injecting #GP\n",
			r->name, msr, vcpu_get(v, VCPU_RIP), why);
	vcpu_inject_exception(v, VEC_GP, true, 0);
}

static bool guest_paging(struct vcpu *v)
{
	return (vcpu_get(v, VCPU_CR0) & CR0_PG) != 0;
}

/* The real MSR: a check missed before must not crash the host. */
static const char *write_real_msr(const struct msr_rule *r, u32 msr, u64 val)
{
	int vector = wrmsr_safe(msr, val);

	if (!vector)
		return NULL;
	kprintf("dimvisor: host WRMSR of %s = 0x%lx took %s with no check refusing it first (a "
		"dimvisor bug)\n",
		r->name, val, exception_name((unsigned)vector));
	return "faulted in the host";
}

/* Returns why the CPU would refuse the write, or NULL when it is done. */
static const char *msr_write(struct vcpu *v, const struct msr_rule *r, u32 msr, u64 val)
{
	u64 efer = vcpu_get(v, VCPU_EFER);
	const char *why = msr_write_check(msr, val, efer, guest_paging(v), &v->rules);

	if (r->kind == MSR_PASS && v->unchecked_guest_values)
		why = NULL;
	if (why)
		return why;
	switch (r->kind) {
	case MSR_REG:
		if (msr == MSR_IA32_EFER)
			val = efer_after_write(efer, val);
		vcpu_set(v, r->reg, val);
		return NULL;
	case MSR_PASS:
		return write_real_msr(r, msr, val);
	case MSR_READ_ONLY:
		return "writes a read-only MSR";
	case MSR_CALL:
		return r->write(v, msr, val);
	case MSR_CONST:
		return NULL;
	}
	return NULL;
}

static const char *msr_read(struct vcpu *v, const struct msr_rule *r, u32 msr, u64 *val)
{
	switch (r->kind) {
	case MSR_REG:
		*val = vcpu_get(v, r->reg);
		return NULL;
	case MSR_PASS:
		*val = rdmsr(msr);
		return NULL;
	case MSR_CALL:
		return r->read(v, msr, val);
	case MSR_CONST:
	case MSR_READ_ONLY:
		*val = r->value;
		return NULL;
	}
	return NULL;
}

void msr_vcpu_reset(struct vcpu *v)
{
	v->misc_enable = MISC_ENABLE_MONITOR; /* nothing limited while the rules are made */
	cpuid_update_rules(v);
	v->misc_enable = misc_enable_at_reset(&v->rules);
	cpuid_update_rules(v);
	v->tsc_adjust = 0;
	v->mtrr_def_type = 0;
}

void msr_handle_exit(struct vcpu *v)
{
	bool write = v->exit.kind == DV_EXIT_KIND_MSR_WRITE;
	u32 msr = (u32)v->regs.rcx;
	u64 val = (v->regs.rdx << 32) | (u32)v->regs.rax;
	const struct msr_rule *r = find_msr(msr);
	const char *why;

	if (r && r->present && !r->present(v)) {
		kprintf("dimvisor: guest %s of %s (0x%x) at RIP 0x%lx, which the guest's CPUID "
			"does "
			"not advertise: injecting #GP\n",
			write ? "WRMSR" : "RDMSR", r->name, msr, vcpu_get(v, VCPU_RIP));
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	if (!r) {
		kprintf("dimvisor: guest %s of MSR 0x%x (not on the allow list) at RIP 0x%lx: "
			"injecting #GP\n",
			write ? "WRMSR" : "RDMSR", msr, vcpu_get(v, VCPU_RIP));
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	why = write ? msr_write(v, r, msr, val) : msr_read(v, r, msr, &val);
	if (why) {
		refuse(v, r, write, msr, val, why);
		return;
	}
	if (!write) {
		v->regs.rax = (u32)val;
		v->regs.rdx = val >> 32;
	}
	vcpu_skip_instruction(v);
}
