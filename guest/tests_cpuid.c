/* cpuid: what the CPU says about itself, and under dimvisor the hypervisor
 * leaves of include/dimvisor/hypercall.h; pmu: no performance monitoring,
 * said consistently; cpuid-msrs: every flag that promises an MSR keeps it. */
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

/* --- perf-caps: a kernel's start-up code reading IA32_PERF_CAPABILITIES
 * (0x345) as some do, before or without asking CPUID. The outcome is printed
 * so tests/native can compare it with the bare CPU's: bare Bochs 2.7 has no
 * such MSR (#GP, although its CPUID says PDCM), dimvisor hides the PMU (#GP,
 * and CPUID says so). Either way only a value or #GP(0) is architectural. */
void test_perf_caps(struct test *t)
{
	u64 value = 0, error = 0, vector = msr_read_safe(0x345, &value, &error);

	test_check(t, vector == 0 || (vector == VECTOR_GP && error == 0),
		   "RDMSR IA32_PERF_CAPABILITIES raised vector %lu (error 0x%lx)", vector, error);
	if (vector)
		test_note(t, "RDMSR IA32_PERF_CAPABILITIES: #GP(0)");
	else
		test_note(t, "RDMSR IA32_PERF_CAPABILITIES: 0x%lx", value);
}

/* --- cpuid-msrs: every CPUID flag that promises an MSR keeps its promise,
 * and a clear flag means the MSR is not there: RDMSR works exactly when the
 * flag is set (SDM Vol. 4 chapter 2, the "If CPUID..." column). A kernel
 * that trusts CPUID never takes a #GP the hardware would not give. Bare Bochs
 * 2.7 breaks several of these promises itself (PDCM, MCA, DS, EST, thermal
 * MSRs), so the test needs dimvisor. The local APIC's MSRs (APIC, x2APIC,
 * TSC-deadline) are the APIC model's to test. */
