; A plain ELF64 kernel with no multiboot header: dimvisor starts it in 64-bit
; mode on an identity map. It checks it really is in long mode with paging,
; prints through COM1 and ends with the exit hypercall (status 0), or status
; 9 when something is off.
%include "tests/guests/common64.inc"
global _start
_start:
	lea rsp, [rel stack_top]
	lea rsi, [rel msg]
	call puts
	mov ecx, 0xC0000080     ; IA32_EFER: LMA must be set
	rdmsr
	test eax, 1 << 10
	jz .wrong
	mov rax, cr0
	bt rax, 31              ; paging on
	jnc .wrong
	lea rsi, [rel msg_ok]
	call puts
	; IN EAX zero-extends into RAX in 64-bit mode (SDM Vol. 1 3.4.1.1); port
	; 0x2f0 has no device and reads all ones.
	mov rax, -1
	mov dx, 0x2f0
	in eax, dx
	mov rcx, 0xffffffff
	cmp rax, rcx
	jne .wrong_in
	lea rsi, [rel msg_in]
	call puts
	DV_EXIT 0
.wrong_in:
	lea rsi, [rel msg_in_bad]
	call puts
	DV_EXIT 10
.wrong:
	lea rsi, [rel msg_bad]
	call puts
	DV_EXIT 9
	hlt


section .data
msg:	db "hello from a plain ELF64 kernel", 10, 0
msg_ok:	db "hello64: long mode and paging are on", 10, 0
msg_in:	db "hello64: IN EAX cleared RAX[63:32]", 10, 0
msg_in_bad: db "hello64: IN EAX left RAX[63:32] set", 10, 0
msg_bad: db "hello64: not in long mode with paging", 10, 0
section .bss
alignb 16
	resb 4096
stack_top:
