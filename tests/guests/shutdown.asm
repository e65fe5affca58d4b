; A kernel that powers Bochs off the way Bochs offers: the bytes of "Shutdown"
; written to port 0x8900 (Bochs iodev/unmapped.cc). Bochs then quits with
; status 1, which tools/dimvisor-run must report as this shutdown, not as an
; emulator that stopped on its own; dimvisor ends its guest the same way.
%include "tests/guests/common.inc"
%include "tests/guests/uart.inc"
BOCHS_SHUTDOWN_PORT equ 0x8900
global _start
section .text
_start:
	SETUP_STACK
	call uart_init
	mov esi, msg
	call uart_puts
	call uart_flush
	mov esi, shutdown_word
	mov dx, BOCHS_SHUTDOWN_PORT
.next:	lodsb
	test al, al
	jz .halt
	out dx, al
	jmp .next
.halt:	cli                          ; elsewhere (QEMU) nothing happens: stop here
	hlt
	jmp .halt
section .data
msg:	db "shutdown guest: writing Shutdown to port 0x8900", 10, 0
shutdown_word: db "Shutdown", 0
