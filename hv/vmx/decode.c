/* The VT-x backend: a VM exit, decoded into the vendor-neutral struct
 * vcpu_exit, and described in words for the reports. */
#include "hv/vmx/vcpu_arch.h"
#include "lib/printf.h"
#include "lib/string.h"

/* Basic exit reason -> kind. SDM Vol. 3D App. C. Unlisted: DV_EXIT_KIND_OTHER. */
static const u8 kind_of_reason[EXIT_REASON_COUNT] = {
	[EXIT_EXCEPTION_NMI] = DV_EXIT_KIND_HOST_NMI,
	[EXIT_EXTERNAL_INTERRUPT] = DV_EXIT_KIND_HOST_INTERRUPT,
	[EXIT_INTERRUPT_WINDOW] = DV_EXIT_KIND_INTERRUPT_WINDOW,
	[EXIT_NMI_WINDOW] = DV_EXIT_KIND_NMI_WINDOW,
	[EXIT_PREEMPTION_TIMER] = DV_EXIT_KIND_TIMER,
	[EXIT_MONITOR_TRAP] = DV_EXIT_KIND_SINGLE_STEP,
	[EXIT_APIC_ACCESS] = DV_EXIT_KIND_APIC_ACCESS,
	[EXIT_APIC_WRITE] = DV_EXIT_KIND_APIC_WRITE,
	[EXIT_TPR_BELOW_THRESHOLD] = DV_EXIT_KIND_TPR_BELOW,
	[EXIT_TRIPLE_FAULT] = DV_EXIT_KIND_TRIPLE_FAULT,
	[EXIT_TASK_SWITCH] = DV_EXIT_KIND_TASK_SWITCH,
	[EXIT_CPUID] = DV_EXIT_KIND_CPUID,
	[EXIT_HLT] = DV_EXIT_KIND_HLT,
	[EXIT_INVD] = DV_EXIT_KIND_CACHE_FLUSH,
	[EXIT_WBINVD] = DV_EXIT_KIND_CACHE_FLUSH,
	[EXIT_VMCALL] = DV_EXIT_KIND_HYPERCALL,
	[EXIT_VMCLEAR] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMLAUNCH] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMPTRLD] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMPTRST] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMREAD] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMRESUME] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMWRITE] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMXOFF] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_VMXON] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_INVEPT] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_INVVPID] = DV_EXIT_KIND_VIRT_INSN,
	[EXIT_CR_ACCESS] = DV_EXIT_KIND_CR_ACCESS,
	[EXIT_IO_INSTRUCTION] = DV_EXIT_KIND_IO,
	[EXIT_RDMSR] = DV_EXIT_KIND_MSR_READ,
	[EXIT_WRMSR] = DV_EXIT_KIND_MSR_WRITE,
	[EXIT_INVALID_GUEST_STATE] = DV_EXIT_KIND_ENTRY_FAILURE,
	[EXIT_MSR_LOADING] = DV_EXIT_KIND_ENTRY_FAILURE,
	[EXIT_MACHINE_CHECK] = DV_EXIT_KIND_ENTRY_FAILURE,
	[EXIT_EPT_VIOLATION] = DV_EXIT_KIND_NESTED_FAULT,
	[EXIT_EPT_MISCONFIG] = DV_EXIT_KIND_NESTED_MISCONFIG,
	[EXIT_XSETBV] = DV_EXIT_KIND_XSETBV,
};

/* I/O qualification: SDM Vol. 3C Table 28-5. */
static void decode_io(struct vcpu_exit *e, u64 q)
{
	e->io.size = (u8)((q & 7) + 1);
	e->io.in = q & (1 << 3);
	e->io.string = q & (1 << 4);
	e->io.rep = q & (1 << 5);
	e->io.port = (u16)(q >> 16);
}

void vmx_decode_string_io(u32 info, struct vcpu_exit *e)
{
	/* Instruction information for INS/OUTS: SDM Vol. 3C 28.2.5, Table 28-8.
	 * Bits 9:7 the address size (0: 16, 1: 32, 2: 64 bits; others unused),
	 * bits 17:15 the segment register (undefined for INS: ES, always). */
	static const u8 addr_size[8] = {2, 4, 8};
	unsigned sreg = (info >> 15) & 7;

	e->io.addr_size = addr_size[(info >> 7) & 7];
	e->io.sreg = e->io.in ? VCPU_ES : (enum vcpu_sreg)sreg;
	if (!e->io.in && sreg >= VCPU_SREG_COUNT)
		e->io.addr_size = 0; /* not a segment: as if not reported */
}

