; A kernel that enables interrupts and spins: on dimvisor's platform no
; interrupt may arrive (the PIC is emulated and raises none; the real one is
; masked). Any interrupt lands in a catch-all handler that reports it and exits
; with value 9 (status 19); a quiet spin exits with value 2 (status 5).
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	call load_flat_gdt
	mov eax, unexpected     ; every vector
	call load_full_idt
	mov esi, msg
	call puts
	sti
	mov ecx, 10000000       ; ~30 M instructions: several timer ticks if the PIT got through
.spin:	pause
	dec ecx
	jnz .spin
	cli
	mov esi, msg_quiet
	call puts
	mov eax, 2
	call debug_exit
unexpected:
	mov esi, msg_irq
	call puts
	mov eax, 9
	call debug_exit
section .data
msg:	db "sti guest: interrupts on, spinning", 10, 0
msg_quiet: db "sti guest: no interrupt arrived", 10, 0
msg_irq: db "sti guest: an unexpected interrupt arrived", 10, 0

