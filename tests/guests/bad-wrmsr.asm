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
	TRY_OUTCOME %4, {"bad-wrmsr guest: ", %5}
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
	mov eax, gp_handler
	call install_gp_idt
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
	mov esi, msg_pass
	jmp exit_by_errors

GP_HANDLER_SKIPPING 2

section .data
msg:	db "bad-wrmsr guest: writing MSR values the CPU refuses", 10, 0
msg_pass: db "bad-wrmsr guest: every case behaved", 10, 0
