; A kernel that reads an MSR nobody has (0x12345678). dimvisor must inject
; #GP; the guest's handler prints that it got it and exits with value 3
; (status 7). Without the #GP the guest exits with value 1 (status 3).
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	mov eax, gp_handler
	call install_gp_idt
	mov esi, msg
	call puts
	mov ecx, 0x12345678
	rdmsr
	mov esi, msg_nogp
	call puts
	mov eax, 1
	call debug_exit
gp_handler:
	mov esi, msg_gp
	call puts
	mov eax, 3
	call debug_exit
section .data
msg:	db "bad-msr guest: reading MSR 0x12345678", 10, 0
msg_gp:	db "bad-msr guest: got #GP as expected", 10, 0
msg_nogp: db "bad-msr guest: RDMSR did not fault", 10, 0
