; Entry stubs for every vector: exceptions 0..31 and interrupts 32..255. Each pushes an error code (a zero
; when the CPU pushes none) and its vector, so every frame has one shape; the
; common path saves the general registers as struct trap_frame (guest/idt.h)
; and calls trap_dispatch. That either ends the guest or, for an instruction
; with a fixup (guest/fixup.h), edits the frame to resume elsewhere; the
; registers are then restored from the frame and IRETQ resumes.

bits 64
default rel
section .text
extern trap_dispatch
global isr_stubs

; SDM Vol. 3A Table 6-1: vectors 8, 10-14, 17, 21, 29, 30 push an error code.
%macro STUB 1
isr_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
%else
	push 0
%endif
	push %1
	jmp isr_common
%endmacro

%assign v 0
%rep 256
STUB v
%assign v v + 1
%endrep

isr_common:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rbp
	push rdi
	push rsi
	push rdx
	push rcx
	push rbx
	push rax
	mov rdi, rsp
	mov rbx, rsp            ; callee-saved: the frame, across the call
	and rsp, -16            ; the C ABI wants a 16-byte aligned stack at the call
	cld
	call trap_dispatch
	mov rsp, rbx
	pop rax
	pop rbx
	pop rcx
	pop rdx
	pop rsi
	pop rdi
	pop rbp
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	add rsp, 16             ; vector and error code
	iretq

section .rodata
align 8
isr_stubs:
%assign v 0
%rep 256
	dq isr_%+v
%assign v v + 1
%endrep
