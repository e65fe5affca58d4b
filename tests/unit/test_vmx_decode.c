/* hv/vmx/decode.c: VMX exit reasons and qualifications become the
 * vendor-neutral struct vcpu_exit the handlers act on. Qualification layouts:
 * SDM Vol. 3C Tables 28-3 (CR), 28-5 (I/O), 28-7 (EPT violation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/vmx/vcpu_arch.h"

static struct vcpu_exit e;

static void reasons_map_to_kinds(void **state)
{
	(void)state;
	const struct {
		u32 reason;
		enum dv_exit_kind kind;
	} cases[] = {
		{0, DV_EXIT_KIND_HOST_NMI},
		{2, DV_EXIT_KIND_TRIPLE_FAULT},
		{9, DV_EXIT_KIND_TASK_SWITCH},
		{10, DV_EXIT_KIND_CPUID},
		{12, DV_EXIT_KIND_HLT},
		{13, DV_EXIT_KIND_CACHE_FLUSH},
		{18, DV_EXIT_KIND_HYPERCALL},
		{19, DV_EXIT_KIND_VIRT_INSN},
		{27, DV_EXIT_KIND_VIRT_INSN},
		{28, DV_EXIT_KIND_CR_ACCESS},
		{30, DV_EXIT_KIND_IO},
		{31, DV_EXIT_KIND_MSR_READ},
		{32, DV_EXIT_KIND_MSR_WRITE},
		{33, DV_EXIT_KIND_ENTRY_FAILURE},
		{48, DV_EXIT_KIND_NESTED_FAULT},
		{49, DV_EXIT_KIND_NESTED_MISCONFIG},
		{54, DV_EXIT_KIND_CACHE_FLUSH},
		{55, DV_EXIT_KIND_XSETBV},
		{1, DV_EXIT_KIND_HOST_INTERRUPT},
		{7, DV_EXIT_KIND_INTERRUPT_WINDOW},
		{8, DV_EXIT_KIND_NMI_WINDOW},
		{52, DV_EXIT_KIND_TIMER},
		{16, DV_EXIT_KIND_OTHER},
		{79, DV_EXIT_KIND_OTHER},
		{80, DV_EXIT_KIND_OTHER},
		{0xffff, DV_EXIT_KIND_OTHER},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vmx_decode_exit(cases[i].reason, 0, &e);
		assert_int_equal(e.kind, cases[i].kind);
		assert_int_equal(e.reason, cases[i].reason);
	}
}

static void io_qualification(void **state)
{
	(void)state;
	/* IN AL, DX with DX = 0x3f8: size 1, IN, port 0x3f8 */
	vmx_decode_exit(30, 0x3f80008, &e);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_false(e.io.string);
	/* REP OUTSD to port 0xe9: size 4, out, string, rep */
	vmx_decode_exit(30, (0xe9ULL << 16) | (1 << 5) | (1 << 4) | 3, &e);
	assert_int_equal(e.io.port, 0xe9);
	assert_int_equal(e.io.size, 4);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_int_equal(e.qualification, (0xe9ULL << 16) | (1 << 5) | (1 << 4) | 3);
}

static void cr_qualification(void **state)
{
	(void)state;
	/* MOV CR4, RBX: CR 4, type 0, register 3 */
	vmx_decode_exit(28, 0x304, &e);
	assert_int_equal(e.cr.cr, 4);
	assert_int_equal(e.cr.op, VCPU_CR_MOV_TO);
	assert_int_equal(e.cr.gpr, VCPU_RBX);
	/* MOV R12, CR3 */
	vmx_decode_exit(28, 0xc13, &e);
	assert_int_equal(e.cr.cr, 3);
	assert_int_equal(e.cr.op, VCPU_CR_MOV_FROM);
	assert_int_equal(e.cr.gpr, VCPU_R8 + 4);
	/* LMSW with source 0x000b */
	vmx_decode_exit(28, (0xbULL << 16) | (3 << 4), &e);
	assert_int_equal(e.cr.op, VCPU_CR_LMSW);
	assert_int_equal(e.cr.lmsw_source, 0xb);
}

static void ept_violation_qualification(void **state)
{
	(void)state;
	/* a write, the entry allowing read and execute, linear address valid */
	vmx_decode_exit(48, 2 | 8 | 32 | (1 << 7), &e);
	assert_true(e.nested.write);
	assert_false(e.nested.read);
	assert_false(e.nested.fetch);
	assert_true(e.nested.readable);
	assert_false(e.nested.writable);
	assert_true(e.nested.executable);
	assert_true(e.nested.gva_valid);
	/* a fetch from a not-present entry */
	vmx_decode_exit(48, 4, &e);
	assert_true(e.nested.fetch);
	assert_false(e.nested.readable || e.nested.writable || e.nested.executable);
	assert_false(e.nested.gva_valid);
}

static void qualifications_in_words(void **state)
{
	char buf[80];

	(void)state;
	vmx_describe_exit(30, 0x3f80000, buf, sizeof(buf));
	assert_string_equal(buf, "OUT 1 byte to port 0x3f8");
	vmx_describe_exit(28, 0x304, buf, sizeof(buf));
	assert_string_equal(buf, "MOV to CR4 from RBX");
	vmx_describe_exit(9, 0x80000018, buf, sizeof(buf));
	assert_string_equal(buf, "JMP to TSS selector 0x18");
	vmx_describe_exit(10, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reasons_map_to_kinds),
		cmocka_unit_test(io_qualification),
		cmocka_unit_test(cr_qualification),
		cmocka_unit_test(ept_violation_qualification),
		cmocka_unit_test(qualifications_in_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
