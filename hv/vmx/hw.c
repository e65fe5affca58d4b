/* VT-x as the vCPU's hardware: capability probe and VMXON. SDM Vol. 3C 24.7-24.8. */
#include "arch/x86_64/cpu.h"
#include "hv/vmx/vcpu_arch.h"
#include "lib/printf.h"
#include "lib/string.h"
#include <dimvisor/errno.h>

#define CPUID1_ECX_XSAVE (1u << 26)

static struct vmx_caps caps;
static struct vcpu_hw hw;
static u8 vmxon_region[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

const struct vmx_caps *vmx_hw_caps(void)
{
	return &caps;
}

const struct vcpu_hw *vcpu_hw_probe(const struct cpu_ident *id, bool print)
{
	vmx_probe(id, &caps);
	if (print)
		vmx_caps_print(id, &caps);
	hw = (struct vcpu_hw){.name = "VT-x",
			      .usable = caps.usable,
			      .why_not = caps.why_not,
			      .nested_2m = caps.ept_2m,
			      .nested_1g = caps.ept_1g};
	return &hw;
}

int vcpu_hw_enable(char *err, size_t errlen)
{
	u64 cr0 = read_cr0(), cr4 = read_cr4() | CR4_VMXE;

	if ((cr0 & caps.cr0_fixed0) != caps.cr0_fixed0 || (cr0 & ~caps.cr0_fixed1)) {
		ksnprintf(err, errlen,
			  "host CR0 0x%lx violates IA32_VMX_CR0_FIXED0/1 (0x%lx/0x%lx)", cr0,
			  caps.cr0_fixed0, caps.cr0_fixed1);
		return -DV_ENOTSUP;
	}
	/* XSETBV exits are emulated by executing XSETBV, which needs OSXSAVE. */
	if (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
	memset(vmxon_region, 0, sizeof(vmxon_region));
	memcpy(vmxon_region, &caps.revision_id, 4);
	enum vmx_status st = vmxon((u64)vmxon_region);
	if (st != VMX_OK) {
		ksnprintf(err, errlen, "VMXON failed (%s)",
			  st == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
		return -DV_ENOTSUP;
	}
	return 0;
}
