; RDMSR and WRMSR that may fault (guest/fixup.h): on an exception at the
; instruction, trap_dispatch resumes at the .fault label with RAX = vector and
; RDX = error code. Every other register comes back as it was.

bits 64
default rel
section .text
global msr_read_safe, msr_write_safe

; u64 msr_read_safe(u32 msr [edi], u64 *value [rsi], u64 *error [rdx])
msr_read_safe:
	mov r8, rdx
	mov ecx, edi
.insn:
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rsi], rax
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

; u64 msr_write_safe(u32 msr [edi], u64 value [rsi], u64 *error [rdx])
msr_write_safe:
	mov r8, rdx
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
.insn:
	wrmsr
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

section .fixup progbits alloc noexec nowrite align=8
	dq msr_read_safe.insn, msr_read_safe.fault
	dq msr_write_safe.insn, msr_write_safe.fault
