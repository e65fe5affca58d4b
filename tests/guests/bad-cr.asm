; A kernel that writes CR0 and CR4 values the architecture refuses (SDM Vol.
; 2B MOV to CR): each must give #GP, as on the bare CPU, with the registers
; unchanged. CR0.NE is flipped in the bad CR0 values: it is one of the bits
; the hypervisor keeps, so the write reaches dimvisor's checks rather than the
; CPU's. Exit value 3 (status 7) when every case behaved; 1 (status 3) if not.
%include "tests/guests/common.inc"
global _start
section .text

; TRY_CR cr-number, value, expected-#GP (0/1), "description"
%macro TRY_CR 4
	mov dword [faulted], 0
	mov eax, %2
	mov cr%1, eax             ; 3 bytes (0F 22 /r): the #GP handler skips them
	TRY_OUTCOME %3, {"bad-cr guest: ", %4}
%endmacro

CR0_PE equ 1 << 0
CR0_ET equ 1 << 4
CR0_NE equ 1 << 5
CR0_NW equ 1 << 29
CR0_PG equ 1 << 31

_start:
	SETUP_STACK
	mov eax, gp_handler
	call install_gp_idt
	mov esi, msg
	call puts
	TRY_CR 0, CR0_PG | CR0_NE | CR0_ET, 1, "CR0 with PG but not PE"
	TRY_CR 0, CR0_NW | CR0_NE | CR0_PE | CR0_ET, 1, "CR0 with NW but not CD"
	TRY_CR 4, 0x80000000, 1, "CR4 with reserved bit 31"
	TRY_CR 4, 0x2000, 1, "CR4 with VMXE"
	; what the guest reads back is what it had: the refused writes left nothing
	mov eax, cr0
	cmp eax, CR0_PE | CR0_ET
	jne .cr0_changed
	TRY_CR 0, CR0_NE | CR0_PE | CR0_ET, 0, "CR0 with NE"
	mov eax, cr0
	cmp eax, CR0_NE | CR0_PE | CR0_ET
	jne .cr0_changed
	mov esi, msg_pass
	jmp exit_by_errors
.cr0_changed:
	mov esi, msg_cr0
	call puts
	inc dword [errors]
	jmp exit_by_errors

GP_HANDLER_SKIPPING 3

section .data
msg:	db "bad-cr guest: writing control-register values the CPU refuses", 10, 0
msg_pass: db "bad-cr guest: every case behaved", 10, 0
msg_cr0: db "bad-cr guest: WRONG: CR0 does not read back what was last accepted", 10, 0
