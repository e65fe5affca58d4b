#include "arch/x86_64/lapic.h"
#include "arch/x86_64/cpu.h"

/* SDM Vol. 3A chapter 11 (APIC): IA32_APIC_BASE, the ID register, the ICR. */
#define MSR_IA32_APIC_BASE  0x1b
#define APIC_BASE_ENABLE    (1ULL << 11)
#define APIC_BASE_X2APIC    (1ULL << 10)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL
#define XAPIC_ID	    0x20
#define XAPIC_ICR_LOW	    0x300
#define XAPIC_ICR_HIGH	    0x310
#define MSR_X2APIC_ID	    0x802
#define MSR_X2APIC_ICR	    0x830
/* Delivery mode NMI, level assert, physical destination, no shorthand: the
 * "self" shorthand allows only Fixed delivery (SDM Table 11-3), so the IPI
 * names this CPU's own APIC ID instead. */
#define ICR_NMI_ASSERT ((4u << 8) | (1u << 14))

static volatile u32 *xapic_reg(u64 base, u32 offset)
{
	return (volatile u32 *)(base + offset);
}

bool lapic_send_self_nmi(void)
{
	u64 apic_base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(apic_base & APIC_BASE_ENABLE))
		return false;
	if (apic_base & APIC_BASE_X2APIC) {
		u64 id = rdmsr(MSR_X2APIC_ID);
		wrmsr(MSR_X2APIC_ICR, (id << 32) | ICR_NMI_ASSERT);
		return true;
	}
	u64 base = apic_base & APIC_BASE_ADDR_MASK;
	u32 id = *xapic_reg(base, XAPIC_ID) >> 24;
	*xapic_reg(base, XAPIC_ICR_HIGH) = id << 24;
	*xapic_reg(base, XAPIC_ICR_LOW) = ICR_NMI_ASSERT;
	return true;
}
