/* VMX instructions, VMCS field encodings, control bits, exit reasons.
 * Encodings: Intel SDM Vol. 3D Appendix B; exit reasons: Appendix C;
 * VM-instruction errors: Vol. 3C 31.4; controls: Vol. 3C 25.6-25.8. */
#ifndef ARCH_X86_64_VMX_H
#define ARCH_X86_64_VMX_H

#include <dimvisor/types.h>
#include "arch/x86_64/regs.h"

/* --- VMCS fields ------------------------------------------------------- */
enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SEL = 0x0800,
	VMCS_GUEST_CS_SEL = 0x0802,
	VMCS_GUEST_SS_SEL = 0x0804,
	VMCS_GUEST_DS_SEL = 0x0806,
	VMCS_GUEST_FS_SEL = 0x0808,
	VMCS_GUEST_GS_SEL = 0x080a,
	VMCS_GUEST_LDTR_SEL = 0x080c,
	VMCS_GUEST_TR_SEL = 0x080e,
	VMCS_HOST_ES_SEL = 0x0c00,
	VMCS_HOST_CS_SEL = 0x0c02,
	VMCS_HOST_SS_SEL = 0x0c04,
	VMCS_HOST_DS_SEL = 0x0c06,
	VMCS_HOST_FS_SEL = 0x0c08,
	VMCS_HOST_GS_SEL = 0x0c0a,
	VMCS_HOST_TR_SEL = 0x0c0c,
	/* 64-bit */
	VMCS_IO_BITMAP_A = 0x2000,
	VMCS_IO_BITMAP_B = 0x2002,
	VMCS_MSR_BITMAP = 0x2004,
	VMCS_EXIT_MSR_STORE_ADDR = 0x2006,
	VMCS_EXIT_MSR_LOAD_ADDR = 0x2008,
	VMCS_ENTRY_MSR_LOAD_ADDR = 0x200a,
	VMCS_TSC_OFFSET = 0x2010,
	VMCS_VIRTUAL_APIC_PAGE = 0x2012,
	VMCS_APIC_ACCESS_ADDR = 0x2014,
	VMCS_EPT_POINTER = 0x201a,
	VMCS_GUEST_PHYSICAL_ADDRESS = 0x2400,
	VMCS_LINK_POINTER = 0x2800,
	VMCS_GUEST_IA32_DEBUGCTL = 0x2802,
	VMCS_GUEST_IA32_PAT = 0x2804,
	VMCS_GUEST_IA32_EFER = 0x2806,
	VMCS_GUEST_PDPTE0 = 0x280a,
	VMCS_GUEST_PDPTE1 = 0x280c,
	VMCS_GUEST_PDPTE2 = 0x280e,
	VMCS_GUEST_PDPTE3 = 0x2810,
	VMCS_HOST_IA32_PAT = 0x2c00,
	VMCS_HOST_IA32_EFER = 0x2c02,
	/* 32-bit */
	VMCS_PIN_CONTROLS = 0x4000,
	VMCS_PROC_CONTROLS = 0x4002,
	VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_PF_ERROR_MASK = 0x4006,
	VMCS_PF_ERROR_MATCH = 0x4008,
	VMCS_CR3_TARGET_COUNT = 0x400a,
	VMCS_EXIT_CONTROLS = 0x400c,
	VMCS_EXIT_MSR_STORE_COUNT = 0x400e,
	VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
	VMCS_ENTRY_CONTROLS = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VMCS_ENTRY_INTR_INFO = 0x4016,
	VMCS_ENTRY_EXCEPTION_ERROR = 0x4018,
	VMCS_ENTRY_INSTRUCTION_LEN = 0x401a,
	VMCS_TPR_THRESHOLD = 0x401c,
	VMCS_PROC2_CONTROLS = 0x401e,
	VMCS_INSTRUCTION_ERROR = 0x4400,
	VMCS_EXIT_REASON = 0x4402,
	VMCS_EXIT_INTR_INFO = 0x4404,
	VMCS_EXIT_INTR_ERROR = 0x4406,
	VMCS_IDT_VECTORING_INFO = 0x4408,
	VMCS_IDT_VECTORING_ERROR = 0x440a,
	VMCS_EXIT_INSTRUCTION_LEN = 0x440c,
	VMCS_EXIT_INSTRUCTION_INFO = 0x440e,
	VMCS_GUEST_ES_LIMIT = 0x4800,
	VMCS_GUEST_CS_LIMIT = 0x4802,
	VMCS_GUEST_SS_LIMIT = 0x4804,
	VMCS_GUEST_DS_LIMIT = 0x4806,
	VMCS_GUEST_FS_LIMIT = 0x4808,
	VMCS_GUEST_GS_LIMIT = 0x480a,
	VMCS_GUEST_LDTR_LIMIT = 0x480c,
	VMCS_GUEST_TR_LIMIT = 0x480e,
	VMCS_GUEST_GDTR_LIMIT = 0x4810,
	VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814,
	VMCS_GUEST_CS_AR = 0x4816,
	VMCS_GUEST_SS_AR = 0x4818,
	VMCS_GUEST_DS_AR = 0x481a,
	VMCS_GUEST_FS_AR = 0x481c,
	VMCS_GUEST_GS_AR = 0x481e,
	VMCS_GUEST_LDTR_AR = 0x4820,
	VMCS_GUEST_TR_AR = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824,
	VMCS_GUEST_ACTIVITY_STATE = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482a,
	VMCS_PREEMPTION_TIMER = 0x482e,
	VMCS_HOST_SYSENTER_CS = 0x4c00,
	/* natural width */
	VMCS_CR0_GUEST_HOST_MASK = 0x6000,
	VMCS_CR4_GUEST_HOST_MASK = 0x6002,
	VMCS_CR0_READ_SHADOW = 0x6004,
	VMCS_CR4_READ_SHADOW = 0x6006,
	VMCS_EXIT_QUALIFICATION = 0x6400,
	VMCS_GUEST_LINEAR_ADDRESS = 0x640a,
	VMCS_GUEST_CR0 = 0x6800,
	VMCS_GUEST_CR3 = 0x6802,
	VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806,
	VMCS_GUEST_CS_BASE = 0x6808,
	VMCS_GUEST_SS_BASE = 0x680a,
	VMCS_GUEST_DS_BASE = 0x680c,
	VMCS_GUEST_FS_BASE = 0x680e,
	VMCS_GUEST_GS_BASE = 0x6810,
	VMCS_GUEST_LDTR_BASE = 0x6812,
	VMCS_GUEST_TR_BASE = 0x6814,
	VMCS_GUEST_GDTR_BASE = 0x6816,
	VMCS_GUEST_IDTR_BASE = 0x6818,
	VMCS_GUEST_DR7 = 0x681a,
	VMCS_GUEST_RSP = 0x681c,
	VMCS_GUEST_RIP = 0x681e,
	VMCS_GUEST_RFLAGS = 0x6820,
	VMCS_GUEST_PENDING_DBG = 0x6822,
	VMCS_GUEST_SYSENTER_ESP = 0x6824,
	VMCS_GUEST_SYSENTER_EIP = 0x6826,
	VMCS_HOST_CR0 = 0x6c00,
	VMCS_HOST_CR3 = 0x6c02,
	VMCS_HOST_CR4 = 0x6c04,
	VMCS_HOST_FS_BASE = 0x6c06,
	VMCS_HOST_GS_BASE = 0x6c08,
	VMCS_HOST_TR_BASE = 0x6c0a,
	VMCS_HOST_GDTR_BASE = 0x6c0c,
	VMCS_HOST_IDTR_BASE = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP = 0x6c10,
	VMCS_HOST_SYSENTER_EIP = 0x6c12,
	VMCS_HOST_RSP = 0x6c14,
	VMCS_HOST_RIP = 0x6c16,
};

