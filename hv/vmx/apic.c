/* The VT-x backend, the CPU's APIC virtualization (SDM Vol. 3C 30): the
 * APIC-access page, which the guest's APIC page maps to in EPT so that the
 * CPU recognizes accesses to it, and the virtual-APIC page, the register
 * page it serves reads (and CR8, the TPR) from. One vCPU, so one of each. */
#include "hv/vmx/vcpu_arch.h"

static u8 apic_access_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u32 virtual_apic_page[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));

void vmx_setup_apic_pages(struct vcpu *v)
{
	(void)v;
	/* dimvisor's image is identity-mapped: its addresses are physical. */
	vmcs_write(VMCS_VIRTUAL_APIC_PAGE, (u64)virtual_apic_page);
	vmcs_write(VMCS_APIC_ACCESS_ADDR, (u64)apic_access_page);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
}

u32 *vcpu_apic_register_page(struct vcpu *v)
{
	return v->arch->apic_help ? virtual_apic_page : NULL;
}

u64 vcpu_apic_access_page(const struct vcpu *v)
{
	return v->arch->apic_help ? (u64)apic_access_page : 0;
}

void vcpu_set_tpr_threshold(struct vcpu *v, u8 priority_class)
{
	if (v->arch->apic_help)
		vmcs_write(VMCS_TPR_THRESHOLD, priority_class & 0xf);
}
