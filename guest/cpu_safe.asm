; Instructions a test provokes exceptions with (guest/fixup.h): on an
; exception at .insn, trap_dispatch resumes at .fault with RAX = vector and
; RDX = error code, as for guest/msr.asm.

bits 64
default rel
section .text
global cr4_write_safe, cr8_write_safe, vmxon_safe, load_safe, dr4_read_safe

; u64 cr4_write_safe(u64 value [rdi], u64 *error [rsi])
cr4_write_safe:
	mov r8, rsi
.insn:
	mov cr4, rdi
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

; u64 cr8_write_safe(u64 value [rdi], u64 *error [rsi]): bits 63:4 of CR8
; are reserved (SDM Vol. 3A 2.5)
cr8_write_safe:
	mov r8, rsi
.insn:
	mov cr8, rdi
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

; u64 vmxon_safe(u64 *error [rdi]): the operand is a zero on the stack.
vmxon_safe:
	mov r8, rdi
	push 0
.insn:
	vmxon [rsp]
	add rsp, 8
	xor eax, eax
	ret
.fault:
	add rsp, 8
	mov [r8], rdx
	ret

; u64 load_safe(u64 addr [rdi], u64 *value [rsi], u64 *error [rdx])
load_safe:
	mov r8, rdx
.insn:
	mov rax, [rdi]
	mov [rsi], rax
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

; u64 dr4_read_safe(u64 *value [rdi], u64 *error [rsi])
dr4_read_safe:
	mov r8, rsi
.insn:
	mov rax, dr4
	mov [rdi], rax
	xor eax, eax
	ret
.fault:
	mov [r8], rdx
	ret

section .fixup progbits alloc noexec nowrite align=8
	dq cr4_write_safe.insn, cr4_write_safe.fault
	dq cr8_write_safe.insn, cr8_write_safe.fault
	dq vmxon_safe.insn, vmxon_safe.fault
	dq load_safe.insn, load_safe.fault
	dq dr4_read_safe.insn, dr4_read_safe.fault

; --- single-step over CPUID (guest/tests_debug.c): POPF sets TF, so the
; instruction after it, CPUID, is the first one to run with TF; the #DB trap
; must come right after it, at singlestep_after_cpuid, and the test's #DB
; hook clears TF in the frame. Returns nothing; preserves RBX for the C ABI.
section .text
global singlestep_cpuid, singlestep_after_cpuid
singlestep_cpuid:
	push rbx
	xor eax, eax
	xor ecx, ecx
	pushfq
	or qword [rsp], 0x100
	popfq
	cpuid
singlestep_after_cpuid:
	nop
	nop
	pop rbx
	ret
