/* lib/panic.c: the message, the halt hook, assertions. The hook longjmps
 * back into the test, standing in for "halt the CPU". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/panic.h"
#include "lib/printf.h"

static jmp_buf halted;
static int halt_calls;
static char console[512];
static size_t console_len;

static void capture_sink(void *ctx, const char *s, size_t n)
{
	assert_true(console_len + n < sizeof(console));
	memcpy(console + console_len, s, n);
	console_len += n;
	console[console_len] = '\0';
}

static void jump_back(void)
{
	halt_calls++;
	longjmp(halted, 1);
}

/* Panics from inside the sink: the nested panic must not print again. */
static void panicking_sink(void *ctx, const char *s, size_t n)
{
	capture_sink(ctx, s, n);
	panic("nested");
}

static int setup(void **state)
{
	console[0] = '\0';
	console_len = 0;
	halt_calls = 0;
	console_set_sink(capture_sink, NULL);
	panic_set_halt(jump_back);
	return 0;
}

static int teardown(void **state)
{
	console_set_sink(NULL, NULL);
	panic_set_halt(NULL);
	return 0;
}

static void panic_prints_location_and_message(void **state)
{
	if (setjmp(halted) == 0) {
		panic_at("hv/vcpu.c", 123, "vmwrite %#x failed: error %d", 0x681e, 7);
		fail_msg("panic returned");
	}
	assert_string_equal(console, "PANIC at hv/vcpu.c:123: vmwrite 0x681e failed: error 7\n");
	assert_int_equal(halt_calls, 1);
}

static void panic_macro_uses_this_file(void **state)
{
	if (setjmp(halted) == 0) {
		panic("out of %s", "memory");
		fail_msg("panic returned");
	}
	assert_true(strncmp(console, "PANIC at tests/unit/test_panic.c:", 33) == 0);
	assert_non_null(strstr(console, ": out of memory\n"));
}

static void dv_assert_true_does_nothing(void **state)
{
	int x = 2;

	DV_ASSERT(x == 2);
	assert_int_equal(halt_calls, 0);
	assert_string_equal(console, "");
}

static void dv_assert_false_prints_condition_and_halts(void **state)
{
	int x = 3;

	if (setjmp(halted) == 0) {
		DV_ASSERT(x == 2);
		fail_msg("assertion returned");
	}
	assert_true(strncmp(console, "assertion failed: x == 2 at tests/unit/test_panic.c:", 52) ==
		    0);
	assert_int_equal(halt_calls, 1);
}

static void assert_fail_message_is_exact(void **state)
{
	if (setjmp(halted) == 0) {
		assert_fail("pages != 0", "mm/pmm.c", 42);
		fail_msg("assert_fail returned");
	}
	assert_string_equal(console, "assertion failed: pages != 0 at mm/pmm.c:42\n");
}

static void panic_while_printing_does_not_recurse(void **state)
{
	console_set_sink(panicking_sink, NULL);
	if (setjmp(halted) == 0) {
		panic_at("a.c", 1, "first");
		fail_msg("panic returned");
	}
	/* the sink saw the first chunk, then the nested panic went straight to halt */
	assert_string_equal(console, "PANIC at a.c:1: ");
	assert_int_equal(halt_calls, 1);
	/* and a later panic prints normally again */
	console_set_sink(capture_sink, NULL);
	console[0] = '\0';
	console_len = 0;
	if (setjmp(halted) == 0)
		panic_at("b.c", 2, "second");
	assert_string_equal(console, "PANIC at b.c:2: second\n");
}

static void panic_without_console_still_halts(void **state)
{
	console_set_sink(NULL, NULL);
	if (setjmp(halted) == 0) {
		panic_at("c.c", 3, "silent");
		fail_msg("panic returned");
	}
	assert_int_equal(halt_calls, 1);
}

static void returning_hook(void)
{
	halt_calls++;
}

/* In a child: the default hook (abort) and a hook that returns both end the
 * process with SIGABRT. */
static void expect_abort_in_child(void (*hook)(void))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		console_set_sink(NULL, NULL);
		panic_set_halt(hook);
		panic_at("d.c", 4, "bye");
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void default_halt_aborts_when_hosted(void **state)
{
	expect_abort_in_child(NULL);
}

static void hook_that_returns_falls_back_to_default(void **state)
{
	expect_abort_in_child(returning_hook);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(panic_prints_location_and_message),
		TEST(panic_macro_uses_this_file),
		TEST(dv_assert_true_does_nothing),
		TEST(dv_assert_false_prints_condition_and_halts),
		TEST(assert_fail_message_is_exact),
		TEST(panic_while_printing_does_not_recurse),
		TEST(panic_without_console_still_halts),
		TEST(default_halt_aborts_when_hosted),
		TEST(hook_that_returns_falls_back_to_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
