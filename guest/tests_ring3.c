/* ring3: the ring-3 round trip works (the hc-cpl3 test depends on it): code
 * in ring 3 sees CPL 3 in CS, and the guest is back in ring 0 afterwards. */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/gdt.h"
#include "guest/tests.h"
#include "guest/usermode.h"

#define ROUND_TRIPS 3

void test_ring3(struct test *t)
{
	struct user_regs regs = {0};

	for (unsigned i = 0; i < ROUND_TRIPS; i++) {
		u64 cs = usermode_run(user_stub_read_cs, &regs);

		if (!test_check(t, cs == (GDT_USER_CS | GDT_RPL_USER),
				"round trip %u: CS in ring 3 was 0x%lx, expected 0x%x", i, cs,
				GDT_USER_CS | GDT_RPL_USER))
			return;
		if (!test_check(t, read_cs() == GDT_KERNEL_CS && read_ss() == GDT_KERNEL_DS,
				"round trip %u: back with CS 0x%x SS 0x%x, expected 0x%x 0x%x", i,
				read_cs(), read_ss(), GDT_KERNEL_CS, GDT_KERNEL_DS))
			return;
	}
}
