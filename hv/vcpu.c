/* The VMX backend: VMXON, the VMCS, the entry/exit loop. SDM Vol. 3C
 * chapters 24-28; control requirements from the capability MSRs (App. A). */
#include "hv/vcpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "hv/exit.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/errno.h>
#include <dimvisor/exitcodes.h>

extern char vmx_exit[];

static u8 vmxon_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u8 vmcs_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define CPUID1_ECX_XSAVE (1u << 26)

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...) __printf_like(4, 5);
static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int vcpu_vmx_on(const struct vmx_caps *caps, char *err, size_t errlen)
{
	u64 cr0 = read_cr0(), cr4 = read_cr4() | CR4_VMXE;

	if ((cr0 & caps->cr0_fixed0) != caps->cr0_fixed0 || (cr0 & ~caps->cr0_fixed1))
		return errf(err, errlen, -DV_ENOTSUP,
			    "host CR0 0x%lx violates IA32_VMX_CR0_FIXED0/1 (0x%lx/0x%lx)", cr0,
			    caps->cr0_fixed0, caps->cr0_fixed1);
	/* XSETBV exits are emulated by executing XSETBV, which needs OSXSAVE. */
	if (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	memset(vmxon_region, 0, sizeof(vmxon_region));
	memcpy(vmxon_region, &caps->revision_id, 4);
	enum vmx_status st = vmxon((u64)vmxon_region);
	if (st != VMX_OK)
		return errf(err, errlen, -DV_ENOTSUP, "VMXON failed (%s)",
			    st == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
	return 0;
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

static const struct control_bit proc_required[] = {
	{PROC_HLT_EXITING, "HLT exiting"},
	{PROC_UNCOND_IO_EXITING, "unconditional I/O exiting"},
	{PROC_ACTIVATE_SECONDARY, "activate secondary controls"},
};
static const struct control_bit proc2_required[] = {
	{PROC2_ENABLE_EPT, "enable EPT"},
	{PROC2_UNRESTRICTED_GUEST, "unrestricted guest (multiboot guests start with paging off)"},
};
static const struct control_bit exit_required[] = {
	{EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size"},
	{EXIT_SAVE_EFER, "save IA32_EFER"},
	{EXIT_LOAD_EFER, "load IA32_EFER"},
};
static const struct control_bit entry_required[] = {
	{ENTRY_LOAD_EFER, "load IA32_EFER"},
};

static int setup_controls(struct vcpu *v, char *err, size_t errlen)
{
	const struct vmx_caps *c = v->caps;
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
	if ((rc = adjust_controls("pin-based", c->pinbased, PIN_NMI_EXITING, NULL, 0, &pin, err,
				  errlen)) ||
	    (rc = adjust_controls("processor-based", c->procbased,
				  PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING |
					  PROC_ACTIVATE_SECONDARY,
				  proc_required, ARRAY_SIZE(proc_required), &proc, err, errlen)) ||
	    (rc = adjust_controls("secondary", c->procbased2, want2, proc2_required,
				  ARRAY_SIZE(proc2_required), &proc2, err, errlen)) ||
	    (rc = adjust_controls("VM-exit", c->exit_ctls,
				  EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
					  EXIT_SAVE_PAT | EXIT_LOAD_PAT,
				  exit_required, ARRAY_SIZE(exit_required), &exitc, err, errlen)) ||
	    (rc = adjust_controls("VM-entry", c->entry_ctls, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT,
				  entry_required, ARRAY_SIZE(entry_required), &entry, err, errlen)))
		return rc;
	/* Off unless the CPU insists: with EPT and unrestricted guest the guest
	 * owns CR3, and MSR/I-O bitmaps are not used (every MSR and port exits). */
	proc &= ~(u32)(PROC_USE_MSR_BITMAPS | PROC_USE_IO_BITMAPS) | (u32)c->procbased;
	vmcs_write(VMCS_PIN_CONTROLS, pin);
	vmcs_write(VMCS_PROC_CONTROLS, proc);
	vmcs_write(VMCS_PROC2_CONTROLS, proc2);
	vmcs_write(VMCS_EXIT_CONTROLS, exitc);
	vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	v->entry_controls = entry;
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_EPT_POINTER, guestmem_eptp(v->mem));
	if (proc2 & PROC2_ENABLE_VPID) {
		v->vpid = 1;
		vmcs_write(VMCS_VPID, v->vpid);
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
 * free with unrestricted guest) are kept by the host and shadowed. */
static void setup_control_registers(struct vcpu *v, u64 cr0, u64 cr4)
{
	const struct vmx_caps *c = v->caps;
	u64 fixed0_cr0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);

	v->cr0_mask = fixed0_cr0 | (~c->cr0_fixed1 & 0xffffffffULL);
	v->cr4_mask = c->cr4_fixed0 | (~c->cr4_fixed1 & 0xffffffffULL);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, v->cr0_mask);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, v->cr4_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR0, (cr0 | fixed0_cr0) & c->cr0_fixed1);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | c->cr4_fixed0) & c->cr4_fixed1);
}