/* --- controls ------------------------------------------------------------ */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING		       (1u << 3)
#define PIN_VIRTUAL_NMIS	       (1u << 5)
#define PIN_PREEMPTION_TIMER	       (1u << 6)

#define PROC_INTERRUPT_WINDOW	(1u << 2)
#define PROC_USE_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING	(1u << 7)
#define PROC_INVLPG_EXITING	(1u << 9)
#define PROC_CR3_LOAD_EXITING	(1u << 15)
#define PROC_CR3_STORE_EXITING	(1u << 16)
#define PROC_CR8_LOAD_EXITING	(1u << 19)
#define PROC_CR8_STORE_EXITING	(1u << 20)
#define PROC_USE_TPR_SHADOW	(1u << 21)
#define PROC_NMI_WINDOW		(1u << 22)
#define PROC_UNCOND_IO_EXITING	(1u << 24)
#define PROC_USE_IO_BITMAPS	(1u << 25)
#define PROC_MONITOR_TRAP	(1u << 27)
#define PROC_USE_MSR_BITMAPS	(1u << 28)
#define PROC_ACTIVATE_SECONDARY (1u << 31)

#define PROC2_VIRT_APIC_ACCESS	 (1u << 0)
#define PROC2_ENABLE_EPT	 (1u << 1)
#define PROC2_APIC_REGISTER_VIRT (1u << 8)
#define PROC2_ENABLE_RDTSCP	 (1u << 3)
#define PROC2_ENABLE_VPID	 (1u << 5)
#define PROC2_WBINVD_EXITING	 (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID	 (1u << 12)
#define PROC2_ENABLE_XSAVES	 (1u << 20)

