/* The virtual CPU: the only interface between the vendor-neutral hypervisor
 * (exit handlers, hypercalls, devices, the VM) and a hardware backend (VT-x in
 * hv/vmx/; SVM would be hv/svm/). Nothing above this line names VMX or SVM:
 * guest state is read and written by name (enum vcpu_reg), exits arrive
 * decoded (struct vcpu_exit), and the backend keeps its own state out of
 * sight behind struct vcpu_arch. */
#ifndef HV_VCPU_H
#define HV_VCPU_H

#include <dimvisor/hypercall.h>
#include <dimvisor/types.h>
#include "arch/x86_64/regs.h"
#include "hv/cpu_rules.h"
#include "hv/guestmem.h"
#include "hv/vlapic.h"

struct cpu_ident;
struct vcpu_arch; /* the backend's state */

/* Guest registers by name. 0..15 are the general registers in the SDM's
 * encoding order (RAX RCX RDX RBX RSP RBP RSI RDI R8..R15), so a decoded
 * instruction's register number indexes them directly. */
enum vcpu_reg {
	VCPU_RAX,
	VCPU_RCX,
	VCPU_RDX,
	VCPU_RBX,
	VCPU_RSP,
	VCPU_RBP,
	VCPU_RSI,
	VCPU_RDI,
	VCPU_R8,
	VCPU_R15 = VCPU_R8 + 7,
	VCPU_RIP,
	VCPU_RFLAGS,
	VCPU_CR0, /* as the guest sees it (bits the host keeps read from the shadow) */
	VCPU_CR3,
	VCPU_CR4, /* as the guest sees it */
	VCPU_EFER,
	VCPU_PAT,
	VCPU_FS_BASE,
	VCPU_GS_BASE,
	VCPU_SYSENTER_CS,
	VCPU_SYSENTER_ESP,
	VCPU_SYSENTER_EIP,
	VCPU_DR7,      /* DR0-DR3 and DR6 stay in the CPU: nothing in the host touches them */
	VCPU_DEBUGCTL, /* IA32_DEBUGCTL */
	/* The guest's TSC is rdtsc() + this (RDTSC, RDTSCP and RDMSR alike). */
	VCPU_TSC_OFFSET,
	VCPU_REG_COUNT
};

/* Segment registers in the SDM's encoding order (ES CS SS DS FS GS), the
 * order of a segment-override field in an exit's instruction information. */
enum vcpu_sreg { VCPU_ES, VCPU_CS, VCPU_SS, VCPU_DS, VCPU_FS, VCPU_GS, VCPU_SREG_COUNT };

/* A segment register's hidden part: what the CPU checks an access against
 * outside 64-bit mode (SDM Vol. 3A 3.4.5, 5.3). */
struct vcpu_segment {
	u64 base;
	u32 limit;	  /* in bytes: the granularity is applied */
	bool usable;	  /* false: a null selector was loaded (protected mode) */
	bool code;	  /* a code segment; else data */
	bool readable;	  /* code: may be read (data always may) */
	bool writable;	  /* data: may be written (code never may) */
	bool expand_down; /* data: valid offsets lie above the limit */
	bool big;	  /* D/B: an expand-down segment ends at 4 GiB, not 64 KiB */
};

/* A decoded exit. kind says which of the unions is valid. */
enum vcpu_cr_op { VCPU_CR_MOV_TO, VCPU_CR_MOV_FROM, VCPU_CR_CLTS, VCPU_CR_LMSW };

struct vcpu_exit {
	enum dv_exit_kind kind;
	u32 reason;	   /* the backend's own code (VMX basic exit reason), for reports */
	u64 qualification; /* the backend's raw detail, for reports */
	union {
		struct {
			u16 port;
			u8 size; /* 1, 2 or 4 bytes */
			bool in, string, rep;
			/* string I/O: the memory operand, when the CPU reports it */
			u8 addr_size;	     /* 2, 4 or 8 bytes; 0: not reported */
			enum vcpu_sreg sreg; /* OUTS: DS or the override (INS: always ES) */
			u64 linear;	     /* linear address of the current element */
		} io;
		struct {
			u8 cr;	/* 0, 3, 4, 8 */
			u8 gpr; /* enum vcpu_reg of the MOV's register operand */
			enum vcpu_cr_op op;
			u16 lmsw_source; /* LMSW: the 16-bit source operand */
		} cr;
		struct {
			u64 gpa;
			u64 gva; /* valid when gva_valid */
			bool gva_valid;
			bool final; /* to gva's translation, not to a guest paging structure */
			bool read, write, fetch;	     /* the access */
			bool readable, writable, executable; /* what the nested entry allowed */
		} nested;
		struct {
			u8 vector; /* a host interrupt's */
		} intr;
		struct {
			u16 offset; /* on the APIC page */
			u8 type;    /* APIC access: VCPU_APIC_LINEAR_READ, ... */
		} apic;
	};
};

