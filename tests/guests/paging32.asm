; A protected-mode kernel that turns on 32-bit paging, then PAE paging, and in
; each passes dimvisor a console buffer at a virtual address that only its
; page tables map (0x40000000): dimvisor must translate it through the
; guest's tables, as include/dimvisor/hypercall.h promises for every paging
; mode, and refuse an unmapped one with -DV_EFAULT. Exit hypercall status 0
; when every call behaved; 9 when not.
%include "tests/guests/common.inc"
global _start
section .text

BUF_VA equ 0x40000000
HC_CONSOLE_WRITE equ 2
HC_EXIT equ 3
EFAULT equ 14

; CONSOLE va, length, expected RAX
%macro CONSOLE 3
	mov eax, HC_CONSOLE_WRITE
	mov ebx, %1
	mov ecx, %2
	vmcall
	cmp eax, %3
	je %%ok
	inc dword [bad_results]
	mov esi, msg_bad_result
	call puts
%%ok:
%endmacro

_start:
	SETUP_STACK
	mov esi, msg
	call puts

	; --- 32-bit paging: a 4 MiB identity page, and BUF_VA -> buf32 via a PT
	mov dword [pd32], 0x83                        ; P, RW, PS
	mov dword [pd32 + (BUF_VA >> 22) * 4], pt32 + 3
	mov dword [pt32], buf32 + 3
	mov eax, cr4
	or eax, 1 << 4                                ; PSE
	mov cr4, eax
	mov eax, pd32
	mov cr3, eax
	mov eax, cr0
	or eax, 1 << 31
	mov cr0, eax
	CONSOLE BUF_VA, buf32_len, buf32_len
	CONSOLE BUF_VA + 0x1000, 4, -EFAULT           ; no PTE there
	mov eax, cr0
	and eax, ~(1 << 31)
	mov cr0, eax

	; --- PAE paging: a 2 MiB identity page, and BUF_VA (PDPTE 1) -> bufpae
	mov dword [pdpt], pd_pae + 1
	mov dword [pdpt + 8], pd_pae2 + 1
	mov dword [pd_pae], 0x83
	mov dword [pd_pae2], pt_pae + 3
	mov dword [pt_pae], bufpae + 3
	mov dword [pt_pae + 8], bufpae + 3            ; BUF_VA + 4 KiB: a malformed PTE,
	mov dword [pt_pae + 12], 1 << 19              ; reserved bit 51 set
	mov eax, cr4
	or eax, 1 << 5                                ; PAE
	mov cr4, eax
	mov eax, pdpt
	mov cr3, eax
	mov eax, cr0
	or eax, 1 << 31
	mov cr0, eax
	CONSOLE BUF_VA, bufpae_len, bufpae_len
	CONSOLE BUF_VA + 0x200000, 4, -EFAULT         ; no PDE there
	CONSOLE BUF_VA + 0x1000, 4, -EFAULT           ; a reserved bit in the PTE

	mov eax, HC_EXIT
	xor ebx, ebx
	cmp dword [bad_results], 0
	je .exit
	mov ebx, 9
.exit:	vmcall
	hlt

section .data
msg:	db "paging32 guest: hypercall buffers behind 32-bit and PAE paging", 10, 0
msg_bad_result: db "paging32 guest: WRONG: a console write returned the wrong value", 10, 0
align 4096
buf32:	db "paging32 guest: this line came through 32-bit paging", 10
buf32_len equ $ - buf32
align 4096
bufpae:	db "paging32 guest: this line came through PAE paging", 10
bufpae_len equ $ - bufpae

section .bss
alignb 4096
pd32:	resb 4096
pt32:	resb 4096
pd_pae:	resb 4096
pd_pae2: resb 4096
pt_pae:	resb 4096
pdpt:	resb 32
bad_results: resd 1
