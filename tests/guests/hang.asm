; A kernel that never ends: prints a line and spins. The launcher must report
; a timeout (status 124), distinct from any guest failure.
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	mov esi, msg
	call puts
.spin:	pause
	jmp .spin
section .data
msg:	db "hang guest: spinning forever", 10, 0
