/* tsc: the guest's time-stamp counter is one register however it is read
 * (RDTSC, RDTSCP, RDMSR 0x10) and a WRMSR sets it, forwards or backwards;
 * IA32_TSC_ADJUST moves with it both ways (SDM Vol. 3B 18.17.3); IA32_TSC_AUX
 * keeps what is written, as RDMSR, RDTSCP and RDPID read it. Under dimvisor
 * a value in its reserved bits 63:32 gets #GP (SDM Vol. 4 Table 2-2; bare
 * Bochs 2.7 drops them instead). */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/tests.h"

#define VECTOR_GP	   13
#define MSR_TSC		   0x10u
#define MSR_TSC_ADJUST	   0x3bu
#define MSR_TSC_AUX	   0xc0000103u
#define CPUID7_EBX_TSC_ADJ (1u << 1)
#define CPUID7_ECX_RDPID   (1u << 22)
#define CPUIDX1_EDX_RDTSCP (1u << 27)
/* How far the TSC may run between a write and the reads that check it:
 * Bochs counts emulated instructions, a VM exit costs thousands. */
#define SLACK	  ((u64)1 << 32)
#define FAR_AHEAD ((u64)1 << 44)
#define BEHIND	  ((u64)1 << 36)
#define JUMP	  ((u64)1 << 40)
#define AUX_VALUE 0x12345678u

static u64 rdtscp_aux(u32 *aux)
{
	u32 lo, hi, c;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c));
	*aux = c;
	return ((u64)hi << 32) | lo;
}

static u64 rdpid(void)
{
	u64 v;

	__asm__ volatile("rdpid %0" : "=r"(v));
	return v;
}

static u64 read_msr(u32 msr)
{
	u64 value = 0, error = 0;

	return msr_read_safe(msr, &value, &error) ? ~0ULL : value;
}

static bool near(u64 got, u64 want)
{
	return got >= want && got - want < SLACK;
}

/* Write the TSC, then every way of reading it finds the new value. */
static void set_and_read_back(struct test *t, u64 value, bool rdtscp)
{
	u64 error = 0, vector = msr_write_safe(MSR_TSC, value, &error), got;
	u32 aux;

	if (!test_check(t, vector == 0, "WRMSR TSC = 0x%lx raised vector %lu", value, vector))
		return;
	got = rdtsc();
	test_check(t, near(got, value), "RDTSC reads 0x%lx right after WRMSR TSC = 0x%lx", got,
		   value);
	got = read_msr(MSR_TSC);
	test_check(t, near(got, value), "RDMSR TSC reads 0x%lx after WRMSR TSC = 0x%lx", got,
		   value);
	if (rdtscp) {
		got = rdtscp_aux(&aux);
		test_check(t, near(got, value), "RDTSCP reads 0x%lx after WRMSR TSC = 0x%lx", got,
			   value);
	}
}

static void tsc_adjust(struct test *t)
{
	u64 a0 = read_msr(MSR_TSC_ADJUST), before, a1, error = 0;

	before = rdtsc();
	msr_write_safe(MSR_TSC, FAR_AHEAD, &error);
	a1 = read_msr(MSR_TSC_ADJUST);
	test_check(t, a1 - a0 <= FAR_AHEAD - before && a1 - a0 > FAR_AHEAD - before - SLACK,
		   "IA32_TSC_ADJUST went 0x%lx -> 0x%lx when the TSC was set from 0x%lx to 0x%lx",
		   a0, a1, before, FAR_AHEAD);
	msr_write_safe(MSR_TSC_ADJUST, a1 + JUMP, &error);
	test_check(t, near(rdtsc(), FAR_AHEAD + JUMP),
		   "RDTSC reads 0x%lx after IA32_TSC_ADJUST grew by 0x%lx from TSC 0x%lx", rdtsc(),
		   JUMP, FAR_AHEAD);
	test_check(t, read_msr(MSR_TSC_ADJUST) == a1 + JUMP,
		   "IA32_TSC_ADJUST reads 0x%lx, wrote 0x%lx", read_msr(MSR_TSC_ADJUST), a1 + JUMP);
	msr_write_safe(MSR_TSC_ADJUST, a0, &error);
}

static void tsc_aux(struct test *t, bool rdtscp, bool has_rdpid)
{
	u64 error = 0, vector = msr_write_safe(MSR_TSC_AUX, AUX_VALUE, &error);
	u32 aux = 0;

	if (!test_check(t, vector == 0, "WRMSR IA32_TSC_AUX raised vector %lu", vector))
		return;
	test_check(t, read_msr(MSR_TSC_AUX) == AUX_VALUE, "RDMSR IA32_TSC_AUX reads 0x%lx",
		   read_msr(MSR_TSC_AUX));
	if (rdtscp) {
		rdtscp_aux(&aux);
		test_check(t, aux == AUX_VALUE, "RDTSCP's ECX is 0x%x, wrote 0x%x", aux, AUX_VALUE);
	}
	if (has_rdpid)
		test_check(t, rdpid() == AUX_VALUE, "RDPID reads 0x%lx, wrote 0x%x", rdpid(),
			   AUX_VALUE);
	error = 0;
	vector = msr_write_safe(MSR_TSC_AUX, 1ULL << 32 | AUX_VALUE, &error);
	if (t->dimvisor)
		test_check(t, vector == VECTOR_GP && error == 0,
			   "WRMSR IA32_TSC_AUX with bit 32 set: vector %lu, not #GP(0)", vector);
	else
		test_note(t, "WRMSR IA32_TSC_AUX with bit 32 set: %s (SDM: #GP)",
			  vector ? "#GP" : "accepted");
	test_check(t, read_msr(MSR_TSC_AUX) == AUX_VALUE,
		   "IA32_TSC_AUX reads 0x%lx after a write with a reserved bit",
		   read_msr(MSR_TSC_AUX));
	msr_write_safe(MSR_TSC_AUX, 0, &error);
}

void test_tsc(struct test *t)
{
	struct cpuid_regs l7 = cpuid(0, 0).eax >= 7 ? cpuid(7, 0) : (struct cpuid_regs){0};
	bool rdtscp = cpuid(0x80000001u, 0).edx & CPUIDX1_EDX_RDTSCP;
	bool has_rdpid = l7.ecx & CPUID7_ECX_RDPID;
	u64 start = rdtsc(), t1, t2;

	set_and_read_back(t, FAR_AHEAD, rdtscp);
	set_and_read_back(t, BEHIND, rdtscp); /* backwards too */
	t1 = rdtsc();
	t2 = rdtsc();
	test_check(t, t1 > BEHIND && t1 < t2, "RDTSC reads 0x%lx then 0x%lx: not counting up", t1,
		   t2);
	if (l7.ebx & CPUID7_EBX_TSC_ADJ)
		tsc_adjust(t);
	if (rdtscp || has_rdpid)
		tsc_aux(t, rdtscp, has_rdpid);
	test_note(t, "TSC_ADJUST %s, RDTSCP %s, RDPID %s",
		  l7.ebx & CPUID7_EBX_TSC_ADJ ? "yes" : "no", rdtscp ? "yes" : "no",
		  has_rdpid ? "yes" : "no");
	set_and_read_back(t, start, false); /* roughly where it was */
}
