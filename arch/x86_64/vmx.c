#include "arch/x86_64/vmx.h"
#include "arch/x86_64/platform.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

/* SDM Vol. 3D Appendix C. */
static const char *const exit_reason_names[EXIT_REASON_COUNT] = {
	[EXIT_EXCEPTION_NMI] = "exception or NMI",
	[EXIT_EXTERNAL_INTERRUPT] = "external interrupt",
	[EXIT_TRIPLE_FAULT] = "triple fault",
	[EXIT_INIT] = "INIT signal",
	[EXIT_SIPI] = "start-up IPI",
	[5] = "I/O SMI",
	[6] = "other SMI",
	[EXIT_INTERRUPT_WINDOW] = "interrupt window",
	[EXIT_NMI_WINDOW] = "NMI window",
	[EXIT_TASK_SWITCH] = "task switch",
	[EXIT_CPUID] = "CPUID",
	[EXIT_GETSEC] = "GETSEC",
	[EXIT_HLT] = "HLT",
	[EXIT_INVD] = "INVD",
	[EXIT_INVLPG] = "INVLPG",
	[EXIT_RDPMC] = "RDPMC",
	[EXIT_RDTSC] = "RDTSC",
	[EXIT_RSM] = "RSM",
	[EXIT_VMCALL] = "VMCALL",
	[EXIT_VMCLEAR] = "VMCLEAR",
	[EXIT_VMLAUNCH] = "VMLAUNCH",
	[EXIT_VMPTRLD] = "VMPTRLD",
	[EXIT_VMPTRST] = "VMPTRST",
	[EXIT_VMREAD] = "VMREAD",
	[EXIT_VMRESUME] = "VMRESUME",
	[EXIT_VMWRITE] = "VMWRITE",
	[EXIT_VMXOFF] = "VMXOFF",
	[EXIT_VMXON] = "VMXON",
	[EXIT_CR_ACCESS] = "control-register access",
	[EXIT_DR_ACCESS] = "debug-register access",
	[EXIT_IO_INSTRUCTION] = "I/O instruction",
	[EXIT_RDMSR] = "RDMSR",
	[EXIT_WRMSR] = "WRMSR",
	[EXIT_INVALID_GUEST_STATE] = "VM-entry failure: invalid guest state",
	[EXIT_MSR_LOADING] = "VM-entry failure: MSR loading",
	[EXIT_MWAIT] = "MWAIT",
	[EXIT_MONITOR_TRAP] = "monitor trap flag",
	[EXIT_MONITOR] = "MONITOR",
	[EXIT_PAUSE] = "PAUSE",
	[EXIT_MACHINE_CHECK] = "VM-entry failure: machine-check event",
	[EXIT_TPR_BELOW_THRESHOLD] = "TPR below threshold",
	[EXIT_APIC_ACCESS] = "APIC access",
	[EXIT_VIRTUALIZED_EOI] = "virtualized EOI",
	[EXIT_GDTR_IDTR] = "GDTR/IDTR access",
	[EXIT_LDTR_TR] = "LDTR/TR access",
	[EXIT_EPT_VIOLATION] = "EPT violation",
	[EXIT_EPT_MISCONFIG] = "EPT misconfiguration",
	[EXIT_INVEPT] = "INVEPT",
	[EXIT_RDTSCP] = "RDTSCP",
	[EXIT_PREEMPTION_TIMER] = "VMX-preemption timer expired",
	[EXIT_INVVPID] = "INVVPID",
	[EXIT_WBINVD] = "WBINVD",
	[EXIT_XSETBV] = "XSETBV",
	[EXIT_APIC_WRITE] = "APIC write",
	[EXIT_RDRAND] = "RDRAND",
	[EXIT_INVPCID] = "INVPCID",
	[EXIT_VMFUNC] = "VMFUNC",
	[EXIT_ENCLS] = "ENCLS",
	[EXIT_RDSEED] = "RDSEED",
	[EXIT_PML_FULL] = "page-modification log full",
	[EXIT_XSAVES] = "XSAVES",
	[EXIT_XRSTORS] = "XRSTORS",
};

const char *vmx_exit_reason_name(unsigned reason)
{
	if (reason < EXIT_REASON_COUNT && exit_reason_names[reason])
		return exit_reason_names[reason];
	return "unknown exit reason";
}

/* SDM Vol. 3C 31.4, Table 31-1. */
static const char *const instruction_error_names[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(unsigned err)
{
	if (err < ARRAY_SIZE(instruction_error_names) && instruction_error_names[err])
		return instruction_error_names[err];
	return "unknown VM-instruction error";
}

/* Field names for failure reports; fields not listed print as hex. */
static const struct {
	enum vmcs_field field;
	const char *name;
} field_names[] = {
	{VMCS_PIN_CONTROLS, "pin-based controls"},
	{VMCS_PROC_CONTROLS, "processor-based controls"},
	{VMCS_PROC2_CONTROLS, "secondary processor-based controls"},
	{VMCS_EXIT_CONTROLS, "VM-exit controls"},
	{VMCS_ENTRY_CONTROLS, "VM-entry controls"},
	{VMCS_EPT_POINTER, "EPT pointer"},
	{VMCS_VPID, "VPID"},
	{VMCS_HOST_RSP, "host RSP"},
	{VMCS_HOST_RIP, "host RIP"},
	{VMCS_GUEST_RIP, "guest RIP"},
	{VMCS_GUEST_RSP, "guest RSP"},
	{VMCS_GUEST_CR0, "guest CR0"},
	{VMCS_GUEST_CR3, "guest CR3"},
	{VMCS_GUEST_CR4, "guest CR4"},
	{VMCS_GUEST_IA32_EFER, "guest IA32_EFER"},
	{VMCS_EXIT_REASON, "exit reason"},
	{VMCS_EXIT_QUALIFICATION, "exit qualification"},
	{VMCS_INSTRUCTION_ERROR, "VM-instruction error"},
};

const char *vmcs_field_name(enum vmcs_field field)
{
	for (unsigned i = 0; i < ARRAY_SIZE(field_names); i++)
		if (field_names[i].field == field)
			return field_names[i].name;
	return "field";
}

static __noreturn void vmcs_access_failed(const char *op, enum vmcs_field field, enum vmx_status st,
					  const char *file, int line)
{
	u64 err = 0;

	kprintf("\ndimvisor: %s of VMCS %s 0x%04x failed at %s:%d: ", op, vmcs_field_name(field),
		field, file, line);
	if (st == VMX_FAIL_INVALID) {
		kprintf("VMfailInvalid (no current VMCS)\n");
	} else {
		vmread_raw(VMCS_INSTRUCTION_ERROR, &err);
		kprintf("VMfailValid, VM-instruction error %lu: %s\n", err,
			vmx_instruction_error_name((unsigned)err));
	}
	platform_exit(DV_EXIT_VMX_FAILURE);
}

void vmcs_write_at(enum vmcs_field field, u64 value, const char *file, int line)
{
	enum vmx_status st = vmwrite_raw(field, value);

	if (st != VMX_OK)
		vmcs_access_failed("VMWRITE", field, st, file, line);
}

u64 vmcs_read_at(enum vmcs_field field, const char *file, int line)
{
	u64 v = 0;
	enum vmx_status st = vmread_raw(field, &v);

	if (st != VMX_OK)
		vmcs_access_failed("VMREAD", field, st, file, line);
	return v;
}
