/* hv/insn.c: the MOV forms that reach a device page, as assemblers encode
 * them (the byte strings are NASM's output for the instruction in the comment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/insn.h"
#include <dimvisor/errno.h>

static struct insn_mem decode(const u8 *b, unsigned n, bool long_mode, int want_rc)
{
	struct insn_mem m;

	assert_int_equal(insn_decode_mem(b, n, long_mode, &m), want_rc);
	return m;
}

static void mov_loads_and_stores_64(void **state)
{
	(void)state;
	/* mov eax, [rdi+0x20] */
	const u8 a[] = {0x8b, 0x47, 0x20};
	struct insn_mem m = decode(a, sizeof(a), true, 0);
	assert_int_equal(m.op, INSN_LOAD);
	assert_int_equal(m.size, 4);
	assert_int_equal(m.reg, 0);
	assert_int_equal(m.len, 3);
	/* mov [rbx+0x300], r9d */
	const u8 b[] = {0x44, 0x89, 0x8b, 0x00, 0x03, 0x00, 0x00};
	m = decode(b, sizeof(b), true, 0);
	assert_int_equal(m.op, INSN_STORE);
	assert_int_equal(m.reg, 9);
	assert_int_equal(m.size, 4);
	assert_int_equal(m.len, 7);
	/* mov rax, [rsp+rcx*8+0x10] (SIB, disp8, REX.W) */
	const u8 c[] = {0x48, 0x8b, 0x44, 0xcc, 0x10};
	m = decode(c, sizeof(c), true, 0);
	assert_int_equal(m.size, 8);
	assert_int_equal(m.len, 5);
	/* mov dword [rel 0x1000], 0x100: RIP-relative disp32, imm32 */
	const u8 d[] = {0xc7, 0x05, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
	m = decode(d, sizeof(d), true, 0);
	assert_int_equal(m.op, INSN_STORE_IMM);
	assert_int_equal(m.imm, 0x100);
	assert_int_equal(m.len, 10);
	/* mov qword [rax], -1: imm32 sign-extended */
	const u8 e[] = {0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff};
	m = decode(e, sizeof(e), true, 0);
	assert_int_equal(m.size, 8);
	assert_int_equal(m.imm, ~0ULL);
	/* mov ax, [rdx] (operand-size prefix) */
	const u8 f[] = {0x66, 0x8b, 0x02};
	m = decode(f, sizeof(f), true, 0);
	assert_int_equal(m.size, 2);
	assert_int_equal(m.len, 3);
}

static void byte_registers(void **state)
{
	(void)state;
	/* mov ah, [rsi]: no REX, reg 4 is AH */
	const u8 a[] = {0x8a, 0x26};
	struct insn_mem m = decode(a, sizeof(a), true, 0);
	assert_int_equal(m.size, 1);
	assert_int_equal(m.reg, 4);
	assert_true(m.high_byte);
	/* mov spl, [rsi]: with REX, reg 4 is SPL */
	const u8 b[] = {0x40, 0x8a, 0x26};
	m = decode(b, sizeof(b), true, 0);
	assert_false(m.high_byte);
	/* mov byte [rdi+0x80], 0x10 */
	const u8 c[] = {0xc6, 0x87, 0x80, 0x00, 0x00, 0x00, 0x10};
	m = decode(c, sizeof(c), true, 0);
	assert_int_equal(m.op, INSN_STORE_IMM);
	assert_int_equal(m.size, 1);
	assert_int_equal(m.imm, 0x10);
	assert_int_equal(m.len, 7);
}

