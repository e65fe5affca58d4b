; VM entry and exit. vmx_enter(regs, launched) saves the host's callee-saved
; registers, points HOST_RSP at its own frame, loads the guest's general
; registers from *regs and executes VMLAUNCH or VMRESUME. A VM exit lands in
; vmx_exit (HOST_RIP), which stores the guest's registers back into *regs and
; returns 0 from vmx_enter. A failed entry instruction returns 1
; (VMfailInvalid) or 2 (VMfailValid). struct guest_regs is in vmx.h.

bits 64
section .text

VMCS_HOST_RSP equ 0x6c14

%define R_RAX 0
%define R_RBX 8
%define R_RCX 16
%define R_RDX 24
%define R_RSI 32
%define R_RDI 40
%define R_RBP 48
%define R_R8  56
%define R_R9  64
%define R_R10 72
%define R_R11 80
%define R_R12 88
%define R_R13 96
%define R_R14 104
%define R_R15 112
%define R_CR2 120

global vmx_enter, vmx_exit

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                ; *regs, found at [rsp] by vmx_exit
	sub rsp, 8              ; keep the stack 16-byte aligned for vmx_exit's return path

	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .failed            ; the VMWRITE failed: same flags as a failed entry

	mov rax, [rdi + R_CR2]  ; CR2 is not part of the VMCS
	mov cr2, rax
	test esi, esi           ; flags survive the loads below (mov does not touch them)
	mov rax, [rdi + R_RAX]
	mov rbx, [rdi + R_RBX]
	mov rcx, [rdi + R_RCX]
	mov rdx, [rdi + R_RDX]
	mov rsi, [rdi + R_RSI]
	mov rbp, [rdi + R_RBP]
	mov r8,  [rdi + R_R8]
	mov r9,  [rdi + R_R9]
	mov r10, [rdi + R_R10]
	mov r11, [rdi + R_R11]
	mov r12, [rdi + R_R12]
	mov r13, [rdi + R_R13]
	mov r14, [rdi + R_R14]
	mov r15, [rdi + R_R15]
	mov rdi, [rdi + R_RDI]
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:                        ; CF = 1: VMfailInvalid; ZF = 1: VMfailValid
	mov eax, 1
	jc vmx_return
	mov eax, 2
	jmp vmx_return

vmx_exit:                       ; RSP = HOST_RSP: [rsp] pad, [rsp + 8] = regs
	push rdi
	mov rdi, [rsp + 16]
	mov [rdi + R_RAX], rax
	mov [rdi + R_RBX], rbx
	mov [rdi + R_RCX], rcx
	mov [rdi + R_RDX], rdx
	mov [rdi + R_RSI], rsi
	mov [rdi + R_RBP], rbp
	mov [rdi + R_R8], r8
	mov [rdi + R_R9], r9
	mov [rdi + R_R10], r10
	mov [rdi + R_R11], r11
	mov [rdi + R_R12], r12
	mov [rdi + R_R13], r13
	mov [rdi + R_R14], r14
	mov [rdi + R_R15], r15
	mov rax, cr2
	mov [rdi + R_CR2], rax
	pop rax                 ; the guest's RDI
	mov [rdi + R_RDI], rax
	xor eax, eax
	; fall through: both paths leave vmx_enter's frame the same way

vmx_return:                     ; EAX = result; RSP = vmx_enter's frame
	add rsp, 16
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
