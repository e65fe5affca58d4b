; s64 hc_call_check_regs(u64 nr, u64 after[HC_REGS])
;
; VMCALL with RAX = nr and a distinct pattern (hc_regs_pattern) in every other
; general register but RSP; stores the registers as they came back into
; after[] in the order RBX RCX RDX RSI RDI RBP R8..R15, and returns RAX. The
; ABI says a hypercall preserves every register but RAX (include/dimvisor/
; hypercall.h); guest/tests_hypercall.c compares after[] with the pattern.

bits 64
default rel
section .text
global hc_call_check_regs, hc_regs_pattern

hc_call_check_regs:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rsi                ; after[]
	mov rax, rdi
	mov rbx, [hc_regs_pattern + 0 * 8]
	mov rcx, [hc_regs_pattern + 1 * 8]
	mov rdx, [hc_regs_pattern + 2 * 8]
	mov rsi, [hc_regs_pattern + 3 * 8]
	mov rdi, [hc_regs_pattern + 4 * 8]
	mov rbp, [hc_regs_pattern + 5 * 8]
	mov r8,  [hc_regs_pattern + 6 * 8]
	mov r9,  [hc_regs_pattern + 7 * 8]
	mov r10, [hc_regs_pattern + 8 * 8]
	mov r11, [hc_regs_pattern + 9 * 8]
	mov r12, [hc_regs_pattern + 10 * 8]
	mov r13, [hc_regs_pattern + 11 * 8]
	mov r14, [hc_regs_pattern + 12 * 8]
	mov r15, [hc_regs_pattern + 13 * 8]
	vmcall
	xchg rax, [rsp]         ; RAX = after[], the result waits on the stack
	mov [rax + 0 * 8], rbx
	mov [rax + 1 * 8], rcx
	mov [rax + 2 * 8], rdx
	mov [rax + 3 * 8], rsi
	mov [rax + 4 * 8], rdi
	mov [rax + 5 * 8], rbp
	mov [rax + 6 * 8], r8
	mov [rax + 7 * 8], r9
	mov [rax + 8 * 8], r10
	mov [rax + 9 * 8], r11
	mov [rax + 10 * 8], r12
	mov [rax + 11 * 8], r13
	mov [rax + 12 * 8], r14
	mov [rax + 13 * 8], r15
	pop rax
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .rodata
align 8
; Non-canonical, above DV_CONSOLE_MAX, never a valid status: whatever call
; reads them as arguments fails cleanly.
hc_regs_pattern:
	dq 0xb1b1b1b1b1b1b1b1   ; RBX
	dq 0xc2c2c2c2c2c2c2c2   ; RCX
	dq 0xd3d3d3d3d3d3d3d3   ; RDX
	dq 0x5e5e5e5e5e5e5e5e   ; RSI
	dq 0xd1d1d1d1d1d1d1d1   ; RDI
	dq 0xb0b0b0b0b0b0b0b0   ; RBP
	dq 0x0808080808080808   ; R8
	dq 0x0909090909090909   ; R9
	dq 0x1010101010101010   ; R10
	dq 0x1111111111111111   ; R11
	dq 0x1212121212121212   ; R12
	dq 0x1313131313131313   ; R13
	dq 0x1414141414141414   ; R14
	dq 0x1515151515151515   ; R15
