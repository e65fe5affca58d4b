/* debug: the guest's own debug registers work as on the bare CPU, across VM
 * exits: a data watchpoint (DR0, a write) and an execution breakpoint (DR1)
 * set before a CPUID (which exits) still fire after it, as #DB with the right
 * DR6 bits; general detect (DR7.GD) faults a MOV to a debug register; DR4
 * aliases DR6 unless CR4.DE, when it raises #UD; single-stepping over an
 * instruction dimvisor emulates traps right after it; and under dimvisor
 * IA32_DEBUGCTL keeps what is written, and a reserved bit gets #GP (bare
 * Bochs 2.7 has no IA32_DEBUGCTL at all). SDM Vol. 3B 18.2-18.4. */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/idt.h"
#include "guest/tests.h"

#define VECTOR_DB     1
#define VECTOR_UD     6
#define VECTOR_GP     13
#define DR6_B0	      (1ULL << 0)
#define DR6_B1	      (1ULL << 1)
#define DR6_BD	      (1ULL << 13)
#define DR6_BS	      (1ULL << 14)
#define DR6_EVENTS    (0xfULL | DR6_BD | DR6_BS)
#define DR6_INIT      0xffff0ff0ULL /* no event; reserved bits read as 1 */
#define DR7_L0	      (1ULL << 0)
#define DR7_L1	      (1ULL << 2)
#define DR7_FIXED     (1ULL << 10) /* reads as 1 */
#define DR7_GD	      (1ULL << 13)
#define DR7_RW0_WRITE (1ULL << 16)
#define DR7_LEN0_4    (3ULL << 18)
#define CR4_DE	      (1ULL << 3)
#define MSR_DEBUGCTL  0x1d9u
#define DEBUGCTL_LBR  (1ULL << 0)
#define DEBUGCTL_BTF  (1ULL << 1)

