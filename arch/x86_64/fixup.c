#include "arch/x86_64/fixup.h"
#include "arch/x86_64/idt.h"

/* Bounds of the .fixup_table section (linker.ld). */
extern const struct fixup_entry __fixup_start[], __fixup_end[];

static struct fixup_fault last;
static u64 absorbed;

bool fixup_apply(struct trap_frame *tf)
{
	/* The bounds compared as integers: they are two symbols, one table. */
	u64 n = ((u64)__fixup_end - (u64)__fixup_start) / sizeof(struct fixup_entry);

	for (u64 i = 0; i < n; i++) {
		const struct fixup_entry *e = &__fixup_start[i];

		if (e->insn != tf->rip)
			continue;
		last = (struct fixup_fault){tf->rip, tf->vector, tf->error_code};
		absorbed++;
		tf->rip = e->resume;
		return true;
	}
	return false;
}

const struct fixup_fault *fixup_last_fault(void)
{
	return &last;
}

u64 fixup_count(void)
{
	return absorbed;
}
