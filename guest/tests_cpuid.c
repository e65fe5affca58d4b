/* cpuid: what the CPU says about itself, and under dimvisor the hypervisor
 * leaves of include/dimvisor/hypercall.h; pmu: no performance monitoring,
 * said consistently. */
#include <dimvisor/types.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/tests.h"

#define CPUID_EXT_MAX	       0x80000000u
#define CPUID_EXT_FEATURES     0x80000001u
#define CPUID_1_ECX_VMX	       (1u << 5)  /* SDM Vol. 2A Table 3-10 */
#define CPUID_1_ECX_HYPERVISOR (1u << 31) /* reserved for hypervisors to set */
#define CPUID_EXT_EDX_LM       (1u << 29)
#define DV_FEATURES_EXPECTED   (DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS)
#define MSR_IA32_MISC_ENABLE   0x1a0u

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

/* --- pmu: dimvisor offers no performance monitoring, and says so
 * consistently: CPUID leaf 0xA all zero; no PDCM, debug store (DS, DTES64,
 * DS-CPL); the MSRs those would promise raise #GP (SDM Vol. 2B RDMSR: #GP(0)
 * for an MSR the CPU does not have); IA32_MISC_ENABLE says "performance
 * monitoring unavailable", "BTS unavailable", "PEBS unavailable" (SDM Vol.
 * 4 Table 2-2, bits 7, 11, 12). */
#define CPUID_1_ECX_DTES64 (1u << 2)
#define CPUID_1_ECX_DS_CPL (1u << 4)
#define CPUID_1_ECX_PDCM   (1u << 15)
#define CPUID_1_EDX_DS	   (1u << 21)
#define MISC_PERF_MON	   (1ULL << 7)
#define MISC_BTS_UNAVAIL   (1ULL << 11)
#define MISC_PEBS_UNAVAIL  (1ULL << 12)
#define VECTOR_GP	   13

static const struct {
	u32 msr;
	const char *name;
} pmu_msrs[] = {
	{0x345, "IA32_PERF_CAPABILITIES"}, {0xc1, "IA32_PMC0"},
	{0x186, "IA32_PERFEVTSEL0"},	   {0x309, "IA32_FIXED_CTR0"},
	{0x38d, "IA32_FIXED_CTR_CTRL"},	   {0x38e, "IA32_PERF_GLOBAL_STATUS"},
	{0x38f, "IA32_PERF_GLOBAL_CTRL"},  {0x600, "IA32_DS_AREA"},
	{0x3f1, "IA32_PEBS_ENABLE"},
};

void test_pmu(struct test *t)
{
	struct cpuid_regs pm = cpuid(0, 0).eax >= 0xa ? cpuid(0xa, 0) : (struct cpuid_regs){0};
	struct cpuid_regs leaf1 = cpuid(1, 0);
	u64 value = 0, error = 0, vector;

	test_check(t, !pm.eax && !pm.ebx && !pm.ecx && !pm.edx,
		   "CPUID 0xA is %08x %08x %08x %08x, expected all zero (no PMU)", pm.eax, pm.ebx,
		   pm.ecx, pm.edx);
	test_check(t, !(leaf1.ecx & (CPUID_1_ECX_PDCM | CPUID_1_ECX_DTES64 | CPUID_1_ECX_DS_CPL)),
		   "CPUID.1:ECX 0x%08x advertises PDCM, DTES64 or DS-CPL", leaf1.ecx);
	test_check(t, !(leaf1.edx & CPUID_1_EDX_DS), "CPUID.1:EDX 0x%08x advertises DS", leaf1.edx);
	for (unsigned i = 0; i < ARRAY_SIZE(pmu_msrs); i++) {
		error = 0;
		vector = msr_read_safe(pmu_msrs[i].msr, &value, &error);
		test_check(t, vector == VECTOR_GP && error == 0,
			   "RDMSR %s (0x%x): expected #GP(0), got vector %lu (value 0x%lx)",
			   pmu_msrs[i].name, pmu_msrs[i].msr, vector, value);
	}
	vector = msr_read_safe(MSR_IA32_MISC_ENABLE, &value, &error);
	if (test_check(t, vector == 0, "RDMSR IA32_MISC_ENABLE raised vector %lu", vector))
		test_check(t,
			   (value & (MISC_PERF_MON | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)) ==
				   (MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL),
			   "IA32_MISC_ENABLE is 0x%lx: expected bit 7 (PMU available) clear, bits "
			   "11 and 12 (BTS, PEBS unavailable) set",
			   value);
}