#define DEFINE_DR(n)                                                                               \
	static inline u64 read_dr##n(void)                                                         \
	{                                                                                          \
		u64 v;                                                                             \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_dr##n(u64 v)                                                      \
	{                                                                                          \
		__asm__ volatile("mov %0, %%dr" #n ::"r"(v) : "memory");                           \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(6)
DEFINE_DR(7)
#undef DEFINE_DR

extern char singlestep_after_cpuid[];
void singlestep_cpuid(void);

/* What the #DB hook saw. */
static struct {
	unsigned count;
	u64 dr6, rip;
} db;

static volatile u32 watched __attribute__((aligned(8)));

/* #DB: note it, clear DR6 as a handler must, and let the guest go on: RF
 * for an instruction breakpoint (a fault, or it fires again), TF cleared
 * after a single step. General detect cleared DR7.GD on its way in. */
static void on_debug(struct trap_frame *f)
{
	db.count++;
	db.dr6 = read_dr6();
	db.rip = f->rip;
	write_dr6(0);
	f->rflags = (f->rflags | RFLAGS_RF) & ~RFLAGS_TF;
}

static void exit_to_the_hypervisor(void)
{
	(void)cpuid(0, 0); /* CPUID always exits under VMX */
}

static void __attribute__((noinline)) breakpoint_target(void)
{
	__asm__ volatile("" ::: "memory");
}

static void expect_one_db(struct test *t, const char *what, u64 dr6_events, u64 rip)
{
	if (!test_check(t, db.count == 1, "%s: #DB taken %u times, expected once", what, db.count))
		return;
	test_check(t, (db.dr6 & DR6_EVENTS) == dr6_events,
		   "%s: DR6 was 0x%lx, expected events 0x%lx", what, db.dr6, dr6_events);
	if (rip)
		test_check(t, db.rip == rip, "%s: #DB at RIP 0x%lx, expected 0x%lx", what, db.rip,
			   rip);
}

static void watchpoint(struct test *t)
{
	u64 dr7 = DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4;

	db.count = 0;
	write_dr0((u64)&watched);
	write_dr7(dr7);
	exit_to_the_hypervisor();
	test_check(t, read_dr7() == (dr7 | DR7_FIXED),
		   "DR7 reads 0x%lx after a VM exit, wrote 0x%lx", read_dr7(), dr7);
	watched = 1;
	write_dr7(0);
	expect_one_db(t, "write to a DR0 watchpoint", DR6_B0, 0);
	test_check(t, read_dr6() == DR6_INIT, "DR6 reads 0x%lx after the handler cleared it",
		   read_dr6());
}

static void execution_breakpoint(struct test *t)
{
	db.count = 0;
	write_dr1((u64)breakpoint_target);
	write_dr7(DR7_L1);
	exit_to_the_hypervisor();
	breakpoint_target();
	write_dr7(0);
	expect_one_db(t, "call of a DR1 breakpoint", DR6_B1, (u64)breakpoint_target);
}

static void general_detect(struct test *t)
{
	db.count = 0;
	write_dr7(DR7_GD);
	exit_to_the_hypervisor();
	(void)read_dr0(); /* faults once; the CPU clears GD for the handler */
	expect_one_db(t, "MOV from DR0 with DR7.GD", DR6_BD, 0);
	test_check(t, !(read_dr7() & DR7_GD), "DR7.GD still set after the #DB (DR7 0x%lx)",
		   read_dr7());
	write_dr7(0);
}

static void single_step_over_cpuid(struct test *t)
{
	db.count = 0;
	singlestep_cpuid();
	expect_one_db(t, "single step over CPUID", DR6_BS, (u64)singlestep_after_cpuid);
}

static void dr4_alias(struct test *t)
{
	u64 cr4 = read_cr4(), value = 0, error = 0, vector;

	write_cr4(cr4 & ~CR4_DE);
	vector = dr4_read_safe(&value, &error);
	test_check(t, vector == 0 && value == read_dr6(),
		   "MOV from DR4 with CR4.DE clear: vector %lu, 0x%lx (DR6 is 0x%lx)", vector,
		   value, read_dr6());
	write_cr4(cr4 | CR4_DE);
	vector = dr4_read_safe(&value, &error);
	test_check(t, vector == VECTOR_UD, "MOV from DR4 with CR4.DE set: vector %lu, not #UD",
		   vector);
	write_cr4(cr4);
}

static void debugctl(struct test *t)
{
	u64 value = 0, error = 0, vector;

	if (!t->dimvisor) {
		vector = msr_read_safe(MSR_DEBUGCTL, &value, &error);
		test_note(t, "IA32_DEBUGCTL on this CPU: %s", vector ? "none (#GP)" : "present");
		return;
	}
	vector = msr_write_safe(MSR_DEBUGCTL, DEBUGCTL_BTF | DEBUGCTL_LBR, &error);
	test_check(t, vector == 0, "WRMSR IA32_DEBUGCTL = BTF|LBR raised vector %lu", vector);
	exit_to_the_hypervisor();
	vector = msr_read_safe(MSR_DEBUGCTL, &value, &error);
	test_check(t, vector == 0 && value == (DEBUGCTL_BTF | DEBUGCTL_LBR),
		   "IA32_DEBUGCTL reads 0x%lx (vector %lu), wrote 0x3", value, vector);
	for (unsigned bit = 2; bit < 64; bit += 61) { /* reserved: bits 2, 63 */
		error = 0;
		vector = msr_write_safe(MSR_DEBUGCTL, 1ULL << bit, &error);
		test_check(t, vector == VECTOR_GP && error == 0,
			   "WRMSR IA32_DEBUGCTL with reserved bit %u: vector %lu, not #GP(0)", bit,
			   vector);
	}
	msr_read_safe(MSR_DEBUGCTL, &value, &error);
	test_check(t, value == (DEBUGCTL_BTF | DEBUGCTL_LBR),
		   "IA32_DEBUGCTL is 0x%lx after the refused writes", value);
	msr_write_safe(MSR_DEBUGCTL, 0, &error);
}

void test_debug(struct test *t)
{
	idt_set_handler(VECTOR_DB, on_debug);
	watchpoint(t);
	execution_breakpoint(t);
	general_detect(t);
	single_step_over_cpuid(t);
	idt_set_handler(VECTOR_DB, NULL);
	dr4_alias(t);
	debugctl(t);
}
