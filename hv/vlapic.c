/* The guest's local APIC: registers, IPIs to itself, the timer and the
 * priority logic. SDM Vol. 3A chapter 11; section numbers below are its. */
#include "hv/vlapic.h"
#include "lib/string.h"

/* 0x14: an integrated APIC; 5: the highest LVT entry (six entries, no
 * CMCI), the value Bochs's xAPIC reports (SDM 11.4.8). */
#define APIC_VERSION_VALUE 0x00050014u

#define ICR_VECTOR	   0xffu
#define ICR_DELIVERY(lo)   (((lo) >> 8) & 7)
#define ICR_LOGICAL	   (1u << 11)
#define ICR_LEVEL_ASSERT   (1u << 14)
#define ICR_TRIGGER_LEVEL  (1u << 15)
#define ICR_SHORTHAND(lo)  (((lo) >> 18) & 3)
#define ICR_LO_WRITABLE	   0x000ccfffu /* vector, mode, dest mode, level, trigger, shorthand */
#define DELIVERY_FIXED	   0
#define DELIVERY_LOWEST	   1
#define DELIVERY_NMI	   4
#define DELIVERY_INIT	   5
#define SHORTHAND_NONE	   0
#define SHORTHAND_SELF	   1
#define SHORTHAND_ALL	   2
#define SVR_WRITABLE	   0x3ffu /* vector, enable, focus-processor checking */
#define DIVIDE_WRITABLE	   0xbu
#define LVT_VECTOR	   0xffu
#define LVT_POLARITY	   (1u << 13)
#define LVT_TRIGGER_LEVEL  (1u << 15)
#define FIRST_LEGAL_VECTOR 16 /* 0-15 are illegal for fixed delivery (11.5.2) */

/* --- the 256-bit IRR / ISR / TMR vectors ------------------------------------------- */

static void bit_set(u32 *v, u8 vector)
{
	v[vector / 32] |= 1u << (vector % 32);
}

static void bit_clear(u32 *v, u8 vector)
{
	v[vector / 32] &= ~(1u << (vector % 32));
}