static void movzx_movsx(void **state)
{
	(void)state;
	/* movzx ecx, word [rdi] */
	const u8 a[] = {0x0f, 0xb7, 0x0f};
	struct insn_mem m = decode(a, sizeof(a), true, 0);
	assert_int_equal(m.op, INSN_LOAD);
	assert_int_equal(m.size, 2);
	assert_int_equal(m.dest_size, 4);
	assert_int_equal(m.reg, 1);
	assert_false(m.sign_extend);
	assert_int_equal(insn_load_value(&m, 0xabcdffff), 0xffff);
	/* movsx rax, byte [rdi] */
	const u8 b[] = {0x48, 0x0f, 0xbe, 0x07};
	m = decode(b, sizeof(b), true, 0);
	assert_int_equal(m.size, 1);
	assert_int_equal(m.dest_size, 8);
	assert_true(m.sign_extend);
	assert_int_equal(insn_load_value(&m, 0x80), 0xffffffffffffff80ULL);
	assert_int_equal(insn_load_value(&m, 0x17f), 0x7f);
	/* movsx eax, byte [rdi]: sign-extended to 32 bits only */
	const u8 c[] = {0x0f, 0xbe, 0x07};
	m = decode(c, sizeof(c), true, 0);
	assert_int_equal(insn_load_value(&m, 0x80), 0xffffff80);
	/* a plain 32-bit load keeps its 4 bytes */
	const u8 d[] = {0x8b, 0x07};
	m = decode(d, sizeof(d), true, 0);
	assert_int_equal(insn_load_value(&m, 0x1122334455667788ULL), 0x55667788);
}

static void moffs_forms(void **state)
{
	(void)state;
	/* 64-bit: mov eax, [abs 0xfee00030]: an 8-byte offset */
	const u8 a[] = {0xa1, 0x30, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00};
	struct insn_mem m = decode(a, sizeof(a), true, 0);
	assert_int_equal(m.op, INSN_LOAD);
	assert_int_equal(m.len, 9);
	assert_int_equal(m.reg, 0);
	/* 32-bit: mov [0xfee000b0], eax: a 4-byte offset */
	const u8 b[] = {0xa3, 0xb0, 0x00, 0xe0, 0xfe};
	m = decode(b, sizeof(b), false, 0);
	assert_int_equal(m.op, INSN_STORE);
	assert_int_equal(m.len, 5);
}

static void protected_mode_forms(void **state)
{
	(void)state;
	/* 32-bit: mov edx, [ebx+0x20]; 0x4x is INC there, never REX */
	const u8 a[] = {0x8b, 0x53, 0x20};
	struct insn_mem m = decode(a, sizeof(a), false, 0);
	assert_int_equal(m.reg, 2);
	assert_int_equal(m.len, 3);
	const u8 b[] = {0x41, 0x8b, 0x53, 0x20};
	decode(b, sizeof(b), false, -DV_ENOTSUP);
	/* 16-bit addressing: mov eax, [bx+si+0x10] with 0x67 */
	const u8 c[] = {0x67, 0x8b, 0x40, 0x10};
	m = decode(c, sizeof(c), false, 0);
	assert_int_equal(m.len, 4);
	/* segment override: mov eax, fs:[0x20] with disp32 */
	const u8 d[] = {0x64, 0x8b, 0x05, 0x20, 0x00, 0x00, 0x00};
	m = decode(d, sizeof(d), false, 0);
	assert_int_equal(m.len, 7);
}

static void refused_and_truncated(void **state)
{
	(void)state;
	/* add [rdi], eax: not a MOV */
	const u8 a[] = {0x01, 0x07};
	decode(a, sizeof(a), true, -DV_ENOTSUP);
	/* mov eax, ecx: no memory operand */
	const u8 b[] = {0x8b, 0xc1};
	decode(b, sizeof(b), true, -DV_ENOTSUP);
	/* C7 with reg != 0 is not MOV */
	const u8 c[] = {0xc7, 0x08, 0, 0, 0, 0};
	decode(c, sizeof(c), true, -DV_ENOTSUP);
	/* cut short */
	const u8 d[] = {0xc7, 0x05, 0x00, 0x10};
	decode(d, sizeof(d), true, -DV_EINVAL);
	/* fifteen prefixes: longer than any instruction may be */
	u8 e[16];
	memset(e, 0x66, sizeof(e));
	decode(e, sizeof(e), true, -DV_EINVAL);
	/* xchg [rdi], eax: a read and a write, not emulated */
	const u8 f[] = {0x87, 0x07};
	decode(f, sizeof(f), true, -DV_ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mov_loads_and_stores_64),
		cmocka_unit_test(byte_registers),
		cmocka_unit_test(movzx_movsx),
		cmocka_unit_test(moffs_forms),
		cmocka_unit_test(protected_mode_forms),
		cmocka_unit_test(refused_and_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