void vmx_segment_from_ar(u64 base, u32 limit, u32 ar, struct vcpu_segment *seg)
{
	/* Access rights: SDM Vol. 3C 25.4.1, Table 25-2 (type 3:0, S 4, DPL 6:5,
	 * P 7, L 13, D/B 14, G 15, unusable 16); the type's bits: Vol. 3A
	 * 3.4.5.1, Table 3-1 (bit 3 code; data: 2 expand-down, 1 writable;
	 * code: 1 readable). The limit field is in bytes already. */
	bool code = ar & (1u << 3);

	*seg = (struct vcpu_segment){.base = base,
				     .limit = limit,
				     .usable = !(ar & (1u << 16)),
				     .code = code,
				     .readable = !code || (ar & (1u << 1)),
				     .writable = !code && (ar & (1u << 1)),
				     .expand_down = !code && (ar & (1u << 2)),
				     .big = ar & (1u << 14)};
}

/* CR-access qualification: SDM Vol. 3C Table 28-3. */
static void decode_cr(struct vcpu_exit *e, u64 q)
{
	e->cr.cr = q & 0xf;
	e->cr.op = (enum vcpu_cr_op)((q >> 4) & 3);
	e->cr.gpr = (q >> 8) & 0xf; /* the SDM's order, which enum vcpu_reg follows */
	e->cr.lmsw_source = (u16)(q >> 16);
}

/* EPT-violation qualification: SDM Vol. 3C Table 28-7. The addresses come
 * from their own VMCS fields (the caller's). */
static void decode_nested(struct vcpu_exit *e, u64 q, bool violation)
{
	if (!violation)
		return;
	e->nested.read = q & 1;
	e->nested.write = q & 2;
	e->nested.fetch = q & 4;
	e->nested.readable = q & 8;
	e->nested.writable = q & 16;
	e->nested.executable = q & 32;
	e->nested.gva_valid = q & (1 << 7);
	/* bit 8, defined when bit 7 is set: the translation, not a paging structure */
	e->nested.final = (q & (1 << 7)) && (q & (1 << 8));
}

void vmx_decode_exit(u32 reason, u64 q, struct vcpu_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->reason = reason;
	e->qualification = q;
	e->kind = reason < EXIT_REASON_COUNT ? (enum dv_exit_kind)kind_of_reason[reason]
					     : DV_EXIT_KIND_OTHER;
	switch (e->kind) {
	case DV_EXIT_KIND_IO:
		decode_io(e, q);
		break;
	case DV_EXIT_KIND_CR_ACCESS:
		decode_cr(e, q);
		break;
	case DV_EXIT_KIND_NESTED_FAULT:
	case DV_EXIT_KIND_NESTED_MISCONFIG:
		decode_nested(e, q, e->kind == DV_EXIT_KIND_NESTED_FAULT);
		break;
	case DV_EXIT_KIND_APIC_ACCESS: /* SDM Vol. 3C Table 28-6 */
		e->apic.offset = q & 0xfff;
		e->apic.type = (q >> 12) & 0xf;
		break;
	case DV_EXIT_KIND_APIC_WRITE:
		e->apic.offset = q & 0xfff;
		break;
	default:
		break;
	}
}

/* SDM Vol. 3C Tables 28-3 (CR access), 28-5 (I/O), 28-7 (EPT violation). */
void vmx_describe_exit(u32 reason, u64 q, char *buf, size_t len)
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
		ksnprintf(buf, len, "%s%s%s %lu byte%s %s port 0x%lx", q & (1 << 5) ? "REP " : "",
			  q & (1 << 3) ? "IN" : "OUT", q & (1 << 4) ? "S" : "", (q & 7) + 1,
			  (q & 7) ? "s" : "", q & (1 << 3) ? "from" : "to", q >> 16);
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
