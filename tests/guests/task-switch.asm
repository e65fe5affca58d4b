; A kernel that switches tasks (a far jump to a TSS descriptor). Task switches
; always cause a VM exit (SDM Vol. 3C 26.1.2) and dimvisor does not emulate
; them: it must print its unhandled-exit dump and stop the guest, status 70.
%include "tests/guests/common.inc"
global _start
section .text
_start:
	SETUP_STACK
	lgdt [tgdt_ptr]
	jmp 0x08:.reload
.reload:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, tss            ; TSS descriptor base
	mov [tgdt + 0x18 + 2], ax
	shr eax, 16
	mov [tgdt + 0x18 + 4], al
	mov [tgdt + 0x18 + 7], ah
	mov esi, msg
	call puts
	jmp 0x18:0
	mov esi, msg_after
	call puts
	mov eax, 1
	call debug_exit
section .data
msg:	db "task-switch guest: jumping to a TSS", 10, 0
msg_after: db "task-switch guest: the task switch returned", 10, 0
align 8
tgdt:	dq 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
	dw 0x67, 0              ; 0x18: 32-bit TSS, available (type 9), base filled at run time
	db 0, 0x89, 0, 0
tgdt_ptr:
	dw 31
	dd tgdt
section .bss
alignb 16
tss:	resb 0x68