/* The multiboot machine state: 32-bit protected mode, paging off, flat
 * segments, EAX = magic, EBX = info. Multiboot 0.6.96 3.2, Multiboot2 3.3. */
static void setup_guest_state(struct vcpu *v, const struct guest_boot *boot)
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
	vmcs_write(VMCS_GUEST_RIP, boot->entry);
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
	v->regs.rax = boot->magic;
	v->regs.rbx = boot->info_gpa;
}

/* --- plain ELF64 guests: start in 64-bit mode on an identity map of guest RAM
 * that the hypervisor builds in guest memory, right after the image. */
struct guest_table_alloc {
	struct guestmem *mem;
	u64 next;
};

static u64 guest_table_alloc(void *ctx)
{
	struct guest_table_alloc *a = ctx;
	u64 gpa = a->next;

	if (!guestmem_is_ram(a->mem, gpa, PAGE_SIZE))
		return PT_NO_TABLE;
	a->next += PAGE_SIZE;
	return gpa;
}

static void guest_table_free(void *ctx, u64 gpa)
{
	(void)ctx;
	(void)gpa; /* a bump allocator: the page stays with the tables */
}

static void *guest_table_ptr(void *ctx, u64 gpa)
{
	struct guest_table_alloc *a = ctx;
	return guestmem_ptr(a->mem, gpa, PAGE_SIZE);
}

#define CPUID_EXT_1G_PAGES (1u << 26)

static int build_guest_identity_map(struct vcpu *v, const struct guest_boot *boot, u64 *cr3,
				    char *err, size_t errlen)
{
	static struct guest_table_alloc alloc;
	struct pt_ops ops = {.alloc_table = guest_table_alloc,
			     .free_table = guest_table_free,
			     .table_ptr = guest_table_ptr,
			     .window = 0,
			     .ctx = &alloc};
	struct pagetable pt;
	bool big = cpuid(0x80000001, 0).edx & CPUID_EXT_1G_PAGES;

	alloc = (struct guest_table_alloc){v->mem, boot->free_gpa};
	if (pt_init(&pt, PT_FMT_X86, PT_SIZE_4K | PT_SIZE_2M | (big ? PT_SIZE_1G : 0), &ops) < 0)
		return errf(err, errlen, -DV_ENOMEM,
			    "no guest RAM after the image for page tables");
	for (unsigned i = 0; i < v->mem->nram; i++)
		if (pt_map(&pt, v->mem->ram[i].gpa, v->mem->ram[i].gpa, v->mem->ram[i].len,
			   PT_RWX) < 0)
			return errf(err, errlen, -DV_ENOMEM,
				    "no guest RAM after the image for the identity map");
	*cr3 = pt.root;
	return 0;
}

/* IA-32e mode, 64-bit code segment, paging on: SDM Vol. 3A 10.8.5. */
static int setup_guest_long_mode(struct vcpu *v, const struct guest_boot *boot, char *err,
				 size_t errlen)
{
	u64 cr3 = 0;
	int rc = build_guest_identity_map(v, boot, &cr3, err, errlen);

	if (rc)
		return rc;
	setup_control_registers(v, CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG, CR4_PAE);
	vmcs_write(VMCS_GUEST_CR3, cr3);
	set_segment(VMCS_GUEST_CS_SEL, 0x08, AR_CODE64);
	vmcs_write(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	v->entry_controls |= ENTRY_IA32E_GUEST;
	vmcs_write(VMCS_ENTRY_CONTROLS, v->entry_controls);
	v->regs.rax = 0;
	v->regs.rbx = 0;
	return 0;
}

int vcpu_init(struct vcpu *v, const struct vmx_caps *caps, struct guestmem *mem,
	      const struct guest_boot *boot, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->caps = caps;
	cpu_rules_caps_probe(&v->rules);
	v->mem = mem;
	memset(vmcs_region, 0, sizeof(vmcs_region));
	memcpy(vmcs_region, &caps->revision_id, 4);
	v->vmcs_phys = (u64)vmcs_region;
	if (vmclear(v->vmcs_phys) != VMX_OK || vmptrld(v->vmcs_phys) != VMX_OK)
		return errf(err, errlen, -DV_ENOTSUP, "VMCLEAR/VMPTRLD of the VMCS failed");
	int rc = setup_controls(v, err, errlen);
	if (rc)
		return rc;
	setup_host_state();
	setup_guest_state(v, boot);
	if (boot->kind == BOOT_ELF64 && (rc = setup_guest_long_mode(v, boot, err, errlen)) < 0)
		return rc;
	if (caps->invept)
		invept(caps->invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT,
		       guestmem_eptp(mem));
	return 0;
}

void vcpu_break_for_selftest(bool guest_state)
{
	if (guest_state)
		vmcs_write(VMCS_GUEST_RFLAGS, 0);
	else
		vmcs_write(VMCS_CR3_TARGET_COUNT, 1000);
}

/* --- helpers for exit handlers ------------------------------------------------- */

u64 vcpu_rip(void)
{
	return vmcs_read(VMCS_GUEST_RIP);
}

void vcpu_skip_instruction(void)
{
	vmcs_write(VMCS_GUEST_RIP, vcpu_rip() + vmcs_read(VMCS_EXIT_INSTRUCTION_LEN));
	/* An instruction completed: blocking by STI / MOV SS ends. SDM 26.3.1.5. */
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & ~3ULL);
}

