/* The VT-x backend's private state behind struct vcpu (hv/vcpu.h). Only
 * files in hv/vmx/ include this. */
#ifndef HV_VMX_VCPU_ARCH_H
#define HV_VMX_VCPU_ARCH_H

#include "arch/x86_64/vmx.h"
#include "arch/x86_64/vmx_caps.h"
#include "hv/vcpu.h"

struct vmx_exit_record {
	u32 reason;
	u64 rip, qualification;
};

struct vcpu_arch {
	const struct vmx_caps *caps;
	bool launched;
	u64 vmcs_phys;
	u16 vpid;
	u32 entry_controls, pin_controls, proc_controls;
	/* what the CPU offers for events (hv/vmx/inject.c) */
	bool has_timer;	      /* VMX-preemption timer */
	unsigned timer_shift; /* it counts down every 2^shift TSC ticks */
	bool has_halt;	      /* HLT activity state */
	bool has_nmi_window;
	bool has_monitor_trap; /* the monitor trap flag (processor-based bit 27) */
	bool apic_help;
	/* TPR shadow, APIC-access and APIC-register virtualization */ /* virtual NMIs and
									  NMI-window exiting
									*/
	u32 vectoring_info; /* of the current exit: an event cut short */
	u32 vectoring_error, vectoring_len;
	u64 cr0_mask, cr4_mask; /* CR bits the host owns (guest/host masks) */
	struct vmx_exit_record recent[VCPU_RECENT_EXITS];
	unsigned recent_next;
};

/* After an exit: remember an event whose delivery the exit interrupted;
 * after its handler: deliver it again unless the handler injected another
 * (hv/vmx/inject.c). SDM Vol. 3C 28.2.4 and 29.2.1. */
void vmx_save_vectoring(struct vcpu *v);
void vmx_reinject_vectoring(struct vcpu *v);

/* The APIC-access and virtual-APIC pages in the VMCS (hv/vmx/apic.c). */
void vmx_setup_apic_pages(struct vcpu *v);

/* The probed capabilities (hv/vmx/hw.c). */
const struct vmx_caps *vmx_hw_caps(void);
/* Decode a basic exit reason and its qualification into e: the kind and the
 * details the qualification holds (hv/vmx/decode.c; pure, unit-tested). The
 * nested-fault addresses live in other VMCS fields: the caller adds them. */
void vmx_decode_exit(u32 basic_reason, u64 qualification, struct vcpu_exit *e);
/* String I/O: the address size and segment of the memory operand from the
 * exit's instruction information (valid when IA32_VMX_BASIC bit 54 is set). */
void vmx_decode_string_io(u32 instruction_info, struct vcpu_exit *e);
/* A segment's hidden part from its VMCS base, limit and access rights. */
void vmx_segment_from_ar(u64 base, u32 limit, u32 ar, struct vcpu_segment *seg);
/* Describe a VMX exit reason and qualification in words (hv/vmx/decode.c). */
void vmx_describe_exit(u32 reason, u64 qualification, char *buf, size_t len);

#endif