#define EXIT_SAVE_DEBUG		  (1u << 2) /* DR7 and IA32_DEBUGCTL */
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_ACK_INTERRUPT	  (1u << 15)
#define EXIT_SAVE_PAT		  (1u << 18)
#define EXIT_LOAD_PAT		  (1u << 19)
#define EXIT_SAVE_EFER		  (1u << 20)
#define EXIT_LOAD_EFER		  (1u << 21)

#define ENTRY_LOAD_DEBUG  (1u << 2) /* DR7 and IA32_DEBUGCTL */
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT	  (1u << 14)
#define ENTRY_LOAD_EFER	  (1u << 15)

/* Guest pending debug exceptions: BS, a single-step trap. SDM Vol. 3C 25.4.2. */
#define PENDING_DBG_BS (1u << 14)

/* VM-entry interruption information. SDM Vol. 3C 25.8.3. */
#define INTR_INFO_VALID		(1u << 31)
#define INTR_INFO_DELIVER_ERROR (1u << 11)
#define INTR_TYPE_HW_EXCEPTION	(3u << 8)
#define INTR_TYPE_EXTERNAL	(0u << 8)
#define INTR_TYPE_NMI		(2u << 8)
#define INTR_TYPE_MASK		(7u << 8)
#define INTR_TYPE_SOFTWARE_INT	(4u << 8) /* INT n */
#define INTR_TYPE_PRIV_SW_EXC	(5u << 8) /* INT1 */
#define INTR_TYPE_SW_EXCEPTION	(6u << 8) /* INT3, INTO */

/* Guest interruptibility state and activity state. SDM Vol. 3C 25.4.2. */
#define INTERRUPTIBILITY_STI   (1u << 0)
#define INTERRUPTIBILITY_MOVSS (1u << 1)
#define INTERRUPTIBILITY_NMI   (1u << 3)
#define ACTIVITY_ACTIVE	       0
#define ACTIVITY_HLT	       1

/* IA32_VMX_MISC: SDM Vol. 3D A.6. */
#define VMX_MISC_PREEMPTION_SHIFT(m) ((unsigned)(m)&0x1f)
#define VMX_MISC_ACTIVITY_HLT	     (1ULL << 6)

/* Segment access rights in the VMCS. SDM Vol. 3C 25.4.1. */
#define AR_UNUSABLE (1u << 16)

/* --- exit reasons ---------------------------------------------------------- */
enum vmx_exit_reason {
	EXIT_EXCEPTION_NMI = 0,
	EXIT_EXTERNAL_INTERRUPT = 1,
	EXIT_TRIPLE_FAULT = 2,
	EXIT_INIT = 3,
	EXIT_SIPI = 4,
	EXIT_INTERRUPT_WINDOW = 7,
	EXIT_NMI_WINDOW = 8,
	EXIT_TASK_SWITCH = 9,
	EXIT_CPUID = 10,
	EXIT_GETSEC = 11,
	EXIT_HLT = 12,
	EXIT_INVD = 13,
	EXIT_INVLPG = 14,
	EXIT_RDPMC = 15,
	EXIT_RDTSC = 16,
	EXIT_RSM = 17,
	EXIT_VMCALL = 18,
	EXIT_VMCLEAR = 19,
	EXIT_VMLAUNCH = 20,
	EXIT_VMPTRLD = 21,
	EXIT_VMPTRST = 22,
	EXIT_VMREAD = 23,
	EXIT_VMRESUME = 24,
	EXIT_VMWRITE = 25,
	EXIT_VMXOFF = 26,
	EXIT_VMXON = 27,
	EXIT_CR_ACCESS = 28,
	EXIT_DR_ACCESS = 29,
	EXIT_IO_INSTRUCTION = 30,
	EXIT_RDMSR = 31,
	EXIT_WRMSR = 32,
	EXIT_INVALID_GUEST_STATE = 33,
	EXIT_MSR_LOADING = 34,
	EXIT_MWAIT = 36,
	EXIT_MONITOR_TRAP = 37,
	EXIT_MONITOR = 39,
	EXIT_PAUSE = 40,
	EXIT_MACHINE_CHECK = 41,
	EXIT_TPR_BELOW_THRESHOLD = 43,
	EXIT_APIC_ACCESS = 44,
	EXIT_VIRTUALIZED_EOI = 45,
	EXIT_GDTR_IDTR = 46,
	EXIT_LDTR_TR = 47,
	EXIT_EPT_VIOLATION = 48,
	EXIT_EPT_MISCONFIG = 49,
	EXIT_INVEPT = 50,
	EXIT_RDTSCP = 51,
	EXIT_PREEMPTION_TIMER = 52,
	EXIT_INVVPID = 53,
	EXIT_WBINVD = 54,
	EXIT_XSETBV = 55,
	EXIT_APIC_WRITE = 56,
	EXIT_RDRAND = 57,
	EXIT_INVPCID = 58,
	EXIT_VMFUNC = 59,
	EXIT_ENCLS = 60,
	EXIT_RDSEED = 61,
	EXIT_PML_FULL = 62,
	EXIT_XSAVES = 63,
	EXIT_XRSTORS = 64,
	EXIT_REASON_COUNT = 80,
};
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

