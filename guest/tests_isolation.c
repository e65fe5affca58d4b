/* isolation: touch guest-physical memory beyond RAM. Under dimvisor nothing
 * backs it, so the access ends in an EPT violation and the hypervisor stops
 * the guest with a report: this test never returns when dimvisor is right.
 * It runs only when named (test=isolation) and always last. */
#include <dimvisor/types.h>
#include "arch/x86_64/pte.h"
#include "guest/paging.h"
#include "guest/tests.h"

#define WRITE_VALUE 0x150a7e0f150a7e0fULL

void test_isolation(struct test *t)
{
	const u64 gpa = ALIGN_UP(t->boot->ram_top, PAGE_SIZE);
	volatile u64 *p = (volatile u64 *)gpa;
	u64 pa, v;

	/* paging_init maps at least one page past the top of RAM, so that the
	 * guest's own tables do not fault first. */
	if (!test_check(t, paging_translate(gpa, &pa) && pa == gpa,
			"gPA 0x%lx is not identity-mapped in the guest's tables", gpa))
		return;
	test_note(t,
		  "reading gPA 0x%lx, the first page past the top of RAM; dimvisor must stop "
		  "the guest with an EPT violation",
		  gpa);
	v = *p;
	test_check(t, false, "a read of gPA 0x%lx beyond RAM returned 0x%lx", gpa, v);
	test_note(t, "writing gPA 0x%lx", gpa);
	*p = WRITE_VALUE;
	test_check(t, false, "a write to gPA 0x%lx beyond RAM completed", gpa);
}