static int highest_bit(const u32 *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

/* --- reset and mode ---------------------------------------------------------------- */

static void reset_registers(struct vlapic *a)
{
	bool deadline = a->tsc_deadline_supported;
	u64 base = a->base;
	struct vlapic_stats stats = a->stats;

	memset(a, 0, sizeof(*a));
	a->tsc_deadline_supported = deadline;
	a->base = base;
	a->stats = stats;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (unsigned i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
}

void vlapic_reset(struct vlapic *a, bool tsc_deadline_supported)
{
	memset(a, 0, sizeof(*a));
	a->tsc_deadline_supported = tsc_deadline_supported;
	a->base = VLAPIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_EN;
	reset_registers(a);
}

void vlapic_firmware_state(struct vlapic *a)
{
	a->svr = SVR_ENABLED | 0xff;
	a->lvt[LVT_LINT0] = LVT_DELIVERY_EXTINT;
	a->lvt[LVT_LINT1] = LVT_DELIVERY_NMI;
}

bool vlapic_passes_extint(const struct vlapic *a)
{
	u32 lint0 = a->lvt[LVT_LINT0];

	if (!vlapic_enabled(a))
		return true;
	return (a->svr & SVR_ENABLED) && !(lint0 & LVT_MASKED) &&
	       (lint0 & LVT_DELIVERY) == LVT_DELIVERY_EXTINT;
}

bool vlapic_mmio_page(const struct vlapic *a, u64 *gpa)
{
	*gpa = a->base & APIC_BASE_ADDR;
	return vlapic_enabled(a) && !vlapic_x2apic(a);
}

/* 11.12.5, Figure 11-27: the states are disabled, xAPIC and x2APIC. */
const char *vlapic_set_base(struct vlapic *a, u64 value, unsigned maxphyaddr, bool x2apic_supported)
{
	u64 reserved = 0xffULL | (1ULL << 9) | ~((1ULL << maxphyaddr) - 1);
	bool en = value & APIC_BASE_EN, extd = value & APIC_BASE_EXTD;

	if (!x2apic_supported)
		reserved |= APIC_BASE_EXTD;
	if (value & reserved)
		return "sets reserved bits";
	if (extd && !en)
		return "sets x2APIC mode with the APIC disabled (an invalid state)";
	if (vlapic_x2apic(a) && en && !extd)
		return "leaves x2APIC mode for xAPIC mode (only through disabled)";
	if (!vlapic_enabled(a) && extd)
		return "enters x2APIC mode from the disabled state (only through xAPIC)";
	if (!en) {
		/* Disabling resets the APIC; enabling again finds it so (11.4.3). */
		a->base = (value & APIC_BASE_ADDR) | APIC_BASE_BSP;
		reset_registers(a);
		return NULL;
	}
	if (extd && !vlapic_x2apic(a))
		a->ldr = 1; /* x2APIC ID 0: cluster 0, bit 0 (11.12.10.2) */
	a->base = (value & ~APIC_BASE_BSP) | APIC_BASE_BSP;
	return NULL;
}

/* --- errors and interrupts arriving ------------------------------------------------ */

static void record_error(struct vlapic *a, u32 bits)
{
	u32 lvt = a->lvt[LVT_ERROR];

	a->esr_pending |= bits;
	/* The error LVT delivers an interrupt (11.5.3), unless its own vector
	 * is illegal: then only the ESR tells. */
	if (!(lvt & LVT_MASKED) && (lvt & LVT_VECTOR) >= FIRST_LEGAL_VECTOR)
		vlapic_raise(a, (u8)(lvt & LVT_VECTOR));
}

void vlapic_raise(struct vlapic *a, u8 vector)
{
	/* A software-disabled APIC accepts no fixed interrupts (11.4.7.2). */
	if (!vlapic_enabled(a) || !(a->svr & SVR_ENABLED))
		return;
	if (vector < FIRST_LEGAL_VECTOR) {
		record_error(a, ESR_RECEIVE_ILLEGAL_VECTOR);
		return;
	}
	bit_set(a->irr, vector);
	bit_clear(a->tmr, vector); /* edge-triggered: the only kind with one APIC */
	a->stats.interrupts++;
}

/* --- priorities (11.8.3) --------------------------------------------------------------- */

u32 vlapic_ppr(const struct vlapic *a)
{
	int isrv = highest_bit(a->isr);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

int vlapic_pending_vector(const struct vlapic *a)
{
	int irrv = highest_bit(a->irr);

	if (!vlapic_enabled(a) || !(a->svr & SVR_ENABLED) || irrv < 0)
		return -1;
	return ((u32)irrv & 0xf0) > (vlapic_ppr(a) & 0xf0) ? irrv : -1;
}

void vlapic_accept(struct vlapic *a, u8 vector)
{
	bit_clear(a->irr, vector);
	bit_set(a->isr, vector);
}

static void eoi(struct vlapic *a)
{
	int isrv = highest_bit(a->isr);

	if (isrv >= 0)
		bit_clear(a->isr, (u8)isrv);
	a->stats.eois++;
}

bool vlapic_take_nmi(struct vlapic *a)
{
	bool nmi = a->nmi_pending;

	a->nmi_pending = false;
	return nmi;
}

bool vlapic_take_init(struct vlapic *a)
{
	bool init = a->init_pending;

	a->init_pending = false;
	return init;
}

u64 vlapic_cr8_read(const struct vlapic *a)
{
	return (a->tpr >> 4) & 0xf;
}

void vlapic_cr8_write(struct vlapic *a, u64 value)
{
	a->tpr = ((u32)value & 0xf) << 4;
}

/* --- IPIs: only this APIC exists, so an IPI either reaches it or no one -------------- */

/* Does a destination (no shorthand) name this APIC? 11.6.2. */
static bool names_self(const struct vlapic *a, u32 dest, bool logical)
{
	if (vlapic_x2apic(a)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == 0; /* x2APIC ID 0 */
		/* cluster in bits 31:16, a bit per APIC in 15:0 (11.12.10.2) */
		return (dest >> 16) == (a->ldr >> 16) && (dest & a->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == a->id;
	if ((a->dfr >> 28) == 0xf) /* flat model */
		return (dest & (a->ldr >> 24)) != 0;
	/* cluster model: cluster in bits 7:4, members in 3:0 */
	return (dest >> 4) == (a->ldr >> 28) && (dest & (a->ldr >> 24) & 0xf);
}

static void send_ipi(struct vlapic *a, u32 lo, u32 dest)
{
	unsigned mode = ICR_DELIVERY(lo);
	u8 vector = (u8)(lo & ICR_VECTOR);
	bool to_self;

	switch (ICR_SHORTHAND(lo)) {
	case SHORTHAND_NONE:
		to_self = names_self(a, dest, lo & ICR_LOGICAL);
		break;
	case SHORTHAND_SELF: /* valid with fixed delivery only (Table 11-3) */
		to_self = mode == DELIVERY_FIXED;
		break;
	case SHORTHAND_ALL:
		to_self = true;
		break;
	default: /* all excluding self: there is no one else */
		to_self = false;
	}
	if ((mode == DELIVERY_FIXED || mode == DELIVERY_LOWEST) && vector < FIRST_LEGAL_VECTOR) {
		record_error(a, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (!to_self)
		return;
	switch (mode) {
	case DELIVERY_FIXED:
	case DELIVERY_LOWEST:
		a->stats.self_ipis++;
		vlapic_raise(a, vector);
		break;
	case DELIVERY_NMI:
		a->stats.nmis++;
		a->nmi_pending = true;
		break;
	case DELIVERY_INIT:
		/* INIT level de-assert is a no-op on modern CPUs (11.6.1). */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			break;
		a->init_pending = true;
		break;
	default: /* SMI, start-up (this CPU is not waiting for one), reserved */
		break;
	}
}

/* --- the timer (11.5.4) ------------------------------------------------------------------ */

static u64 timer_divisor(const struct vlapic *a)
{
	/* Divide configuration bits 3, 1:0 (Figure 11-10): 2^(n+1), 111b is 1. */
	unsigned n = ((a->timer_divide >> 1) & 4) | (a->timer_divide & 3);

	return n == 7 ? 1 : 2ULL << n;
}

static u32 timer_mode(const struct vlapic *a)
{
	return a->lvt[LVT_TIMER] & LVT_TIMER_MODE;
}

static u64 timer_period(const struct vlapic *a)
{
	return (u64)a->timer_initial * timer_divisor(a);
}

static void timer_arm(struct vlapic *a, u64 now)
{
	a->timer_start = now;
	a->next_fire = 0;
	if (a->timer_initial && timer_mode(a) != LVT_TIMER_DEADLINE)
		a->next_fire = now + timer_period(a);
}

static u32 timer_current(const struct vlapic *a, u64 now)
{
	u64 elapsed, period = timer_period(a);

	if (!a->next_fire || !period || timer_mode(a) == LVT_TIMER_DEADLINE)
		return 0;
	elapsed = now - a->timer_start;
	if (timer_mode(a) == LVT_TIMER_PERIODIC)
		elapsed %= period;
	else if (elapsed >= period)
		return 0;
	return a->timer_initial - (u32)(elapsed / timer_divisor(a));
}

static void timer_fire(struct vlapic *a)
{
	u32 lvt = a->lvt[LVT_TIMER];

	a->stats.timer_fires++;
	if (!(lvt & LVT_MASKED))
		vlapic_raise(a, (u8)(lvt & LVT_VECTOR));
}

void vlapic_advance(struct vlapic *a, u64 now)
{
	u64 period = timer_period(a);

	if (timer_mode(a) == LVT_TIMER_DEADLINE) {
		if (a->tsc_deadline && now >= a->tsc_deadline) {
			a->tsc_deadline = 0;
			timer_fire(a);
		}
		return;
	}
	if (!a->next_fire || now < a->next_fire)
		return;
	/* Expiries missed while the vCPU was out coalesce into one interrupt,
	 * as an IRR bit that is already set absorbs the next. */
	timer_fire(a);
	if (timer_mode(a) == LVT_TIMER_PERIODIC && period)
		a->next_fire += ((now - a->next_fire) / period + 1) * period;
	else
		a->next_fire = 0;
}

u64 vlapic_next_event(const struct vlapic *a)
{
	return timer_mode(a) == LVT_TIMER_DEADLINE ? a->tsc_deadline : a->next_fire;
}

u64 vlapic_tsc_deadline_read(const struct vlapic *a)
{
	return timer_mode(a) == LVT_TIMER_DEADLINE ? a->tsc_deadline : 0;
}

void vlapic_tsc_deadline_write(struct vlapic *a, u64 value, u64 now)
{
	if (timer_mode(a) != LVT_TIMER_DEADLINE)
		return;
	a->tsc_deadline = value;
	vlapic_advance(a, now);
}

/* --- registers ----------------------------------------------------------------------------- */

static int lvt_index(u32 offset)
{
	if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR)
		return (int)(offset - APIC_LVT_TIMER) / 0x10;
	return -1;
}

static u32 lvt_writable(const struct vlapic *a, unsigned i)
{
	switch (i) {
	case LVT_TIMER:
		return LVT_VECTOR | LVT_MASKED | LVT_TIMER_PERIODIC |
		       (a->tsc_deadline_supported ? LVT_TIMER_DEADLINE : 0);
	case LVT_LINT0:
	case LVT_LINT1:
		return LVT_VECTOR | LVT_DELIVERY | LVT_POLARITY | LVT_TRIGGER_LEVEL | LVT_MASKED;
	case LVT_ERROR:
		return LVT_VECTOR | LVT_MASKED;
	default: /* thermal, performance counters */
		return LVT_VECTOR | LVT_DELIVERY | LVT_MASKED;
	}
}

static void write_lvt(struct vlapic *a, unsigned i, u32 value)
{
	u32 old_mode = timer_mode(a);

	a->lvt[i] = value & lvt_writable(a, i);
	if (!(a->svr & SVR_ENABLED))
		a->lvt[i] |= LVT_MASKED; /* cannot be unmasked while disabled (11.4.7.2) */
	if (i == LVT_TIMER &&
	    (old_mode == LVT_TIMER_DEADLINE) != (timer_mode(a) == LVT_TIMER_DEADLINE)) {
		/* Switching into or out of TSC-deadline mode disarms (11.5.4.1). */
		a->timer_initial = 0;
		a->next_fire = 0;
		a->tsc_deadline = 0;
	}
}

static void write_svr(struct vlapic *a, u32 value)
{
	a->svr = value & SVR_WRITABLE;
	if (!(a->svr & SVR_ENABLED))
		for (unsigned i = 0; i < LVT_COUNT; i++)
			a->lvt[i] |= LVT_MASKED;
}

static u32 read_register(struct vlapic *a, u32 offset, u64 now)
{
	int lvt = lvt_index(offset);

	if (lvt >= 0)
		return a->lvt[lvt];
	if (offset >= APIC_ISR && offset < APIC_ISR + 0x80)
		return a->isr[(offset - APIC_ISR) / 0x10];
	if (offset >= APIC_TMR && offset < APIC_TMR + 0x80)
		return a->tmr[(offset - APIC_TMR) / 0x10];
	if (offset >= APIC_IRR && offset < APIC_IRR + 0x80)
		return a->irr[(offset - APIC_IRR) / 0x10];
	switch (offset) {
	case APIC_ID:
		return a->id << 24;
	case APIC_VERSION:
		return APIC_VERSION_VALUE;
	case APIC_TPR:
		return a->tpr;
	case APIC_PPR:
		return vlapic_ppr(a);
	case APIC_LDR:
		return a->ldr;
	case APIC_DFR:
		return a->dfr;
	case APIC_SVR:
		return a->svr;
	case APIC_ESR:
		return a->esr;
	case APIC_ICR_LO:
		return a->icr_lo; /* delivery status: always idle */
	case APIC_ICR_HI:
		return a->icr_hi;
	case APIC_TIMER_INITIAL:
		return a->timer_initial;
	case APIC_TIMER_CURRENT:
		return timer_current(a, now);
	case APIC_TIMER_DIVIDE:
		return a->timer_divide;
	default: /* APR, EOI, RRD and reserved offsets read 0 */
		return 0;
	}
}

/* A write common to both interfaces; the caller has checked what differs. */
static void write_register(struct vlapic *a, u32 offset, u32 value, u64 now)
{
	int lvt = lvt_index(offset);

	if (lvt >= 0) {
		write_lvt(a, (unsigned)lvt, value);
		return;
	}
	switch (offset) {
	case APIC_TPR:
		a->tpr = value & 0xff;
		break;
	case APIC_EOI:
		eoi(a);
		break;
	case APIC_SVR:
		write_svr(a, value);
		break;
	case APIC_ESR: /* a write latches the errors since the last one (11.5.3) */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case APIC_TIMER_INITIAL:
		if (timer_mode(a) == LVT_TIMER_DEADLINE)
			break; /* ignored in TSC-deadline mode */
		a->timer_initial = value;
		timer_arm(a, now);
		break;
	case APIC_TIMER_DIVIDE:
		vlapic_advance(a, now);
		a->timer_divide = value & DIVIDE_WRITABLE;
		break;
	default: /* read-only and reserved registers ignore writes */
		break;
	}
}

u32 vlapic_mmio_read(struct vlapic *a, u32 offset, u64 now)
{
	vlapic_advance(a, now);
	return read_register(a, offset & 0xff0, now);
}

void vlapic_mmio_write(struct vlapic *a, u32 offset, u32 value, u64 now)
{
	offset &= 0xff0;
	vlapic_advance(a, now);
	switch (offset) {
	case APIC_ID:
		a->id = value >> 24;
		break;
	case APIC_LDR:
		a->ldr = value & 0xff000000u;
		break;
	case APIC_DFR:
		a->dfr = value | 0x0fffffffu;
		break;
	case APIC_ICR_HI:
		a->icr_hi = value & 0xff000000u;
		break;
	case APIC_ICR_LO:
		a->icr_lo = value & ICR_LO_WRITABLE;
		send_ipi(a, a->icr_lo, a->icr_hi >> 24);
		break;
	default:
		write_register(a, offset, value, now);
	}
}

/* --- the x2APIC MSRs (11.12.1.2, Table 11-6) ---------------------------------------- */

enum x2apic_access { X2_NONE, X2_RO, X2_WO, X2_RW };

static enum x2apic_access x2apic_access(u32 offset)
{
	if (lvt_index(offset) >= 0)
		return X2_RW;
	if (offset >= APIC_ISR && offset < APIC_IRR + 0x80)
		return X2_RO; /* ISR, TMR, IRR */
	switch (offset) {
	case APIC_ID:
	case APIC_VERSION:
	case APIC_PPR:
	case APIC_LDR:
	case APIC_TIMER_CURRENT:
		return X2_RO;
	case APIC_EOI:
	case APIC_SELF_IPI:
		return X2_WO;
	case APIC_TPR:
	case APIC_SVR:
	case APIC_ESR:
	case APIC_ICR_LO:
	case APIC_TIMER_INITIAL:
	case APIC_TIMER_DIVIDE:
		return X2_RW;
	default: /* APR, RRD, DFR, ICR_HI and the reserved MSRs do not exist */
		return X2_NONE;
	}
}

/* The register an x2APIC MSR names, if the access may reach it: NULL and
 * *offset, or the reason for the #GP. */
static const char *x2apic_register(const struct vlapic *a, u32 msr, bool write, u32 *offset)
{
	enum x2apic_access acc;

	*offset = (msr - X2APIC_MSR_FIRST) * 0x10;
	acc = x2apic_access(*offset);
	if (!vlapic_x2apic(a))
		return "is an x2APIC register and the APIC is not in x2APIC mode";
	if (acc == X2_NONE)
		return "names no x2APIC register";
	if (acc == (write ? X2_RO : X2_WO))
		return write ? "writes a read-only x2APIC register"
			     : "reads a write-only x2APIC register";
	return NULL;
}

const char *vlapic_msr_read(struct vlapic *a, u32 msr, u64 now, u64 *value)
{
	u32 offset;
	const char *why = x2apic_register(a, msr, false, &offset);

	if (why)
		return why;
	vlapic_advance(a, now);
	if (offset == APIC_ID)
		*value = 0; /* the x2APIC ID */
	else if (offset == APIC_ICR_LO)
		*value = ((u64)a->icr_hi << 32) | a->icr_lo;
	else
		*value = read_register(a, offset, now);
	return NULL;
}

const char *vlapic_msr_write(struct vlapic *a, u32 msr, u64 value, u64 now)
{
	u32 offset;
	const char *why = x2apic_register(a, msr, true, &offset);

	if (why)
		return why;
	if (offset != APIC_ICR_LO && (value >> 32))
		return "sets bits 63:32, reserved in this x2APIC register";
	if ((offset == APIC_EOI || offset == APIC_ESR) && value)
		return "writes a non-zero value to EOI or ESR";
	if ((offset == APIC_SELF_IPI || offset == APIC_TPR) && (value & ~(u64)0xff))
		return "sets reserved bits of SELF IPI or TPR";
	if (offset == APIC_SVR && (value & ~(u64)(SVR_ENABLED | 0xff)))
		return "sets reserved bits of the SVR (no focus checking, no EOI-broadcast "
		       "suppression in x2APIC mode)";
	vlapic_advance(a, now);
	if (offset == APIC_SELF_IPI) {
		send_ipi(a, (u32)value | (SHORTHAND_SELF << 18), 0);
	} else if (offset == APIC_ICR_LO) {
		a->icr_lo = (u32)value & ICR_LO_WRITABLE;
		a->icr_hi = (u32)(value >> 32);
		send_ipi(a, a->icr_lo, a->icr_hi);
	} else {
		write_register(a, offset, (u32)value, now);
	}
	return NULL;
}

/* --- a register page for the CPU (SDM Vol. 3C 30.4.1) -------------------------------- */

/* The registers whose reads the CPU serves from the page: ID through the
 * divide configuration, the current count excepted (it changes on its own,
 * so reading it exits). */
static const u16 page_registers[] = {
	APIC_ID,	APIC_VERSION,	APIC_TPR,	    APIC_PPR,	       APIC_EOI,
	APIC_LDR,	APIC_DFR,	APIC_SVR,	    APIC_ESR,	       APIC_ICR_LO,
	APIC_ICR_HI,	APIC_LVT_TIMER, APIC_LVT_THERMAL,   APIC_LVT_PERF,     APIC_LVT_LINT0,
	APIC_LVT_LINT1, APIC_LVT_ERROR, APIC_TIMER_INITIAL, APIC_TIMER_DIVIDE,
};

void vlapic_fill_page(struct vlapic *a, u32 *page, u64 now)
{
	for (unsigned i = 0; i < ARRAY_SIZE(page_registers); i++)
		page[page_registers[i] / 4] = read_register(a, page_registers[i], now);
	for (unsigned i = 0; i < 8; i++) {
		page[(APIC_ISR + 0x10 * i) / 4] = a->isr[i];
		page[(APIC_TMR + 0x10 * i) / 4] = a->tmr[i];
		page[(APIC_IRR + 0x10 * i) / 4] = a->irr[i];
	}
}

void vlapic_take_page_tpr(struct vlapic *a, const u32 *page)
{
	a->tpr = page[APIC_TPR / 4] & 0xff;
}

u8 vlapic_tpr_threshold(const struct vlapic *a)
{
	int irrv = highest_bit(a->irr), isrv = highest_bit(a->isr);
	u32 irr_class = irrv < 0 ? 0 : (u32)irrv >> 4;

	/* Held back by the ISR it waits for an EOI, which exits anyway. */
	if (irrv < 0 || (isrv >= 0 && irr_class <= ((u32)isrv >> 4)))
		return 0;
	return irr_class <= (a->tpr >> 4) ? (u8)irr_class : 0;
}