const char *vmx_exit_reason_name(unsigned reason);
const char *vmx_instruction_error_name(unsigned err);

/* --- instructions ------------------------------------------------------------ */
/* Outcome of a VMX instruction: SDM Vol. 3C 31.2 "conventions". */
enum vmx_status { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

#define VMX_STATUS_FROM_FLAGS(cf, zf) ((cf) ? VMX_FAIL_INVALID : (zf) ? VMX_FAIL_VALID : VMX_OK)

/* VMXON, VMCLEAR, VMPTRLD take the physical address of a 4 KiB region as a
 * 64-bit memory operand. */
#define DEFINE_VMX_PHYS_OP(name)                                                                   \
	static inline enum vmx_status name(u64 phys)                                               \
	{                                                                                          \
		u8 cf, zf;                                                                         \
		__asm__ volatile(#name " %2; setc %0; setz %1"                                     \
				 : "=qm"(cf), "=qm"(zf)                                            \
				 : "m"(phys)                                                       \
				 : "cc", "memory");                                                \
		return VMX_STATUS_FROM_FLAGS(cf, zf);                                              \
	}
DEFINE_VMX_PHYS_OP(vmxon)
DEFINE_VMX_PHYS_OP(vmclear)
DEFINE_VMX_PHYS_OP(vmptrld)
#undef DEFINE_VMX_PHYS_OP

static inline enum vmx_status vmxoff(void)
{
	u8 cf, zf;
	__asm__ volatile("vmxoff; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmread_raw(u64 field, u64 *value)
{
	u8 cf, zf;
	__asm__ volatile("vmread %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf), "=r"(*value)
			 : "r"(field)
			 : "cc");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

static inline enum vmx_status vmwrite_raw(u64 field, u64 value)
{
	u8 cf, zf;
	__asm__ volatile("vmwrite %3, %2; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "r"(field), "rm"(value)
			 : "cc");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

struct invept_desc {
	u64 eptp;
	u64 reserved;
};
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT    2

static inline enum vmx_status invept(u64 type, u64 eptp)
{
	struct invept_desc d = {eptp, 0};
	u8 cf, zf;
	__asm__ volatile("invept %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

struct invvpid_desc {
	u64 vpid;
	u64 la;
};
#define INVVPID_SINGLE_CONTEXT 1

static inline enum vmx_status invvpid(u64 type, u16 vpid)
{
	struct invvpid_desc d = {vpid, 0};
	u8 cf, zf;
	__asm__ volatile("invvpid %2, %3; setc %0; setz %1"
			 : "=qm"(cf), "=qm"(zf)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return VMX_STATUS_FROM_FLAGS(cf, zf);
}

/* Checked accessors: a failure prints the field, the VM-instruction error by
 * name and the caller, and stops the machine (a VMCS access that fails is a
 * hypervisor bug, never a guest's doing). */
#define vmcs_write(field, value) vmcs_write_at((field), (value), __FILE__, __LINE__)
#define vmcs_read(field)	 vmcs_read_at((field), __FILE__, __LINE__)
void vmcs_write_at(enum vmcs_field field, u64 value, const char *file, int line);
u64 vmcs_read_at(enum vmcs_field field, const char *file, int line);
const char *vmcs_field_name(enum vmcs_field field);

/* Enter the guest (VMLAUNCH when !launched, else VMRESUME) and return at the
 * next VM exit with the guest's registers saved in *regs. Returns VMX_OK on a
 * VM exit, VMX_FAIL_INVALID / VMX_FAIL_VALID when the entry instruction failed. */
enum vmx_status vmx_enter(struct guest_regs *regs, bool launched);

#endif
