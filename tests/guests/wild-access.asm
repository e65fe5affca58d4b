; A kernel that writes to guest-physical memory it does not own: 0xC0000000,
; inside the I/O gap where no device is. dimvisor must stop it with an EPT
; violation report (status 69); on QEMU the write goes nowhere and the guest
; exits with value 5 (status 11).
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	mov esi, msg
	call puts
	mov dword [0xC0000000], 0xdeadbeef
	mov esi, msg_after
	call puts
	mov eax, 5
	call debug_exit
section .data
msg:	db "wild-access guest: writing to 0xC0000000", 10, 0
msg_after: db "wild-access guest: the write went through", 10, 0