/* How an APIC-page access that exits was made (SDM Vol. 3C Table 28-6). */
enum { VCPU_APIC_LINEAR_READ = 0, VCPU_APIC_LINEAR_WRITE = 1, VCPU_APIC_LINEAR_FETCH = 2 };

#define VCPU_RECENT_EXITS 8

/* Counts of the events dimvisor delivered to the guest. */
struct vcpu_event_stats {
	u64 interrupts, nmis, reinjected, halts, halt_ticks, host_interrupts, host_nmis;
};

struct vcpu {
	struct guest_regs regs; /* RAX..R15 except RSP (vcpu_get/vcpu_set reach all) */
	struct vcpu_arch *arch;
	struct cpu_rules_caps rules; /* what the guest's CPU accepts (hv/cpuid.h) */
	u64 cr4_hw_allowed;	     /* CR4 bits the backend lets a guest hold (VMX: CR4_FIXED1) */
	u64 misc_enable;	     /* IA32_MISC_ENABLE: the vCPU keeps it (hv/msr.c) */
	u64 tsc_adjust;		     /* IA32_TSC_ADJUST: likewise */
	u64 mtrr_def_type;	     /* IA32_MTRR_DEF_TYPE: likewise */
	bool unchecked_guest_values; /* selftest: rules off where a fixup stands behind */
	struct guestmem *mem;
	struct vcpu_exit exit; /* the exit being handled */
	struct vlapic apic;    /* the guest's local APIC (hv/vlapic.c) */
	bool nmi_pending;      /* an NMI for the guest, not yet delivered */
	struct vcpu_event_stats events;
	/* accounting */
	u64 exits[DV_EXIT_KINDS];
	u64 exits_total, hypercalls;
	u64 tsc_start, tsc_end;
	/* set by a handler to end the run */
	bool stopped;
	int status;
};

/* The initial architectural state of a guest, as the boot protocol defines
 * it (hv/guest_start.c builds it; the backend loads it). */
enum vcpu_start_mode {
	VCPU_START_PROTECTED32, /* flat 32-bit protected mode, paging off (multiboot) */
	VCPU_START_LONG64,	/* 64-bit mode with paging on cr3 (ELF64) */
};

struct vcpu_start {
	enum vcpu_start_mode mode;
	u64 rip, rax, rbx, cr3;
	bool no_apic_help; /* apicv=no: do not use the CPU's APIC virtualization */
};

/* What the CPU offers for running a guest, whatever its vendor. */
struct vcpu_hw {
	const char *name;	   /* "VT-x" */
	bool usable;		   /* the CPU can run a guest at all */
	const char *why_not;	   /* when !usable */
	bool nested_2m, nested_1g; /* nested-paging leaf sizes beyond 4 KiB */
};

/* Probe the CPU (and print what it offers when print); never NULL. */
const struct vcpu_hw *vcpu_hw_probe(const struct cpu_ident *id, bool print);
/* Enter the CPU's virtualization mode. 0, or -DV_ENOTSUP with a reason in err. */
int vcpu_hw_enable(char *err, size_t errlen);
/* Prepare v to run the guest in mem from start. 0, or -DV_ENOTSUP (a missing
 * capability, named in err) or -DV_EIO (the CPU refused the set-up). */
int vcpu_init(struct vcpu *v, struct guestmem *mem, const struct vcpu_start *start, char *err,
	      size_t errlen);
/* selftest=vmentry-*: make the next VM entry fail on purpose, so the failure
 * report is exercised: on the guest state, or on a control field. */
void vcpu_break_for_selftest(struct vcpu *v, bool guest_state);
/* Run until a handler stops the guest; returns the status. Each exit is
 * decoded into v->exit, counted and given to exit_dispatch(). */
int vcpu_run(struct vcpu *v);

/* Guest state, by name. vcpu_set of CR0 applies what the CPU does on a MOV
 * to CR0 (entering or leaving IA-32e mode with EFER.LME); of CR0 and CR4 keeps
 * the bits the host must own and shows the guest its own values. */
u64 vcpu_get(const struct vcpu *v, enum vcpu_reg r);
void vcpu_set(struct vcpu *v, enum vcpu_reg r, u64 value);
unsigned vcpu_cpl(const struct vcpu *v);
/* The hidden part of segment register s, as the CPU holds it now. */
void vcpu_get_segment(const struct vcpu *v, enum vcpu_sreg s, struct vcpu_segment *seg);
/* 64-bit mode: IA-32e mode active and a 64-bit code segment (CS.L). */
bool vcpu_in_64bit_mode(const struct vcpu *v);
/* Complete the exiting instruction: advance RIP past it. */
void vcpu_skip_instruction(struct vcpu *v);
/* The same for an instruction dimvisor decoded itself, len bytes long (an
 * exit that is not an instruction's, e.g. a nested fault, has no length). */
void vcpu_complete_instruction(struct vcpu *v, unsigned len);
/* Deliver a hardware exception at the next entry, instead of completing
 * the exiting instruction, as the CPU would deliver it: RF set in the pushed
 * RFLAGS for a fault, the error code pushed only for the vectors that have
 * one and not in real mode (whatever has_error says). */
void vcpu_inject_exception(struct vcpu *v, unsigned vector, bool has_error, u32 error);
void vcpu_stop(struct vcpu *v, int status);
/* --- events for the guest: hv/events.c decides what to deliver, the backend
 * delivers it at the next entry. */
/* Could the guest take an external interrupt / an NMI at the next entry: not
 * blocked (RFLAGS.IF, STI and MOV SS shadows, NMI blocking) and no other
 * event already being injected. */
bool vcpu_interrupt_allowed(const struct vcpu *v);
bool vcpu_nmi_allowed(const struct vcpu *v);
/* Deliver at the next entry; a halted vCPU wakes up. */
void vcpu_inject_interrupt(struct vcpu *v, u8 vector);
void vcpu_inject_nmi(struct vcpu *v);
/* Exit as soon as the guest can take an interrupt / an NMI (on), or not. */
void vcpu_request_interrupt_window(struct vcpu *v, bool on);
void vcpu_request_nmi_window(struct vcpu *v, bool on);
/* Exit right after the guest's next instruction (the monitor trap flag, SDM
 * Vol. 3C 26.5.2), or stop doing so. False when the CPU has no such flag. */
bool vcpu_monitor_trap(struct vcpu *v, bool on);
/* Exit when the host's TSC reaches deadline (0: no timer). False when the
 * CPU has no timer for the guest; then only exits bring time forward. */
bool vcpu_set_timer(struct vcpu *v, u64 host_tsc_deadline);
/* Wait in HLT at the next entry until an event is injected or the timer
 * expires. False when the CPU cannot run a halted guest. */
bool vcpu_halt(struct vcpu *v);
bool vcpu_halted(const struct vcpu *v);
/* The CPU's help with the local APIC (VMX: APIC-register virtualization and
 * the TPR shadow, SDM Vol. 3C 30): a register page of the CPU's own it
 * serves most APIC reads and CR8 from, writes exiting after the fact
 * (APIC_WRITE), other accesses before (APIC_ACCESS). NULL when the CPU has
 * none: then every access to the APIC page is a nested fault. */
u32 *vcpu_apic_register_page(struct vcpu *v);
/* The host-physical page the guest's APIC page must map to for the CPU to
 * recognize it (0 without the help above). */
u64 vcpu_apic_access_page(const struct vcpu *v);
/* Exit when the guest lowers its TPR class below this one (0: never). */
void vcpu_set_tpr_threshold(struct vcpu *v, u8 priority_class);

/* Forget every nested translation the CPU cached for this guest: after a
 * change to its nested page tables that takes a right or moves a page. */
void vcpu_flush_nested(struct vcpu *v);

/* The decoded dump printed on every fatal path: guest state and recent exits. */
void vcpu_dump(const struct vcpu *v);
/* The current exit in words: "reason 9 (task switch), qualification 0x80000018
 * JMP to TSS selector 0x18". */
void vcpu_exit_describe(const struct vcpu *v, char *buf, size_t len);

#endif
