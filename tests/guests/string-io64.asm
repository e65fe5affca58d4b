; A plain ELF64 kernel (dimvisor starts it in 64-bit mode on an identity map
; of its RAM) that uses string I/O the way test kernels do, and misuses it:
; REP OUTSB to COM1, OUTSW to select a fw_cfg key, REP INSB / INSW / INSD of
; its signature, OUTSD to COM1's scratch register, DF=1, a count of 0, 32-bit
; addresses (0x67) wrapping at 4 GiB, FS and GS overrides; then into an
; unmapped page and INS into a read-only one (#PF with CR2 and the error
; code), a non-canonical address (#GP), and REP counts of 100,000 bytes and
; 65,536 dwords (done in batches of 256, an exit each, as dimvisor's
; statistics hypercall shows). Every check prints a line, a wrong outcome
; "WRONG"; the exit hypercall ends it: status 0, or 9 after a wrong outcome.
%include "tests/guests/common64.inc"
global _start
section .text

COM1		equ 0x3f8
SCRATCH		equ 0x3ff	; the 16550's scratch register: reads back what was written
FWCFG_SELECT	equ 0x510
FWCFG_DATA	equ 0x511
NO_DEVICE_OUT	equ 0x80	; ports without a device: counted in the report
NO_DEVICE_IN	equ 0x2f0
MSR_FS_BASE	equ 0xc0000100
MSR_GS_BASE	equ 0xc0000101
VEC_SS		equ 12
VEC_GP		equ 13
VEC_PF		equ 14
PF_P		equ 1
PF_W		equ 2
RFLAGS_RF	equ 1 << 16
; Our own page directory for 3-4 GiB (PDPT entry 3, empty in the identity
; map of 256 MiB), with 2 MiB pages:
HIGH_RW		equ 0xffe00000	; PD 511 -> 0x800000: read-write (the 4 GiB wrap)
HIGH_MAPPED	equ 0xffa00000	; PD 509 -> 0xa00000: read-write, PD 510 left unmapped
HIGH_UNMAPPED	equ 0xffc00000
HIGH_RO		equ 0xff800000	; PD 508 -> 0xc00000: read-only
BIG_BUF		equ 0x1000000	; 16 MiB, identity-mapped RAM
HUGE_OUT	equ 100000
HUGE_IN		equ 65536
BATCH		equ 256		; elements per exit (STRING_IO_BATCH)
HC_STATS	equ 4		; DV_HC_STATS (include/dimvisor/hypercall.h)
STATS_IO_EXITS	equ 8 + 8 + 3 * 8	; dv_stats.exits_by_kind[DV_EXIT_KIND_IO]

; TRY name ... END_TRY: arm the fault handlers to resume after the
; instruction in between, labelled name; save RSI, RDI, RCX as it left them.
%macro TRY 1
%push try
	lea rax, [rel %$after]
	mov [rel recover], rax
	mov qword [rel fault_vector], -1
%1:
%endmacro
%macro END_TRY 0
%$after:
	SAVE
%pop
%endmacro

%macro SAVE 0
	mov [rel r_rsi], rsi
	mov [rel r_rdi], rdi
	mov [rel r_rcx], rcx
%endmacro

; EXPECT qword, value, "what": on a difference print "string-io64: WRONG what".
%macro EXPECT 3
	mov rax, %2
	cmp qword %1, rax
	je %%ok
	lea rsi, [rel %%what]
	call wrong
	jmp %%ok
%%what:	db %3, 0
%%ok:
%endmacro

; PRINT "text": a console line (with puts: OUT, not string I/O).
%macro PRINT 1
	lea rsi, [rel %%text]
	call puts
	jmp %%done
%%text:	db %1, 10, 0
%%done:
%endmacro

; IO_EXITS slot: the I/O exits dimvisor has counted so far, into [slot].
%macro IO_EXITS 1
	mov eax, HC_STATS
	lea rbx, [rel stats]
	mov ecx, stats_size
	vmcall
	mov rax, [rel stats + STATS_IO_EXITS]
	mov [rel %1], rax
%endmacro

; SELECT key: a fw_cfg key, written with OUTSW from memory.
%macro SELECT 1
	mov word [rel key], %1
	lea rsi, [rel key]
	mov dx, FWCFG_SELECT
	outsw
%endmacro

; READ_SCRATCH: COM1's scratch register into [r_scratch].
%macro READ_SCRATCH 0
	mov dx, SCRATCH
	in al, dx
	movzx eax, al
	mov [rel r_scratch], rax
%endmacro

_start:
	lea rsp, [rel stack_top]
	call load_gdt64
	lea rdi, [rel idt64 + VEC_SS * 16]
	lea rax, [rel fault_ss]
	call set_gate64
	lea rdi, [rel idt64 + VEC_GP * 16]
	lea rax, [rel fault_gp]
	call set_gate64
	lea rdi, [rel idt64 + VEC_PF * 16]
	lea rax, [rel fault_pf]
	call set_gate64
	lidt [rel idt64_ptr]
	cld

	; --- REP OUTSB to COM1: the line itself is the test
	lea rsi, [rel msg_rep]
	mov ecx, msg_rep_len
	mov dx, COM1
	rep outsb
	SAVE
	lea rbx, [rel msg_rep + msg_rep_len]
	EXPECT [rel r_rsi], rbx, "rep outsb: RSI"
	EXPECT [rel r_rcx], 0, "rep outsb: RCX"

	; --- OUTSW selects fw_cfg's ID key (a dword 1), then its signature:
	; REP INSB reads "QEMU"
	SELECT 1
	SAVE
	lea rbx, [rel key + 2]
	EXPECT [rel r_rsi], rbx, "outsw: RSI"
	mov dx, FWCFG_DATA
	in eax, dx
	mov [rel r_value], rax
	EXPECT [rel r_value], 1, "outsw: fw_cfg key 1 selected"
	SELECT 0
	lea rdi, [rel buf]
	mov ecx, 4
	mov dx, FWCFG_DATA
	rep insb
	SAVE
	lea rbx, [rel buf + 4]
	EXPECT [rel r_rdi], rbx, "rep insb: RDI"
	EXPECT [rel r_rcx], 0, "rep insb: RCX"
	mov eax, [rel buf]
	mov [rel r_value], rax
	EXPECT [rel r_value], 'QEMU', "rep insb: the signature"
	PRINT "string-io64: outsw selected a fw_cfg key; rep insb read QEMU"

	; --- INSW, INSD: "QE", then "MU" and two bytes past the signature (0)
	SELECT 0
	lea rdi, [rel buf]
	mov dx, FWCFG_DATA
	insw
	insd
	SAVE
	lea rbx, [rel buf + 6]
	EXPECT [rel r_rdi], rbx, "insw/insd: RDI"
	mov rax, [rel buf]
	mov [rel r_value], rax
	mov rbx, 0x0000554d4551
	EXPECT [rel r_value], rbx, "insw/insd: the values"
	PRINT "string-io64: insw and insd read little-endian words"

	; --- OUTSD to the scratch register: its low byte lands there
	lea rsi, [rel dword_value]
	mov dx, SCRATCH
	outsd
	SAVE
	READ_SCRATCH
	EXPECT [rel r_scratch], 0x78, "outsd: the scratch register"
	lea rbx, [rel dword_value + 4]
	EXPECT [rel r_rsi], rbx, "outsd: RSI"
	PRINT "string-io64: outsd wrote the scratch register"

	; --- DF=1: the text is stored backwards and comes out forwards; REP
	; INSB fills a buffer from its end
	std
	lea rsi, [rel msg_back + msg_back_len - 1]
	mov ecx, msg_back_len
	mov dx, COM1
	rep outsb
	SAVE
	lea rbx, [rel msg_back - 1]
	EXPECT [rel r_rsi], rbx, "DF=1 outsb: RSI"
	SELECT 0
	std
	lea rdi, [rel buf + 3]
	mov ecx, 4
	mov dx, FWCFG_DATA
	rep insb
	cld
	SAVE
	lea rbx, [rel buf - 1]
	EXPECT [rel r_rdi], rbx, "DF=1 insb: RDI"
	mov eax, [rel buf]
	mov [rel r_value], rax
	EXPECT [rel r_value], 'UMEQ', "DF=1 insb: the bytes"

	; --- a count of 0 transfers nothing, in both directions
	lea rsi, [rel msg_zero]
	xor ecx, ecx
	mov dx, COM1
	rep outsb
	SAVE
	lea rbx, [rel msg_zero]
	EXPECT [rel r_rsi], rbx, "count 0: RSI"
	mov dword [rel buf], 0xaaaaaaaa
	lea rdi, [rel buf]
	mov dx, FWCFG_DATA
	rep insb
	SAVE
	lea rbx, [rel buf]
	EXPECT [rel r_rdi], rbx, "count 0: RDI"
	mov eax, [rel buf]
	mov [rel r_value], rax
	EXPECT [rel r_value], 0xaaaaaaaa, "count 0: memory"
	PRINT "string-io64: rep outsb and rep insb with a count of 0 did nothing"

	; --- our page directory for 3-4 GiB
	mov rax, cr3
	and rax, ~0xfff
	mov rax, [rax]				; PML4[0]: the PDPT of the low 512 GiB
	mov rbx, 0x000ffffffffff000
	and rax, rbx
	lea rbx, [rel high_pd]
	or rbx, 3
	mov [rax + 3 * 8], rbx			; PDPT[3]: P, RW
	mov qword [rel high_pd + 511 * 8], 0x800000 | 0x83	; P, RW, PS
	mov qword [rel high_pd + 509 * 8], 0xa00000 | 0x83
	mov qword [rel high_pd + 508 * 8], 0xc00000 | 0x81	; P, PS: read-only
	mov rax, cr3
	mov cr3, rax

	; --- 32-bit addresses in 64-bit code (0x67): ESI wraps from 4 GiB to 0,
	; RSI and RCX are zero-extended
	lea rsi, [rel msg_a32]
	mov edi, HIGH_RW + 0x1ffff0		; the last 16 bytes below 4 GiB
	mov ecx, 16
	rep movsb
	xor edi, edi				; the rest at linear 0
	mov ecx, msg_a32_len - 16
	rep movsb
	mov rsi, 0xdead0000fffffff0
	mov rcx, 0xabcd000000000000 + msg_a32_len
	mov dx, COM1
	a32 rep outsb
	SAVE
	EXPECT [rel r_rsi], msg_a32_len - 16, "a32: RSI"
	EXPECT [rel r_rcx], 0, "a32: RCX"

	; --- FS and GS overrides add their bases (set through the MSRs)
	lea rax, [rel msg_fs - 0x1000]
	mov rdx, rax
	shr rdx, 32
	mov ecx, MSR_FS_BASE
	wrmsr
	mov esi, 0x1000
	mov ecx, msg_fs_len
	mov dx, COM1
	fs rep outsb
	SAVE
	EXPECT [rel r_rsi], 0x1000 + msg_fs_len, "fs: RSI"
	lea rax, [rel msg_gs - 0x2000]
	mov rdx, rax
	shr rdx, 32
	mov ecx, MSR_GS_BASE
	wrmsr
	mov esi, 0x2000
	mov ecx, msg_gs_len
	mov dx, COM1
	gs rep outsb

	; --- REP OUTSB running into the unmapped page: two bytes, then #PF
	mov word [abs 0xbffffe], 0x2211		; the last two bytes of HIGH_MAPPED's page
	mov rsi, HIGH_UNMAPPED - 2
	mov ecx, 5
	mov dx, SCRATCH
	TRY insn_unmapped
	rep outsb
	END_TRY
	EXPECT [rel fault_vector], VEC_PF, "unmapped: #PF"
	EXPECT [rel fault_error], 0, "unmapped: error code"
	EXPECT [rel fault_cr2], HIGH_UNMAPPED, "unmapped: CR2"
	lea rbx, [rel insn_unmapped]
	EXPECT [rel fault_rip], rbx, "unmapped: RIP"
	EXPECT [rel r_rsi], HIGH_UNMAPPED, "unmapped: RSI"
	EXPECT [rel r_rcx], 3, "unmapped: RCX"
	mov rax, [rel fault_rflags]
	and rax, RFLAGS_RF
	mov [rel r_value], rax
	EXPECT [rel r_value], RFLAGS_RF, "unmapped: RF pushed"
	READ_SCRATCH
	EXPECT [rel r_scratch], 0x22, "unmapped: the bytes before the fault"
	PRINT "string-io64: rep outsb into an unmapped page: #PF after the bytes before it"

	; --- a dword straddling into the unmapped page: #PF, nothing sent
	mov dx, SCRATCH
	mov al, 0x55
	out dx, al
	mov rsi, HIGH_UNMAPPED - 2
	TRY insn_straddle
	outsd
	END_TRY
	EXPECT [rel fault_vector], VEC_PF, "straddle: #PF"
	EXPECT [rel fault_cr2], HIGH_UNMAPPED, "straddle: CR2"
	EXPECT [rel r_rsi], HIGH_UNMAPPED - 2, "straddle: RSI"
	READ_SCRATCH
	EXPECT [rel r_scratch], 0x55, "straddle: the port was written"
	PRINT "string-io64: outsd straddling into an unmapped page: #PF, nothing sent"

	; --- REP INSB into the read-only page: #PF (P, W), the port not read
	SELECT 0
	mov rdi, HIGH_RO
	mov ecx, 4
	mov dx, FWCFG_DATA
	TRY insn_read_only
	rep insb
	END_TRY
	EXPECT [rel fault_vector], VEC_PF, "read-only: #PF"
	EXPECT [rel fault_error], PF_P | PF_W, "read-only: error code"
	EXPECT [rel fault_cr2], HIGH_RO, "read-only: CR2"
	EXPECT [rel r_rdi], HIGH_RO, "read-only: RDI"
	EXPECT [rel r_rcx], 4, "read-only: RCX"
	mov dx, FWCFG_DATA
	in al, dx
	movzx eax, al
	mov [rel r_value], rax
	EXPECT [rel r_value], 'Q', "read-only: the port was read"
	PRINT "string-io64: rep insb into a read-only page: #PF (P, W), the port not read"

	; --- a non-canonical address: #GP(0), nothing done
	mov rsi, 0x0000800000000000
	mov ecx, 3
	mov dx, COM1
	TRY insn_noncanonical
	rep outsb
	END_TRY
	EXPECT [rel fault_vector], VEC_GP, "non-canonical: #GP"
	EXPECT [rel fault_error], 0, "non-canonical: error code"
	mov rbx, 0x0000800000000000
	EXPECT [rel r_rsi], rbx, "non-canonical: RSI"
	EXPECT [rel r_rcx], 3, "non-canonical: RCX"
	PRINT "string-io64: rep outsb from a non-canonical address: #GP(0)"

	; --- huge counts: 100,000 bytes out, 65,536 dwords in, in batches of
	; 256 elements: one exit each (dimvisor's statistics count them)
	IO_EXITS r_exits_before
	mov rsi, BIG_BUF
	mov ecx, HUGE_OUT
	mov dx, NO_DEVICE_OUT
	rep outsb
	SAVE
	IO_EXITS r_exits_after
	EXPECT [rel r_rsi], BIG_BUF + HUGE_OUT, "huge outsb: RSI"
	EXPECT [rel r_rcx], 0, "huge outsb: RCX"
	mov rax, [rel r_exits_after]
	sub rax, [rel r_exits_before]
	mov [rel r_value], rax
	EXPECT [rel r_value], (HUGE_OUT + BATCH - 1) / BATCH, "huge outsb: exits"
	IO_EXITS r_exits_before
	mov rdi, BIG_BUF
	mov ecx, HUGE_IN
	mov dx, NO_DEVICE_IN
	rep insd
	SAVE
	IO_EXITS r_exits_after
	EXPECT [rel r_rdi], BIG_BUF + HUGE_IN * 4, "huge insd: RDI"
	EXPECT [rel r_rcx], 0, "huge insd: RCX"
	mov rax, [rel r_exits_after]
	sub rax, [rel r_exits_before]
	mov [rel r_value], rax
	EXPECT [rel r_value], HUGE_IN / BATCH, "huge insd: exits"
	mov rdi, BIG_BUF
	mov ecx, HUGE_IN
	mov eax, 0xffffffff
	repe scasd				; every dword all ones (no device)
	sete al
	movzx eax, al
	mov [rel r_value], rax
	EXPECT [rel r_value], 1, "huge insd: the data"
	PRINT "string-io64: rep outsb of 100000 bytes and rep insd of 65536 dwords completed"

	cmp qword [rel errors], 0
	jne .failed
	PRINT "string-io64: every check passed"
	DV_EXIT 0
.failed:
	DV_EXIT 9
	hlt

; RSI = what: "string-io64: WRONG what", counted in [errors]
wrong:
	push rsi
	lea rsi, [rel msg_wrong_prefix]
	call puts
	pop rsi
	call puts
	lea rsi, [rel msg_newline]
	call puts
	inc qword [rel errors]
	ret

; #SS, #GP, #PF: record the fault, resume at [recover].
%macro FAULT_HANDLER 2
%1:
	mov qword [rel fault_vector], %2
	pop qword [rel fault_error]
	push rax
	mov rax, cr2
	mov [rel fault_cr2], rax
	mov rax, [rsp + 8]		; RIP
	mov [rel fault_rip], rax
	mov rax, [rsp + 24]		; RFLAGS
	mov [rel fault_rflags], rax
	mov rax, [rel recover]
	mov [rsp + 8], rax
	pop rax
	iretq
%endmacro
FAULT_HANDLER fault_ss, VEC_SS
FAULT_HANDLER fault_gp, VEC_GP
FAULT_HANDLER fault_pf, VEC_PF

section .data
msg_rep: db "string-io64: rep outsb to COM1 works", 10
msg_rep_len equ $ - msg_rep
msg_back: db 10, "sdrawkcab skrow 1=FD htiw bstuo per :46oi-gnirts"
msg_back_len equ $ - msg_back
msg_zero: db "ZERO-COUNT-PRINTED", 10
msg_a32: db "string-io64: a32 rep outsb wraps ESI at 4 GiB", 10
msg_a32_len equ $ - msg_a32
msg_fs:	db "string-io64: fs rep outsb adds FS's base", 10
msg_fs_len equ $ - msg_fs
msg_gs:	db "string-io64: gs rep outsb adds GS's base", 10
msg_gs_len equ $ - msg_gs
msg_wrong_prefix: db "string-io64: WRONG ", 0
msg_newline: db 10, 0
dword_value: dd 0x12345678

section .bss
alignb 4096
high_pd: resb 4096
key:	resw 1
alignb 8
buf:	resq 2
recover: resq 1
fault_vector: resq 1
fault_error: resq 1
fault_cr2: resq 1
fault_rip: resq 1
fault_rflags: resq 1
errors:	resq 1
r_rsi:	resq 1
r_rdi:	resq 1
r_rcx:	resq 1
r_value: resq 1
r_scratch: resq 1
r_exits_before: resq 1
r_exits_after: resq 1
stats:	resb 512
stats_size equ $ - stats
alignb 16
	resb 4096
stack_top:
