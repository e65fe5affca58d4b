; MOV to CR8 that may fault (guest/fixup.h): bits 63:4 of CR8 are reserved
; (SDM Vol. 3A 2.5), and a write that sets them raises #GP. On the fault,
; trap_dispatch resumes at .fault with RAX = vector and RDX = error code.

bits 64
default rel
section .text
global cr8_write_safe

; u64 cr8_write_safe(u64 value [rdi], u64 *error [rsi])
cr8_write_safe:
.insn:
	mov cr8, rdi
	xor eax, eax
	ret
.fault:
	mov [rsi], rdx
	ret

section .fixup progbits alloc noexec nowrite align=8
	dq cr8_write_safe.insn, cr8_write_safe.fault
