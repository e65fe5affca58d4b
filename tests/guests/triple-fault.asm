; A kernel that triple-faults: an empty IDT, then int3. dimvisor must report
; the triple fault with a guest-state dump and stop the guest, status 69.
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	mov esi, msg
	call puts
	lidt [empty_idt]
	int3
	mov eax, 1
	call debug_exit
section .data
msg:	db "triple-fault guest: loading an empty IDT and raising int3", 10, 0
empty_idt:
	dw 0
	dd 0
