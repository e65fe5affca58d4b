/* panic() and assertion failures: print one line, then halt. */
#include <stdarg.h>
#include <dimvisor/types.h>
#include "lib/panic.h"
#include "lib/printf.h"

#ifdef DV_HOSTED
#include <stdlib.h>
#endif

static void (*panic_halt_hook)(void);
static bool panic_printing; /* a panic while printing one must not recurse */

/* Stop for good: interrupts off, halt forever (an NMI would resume the hlt). */
static __noreturn void default_halt(void)
{
#ifdef DV_HOSTED
	abort();
#else
	for (;;)
		__asm__ volatile("cli; hlt");
#endif
}

void panic_set_halt(void (*fn)(void))
{
	panic_halt_hook = fn;
}

static __noreturn void panic_halt(void)
{
	panic_printing = false; /* a hook may jump back (tests) and panic again */
	if (panic_halt_hook)
		panic_halt_hook();
	default_halt(); /* the hook returned; it must not */
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	if (!panic_printing) {
		va_list ap;

		panic_printing = true;
		kprintf("PANIC at %s:%d: ", file, line);
		va_start(ap, fmt);
		kvprintf(fmt, ap);
		va_end(ap);
		kprintf("\n");
	}
	panic_halt();
}

void assert_fail(const char *cond, const char *file, int line)
{
	if (!panic_printing) {
		panic_printing = true;
		kprintf("assertion failed: %s at %s:%d\n", cond, file, line);
	}
	panic_halt();
}