unsigned vcpu_cpl(void)
{
	return (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3; /* CPL = SS.DPL, SDM 25.4.1 */
}

void vcpu_inject_exception(unsigned vector, bool has_error, u32 error)
{
	vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector |
						 (has_error ? INTR_INFO_DELIVER_ERROR : 0));
	if (has_error)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
}

void vcpu_stop(struct vcpu *v, int status)
{
	v->stopped = true;
	v->status = status;
}

u64 vcpu_cr4(void)
{
	return vmcs_read(VMCS_GUEST_CR4);
}

u64 vcpu_guest_cr0(const struct vcpu *v)
{
	return (vmcs_read(VMCS_GUEST_CR0) & ~v->cr0_mask) |
	       (vmcs_read(VMCS_CR0_READ_SHADOW) & v->cr0_mask);
}

u64 vcpu_efer(void)
{
	return vmcs_read(VMCS_GUEST_IA32_EFER);
}

u64 *vcpu_gpr(struct vcpu *v, unsigned index)
{
	/* SDM register numbering: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15. */
	u64 *const map[16] = {
		&v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx, NULL,	      &v->regs.rbp,
		&v->regs.rsi, &v->regs.rdi, &v->regs.r8,  &v->regs.r9,	&v->regs.r10, &v->regs.r11,
		&v->regs.r12, &v->regs.r13, &v->regs.r14, &v->regs.r15,
	};
	return index < 16 ? map[index] : NULL;
}

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
		const struct vcpu_exit_record *r =
			&v->recent[(v->recent_next + i) % VCPU_RECENT_EXITS];
		char what[80];

		if (!r->rip && !r->reason)
			continue;
		exit_describe(r->reason, r->qualification, what, sizeof(what));
		kprintf("    %-28s RIP %016lx qualification %lx %s\n",
			vmx_exit_reason_name(r->reason), r->rip, r->qualification, what);
	}
}

static void entry_failed(struct vcpu *v, enum vmx_status st)
{
	kprintf("\ndimvisor: VM entry failed: %s", v->launched ? "VMRESUME" : "VMLAUNCH");
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

static void record_exit(struct vcpu *v, u32 reason, u64 qual)
{
	v->exits_total++;
	if (reason < EXIT_REASON_COUNT)
		v->exits[reason]++;
	v->recent[v->recent_next] = (struct vcpu_exit_record){reason, vcpu_rip(), qual};
	v->recent_next = (v->recent_next + 1) % VCPU_RECENT_EXITS;
}

int vcpu_run(struct vcpu *v)
{
	v->tsc_start = rdtsc();
	while (!v->stopped) {
		enum vmx_status st = vmx_enter(&v->regs, v->launched);
		if (st != VMX_OK) {
			entry_failed(v, st);
			break;
		}
		v->launched = true;
		u32 raw = (u32)vmcs_read(VMCS_EXIT_REASON);
		v->exit_reason = raw & 0xffff;
		v->exit_qualification = vmcs_read(VMCS_EXIT_QUALIFICATION);
		record_exit(v, v->exit_reason, v->exit_qualification);
		if (raw & EXIT_REASON_ENTRY_FAILURE) {
			kprintf("\ndimvisor: VM entry failed: exit reason %u (%s), qualification "
				"%lx\n",
				v->exit_reason, vmx_exit_reason_name(v->exit_reason),
				v->exit_qualification);
			vcpu_dump(v);
			vcpu_stop(v, DV_EXIT_VMX_FAILURE);
			break;
		}
		exit_dispatch(v);
	}
	v->tsc_end = rdtsc();
	return v->status;
}
