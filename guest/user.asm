; Ring 3 round trip (guest/usermode.h). user_enter builds an IRETQ frame from a
; struct user_entry and drops to ring 3; the user code ends with INT 0x80,
; whose DPL 3 interrupt gate lands in user_return on the TSS RSP0 stack (SDM
; Vol. 3A 6.12.1: privilege change through a gate). user_return restores the
; kernel stack saved by user_enter and returns RAX to user_enter's caller.

bits 64
default rel

; struct user_entry in guest/usermode.c; keep the offsets in sync.
UE_RIP    equ 0
UE_CS     equ 8
UE_RFLAGS equ 16
UE_RSP    equ 24
UE_SS     equ 32
UE_RAX    equ 40
UE_RBX    equ 48
UE_RCX    equ 56
UE_RDX    equ 64
UE_RSI    equ 72

USER_RETURN_VECTOR equ 0x80     ; guest/usermode.h

section .text
global user_enter, user_return

; u64 user_enter(const struct user_entry *e)
user_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [kernel_rsp], rsp
	mov ax, ss
	mov [kernel_ss], ax
	push qword [rdi + UE_SS]
	push qword [rdi + UE_RSP]
	push qword [rdi + UE_RFLAGS]
	push qword [rdi + UE_CS]
	push qword [rdi + UE_RIP]
	mov rax, [rdi + UE_RAX]
	mov rbx, [rdi + UE_RBX]
	mov rcx, [rdi + UE_RCX]
	mov rdx, [rdi + UE_RDX]
	mov rsi, [rdi + UE_RSI]
	xor edi, edi            ; ring 3 sees nothing of ours in the rest
	xor ebp, ebp
	xor r8d, r8d
	xor r9d, r9d
	xor r10d, r10d
	xor r11d, r11d
	xor r12d, r12d
	xor r13d, r13d
	xor r14d, r14d
	xor r15d, r15d
	iretq

; INT USER_RETURN_VECTOR from ring 3. The CPU left SS null (64-bit mode,
; SDM Vol. 3A 6.14.4) and IRETQ to ring 3 nulled DS/ES: restore them.
user_return:
	mov rsp, [kernel_rsp]
	mov cx, [kernel_ss]
	mov ss, cx
	mov ds, cx
	mov es, cx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .bss
kernel_rsp: resq 1
kernel_ss:  resw 1

; Mapped user-accessible at USER_CODE_VA: only position-independent code here.
section .user progbits alloc exec nowrite align=4096
global user_stub_vmcall, user_stub_read_cs, user_marker, user_marker_end

user_stub_vmcall:
	vmcall
	int USER_RETURN_VECTOR

user_stub_read_cs:
	mov ax, cs
	movzx eax, ax
	int USER_RETURN_VECTOR

user_marker:
	db "BAD-CONSOLE-WRITE: dimvisor printed a buffer from ring 3", 10
user_marker_end:
