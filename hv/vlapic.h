/* The guest's local APIC, a software model owned by dimvisor: the registers
 * of the xAPIC (MMIO) and x2APIC (MSR) interfaces, the timer in its three
 * modes, IPIs to itself, and the priority logic that says which interrupt the
 * vCPU takes next. SDM Vol. 3A chapter 11 ("Advanced Programmable Interrupt
 * Controller").
 *
 * Pure logic: no VMX, no host APIC. Time is the guest's TSC, passed in by
 * the caller, so hosted unit tests can drive it. One APIC, the BSP's (ID 0):
 * dimvisor runs one vCPU. */
#ifndef HV_VLAPIC_H
#define HV_VLAPIC_H

#include <dimvisor/types.h>

#define VLAPIC_DEFAULT_BASE 0xfee00000ULL
#define VLAPIC_PAGE_SIZE    0x1000

/* IA32_APIC_BASE (MSR 0x1b): SDM Vol. 3A 11.4.4 and 11.12.1. */
#define APIC_BASE_BSP  (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define APIC_BASE_EN   (1ULL << 11) /* globally enabled */
#define APIC_BASE_ADDR (~0xfffULL)

/* Register offsets of the xAPIC page (SDM Table 11-1); the x2APIC MSR of
 * a register is 0x800 + offset / 16 (Table 11-6). */
enum vlapic_reg {
	APIC_ID = 0x20,
	APIC_VERSION = 0x30,
	APIC_TPR = 0x80,
	APIC_APR = 0x90,
	APIC_PPR = 0xa0,
	APIC_EOI = 0xb0,
	APIC_RRD = 0xc0,
	APIC_LDR = 0xd0,
	APIC_DFR = 0xe0,
	APIC_SVR = 0xf0,
	APIC_ISR = 0x100, /* 8 registers of 32 vectors, 0x10 apart */
	APIC_TMR = 0x180,
	APIC_IRR = 0x200,
	APIC_ESR = 0x280,
	APIC_ICR_LO = 0x300,
	APIC_ICR_HI = 0x310,
	APIC_LVT_TIMER = 0x320,
	APIC_LVT_THERMAL = 0x330,
	APIC_LVT_PERF = 0x340,
	APIC_LVT_LINT0 = 0x350,
	APIC_LVT_LINT1 = 0x360,
	APIC_LVT_ERROR = 0x370,
	APIC_TIMER_INITIAL = 0x380,
	APIC_TIMER_CURRENT = 0x390,
	APIC_TIMER_DIVIDE = 0x3e0,
	APIC_SELF_IPI = 0x3f0, /* x2APIC only (MSR 0x83f) */
};

#define X2APIC_MSR_FIRST 0x800
#define X2APIC_MSR_LAST	 0x8ff
#define MSR_TSC_DEADLINE 0x6e0

/* The local vector table, in one array. */
enum vlapic_lvt {
	LVT_TIMER,
	LVT_THERMAL,
	LVT_PERF,
	LVT_LINT0,
	LVT_LINT1,
	LVT_ERROR,
	LVT_COUNT /* no CMCI: the version register says 6 entries, as Bochs's */
};

#define LVT_DELIVERY	    (7u << 8)
#define LVT_DELIVERY_NMI    (4u << 8)
#define LVT_DELIVERY_EXTINT (7u << 8)
#define LVT_MASKED	    (1u << 16)
#define LVT_TIMER_PERIODIC  (1u << 17)
#define LVT_TIMER_DEADLINE  (2u << 17)
#define LVT_TIMER_MODE	    (3u << 17)
#define SVR_ENABLED	    (1u << 8)

/* ESR bits (SDM Figure 11-9). */
#define ESR_SEND_ILLEGAL_VECTOR	   (1u << 5)
#define ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER	   (1u << 7)

struct vlapic_stats {
	u64 interrupts; /* vectors set in the IRR */
	u64 timer_fires, self_ipis, nmis, eois;
};

struct vlapic {
	bool tsc_deadline_supported; /* CPUID.1:ECX[24], as the guest sees it */
	u64 base;		     /* IA32_APIC_BASE */
	u32 id;			     /* the xAPIC ID register's bits 31:24 */
	u32 tpr, ldr, dfr, svr;
	u32 esr, esr_pending; /* the ESR as read, and errors since its last write */
	u32 icr_lo, icr_hi;
	u32 lvt[LVT_COUNT];
	u32 isr[8], tmr[8], irr[8];
	/* the timer: in one-shot and periodic mode it runs from timer_start at
	 * the divided rate; next_fire is the guest TSC of its next expiry (0: not
	 * armed); in TSC-deadline mode tsc_deadline is what the guest wrote */
	u32 timer_initial, timer_divide;
	u64 timer_start, next_fire, tsc_deadline;
	bool nmi_pending, init_pending;
	struct vlapic_stats stats;
};

/* Power-up state (SDM 11.4.7.1): enabled in xAPIC mode at the default base,
 * every LVT masked, software-disabled (SVR = 0xff). */
void vlapic_reset(struct vlapic *a, bool tsc_deadline_supported);

/* As firmware leaves it for a kernel on a PC (SeaBIOS, which QEMU runs
 * before -kernel): software-enabled, LINT0 the PICs' ExtINT, LINT1 NMI
 * (the MP specification's virtual-wire mode). */
void vlapic_firmware_state(struct vlapic *a);

/* Does the PICs' INTR reach the CPU: through LINT0 in ExtINT mode, or
 * straight when the APIC is globally disabled (then it is not there at all;
 * SDM 11.4.3, 11.5.1). */
bool vlapic_passes_extint(const struct vlapic *a);

static inline bool vlapic_enabled(const struct vlapic *a)
{
	return (a->base & APIC_BASE_EN) != 0;
}
static inline bool vlapic_x2apic(const struct vlapic *a)
{
	return (a->base & APIC_BASE_EXTD) != 0;
}
/* The xAPIC page's guest-physical address, when that interface is on. */
bool vlapic_mmio_page(const struct vlapic *a, u64 *gpa);

/* A write of IA32_APIC_BASE: mode transitions as SDM 11.12.5 allows them
 * (disabled, xAPIC, x2APIC; never x2APIC straight to xAPIC or disabled
 * straight to x2APIC), reserved bits clear (maxphyaddr from CPUID), x2APIC
 * only when offered. 0, or a reason for the #GP the CPU would raise. */
const char *vlapic_set_base(struct vlapic *a, u64 value, unsigned maxphyaddr,
			    bool x2apic_supported);

/* The xAPIC interface: a 32-bit access at a 16-byte aligned offset (the only
 * kind the SDM defines; the caller decides what other widths do). */
u32 vlapic_mmio_read(struct vlapic *a, u32 offset, u64 now);
void vlapic_mmio_write(struct vlapic *a, u32 offset, u32 value, u64 now);

/* The x2APIC interface: RDMSR/WRMSR of 0x800..0x8ff. NULL, or the reason for
 * the #GP the CPU raises (xAPIC mode, a register that does not exist or is
 * read-only / write-only, reserved bits). */
const char *vlapic_msr_read(struct vlapic *a, u32 msr, u64 now, u64 *value);
const char *vlapic_msr_write(struct vlapic *a, u32 msr, u64 value, u64 now);

/* IA32_TSC_DEADLINE (SDM 11.5.4.1): reads 0 unless armed in TSC-deadline
 * mode; writes outside that mode are ignored. */
u64 vlapic_tsc_deadline_read(const struct vlapic *a);
void vlapic_tsc_deadline_write(struct vlapic *a, u64 value, u64 now);

/* CR8 is TPR[7:4] (SDM 11.8.6). */
u64 vlapic_cr8_read(const struct vlapic *a);
void vlapic_cr8_write(struct vlapic *a, u64 value);

/* An interrupt arriving at the APIC with this vector (a device, the LVT). */
void vlapic_raise(struct vlapic *a, u8 vector);

/* Bring the timer up to now: fire it (set its vector in the IRR) as many
 * times as it expired, coalesced as real hardware would. */
void vlapic_advance(struct vlapic *a, u64 now);
/* The guest TSC at which the timer fires next, or 0 when it is not armed. */
u64 vlapic_next_event(const struct vlapic *a);

/* The vector the vCPU takes next: the highest in the IRR whose priority
 * class is above the PPR's, or -1 (SDM 11.8.3.1). */
int vlapic_pending_vector(const struct vlapic *a);
/* The vCPU took vector: it moves from the IRR to the ISR. */
void vlapic_accept(struct vlapic *a, u8 vector);

/* An NMI or INIT this APIC received (by IPI to itself), taken once. */
bool vlapic_take_nmi(struct vlapic *a);
bool vlapic_take_init(struct vlapic *a);

/* The processor priority (SDM 11.8.3.1). */
u32 vlapic_ppr(const struct vlapic *a);

/* For a CPU that serves APIC reads from a register page of its own (VMX
 * APIC-register virtualization, SDM Vol. 3C 30.4): write every register it
 * may read there, as the xAPIC page lays them out (page: 1024 dwords). */
void vlapic_fill_page(struct vlapic *a, u32 *page, u64 now);
/* The TPR the CPU may have changed in that page (CR8, TPR writes). */
void vlapic_take_page_tpr(struct vlapic *a, const u32 *page);
/* The TPR threshold for it: the priority class of the highest interrupt the
 * TPR alone holds back, so that lowering the TPR below it exits (0: none). */
u8 vlapic_tpr_threshold(const struct vlapic *a);

#endif
