; A kernel that writes MSR values the architecture refuses (non-canonical
; addresses, reserved PAT types, reserved EFER bits): each must give #GP, as
; on the bare CPU, and the hypervisor must survive (LSTAR, CSTAR and
; KERNEL_GS_BASE go to the real MSRs: unchecked, they crashed the host).
; Then valid values must be accepted and read back. Exit value 3 (status 7)
; when every case behaved; 1 (status 3) if not.
%include "tests/guests/common.inc"
global _start
section .text

; TRY_WRMSR msr, edx, eax, expected-#GP (0/1), "description"
%macro TRY_WRMSR 5
	mov dword [faulted], 0
	mov ecx, %1
	mov edx, %2
	mov eax, %3
	wrmsr                     ; 2 bytes: the #GP handler skips them
	mov esi, %%what
	cmp dword [faulted], %4
	je %%ok
	mov esi, msg_wrong
	call puts
	mov esi, %%what
	inc dword [errors]
%%ok:
	call puts
	call print_outcome
	jmp %%done
%%what:	db "bad-wrmsr guest: ", %5, 0
%%done:
%endmacro

; CHECK_RDMSR msr, edx, eax, "description": the MSR must read back edx:eax
%macro CHECK_RDMSR 4
	mov ecx, %1
	rdmsr
	cmp edx, %2
	jne %%bad
	cmp eax, %3
	je %%done
%%bad:
	mov esi, %%what
	call puts
	inc dword [errors]
	jmp %%done
%%what:	db "bad-wrmsr guest: WRONG: ", %4, " does not read back", 10, 0
%%done:
%endmacro

LSTAR		equ 0xc0000082
CSTAR		equ 0xc0000083
KERNEL_GS_BASE	equ 0xc0000102
FS_BASE		equ 0xc0000100
SYSENTER_EIP	equ 0x176
PAT		equ 0x277
EFER		equ 0xc0000080

_start:
	SETUP_STACK
	call load_flat_gdt
	mov edi, idt + 13 * 8     ; #GP
	mov eax, gp_handler
	call set_gate32
	lidt [idt_ptr]
	mov esi, msg
	call puts
	; the real MSRs first: these crashed the hypervisor
	TRY_WRMSR LSTAR, 0x00008000, 0, 1, "LSTAR=0x0000800000000000"
	TRY_WRMSR CSTAR, 0x80000000, 0, 1, "CSTAR=0x8000000000000000"
	TRY_WRMSR KERNEL_GS_BASE, 0x12345678, 0, 1, "KERNEL_GS_BASE=0x1234567800000000"
	TRY_WRMSR LSTAR, 0xffff8000, 0x1000, 0, "LSTAR=0xffff800000001000"
	CHECK_RDMSR LSTAR, 0xffff8000, 0x1000, "LSTAR"
	; MSRs kept in the VMCS: unchecked, these failed the next VM entry
	TRY_WRMSR FS_BASE, 0x00010000, 0, 1, "FS_BASE=0x0001000000000000"
	TRY_WRMSR SYSENTER_EIP, 0x00008000, 0, 1, "SYSENTER_EIP=0x0000800000000000"
	TRY_WRMSR PAT, 0x02020202, 0x02020202, 1, "PAT=0x0202020202020202"
	TRY_WRMSR PAT, 0x00070406, 0x00070403, 1, "PAT=0x0007040600070403"
	TRY_WRMSR EFER, 0, 0x2, 1, "EFER=0x2 (reserved bit 1)"
	TRY_WRMSR EFER, 0x1, 0, 1, "EFER=0x100000000 (reserved bit 32)"
	TRY_WRMSR PAT, 0x00070106, 0x00070406, 0, "PAT=0x0007010600070406"
	CHECK_RDMSR PAT, 0x00070106, 0x00070406, "PAT"
	TRY_WRMSR FS_BASE, 0xffffffff, 0xfffff000, 0, "FS_BASE=0xfffffffffffff000"
	CHECK_RDMSR FS_BASE, 0xffffffff, 0xfffff000, "FS_BASE"
	cmp dword [errors], 0
	jne .fail
	mov esi, msg_pass
	call puts
	mov eax, 3
	call debug_exit
.fail:
	mov eax, 1
	call debug_exit

; ": #GP" or ": accepted", from [faulted]
print_outcome:
	mov esi, msg_accepted
	cmp dword [faulted], 0
	je .print
	mov esi, msg_gp
.print:	jmp puts

gp_handler:
	add esp, 4                ; error code
	add dword [esp], 2        ; skip the WRMSR
	mov dword [faulted], 1
	iret

section .data
msg:	db "bad-wrmsr guest: writing MSR values the CPU refuses", 10, 0
msg_pass: db "bad-wrmsr guest: every case behaved", 10, 0
msg_wrong: db "WRONG: ", 0
msg_gp:	db ": #GP", 10, 0
msg_accepted: db ": accepted", 10, 0
idt_ptr:
	dw 14 * 8 - 1
	dd idt
section .bss
alignb 8
idt:	resb 14 * 8
faulted: resd 1
errors:	resd 1
