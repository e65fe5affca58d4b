/* See hv/apic.h. */
#include "hv/apic.h"
#include "arch/x86_64/cpu.h"
#include "hv/cpuid.h"
#include "hv/gva.h"
#include "hv/insn.h"
#include "hv/tsc.h"
#include "lib/log.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define MAX_ODD_ACCESS_REPORTS	8

/* What the guest's CPUID offers (hv/cpuid.c). */
static bool guest_has(const struct vcpu *v, u32 ecx_bit)
{
	return (cpuid_guest(v, 1, 0).ecx & ecx_bit) != 0;
}

static u64 mapped_page; /* the gPA mapped onto the CPU's APIC-access page, 0: none */
static void place_access_page(struct vcpu *v);

void apic_init(struct vcpu *v)
{
	vlapic_reset(&v->apic, guest_has(v, CPUID1_ECX_TSC_DEADLINE));
	vlapic_firmware_state(&v->apic);
	mapped_page = 0;
	place_access_page(v);
	kinfo("apic: the guest's local APIC is dimvisor's model; %s\n",
	      vcpu_apic_register_page(v)
		      ? "the CPU's APIC virtualization serves its register reads, its TPR and CR8"
		      : "every access to it is emulated (apicv=no, or the CPU has no "
			"APIC-register virtualization)");
}

u64 apic_now(const struct vcpu *v)
{
	return tsc_guest_now(v);
}

bool apic_mmio_owns(const struct vcpu *v, u64 gpa)
{
	u64 page;

	return vlapic_mmio_page(&v->apic, &page) && gpa >= page && gpa < page + VLAPIC_PAGE_SIZE;
}

/* --- the xAPIC page ------------------------------------------------------------------ */

/* The width of the code at RIP: 64-bit mode, else CS.D in protected mode. */
static unsigned code_bits(const struct vcpu *v)
{
	struct vcpu_segment cs;

	if (vcpu_in_64bit_mode(v))
		return 64;
	vcpu_get_segment(v, VCPU_CS, &cs);
	return (vcpu_get(v, VCPU_CR0) & CR0_PE) && cs.big ? 32 : 16;
}

/* Bytes of the page as a load sees them: each register is the low 4 bytes of
 * its 16-byte slot; the other 12 read as zero (SDM 11.4.1). */
static u64 page_read(struct vcpu *v, u32 offset, unsigned size)
{
	u32 slot = ~0u, reg = 0;
	u64 value = 0;

	for (unsigned i = 0; i < size; i++) {
		u32 at = offset + i;

		if ((at & ~0xfu) != slot) { /* each register read once */
			slot = at & ~0xfu;
			reg = vlapic_mmio_read(&v->apic, slot, apic_now(v));
		}
		if ((at & 0xf) < 4)
			value |= (u64)((reg >> (8 * (at & 3))) & 0xff) << (8 * i);
	}
	return value;
}

/* Write size bytes of a general register, as the CPU does: 8- and 16-bit
 * writes keep the rest, 32-bit writes zero-extend (SDM Vol. 1 3.4.1.1). */
static void set_gpr(struct vcpu *v, const struct insn_mem *m, u64 value)
{
	unsigned reg = m->high_byte ? m->reg - 4 : m->reg;
	u64 old = vcpu_get(v, (enum vcpu_reg)reg);

	if (m->high_byte)
		value = (old & ~0xff00ULL) | ((value & 0xff) << 8);
	else if (m->dest_size == 1)
		value = (old & ~0xffULL) | (value & 0xff);
	else if (m->dest_size == 2)
		value = (old & ~0xffffULL) | (value & 0xffff);
	vcpu_set(v, (enum vcpu_reg)reg, value);
}

static u64 get_gpr(const struct vcpu *v, const struct insn_mem *m)
{
	if (m->high_byte)
		return (vcpu_get(v, (enum vcpu_reg)(m->reg - 4)) >> 8) & 0xff;
	return vcpu_get(v, (enum vcpu_reg)m->reg);
}

static void page_write(struct vcpu *v, u32 offset, unsigned size, u64 value)
{
	static unsigned reported;

	/* Only aligned 32-bit writes are defined (SDM 11.4.1); others are
	 * dropped, as a write to the reserved bytes of a slot is. */
	if (size == 4 && (offset & 0xf) == 0) {
		vlapic_mmio_write(&v->apic, offset, (u32)value, apic_now(v));
		return;
	}
	if (reported++ < MAX_ODD_ACCESS_REPORTS)
		kprintf("dimvisor: guest wrote %u byte%s at local APIC offset 0x%x (RIP 0x%lx): "
			"only aligned 32-bit writes reach a register; ignored\n",
			size, size == 1 ? "" : "s", offset, vcpu_get(v, VCPU_RIP));
}

static void unemulated(struct vcpu *v, u64 gpa, const u8 *bytes, unsigned n, const char *why)
{
	kprintf("\ndimvisor: guest instruction at RIP 0x%lx touches the local APIC page at "
		"0x%lx but %s; bytes:",
		vcpu_get(v, VCPU_RIP), gpa, why);
	for (unsigned i = 0; i < n; i++)
		kprintf(" %02x", bytes[i]);
	kprintf("\ndimvisor: stopping the guest; the hypervisor is unaffected\n");
	vcpu_dump(v);
	vcpu_stop(v, DV_EXIT_GUEST_FAULT);
}

