; A kernel that returns to real mode and executes RDMSR of an MSR nobody has.
; The #GP must arrive as the CPU delivers it in real mode, through the IVT and
; without an error code (SDM Vol. 3A 6.13: none is pushed in real mode):
; dimvisor used to inject it with one, which fails the VM entry (status 70).
; The handler skips the RDMSR; the stack must come back balanced. Exit value
; 3 (status 7) when both held; 1 (status 3) when not.
%include "tests/guests/common.inc"
global _start
section .text

REAL_BASE equ 0x8000            ; where the real-mode blob runs, CS = DS = SS = 0x800
REAL_SEG  equ REAL_BASE >> 4
REAL_SP   equ 0x7000
MSR_NOBODY equ 0x12345678

%define OFF(label) ((label) - blob)

_start:
	SETUP_STACK
	mov esi, msg
	call puts
	; copy the blob below 1 MiB, where real mode reaches it
	mov esi, blob
	mov edi, REAL_BASE
	mov ecx, blob_end - blob
	rep movsb
	lgdt [gdt16_ptr]
	lidt [ivt_ptr]
	jmp 0x08:OFF(pm16) + REAL_BASE

bits 16
blob:
pm16:                           ; 16-bit protected mode, base 0: leave protected mode
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr0
	and eax, ~1
	mov cr0, eax
	jmp REAL_SEG:OFF(real)
real:
	mov ax, REAL_SEG
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, REAL_SP
	xor ax, ax                  ; IVT entry 13: REAL_SEG:gp16
	mov es, ax
	mov word [es:13 * 4], OFF(gp16)
	mov word [es:13 * 4 + 2], REAL_SEG
	mov dx, 0x3fb               ; COM1 8N1: bare Bochs's UART starts with 5-bit words
	mov al, 3
	out dx, al
	mov ecx, MSR_NOBODY
	rdmsr                       ; 2 bytes: the handler skips them
	cmp sp, REAL_SP
	jne .unbalanced
	cmp byte [OFF(rm_faulted)], 1
	jne .no_gp
	mov si, OFF(msg_ok)
	call puts16
	mov ax, 3
	jmp exit16
.unbalanced:
	mov si, OFF(msg_sp)
	call puts16
	mov ax, 1
	jmp exit16
.no_gp:
	mov si, OFF(msg_nogp)
	call puts16
	mov ax, 1
	jmp exit16

gp16:                           ; real mode: IP, CS, FLAGS on the stack, no error code
	push bp
	mov bp, sp
	add word [bp + 2], 2
	mov byte [OFF(rm_faulted)], 1
	pop bp
	iret

; DS:SI = NUL-terminated string; waits for the transmitter (LSR bit 5) so
; that bare Bochs's UART keeps every byte
puts16:
	mov dx, 0x3fd
	in al, dx
	test al, 0x20
	jz puts16
	lodsb
	test al, al
	jz .done
	mov dx, 0x3f8
	out dx, al
	jmp puts16
.done:	ret

; AX = value for QEMU's isa-debug-exit (dimvisor too); on bare Bochs, which
; has no such port, "Shutdown" to port 0x8900 ends the run
exit16:
	mov dx, 0xf4
	out dx, ax
	mov si, OFF(shutdown)
	mov dx, 0x8900
.shut:	lodsb
	test al, al
	jz .hang
	out dx, al
	jmp .shut
.hang:	cli
	hlt
	jmp .hang

rm_faulted: db 0
shutdown: db "Shutdown", 0
msg_ok:	db "realmode-gp guest: RDMSR raised #GP through the IVT, no error code pushed", 10, 0
msg_sp:	db "realmode-gp guest: WRONG: the stack came back unbalanced (an error code was pushed?)", 10, 0
msg_nogp: db "realmode-gp guest: WRONG: RDMSR did not fault", 10, 0
blob_end:

bits 32
section .data
msg:	db "realmode-gp guest: to real mode, then RDMSR of MSR 0x12345678", 10, 0
align 8
gdt16:	dq 0
	dq 0x00009A000000FFFF      ; 0x08: 16-bit code, base 0, limit 64 KiB
	dq 0x000092000000FFFF      ; 0x10: 16-bit data
gdt16_ptr:
	dw 23
	dd gdt16
ivt_ptr:
	dw 0x3ff
	dd 0
