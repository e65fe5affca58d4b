/* cpuid: what the CPU says about itself, and under dimvisor the hypervisor
 * leaves of include/dimvisor/hypercall.h. */
#include <dimvisor/types.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"
#include "guest/tests.h"

#define CPUID_EXT_MAX	       0x80000000u
#define CPUID_EXT_FEATURES     0x80000001u
#define CPUID_1_ECX_VMX	       (1u << 5)  /* SDM Vol. 2A Table 3-10 */
#define CPUID_1_ECX_HYPERVISOR (1u << 31) /* reserved for hypervisors to set */
#define CPUID_EXT_EDX_LM       (1u << 29)
#define DV_FEATURES_EXPECTED   (DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS)

void test_cpuid(struct test *t)
{
	struct cpuid_regs basic = cpuid(0, 0), leaf1 = cpuid(1, 0);
	struct cpuid_regs ext = cpuid(CPUID_EXT_MAX, 0), ext1 = cpuid(CPUID_EXT_FEATURES, 0);
	struct cpuid_regs sig, feat;

	test_check(t, basic.eax >= 1, "highest basic leaf is %u, expected at least 1", basic.eax);
	/* We run in long mode, so the CPU must say it has it. */
	test_check(t, ext.eax >= CPUID_EXT_FEATURES && (ext1.edx & CPUID_EXT_EDX_LM),
		   "CPUID 0x80000001 EDX bit 29 (long mode) is clear, yet we run in long mode");
	if (!t->dimvisor) {
		test_note(t,
			  "native: CPUID.1:ECX VMX %u, hypervisor bit %u; dimvisor leaves not "
			  "checked",
			  !!(leaf1.ecx & CPUID_1_ECX_VMX), !!(leaf1.ecx & CPUID_1_ECX_HYPERVISOR));
		return;
	}
	sig = cpuid(DV_CPUID_SIGNATURE_LEAF, 0);
	feat = cpuid(DV_CPUID_FEATURES_LEAF, 0);
	test_check(t, sig.eax == DV_CPUID_MAX_LEAF,
		   "CPUID 0x40000000 EAX (highest hypervisor leaf) is 0x%x, expected 0x%x", sig.eax,
		   DV_CPUID_MAX_LEAF);
	test_check(t,
		   sig.ebx == DV_CPUID_SIG_EBX && sig.ecx == DV_CPUID_SIG_ECX &&
			   sig.edx == DV_CPUID_SIG_EDX,
		   "CPUID 0x40000000 EBX/ECX/EDX 0x%x/0x%x/0x%x, expected \"dimvisor\"", sig.ebx,
		   sig.ecx, sig.edx);
	test_check(t, (feat.eax & DV_FEATURES_EXPECTED) == DV_FEATURES_EXPECTED,
		   "CPUID 0x40000001 EAX (features) is 0x%x, expected bits 0x%x set", feat.eax,
		   DV_FEATURES_EXPECTED);
	test_check(t, feat.ebx == DV_ABI_VERSION,
		   "CPUID 0x40000001 EBX (ABI version) is %u, expected %u", feat.ebx,
		   DV_ABI_VERSION);
	test_check(t, !(leaf1.ecx & CPUID_1_ECX_VMX),
		   "CPUID.1:ECX bit 5 (VMX) is set: dimvisor must hide VMX from the guest");
	test_note(t, "CPUID.1:ECX hypervisor bit %u (informational)",
		  !!(leaf1.ecx & CPUID_1_ECX_HYPERVISOR));
}
