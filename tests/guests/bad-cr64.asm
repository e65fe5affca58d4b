; A plain ELF64 kernel (dimvisor starts it in 64-bit mode with CR0.NE set)
; that clears CR0.PG in 64-bit code, and sets NW without CD: both must give
; #GP, as on the bare CPU (clearing PG used to hang the run). CR0.NE is
; cleared in each bad value so the write reaches dimvisor's checks. Ends with
; the exit hypercall: status 0 when both faulted, 9 when not.
%include "tests/guests/common64.inc"
global _start
_start:
	lea rsp, [rel stack_top]
	call load_gdt64
	lea rdi, [rel idt64 + 13 * 16]       ; #GP
	lea rax, [rel gp_handler]
	call set_gate64
	lidt [rel idt64_ptr]
	lea rsi, [rel msg]
	call puts

	mov rax, cr0
	mov r12, rax
	btr rax, 31                          ; PG off
	btr rax, 5                           ; NE off: reaches dimvisor
	mov byte [rel faulted], 0
	mov cr0, rax                         ; 3 bytes
	cmp byte [rel faulted], 1
	jne .wrong
	lea rsi, [rel msg_pg]
	call puts

	mov rax, r12
	bts rax, 29                          ; NW without CD
	btr rax, 30
	btr rax, 5
	mov byte [rel faulted], 0
	mov cr0, rax
	cmp byte [rel faulted], 1
	jne .wrong
	lea rsi, [rel msg_nw]
	call puts

	mov rax, cr0
	cmp rax, r12
	jne .wrong
	lea rsi, [rel msg_ok]
	call puts
	DV_EXIT 0
.wrong:
	lea rsi, [rel msg_bad]
	call puts
	DV_EXIT 9
	hlt

gp_handler:
	add rsp, 8                           ; error code
	add qword [rsp], 3                   ; skip the MOV to CR0
	mov byte [rel faulted], 1
	iretq


section .data
msg:	db "bad-cr64: writing CR0 values the CPU refuses in 64-bit mode", 10, 0
msg_pg:	db "bad-cr64: clearing CR0.PG in 64-bit mode: #GP", 10, 0
msg_nw:	db "bad-cr64: CR0.NW without CD: #GP", 10, 0
msg_ok:	db "bad-cr64: every case behaved; CR0 unchanged", 10, 0
msg_bad: db "bad-cr64: WRONG", 10, 0
section .bss
faulted: resb 1
alignb 16
	resb 4096
stack_top:
