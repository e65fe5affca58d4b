; A plain 32-bit multiboot kernel (paging off) using the local APIC the way
; small kernels do: every xAPIC access below is a different instruction form
; dimvisor decodes (moffs, disp32, base+disp, MOVZX, a byte store). It sends
; itself an IPI, takes a one-shot timer interrupt while halted, and exits with
; value 3 (status 7); any failure exits with value 9 (status 19).
%include "tests/guests/common.inc"
APIC equ 0xfee00000
global _start
section .text
_start:
	SETUP_STACK
	call load_flat_gdt
	mov eax, unexpected             ; every vector, then two of our own
	call load_full_idt
	mov edi, full_idt + 0x40 * 8
	mov eax, on_ipi
	call set_gate32
	mov edi, full_idt + 0x50 * 8
	mov eax, on_timer
	call set_gate32
	mov al, 0xff                    ; the 8259s stay quiet
	out 0x21, al
	out 0xa1, al

	mov eax, [APIC + 0x30]          ; A1 moffs: the version register
	cmp al, 0x14
	jne fail
	movzx edx, byte [APIC + 0x30]   ; 0F B6, a byte of it
	cmp edx, 0x14
	jne fail
	mov dword [APIC + 0xf0], 0x1ff  ; C7 disp32: software-enable
	mov ebx, APIC
	mov dword [ebx + 0x310], 0      ; C7 base+disp32
	mov eax, 0x40040                ; self shorthand, fixed, vector 0x40
	mov [ebx + 0x300], eax          ; 89 base+disp32
	sti
	nop
	cli
	cmp dword [ipis], 1
	jne fail
	mov esi, msg_ipi
	call puts

	mov byte [ebx + 0x3e0], 0xb     ; C6: a byte store, which dimvisor drops
	mov dword [ebx + 0x3e0], 0xb    ; divide by 1
	mov dword [ebx + 0x320], 0x50   ; one-shot, vector 0x50
	mov dword [ebx + 0x380], 100000
	mov ecx, 64
.wait:	sti
	hlt
	cli
	cmp dword [ticks], 0
	jne .fired
	loop .wait
	jmp fail
.fired:	mov eax, [ebx + 0x390]          ; current count: 0 after expiry
	test eax, eax
	jnz fail
	mov esi, msg_timer
	call puts
	mov eax, 3
	call debug_exit

on_ipi:
	inc dword [ipis]
	mov dword [APIC + 0xb0], 0      ; EOI
	iret
on_timer:
	inc dword [ticks]
	mov dword [APIC + 0xb0], 0
	iret
unexpected:
	mov esi, msg_irq
	call puts
fail:
	mov esi, msg_fail
	call puts
	mov eax, 9
	call debug_exit
section .data
msg_ipi: db "apic32: self-IPI taken", 10, 0
msg_timer: db "apic32: timer interrupt taken while halted", 10, 0
msg_irq: db "apic32: an unexpected interrupt arrived", 10, 0
msg_fail: db "apic32: FAILED", 10, 0
section .bss
ipis:	resd 1
ticks:	resd 1
