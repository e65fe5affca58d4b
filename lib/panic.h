/* panic() and assert(): for broken invariants of dimvisor itself, never for
 * guest or user input (those get an error code).
 *
 * assert(cond) is defined only in the freestanding build: hosted code (unit
 * tests, tools) keeps the C library's <assert.h>. DV_ASSERT(cond) is the same
 * check under a name that exists in every build. Neither is compiled out. */
#ifndef LIB_PANIC_H
#define LIB_PANIC_H

#include <dimvisor/types.h>

/* Print "PANIC at FILE:LINE: message" on the console, then call the halt hook.
 * Never returns, even if the hook does. */
__noreturn void panic_at(const char *file, int line, const char *fmt, ...) __printf_like(3, 4);

/* Print "assertion failed: COND at FILE:LINE", then call the halt hook. */
__noreturn void assert_fail(const char *cond, const char *file, int line);

/* What panic does after printing (NULL: the default). The default halts the
 * CPU (cli; hlt) in the hypervisor and calls abort() in hosted builds. */
void panic_set_halt(void (*fn)(void));

#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define DV_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			assert_fail(#cond, __FILE__, __LINE__);                                    \
	} while (0)

#ifndef DV_HOSTED
#define assert(cond) DV_ASSERT(cond)
#endif

#endif