static const struct {
	const char *flag;
	u32 leaf, sub;
	enum cpuid_reg reg;
	u32 mask;
	u32 msr;
} promises[] = {
	{"PDCM", 1, 0, CPUID_ECX, 1u << 15, 0x345},	/* IA32_PERF_CAPABILITIES */
	{"DTES64", 1, 0, CPUID_ECX, 1u << 2, 0x600},	/* IA32_DS_AREA */
	{"DS", 1, 0, CPUID_EDX, 1u << 21, 0x600},	/* IA32_DS_AREA */
	{"EST", 1, 0, CPUID_ECX, 1u << 7, 0x198},	/* IA32_PERF_STATUS */
	{"ACPI", 1, 0, CPUID_EDX, 1u << 22, 0x19a},	/* IA32_CLOCK_MODULATION */
	{"TM", 1, 0, CPUID_EDX, 1u << 29, 0x19c},	/* IA32_THERM_STATUS */
	{"MCA", 1, 0, CPUID_EDX, 1u << 14, 0x179},	/* IA32_MCG_CAP */
	{"MTRR", 1, 0, CPUID_EDX, 1u << 12, 0xfe},	/* IA32_MTRRCAP */
	{"PAT", 1, 0, CPUID_EDX, 1u << 16, 0x277},	/* IA32_PAT */
	{"SEP", 1, 0, CPUID_EDX, 1u << 11, 0x174},	/* IA32_SYSENTER_CS */
	{"DCA", 1, 0, CPUID_ECX, 1u << 18, 0x1f8},	/* IA32_PLATFORM_DCA_CAP */
	{"DTS", 6, 0, CPUID_EAX, 1u << 0, 0x19c},	/* IA32_THERM_STATUS */
	{"PTM", 6, 0, CPUID_EAX, 1u << 6, 0x1b1},	/* IA32_PACKAGE_THERM_STATUS */
	{"APERFMPERF", 6, 0, CPUID_ECX, 1u << 0, 0xe7}, /* IA32_MPERF */
	{"EPB", 6, 0, CPUID_ECX, 1u << 3, 0x1b0},	/* IA32_ENERGY_PERF_BIAS */
	{"TSC_ADJUST", 7, 0, CPUID_EBX, 1u << 1, 0x3b}, /* IA32_TSC_ADJUST */
	{"MPX", 7, 0, CPUID_EBX, 1u << 14, 0xd90},	/* IA32_BNDCFGS */
	{"PQM", 7, 0, CPUID_EBX, 1u << 12, 0xc8f},	/* IA32_PQR_ASSOC */
	{"PT", 7, 0, CPUID_EBX, 1u << 25, 0x570},	/* IA32_RTIT_CTL */
	{"WAITPKG", 7, 0, CPUID_ECX, 1u << 5, 0xe1},	/* IA32_UMWAIT_CONTROL */
	{"CET_SS", 7, 0, CPUID_ECX, 1u << 7, 0x6a2},	/* IA32_S_CET */
	{"PKS", 7, 0, CPUID_ECX, 1u << 31, 0x6e1},	/* IA32_PKRS */
	{"CET_IBT", 7, 0, CPUID_EDX, 1u << 20, 0x6a2},	/* IA32_S_CET */
	{"IBRS", 7, 0, CPUID_EDX, 1u << 26, 0x48},	/* IA32_SPEC_CTRL */
	{"STIBP", 7, 0, CPUID_EDX, 1u << 27, 0x48},	/* IA32_SPEC_CTRL */
	{"SSBD", 7, 0, CPUID_EDX, 1u << 31, 0x48},	/* IA32_SPEC_CTRL */
	{"ARCH_CAPABILITIES", 7, 0, CPUID_EDX, 1u << 29, 0x10a},
	{"CORE_CAPABILITIES", 7, 0, CPUID_EDX, 1u << 30, 0xcf},
	{"XSAVES", 0xd, 1, CPUID_EAX, 1u << 3, 0xda0},		     /* IA32_XSS */
	{"RDTSCP", 0x80000001u, 0, CPUID_EDX, 1u << 27, 0xc0000103}, /* IA32_TSC_AUX */
	{"RDPID", 7, 0, CPUID_ECX, 1u << 22, 0xc0000103},	     /* IA32_TSC_AUX */
};

/* Two flags may promise the same MSR (DS and DTES64, the IBRS family, the
 * CET pair, RDTSCP and RDPID): it must be there if any of them is set. */
static bool any_promise(u32 msr)
{
	u32 max_basic = cpuid(0, 0).eax, max_ext = cpuid(0x80000000u, 0).eax;

	for (unsigned i = 0; i < ARRAY_SIZE(promises); i++) {
		u32 leaf = promises[i].leaf;
		u32 max = leaf & 0x80000000u ? max_ext : max_basic;
		struct cpuid_regs r;

		if (promises[i].msr != msr || leaf > max)
			continue;
		r = cpuid(leaf, promises[i].sub);
		if (*cpuid_reg(&r, promises[i].reg) & promises[i].mask)
			return true;
	}
	return false;
}

void test_cpuid_msrs(struct test *t)
{
	unsigned kept = 0, absent = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(promises); i++) {
		u64 value = 0, error = 0, vector = msr_read_safe(promises[i].msr, &value, &error);
		bool promised = any_promise(promises[i].msr);

		if (promised)
			test_check(
				t, vector == 0,
				"CPUID promises MSR 0x%x (%s or another flag), RDMSR raised vector "
				"%lu",
				promises[i].msr, promises[i].flag, vector);
		else
			test_check(t, vector == VECTOR_GP, "CPUID %s is clear, yet RDMSR 0x%x %s",
				   promises[i].flag, promises[i].msr,
				   vector ? "raised a non-#GP exception" : "works");
		promised ? kept++ : absent++;
	}
	test_note(t, "%u flag-MSR pairs: %u promised and present, %u absent as CPUID says",
		  (unsigned)ARRAY_SIZE(promises), kept, absent);
}
