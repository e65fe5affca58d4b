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

static void string_io_instruction_info(void **state)
{
	(void)state;
	/* REP OUTSB with a GS override and 32-bit addresses: bits 9:7 = 1, 17:15 = 5 */
	vmx_decode_exit(30, (0x3f8ULL << 16) | (1 << 5) | (1 << 4), &e);
	vmx_decode_string_io((5u << 15) | (1u << 7), &e);
	assert_int_equal(e.io.addr_size, 4);
	assert_int_equal(e.io.sreg, VCPU_GS);
	/* OUTSW, 64-bit addresses, DS */
	vmx_decode_exit(30, (0xe9ULL << 16) | (1 << 4) | 1, &e);
	vmx_decode_string_io((3u << 15) | (2u << 7), &e);
	assert_int_equal(e.io.addr_size, 8);
	assert_int_equal(e.io.sreg, VCPU_DS);
	/* 16-bit addresses */
	vmx_decode_string_io(3u << 15, &e);
	assert_int_equal(e.io.addr_size, 2);
	/* INS: the segment field is undefined, the operand is ES:rDI */
	vmx_decode_exit(30, (0x511ULL << 16) | (1 << 4) | (1 << 3), &e);
	vmx_decode_string_io((3u << 15) | (1u << 7), &e);
	assert_int_equal(e.io.sreg, VCPU_ES);
	assert_int_equal(e.io.addr_size, 4);
	/* values the SDM leaves unused read as "not reported" */
	vmx_decode_exit(30, (0xe9ULL << 16) | (1 << 4), &e);
	vmx_decode_string_io(3u << 7, &e);
	assert_int_equal(e.io.addr_size, 0);
	vmx_decode_string_io((6u << 15) | (1u << 7), &e);
	assert_int_equal(e.io.addr_size, 0);
}

static void segment_access_rights(void **state)
{
	struct vcpu_segment s;

	(void)state;
	/* flat 32-bit data: type 3 (RW, accessed), S, P, D/B, G */
	vmx_segment_from_ar(0, 0xffffffff, 0xc093, &s);
	assert_true(s.usable);
	assert_false(s.code);
	assert_true(s.readable);
	assert_true(s.writable);
	assert_false(s.expand_down);
	assert_true(s.big);
	assert_int_equal(s.limit, 0xffffffff);
	/* 16-bit expand-down read-only data at 0x1000: type 5 */
	vmx_segment_from_ar(0x1000, 0xfff, 0x95, &s);
	assert_int_equal(s.base, 0x1000);
	assert_true(s.expand_down);
	assert_false(s.writable);
	assert_false(s.big);
	/* execute-only code (type 9) and execute/read code (type 0xb) */
	vmx_segment_from_ar(0, 0xffffffff, 0xc099, &s);
	assert_true(s.code);
	assert_false(s.readable);
	assert_false(s.writable);
	assert_false(s.expand_down);
	vmx_segment_from_ar(0, 0xffffffff, 0xa09b, &s);
	assert_true(s.readable);
	assert_false(s.writable);
	/* a null selector: the unusable bit */
	vmx_segment_from_ar(0, 0, 0x10000, &s);
	assert_false(s.usable);
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
	assert_false(e.nested.final); /* bit 8 clear: a guest paging-structure access */
	vmx_decode_exit(48, 1 | (1 << 7) | (1 << 8), &e);
	assert_true(e.nested.final); /* the translation of the linear address */
	vmx_decode_exit(48, 1 | (1 << 8), &e);
	assert_false(e.nested.final); /* bit 8 means nothing without bit 7 */
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
	vmx_describe_exit(30, (0x511ULL << 16) | (1 << 5) | (1 << 4) | (1 << 3) | 1, buf,
			  sizeof(buf));
	assert_string_equal(buf, "REP INS 2 bytes from port 0x511");
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
		cmocka_unit_test(string_io_instruction_info),
		cmocka_unit_test(segment_access_rights),
		cmocka_unit_test(cr_qualification),
		cmocka_unit_test(ept_violation_qualification),
		cmocka_unit_test(qualifications_in_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
