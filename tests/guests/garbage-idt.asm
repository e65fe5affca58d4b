; A kernel that fills its IDT with garbage (a fixed xorshift stream, so the
; run is reproducible), loads it, and raises #UD. Whatever the CPU makes of
; the gates, the guest must end in a clean stop of its own (a triple fault:
; status 69, with a dump), never a hypervisor failure (70, 71) or a hang.
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	call load_flat_gdt
	mov esi, msg
	call puts
	mov edi, idt
	mov ecx, 256 * 2          ; 256 gates of 8 bytes, a dword at a time
	mov eax, 0x2545f491       ; xorshift32 state
.fill:	mov edx, eax
	shl edx, 13
	xor eax, edx
	mov edx, eax
	shr edx, 17
	xor eax, edx
	mov edx, eax
	shl edx, 5
	xor eax, edx
	stosd
	loop .fill
	lidt [idt_ptr]
	ud2
	mov esi, msg_survived
	call puts
	mov eax, 1
	call debug_exit
section .data
msg:	db "garbage-idt guest: loading an IDT of random bytes, then ud2", 10, 0
msg_survived: db "garbage-idt guest: ud2 returned", 10, 0
idt_ptr:
	dw 256 * 8 - 1
	dd idt
section .bss
alignb 8
idt:	resb 256 * 8
