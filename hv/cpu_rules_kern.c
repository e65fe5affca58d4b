#include "arch/x86_64/cpu.h"
#include "hv/cpu_rules.h"

#define CPUID_EXT_SYSCALL (1u << 11) /* CPUID.80000001H:EDX */
#define CPUID_EXT_NX	  (1u << 20)
#define CPUID_EXT_LM	  (1u << 29)

void cpu_rules_caps_probe(struct cpu_rules_caps *caps)
{
	u32 max_basic = cpuid(0, 0).eax, max_ext = cpuid(0x80000000u, 0).eax;
	struct cpuid_regs none = {0, 0, 0, 0};
	struct cpuid_regs ext = max_ext >= 0x80000001u ? cpuid(0x80000001u, 0) : none;
	struct cpuid_regs xs = max_basic >= 0xd ? cpuid(0xd, 0) : none;
	struct cpuid_regs widths = max_ext >= 0x80000008u ? cpuid(0x80000008u, 0) : none;

	caps->linear_bits = (widths.eax >> 8) & 0xff;
	if (caps->linear_bits != 57)
		caps->linear_bits = 48;
	caps->xcr0_supported = ((u64)xs.edx << 32) | xs.eax;
	caps->efer_writable = EFER_BIT_LMA;
	if (ext.edx & CPUID_EXT_SYSCALL)
		caps->efer_writable |= EFER_BIT_SCE;
	if (ext.edx & CPUID_EXT_LM)
		caps->efer_writable |= EFER_BIT_LME;
	if (ext.edx & CPUID_EXT_NX)
		caps->efer_writable |= EFER_BIT_NXE;
}
