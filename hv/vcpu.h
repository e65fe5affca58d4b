/* The virtual CPU. The VMX backend (hv/vcpu.c) owns the VMCS; the rest of hv/
 * (exit handlers, hypercalls, devices) reads and changes the guest through
 * this interface and struct vcpu's general registers. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <dimvisor/types.h>
#include "arch/x86_64/vmx.h"
#include "arch/x86_64/vmx_caps.h"
#include "hv/cpu_rules.h"
#include "hv/guestmem.h"
#include "hv/loader.h"

#define VCPU_RECENT_EXITS 8

struct vcpu_exit_record {
	u32 reason;
	u64 rip, qualification;
};

struct vcpu {
	struct guest_regs regs;
	bool launched;
	u64 vmxon_phys, vmcs_phys;
	u16 vpid;
	const struct vmx_caps *caps;
	struct cpu_rules_caps rules; /* what the guest's CPU accepts (XCR0, MSRs) */
	bool unchecked_guest_values; /* selftest: rules off where a fixup stands behind */
	struct guestmem *mem;
	u32 entry_controls;
	u64 cr0_mask, cr4_mask;
	/* the exit being handled */
	u32 exit_reason;
	u64 exit_qualification;
	/* accounting */
	u64 exits[EXIT_REASON_COUNT];
	u64 exits_total, hypercalls;
	struct vcpu_exit_record recent[VCPU_RECENT_EXITS];
	unsigned recent_next;
	u64 tsc_start, tsc_end;
	/* set by a handler to end the run */
	bool stopped;
	int status;
};

/* Enter VMX operation. Returns 0, or -DV_ENOTSUP with a reason in err. */
int vcpu_vmx_on(const struct vmx_caps *caps, char *err, size_t errlen);
/* Build the VMCS for a guest loaded as boot describes. 0 or -DV_ENOTSUP/-DV_ENOMEM
 * with a reason in err (a missing capability is named). */
int vcpu_init(struct vcpu *v, const struct vmx_caps *caps, struct guestmem *mem,
	      const struct guest_boot *boot, char *err, size_t errlen);
/* selftest=vmentry-*: make the next VM entry fail on purpose, so the failure
 * report is exercised. guest_state: RFLAGS bit 1 clear (SDM 27.3.1.4, exit
 * reason 33); else a CR3-target count above the CPU's maximum (SDM 27.2.1.1,
 * VMfailValid, VM-instruction error 7). */
void vcpu_break_for_selftest(bool guest_state);
/* Run until a handler stops the guest; returns the status. */
int vcpu_run(struct vcpu *v);

/* For exit handlers. */
u64 vcpu_rip(void);
void vcpu_skip_instruction(void);
unsigned vcpu_cpl(void);
void vcpu_inject_exception(unsigned vector, bool has_error, u32 error);
void vcpu_stop(struct vcpu *v, int status);
/* The decoded dump printed on every fatal path: guest state and recent exits. */
void vcpu_dump(const struct vcpu *v);
/* CR0 as the guest sees it: the real register for the bits it owns, the read
 * shadow for the bits the host keeps (the guest/host mask). */
u64 vcpu_guest_cr0(const struct vcpu *v);
/* Guest control state the handlers need (real registers). */
u64 vcpu_cr4(void);
u64 vcpu_efer(void);
u64 *vcpu_gpr(struct vcpu *v, unsigned index); /* 0 = RAX .. 15 = R15; RSP lives in the VMCS */

#endif