/* Emulate the instruction at RIP, which accessed the APIC page at offset
 * (an access the CPU did not serve itself). */
static void emulate_access(struct vcpu *v, u32 offset, bool fetch)
{
	u8 bytes[INSN_MAX_LEN];
	unsigned n = gva_fetch_instruction(v, bytes, sizeof(bytes)), bits = code_bits(v);
	u64 gpa = (v->apic.base & APIC_BASE_ADDR) + offset;
	struct insn_mem m;
	u64 value;

	if (fetch) {
		unemulated(v, gpa, bytes, n, "executes it");
		return;
	}
	if (bits == 16 || insn_decode_mem(bytes, n, bits == 64, &m) < 0) {
		unemulated(v, gpa, bytes, n,
			   bits == 16 ? "runs 16-bit code, which dimvisor does not decode"
				      : "is not a MOV dimvisor emulates");
		return;
	}
	if (offset + m.size > VLAPIC_PAGE_SIZE) {
		unemulated(v, gpa, bytes, n, "crosses the end of the page");
		return;
	}
	if (m.op == INSN_LOAD) {
		value = page_read(v, offset, m.size);
		set_gpr(v, &m, insn_load_value(&m, value));
	} else {
		value = m.op == INSN_STORE_IMM ? m.imm : get_gpr(v, &m);
		page_write(v, offset, m.size, value);
	}
	vcpu_complete_instruction(v, m.len);
}

void apic_mmio(struct vcpu *v)
{
	emulate_access(v, (u32)(v->exit.nested.gpa & (VLAPIC_PAGE_SIZE - 1)), v->exit.nested.fetch);
}

/* --- with the CPU's APIC virtualization -------------------------------------------- */

/* Keep the CPU's APIC-access page where the guest's xAPIC page is: at the
 * base, in xAPIC mode only (elsewhere accesses fault into apic_mmio). */
static void place_access_page(struct vcpu *v)
{
	u64 hpa = vcpu_apic_access_page(v), want;

	if (!hpa)
		return;
	if (!vlapic_mmio_page(&v->apic, &want) || guestmem_map_device_page(v->mem, want, hpa) < 0)
		want = 0;
	if (mapped_page && mapped_page != want)
		guestmem_unmap_device_page(v->mem, mapped_page);
	mapped_page = want;
	vcpu_flush_nested(v);
}

void apic_before_entry(struct vcpu *v)
{
	u32 *page = vcpu_apic_register_page(v);

	if (!page)
		return;
	vlapic_fill_page(&v->apic, page, apic_now(v));
	vcpu_set_tpr_threshold(v, vlapic_tpr_threshold(&v->apic));
}

void apic_after_exit(struct vcpu *v)
{
	const u32 *page = vcpu_apic_register_page(v);

	if (page) /* the guest may have moved its TPR (CR8, a TPR write) */
		vlapic_take_page_tpr(&v->apic, page);
}

void apic_access_exit(struct vcpu *v)
{
	u8 type = v->exit.apic.type;

	emulate_access(v, v->exit.apic.offset,
		       type != VCPU_APIC_LINEAR_READ && type != VCPU_APIC_LINEAR_WRITE);
}

void apic_write_exit(struct vcpu *v)
{
	const u32 *page = vcpu_apic_register_page(v);
	u32 offset = v->exit.apic.offset & 0xff0;

	/* The CPU wrote the value into its page and exited after the write. */
	if (page)
		vlapic_mmio_write(&v->apic, offset, page[offset / 4], apic_now(v));
}

/* --- MSRs ------------------------------------------------------------------------------- */

bool apic_has_tsc_deadline(const struct vcpu *v)
{
	return v->apic.tsc_deadline_supported;
}

const char *apic_msr_read(struct vcpu *v, u32 msr, u64 *value)
{
	if (msr == MSR_APIC_BASE) {
		*value = v->apic.base;
		return NULL;
	}
	if (msr == MSR_TSC_DEADLINE) {
		*value = vlapic_tsc_deadline_read(&v->apic);
		return NULL;
	}
	return vlapic_msr_read(&v->apic, msr, apic_now(v), value);
}

const char *apic_msr_write(struct vcpu *v, u32 msr, u64 value)
{
	if (msr == MSR_APIC_BASE) {
		const char *why = vlapic_set_base(&v->apic, value, v->rules.maxphyaddr,
						  guest_has(v, CPUID1_ECX_X2APIC));

		if (!why)
			place_access_page(v);
		return why;
	}
	if (msr == MSR_TSC_DEADLINE) {
		vlapic_tsc_deadline_write(&v->apic, value, apic_now(v));
		return NULL;
	}
	return vlapic_msr_write(&v->apic, msr, value, apic_now(v));
}

u64 apic_cr8_read(struct vcpu *v)
{
	return vlapic_cr8_read(&v->apic);
}

bool apic_cr8_write(struct vcpu *v, u64 value)
{
	if (value >> 4)
		return false; /* SDM Vol. 3A 2.5: bits 63:4 of CR8 are reserved */
	vlapic_cr8_write(&v->apic, value);
	return true;
}
