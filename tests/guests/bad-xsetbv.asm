; A kernel that sets CR4.OSXSAVE and writes XCR0 values the architecture
; refuses (SDM Vol. 2D XSETBV): each must give #GP, as on the bare CPU, and
; the hypervisor must survive. Then a valid XCR0 must be accepted and read
; back. Exit value 3 (status 7) when every case behaved; 1 (status 3) if not.
%include "tests/guests/common.inc"
global _start
section .text

; TRY_XSETBV ecx, eax, edx, expected-#GP (0/1), "description"
%macro TRY_XSETBV 5
	mov dword [faulted], 0
	mov ecx, %1
	mov eax, %2
	mov edx, %3
	xsetbv                    ; 3 bytes: the #GP handler skips them
	TRY_OUTCOME %4, {"bad-xsetbv guest: ", %5}
%endmacro

_start:
	SETUP_STACK
	mov eax, gp_handler
	call install_gp_idt
	mov edi, gp_idt + 6 * 8   ; #UD: XSETBV without OSXSAVE would land here
	mov eax, ud_handler
	call set_gate32
	mov eax, cr4
	or eax, 1 << 18           ; CR4.OSXSAVE
	mov cr4, eax
	mov esi, msg
	call puts
	TRY_XSETBV 0, 0x27, 0, 1, "XCR0=0x27 (AVX-512 opmask alone)"
	TRY_XSETBV 0, 0xe3, 0, 1, "XCR0=0xe3 (AVX-512 without AVX)"
	TRY_XSETBV 0, 0x0b, 0, 1, "XCR0=0x0b (BNDREGS without BNDCSR)"
	TRY_XSETBV 0, 0x05, 0, 1, "XCR0=0x05 (AVX without SSE)"
	TRY_XSETBV 0, 0x02, 0, 1, "XCR0=0x02 (x87 bit clear)"
	TRY_XSETBV 0, 0x03, 0x80000000, 1, "XCR0=0x8000000000000003 (unsupported bit)"
	TRY_XSETBV 1, 0x03, 0, 1, "XCR1=0x3 (no such register)"
	TRY_XSETBV 0, 0x03, 0, 0, "XCR0=0x3 (x87 and SSE)"
	xor ecx, ecx
	xgetbv
	cmp eax, 3
	je .readback_ok
	mov esi, msg_readback
	call puts
	inc dword [errors]
.readback_ok:
	mov esi, msg_pass
	jmp exit_by_errors

GP_HANDLER_SKIPPING 3

ud_handler:
	mov esi, msg_ud
	call puts
	mov eax, 1
	call debug_exit

section .data
msg:	db "bad-xsetbv guest: CR4.OSXSAVE on; trying XCR0 values", 10, 0
msg_pass: db "bad-xsetbv guest: every case behaved", 10, 0
msg_ud:	db "bad-xsetbv guest: WRONG: #UD", 10, 0
msg_readback: db "bad-xsetbv guest: WRONG: XGETBV does not read back 0x3", 10, 0
