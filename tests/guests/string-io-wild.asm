; A kernel whose REP OUTSB reads guest-physical memory it does not own:
; 0xC0000000, past its RAM (paging off). dimvisor must treat it as any
; access there, the EPT violation a MOV would cause: stop the guest with a
; report (status 69), having sent nothing. On QEMU the bytes read as all
; ones go out and the guest exits with value 5 (status 11).
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	mov esi, msg
	call puts
	mov esi, 0xC0000000
	mov ecx, 4
	mov dx, 0x3f8
	rep outsb
	mov esi, msg_after
	call puts
	mov eax, 5
	call debug_exit
section .data
msg:	db "string-io-wild guest: rep outsb from 0xC0000000", 10, 0
msg_after: db 10, "string-io-wild guest: the read went through", 10, 0
