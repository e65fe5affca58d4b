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
	vector = msr_read_safe(MSR_IA32_VMX_BASIC, &value, &error);
	expect_gp(t, "RDMSR IA32_VMX_BASIC", vector, error);
}
