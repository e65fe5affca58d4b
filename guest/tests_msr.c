/* msr: dimvisor lets the guest use the MSRs on its allow list and injects #GP
 * for the others, on the RDMSR/WRMSR itself (RIP not advanced) with error
 * code 0 (SDM Vol. 2B RDMSR: #GP(0) for a reserved or unimplemented MSR). */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/tests.h"

#define VECTOR_GP   13
#define MSR_UNKNOWN 0xdeadbeefu /* in no architectural range; no CPU implements it */

static void expect_gp(struct test *t, const char *what, u64 vector, u64 error)
{
	test_check(t, vector == VECTOR_GP && error == 0,
		   "%s: expected #GP(0), got %s vector %lu error code 0x%lx", what,
		   vector ? "exception" : "no exception,", vector, error);
}

void test_msr(struct test *t)
{
	u64 value = 0, error = 0, vector;

	vector = msr_read_safe(MSR_IA32_EFER, &value, &error);
	test_check(t, vector == 0, "RDMSR IA32_EFER raised vector %lu (error 0x%lx)", vector,
		   error);
	test_check(t, vector != 0 || (value & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
		   "IA32_EFER is 0x%lx: LME and LMA must be set in long mode", value);

	error = 0;
	vector = msr_read_safe(MSR_UNKNOWN, &value, &error);
	expect_gp(t, "RDMSR 0xdeadbeef", vector, error);
	error = 0;
	vector = msr_write_safe(MSR_UNKNOWN, 0, &error);
	expect_gp(t, "WRMSR 0xdeadbeef", vector, error);
	/* VMX is hidden from CPUID, so its capability MSRs must be too. */
	error = 0;
	/* The microcode-revision protocol: write 0, CPUID, read (SDM 10.11.7.1). */
	error = 0;
	vector = msr_write_safe(0x8b, 0, &error);
	test_check(t, vector == 0, "WRMSR IA32_BIOS_SIGN_ID raised vector %lu", vector);
	(void)cpuid(1, 0);
	vector = msr_read_safe(0x8b, &value, &error);
	test_check(t, vector == 0, "RDMSR IA32_BIOS_SIGN_ID raised vector %lu", vector);
	error = 0;
	vector = msr_read_safe(MSR_IA32_VMX_BASIC, &value, &error);
	expect_gp(t, "RDMSR IA32_VMX_BASIC", vector, error);
}

/* --- misc-enable: IA32_MISC_ENABLE as SDM Vol. 4 Table 2-2 has it (bare
 * Bochs 2.7 has no such MSR: the test needs dimvisor). Writable bits keep
 * what is written and take effect (the CPUID maxval limit, MONITOR, XD
 * disable hiding NX and making EFER.NXE reserved); read-only bits keep their
 * values; a reserved bit gets #GP and changes nothing. */
#define MSR_MISC_ENABLE	  0x1a0u
#define MISC_FAST_STRINGS (1ULL << 0)
#define MISC_PERF_MON	  (1ULL << 7)
#define MISC_BTS_UNAVAIL  (1ULL << 11)
#define MISC_PEBS_UNAVAIL (1ULL << 12)
#define MISC_EST	  (1ULL << 16)
#define MISC_MONITOR	  (1ULL << 18)
#define MISC_LIMIT_CPUID  (1ULL << 22)
#define MISC_XTPR_DISABLE (1ULL << 23)
#define MISC_XD_DISABLE	  (1ULL << 34)
#define MISC_ARCHITECTURAL                                                                         \
	(MISC_FAST_STRINGS | MISC_PERF_MON | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL | MISC_EST |     \
	 MISC_MONITOR | MISC_LIMIT_CPUID | MISC_XTPR_DISABLE | MISC_XD_DISABLE)
#define CPUID_1_ECX_MONITOR (1u << 3)
#define CPUID_EXT_EDX_NX    (1u << 20)

static u64 misc_read(void)
{
	u64 value = 0, error = 0;

	return msr_read_safe(MSR_MISC_ENABLE, &value, &error) ? ~0ULL : value;
}

/* Write value; expect it accepted (want_gp false) or #GP(0). */
static bool misc_write(struct test *t, u64 value, bool want_gp)
{
	u64 error = 0, vector = msr_write_safe(MSR_MISC_ENABLE, value, &error);

	if (want_gp)
		return test_check(t, vector == VECTOR_GP && error == 0,
				  "WRMSR IA32_MISC_ENABLE = 0x%lx: expected #GP(0), got vector %lu",
				  value, vector);
	return test_check(t, vector == 0, "WRMSR IA32_MISC_ENABLE = 0x%lx raised vector %lu", value,
			  vector);
}

static void misc_limit_cpuid(struct test *t, u64 misc)
{
	u32 max = cpuid(0, 0).eax;

	if (max <= 2)
		return;
	if (misc_write(t, misc | MISC_LIMIT_CPUID, false))
		test_check(t, cpuid(0, 0).eax == 2, "CPUID.0:EAX is %u with the maxval limit set",
			   cpuid(0, 0).eax);
	misc_write(t, misc, false);
	test_check(t, cpuid(0, 0).eax == max, "CPUID.0:EAX is %u after the limit, was %u",
		   cpuid(0, 0).eax, max);
}

static void misc_monitor(struct test *t, u64 misc)
{
	if (!(misc & MISC_MONITOR))
		return;
	misc_write(t, misc & ~MISC_MONITOR, false);
	test_check(t, !(cpuid(1, 0).ecx & CPUID_1_ECX_MONITOR),
		   "CPUID.1:ECX[3] (MONITOR) still set with IA32_MISC_ENABLE[18] clear");
	misc_write(t, misc, false);
	test_check(t, cpuid(1, 0).ecx & CPUID_1_ECX_MONITOR,
		   "CPUID.1:ECX[3] (MONITOR) clear after IA32_MISC_ENABLE[18] was set again");
}

/* XD disable hides NX and makes EFER.NXE reserved; not while NXE is set
 * (this guest has no NX bit in its tables, so it can clear NXE for a while). */
static void misc_xd_disable(struct test *t, u64 misc)
{
	u64 efer = 0, error = 0;

	if (!(cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_NX))
		return;
	msr_read_safe(MSR_IA32_EFER, &efer, &error);
	if (efer & EFER_NXE)
		misc_write(t, misc | MISC_XD_DISABLE, true);
	msr_write_safe(MSR_IA32_EFER, efer & ~EFER_NXE, &error);
	if (misc_write(t, misc | MISC_XD_DISABLE, false)) {
		test_check(t, !(cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_NX),
			   "CPUID.80000001H:EDX[20] (NX) still set with XD disabled");
		error = 0;
		test_check(t, msr_write_safe(MSR_IA32_EFER, efer | EFER_NXE, &error) == VECTOR_GP,
			   "WRMSR EFER with NXE while XD is disabled did not raise #GP");
	}
	misc_write(t, misc, false);
	test_check(t, cpuid(0x80000001u, 0).edx & CPUID_EXT_EDX_NX,
		   "CPUID.80000001H:EDX[20] (NX) clear after XD was enabled again");
	test_check(t, msr_write_safe(MSR_IA32_EFER, efer, &error) == 0,
		   "WRMSR EFER = 0x%lx refused after XD was enabled again", efer);
}

void test_misc_enable(struct test *t)
{
	u64 misc = misc_read();

	if (!test_check(t, misc != ~0ULL, "RDMSR IA32_MISC_ENABLE raised an exception"))
		return;
	test_check(t, (misc & (MISC_FAST_STRINGS | MISC_PERF_MON)) == MISC_FAST_STRINGS,
		   "IA32_MISC_ENABLE is 0x%lx at start: expected fast strings on, PMU unavailable",
		   misc);
	test_check(t, !(misc & ~MISC_ARCHITECTURAL),
		   "IA32_MISC_ENABLE is 0x%lx: bits outside SDM Table 2-2's set", misc);
	/* a writable bit: written, read back, restored */
	misc_write(t, misc & ~MISC_FAST_STRINGS, false);
	test_check(t, misc_read() == (misc & ~MISC_FAST_STRINGS),
		   "IA32_MISC_ENABLE reads 0x%lx after fast strings were turned off", misc_read());
	misc_write(t, misc, false);
	/* read-only bits: a write leaves them */
	misc_write(t, (misc | MISC_PERF_MON) & ~MISC_BTS_UNAVAIL, false);
	test_check(t, misc_read() == misc,
		   "IA32_MISC_ENABLE reads 0x%lx after a write of its "
		   "read-only bits, was 0x%lx",
		   misc_read(), misc);
	misc_limit_cpuid(t, misc);
	misc_monitor(t, misc);
	misc_xd_disable(t, misc);
	/* reserved bits (1, 63) and EST, which the guest's CPUID does not offer */
	misc_write(t, misc | (1ULL << 1), true);
	misc_write(t, misc | (1ULL << 63), true);
	misc_write(t, misc | MISC_EST, true);
	test_check(t, misc_read() == misc,
		   "IA32_MISC_ENABLE reads 0x%lx after the refused writes, "
		   "was 0x%lx",
		   misc_read(), misc);
}

/* --- mtrr: the MTRR MSRs are there exactly as IA32_MTRRCAP says (variable
 * ranges, fixed ranges, write-combining), and IA32_MTRR_DEF_TYPE keeps what is
 * written, refusing reserved bits and types. SDM Vol. 3A 12.11. */
#define MSR_MTRRCAP	   0xfeu
#define MSR_MTRR_PHYSBASE0 0x200u
#define MSR_MTRR_FIX64K	   0x250u
#define MSR_MTRR_DEF_TYPE  0x2ffu
#define MTRRCAP_VCNT	   0xffULL
#define MTRRCAP_FIX	   (1ULL << 8)
#define MTRRCAP_WC	   (1ULL << 10)
#define DEF_TYPE_E	   (1ULL << 11)
#define DEF_TYPE_FE	   (1ULL << 10)
#define CPUID_1_EDX_MTRR   (1u << 12)

static void expect_msr(struct test *t, u32 msr, bool present)
{
	u64 value = 0, error = 0, vector = msr_read_safe(msr, &value, &error);

	test_check(t, present ? vector == 0 : vector == VECTOR_GP,
		   "RDMSR 0x%x: vector %lu, expected %s", msr, vector, present ? "none" : "#GP");
}

static void def_type(struct test *t, u64 value, bool accepted)
{
	u64 error = 0, vector = msr_write_safe(MSR_MTRR_DEF_TYPE, value, &error), now = 0;

	msr_read_safe(MSR_MTRR_DEF_TYPE, &now, &error);
	if (accepted)
		test_check(t, vector == 0 && now == value,
			   "IA32_MTRR_DEF_TYPE = 0x%lx: vector %lu, reads 0x%lx", value, vector,
			   now);
	else
		test_check(t, vector == VECTOR_GP && now != value,
			   "IA32_MTRR_DEF_TYPE = 0x%lx: vector %lu (expected #GP), reads 0x%lx",
			   value, vector, now);
}

void test_mtrr(struct test *t)
{
	u64 cap = 0, old = 0, error = 0;
	unsigned vcnt;

	if (!(cpuid(1, 0).edx & CPUID_1_EDX_MTRR)) {
		expect_msr(t, MSR_MTRRCAP, false);
		test_skip(t, "no MTRRs (CPUID.1:EDX[12] clear)");
		return;
	}
	if (!test_check(t, msr_read_safe(MSR_MTRRCAP, &cap, &error) == 0,
			"RDMSR IA32_MTRRCAP raised an exception with CPUID.1:EDX[12] set"))
		return;
	test_check(t, msr_write_safe(MSR_MTRRCAP, cap, &error) == VECTOR_GP,
		   "WRMSR IA32_MTRRCAP (read-only) did not raise #GP");
	vcnt = cap & MTRRCAP_VCNT;
	if (vcnt)
		expect_msr(t, MSR_MTRR_PHYSBASE0 + 2 * (vcnt - 1), true);
	expect_msr(t, MSR_MTRR_PHYSBASE0 + 2 * vcnt, false);
	expect_msr(t, MSR_MTRR_FIX64K, cap & MTRRCAP_FIX);
	msr_read_safe(MSR_MTRR_DEF_TYPE, &old, &error);
	def_type(t, DEF_TYPE_E | 6, true);
	def_type(t, 6, true);
	def_type(t, DEF_TYPE_E | 1, cap & MTRRCAP_WC);
	def_type(t, DEF_TYPE_E | DEF_TYPE_FE | 6, cap & MTRRCAP_FIX);
	def_type(t, DEF_TYPE_E | 2, false); /* reserved type */
	def_type(t, DEF_TYPE_E | 0x106, false);
	msr_write_safe(MSR_MTRR_DEF_TYPE, old, &error);
	test_note(t, "IA32_MTRRCAP 0x%lx: %u variable ranges, fixed ranges %s, WC %s", cap, vcnt,
		  cap & MTRRCAP_FIX ? "yes" : "no", cap & MTRRCAP_WC ? "yes" : "no");
}
