/* rf: the RFLAGS image pushed for an exception has RF set for a fault and
 * clear for a trap, as the CPU delivers them (SDM Vol. 3A 18.3.1.1), whether
 * the CPU raised it or dimvisor injected it (a refused RDMSR, MOV to CR4,
 * VMXON): a debugger resuming at a faulting instruction relies on it. */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/fixup.h"
#include "guest/idt.h"
#include "guest/tests.h"

#define VECTOR_BP	   3
#define VECTOR_UD	   6
#define VECTOR_GP	   13
#define MSR_UNKNOWN	   0xdeadbeefu
#define CR4_RESERVED_31	   (1ULL << 31)
#define NON_CANONICAL_ADDR 0x8000000000000000ULL

static u64 bp_rflags;
static unsigned bp_count;

static void record_bp(struct trap_frame *f)
{
	bp_rflags = f->rflags;
	bp_count++;
}

/* The instruction faulted with the vector wanted, RF set in its image. */
static void expect_fault_with_rf(struct test *t, const char *what, u64 vector, u64 want)
{
	if (!test_check(t, vector == want, "%s: expected vector %lu, got %lu", what, want, vector))
		return;
	test_check(t, fixup_last_rflags() & RFLAGS_RF,
		   "%s: RF clear in the pushed RFLAGS 0x%lx (a fault must set it)", what,
		   fixup_last_rflags());
}

void test_rf(struct test *t)
{
	u64 value = 0, error = 0, cr4 = read_cr4();

	expect_fault_with_rf(t, "RDMSR of an unknown MSR",
			     msr_read_safe(MSR_UNKNOWN, &value, &error), VECTOR_GP);
	expect_fault_with_rf(t, "MOV to CR4 with reserved bit 31",
			     cr4_write_safe(cr4 | CR4_RESERVED_31, &error), VECTOR_GP);
	test_check(t, read_cr4() == cr4, "CR4 is 0x%lx after the refused write, was 0x%lx",
		   read_cr4(), cr4);
	expect_fault_with_rf(t, "VMXON with CR4.VMXE clear", vmxon_safe(&error), VECTOR_UD);
	/* One the CPU raises on its own under dimvisor too (no VM exit). */
	expect_fault_with_rf(t, "load from a non-canonical address",
			     load_safe(NON_CANONICAL_ADDR, &value, &error), VECTOR_GP);

	/* A trap: INT3 pushes RF clear. */
	idt_set_handler(VECTOR_BP, record_bp);
	bp_count = 0;
	__asm__ volatile("int3" ::: "memory");
	idt_set_handler(VECTOR_BP, NULL);
	if (test_check(t, bp_count == 1, "INT3 raised #BP %u times, expected once", bp_count))
		test_check(t, !(bp_rflags & RFLAGS_RF),
			   "#BP (a trap) pushed RFLAGS 0x%lx with RF set", bp_rflags);
}
