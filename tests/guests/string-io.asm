; A plain 32-bit multiboot kernel that uses string I/O (INS/OUTS) the way
; small test kernels do, and misuses it, in protected mode: with paging off
; (REP OUTSB, DF=1, a count of 0, a 16-bit address size that wraps SI, an ES
; override with a segment base; past a segment limit: #GP, through SS: #SS,
; through a null FS: #GP) and with 32-bit paging (into an unmapped page and
; INS into a read-only one: #PF with CR2 and the error code, the elements
; before the fault done). Every check prints a line; a wrong outcome prints
; "WRONG". It only uses what a PC has, so it runs the same natively in
; Bochs, which is how its expectations were checked (there the lines sent
; with REP OUTSB come out garbled: a real UART drops bytes sent faster than
; its line; dimvisor's is always ready). It ends by writing "Shutdown" to
; port 0x8900 with REP OUTSB: status 1, natively and under dimvisor alike.
%include "tests/guests/common.inc"
global _start
section .text

SEL_CODE	equ 0x08
SEL_FLAT	equ 0x10
SEL_WINDOW	equ 0x18	; data, base 0x20000, limit 0xfff
SEL_SS_8M	equ 0x20	; data, base 0, limit 8 MiB - 1
WINDOW_BASE	equ 0x20000
COM1		equ 0x3f8
SCRATCH		equ 0x3ff	; the 16550's scratch register: reads back what was written
VEC_SS		equ 12
VEC_GP		equ 13
VEC_PF		equ 14
PF_P		equ 1
PF_W		equ 2
RFLAGS_RF	equ 1 << 16

; TRY name ... END_TRY: arm the fault handlers to resume after the
; instruction in between, labelled name for the checks of the faulting EIP;
; then save ESI, EDI and ECX as the instruction left them.
%macro TRY 1
%push try
	mov dword [recover], %$after
	mov dword [fault_vector], -1
%1:
%endmacro
%macro END_TRY 0
%$after:
	mov [r_esi], esi
	mov [r_edi], edi
	mov [r_ecx], ecx
%pop
%endmacro

; EXPECT operand, value, "what": on a difference print "string-io: WRONG what".
%macro EXPECT 3
	cmp dword %1, %2
	je %%ok
	mov esi, %%what
	call wrong
	jmp %%ok
%%what:	db %3, 0
%%ok:
%endmacro

; PRINT "text": a console line, paced by the UART (say).
%macro PRINT 1
	mov esi, %%text
	call say
	jmp %%done
%%text:	db %1, 10, 0
%%done:
%endmacro

_start:
	SETUP_STACK
	lgdt [sio_gdt_ptr]
	jmp SEL_CODE:.reload
.reload:
	mov ax, SEL_FLAT
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov edi, idt + VEC_SS * 8
	mov eax, fault_ss
	call set_gate32
	mov edi, idt + VEC_GP * 8
	mov eax, fault_gp
	call set_gate32
	mov edi, idt + VEC_PF * 8
	mov eax, fault_pf
	call set_gate32
	lidt [idt_ptr]
	cld
	call uart_init

	; --- REP OUTSB to COM1: the line itself is the test
	mov esi, msg_rep
	mov ecx, msg_rep_len
	mov dx, COM1
	rep outsb
	mov [r_esi], esi
	mov [r_ecx], ecx
	EXPECT [r_esi], msg_rep + msg_rep_len, "rep outsb: ESI"
	EXPECT [r_ecx], 0, "rep outsb: ECX"

	; --- DF=1: the text is stored backwards and comes out forwards
	std
	mov esi, msg_back + msg_back_len - 1
	mov ecx, msg_back_len
	rep outsb
	cld
	mov [r_esi], esi
	EXPECT [r_esi], msg_back - 1, "DF=1: ESI"

	; --- a count of 0 transfers nothing
	mov esi, msg_zero
	xor ecx, ecx
	rep outsb
	mov [r_esi], esi
	EXPECT [r_esi], msg_zero, "count 0: ESI"
	PRINT "string-io: rep outsb with a count of 0 printed nothing"

	; --- 16-bit addresses (0x67): SI wraps from 0xffff to 0, the upper
	; halves of ESI and ECX stay
	mov esi, msg_a16
	mov edi, 0xfff8
	mov ecx, 8
	rep movsb
	xor edi, edi
	mov ecx, msg_a16_len - 8
	rep movsb
	mov esi, 0xabcdfff8
	mov ecx, 0x12340000 + msg_a16_len
	a16 rep outsb
	mov [r_esi], esi
	mov [r_ecx], ecx
	EXPECT [r_esi], 0xabcd0000 + msg_a16_len - 8, "a16: ESI"
	EXPECT [r_ecx], 0x12340000, "a16: ECX"

	; --- an ES: override reads through ES's base
	mov esi, msg_es
	mov edi, WINDOW_BASE + 0x100
	mov ecx, msg_es_len
	rep movsb
	mov ax, SEL_WINDOW
	mov es, ax
	mov esi, 0x100
	mov ecx, msg_es_len
	es rep outsb
	mov ax, SEL_FLAT
	mov es, ax
	mov [r_esi], esi
	EXPECT [r_esi], 0x100 + msg_es_len, "es: ESI"

	; --- a word whose second byte lies past ES's limit: #GP(0), nothing sent
	mov dx, SCRATCH
	mov al, 0x55
	out dx, al
	mov ax, SEL_WINDOW
	mov es, ax
	mov esi, 0xfff
	TRY insn_limit
	es outsw
	END_TRY
	mov ax, SEL_FLAT
	mov es, ax
	EXPECT [fault_vector], VEC_GP, "limit: #GP"
	EXPECT [fault_error], 0, "limit: error code"
	EXPECT [fault_eip], insn_limit, "limit: EIP"
	EXPECT [r_esi], 0xfff, "limit: ESI"
	in al, dx
	movzx eax, al
	mov [r_scratch], eax
	EXPECT [r_scratch], 0x55, "limit: the port was written"
	PRINT "string-io: es outsw past ES's limit: #GP(0), nothing sent"

	; --- through SS, past its limit: #SS(0)
	mov ax, SEL_SS_8M
	mov ss, ax
	mov esi, 0x900000
	TRY insn_ss
	ss outsb
	END_TRY
	mov ax, SEL_FLAT
	mov ss, ax
	EXPECT [fault_vector], VEC_SS, "SS limit: #SS"
	EXPECT [fault_error], 0, "SS limit: error code"
	PRINT "string-io: ss outsb past SS's limit: #SS(0)"

	; --- through a null FS: #GP(0)
	xor eax, eax
	mov fs, ax
	mov esi, msg_rep
	TRY insn_null_fs
	fs outsb
	END_TRY
	mov ax, SEL_FLAT
	mov fs, ax
	EXPECT [fault_vector], VEC_GP, "null FS: #GP"
	EXPECT [r_esi], msg_rep, "null FS: ESI"
	PRINT "string-io: fs outsb with a null FS: #GP(0)"

	; --- 32-bit paging: 0-4 MiB RW, 4-8 MiB read-only (CR0.WP), 8 MiB up unmapped
	mov dword [0x7ffffe], 0x2211
	mov dword [pd], 0x83		; P, RW, PS
	mov dword [pd + 4], 0x400081	; P, PS: read-only
	mov eax, cr4
	or eax, 1 << 4			; PSE
	mov cr4, eax
	mov eax, pd
	mov cr3, eax
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16)	; PG, WP
	mov cr0, eax

	mov esi, msg_paged
	mov ecx, msg_paged_len
	mov dx, COM1
	rep outsb

	; REP OUTSB running into the unmapped page: two bytes sent, then #PF
	mov esi, 0x7ffffe
	mov ecx, 5
	mov dx, SCRATCH
	TRY insn_unmapped
	rep outsb
	END_TRY
	EXPECT [fault_vector], VEC_PF, "unmapped: #PF"
	EXPECT [fault_error], 0, "unmapped: error code"
	EXPECT [fault_cr2], 0x800000, "unmapped: CR2"
	EXPECT [fault_eip], insn_unmapped, "unmapped: EIP"
	EXPECT [r_esi], 0x800000, "unmapped: ESI"
	EXPECT [r_ecx], 3, "unmapped: ECX"
	mov eax, [fault_eflags]
	and eax, RFLAGS_RF
	mov [r_rf], eax
	EXPECT [r_rf], RFLAGS_RF, "unmapped: RF pushed"
	in al, dx
	movzx eax, al
	mov [r_scratch], eax
	EXPECT [r_scratch], 0x22, "unmapped: the bytes before the fault"
	PRINT "string-io: rep outsb into an unmapped page: #PF after the bytes before it"

	; a word straddling into the unmapped page: #PF, nothing sent
	mov al, 0x55
	out dx, al
	mov esi, 0x7fffff
	TRY insn_straddle
	outsw
	END_TRY
	EXPECT [fault_vector], VEC_PF, "straddle: #PF"
	EXPECT [fault_cr2], 0x800000, "straddle: CR2"
	EXPECT [r_esi], 0x7fffff, "straddle: ESI"
	in al, dx
	movzx eax, al
	mov [r_scratch], eax
	EXPECT [r_scratch], 0x55, "straddle: the port was written"
	PRINT "string-io: outsw straddling into an unmapped page: #PF, nothing sent"

	; REP INSB into the read-only page: #PF with P and W, memory unchanged
	mov edi, 0x400000
	mov ecx, 4
	mov eax, [edi]
	mov [r_before], eax
	TRY insn_read_only
	rep insb
	END_TRY
	EXPECT [fault_vector], VEC_PF, "read-only: #PF"
	EXPECT [fault_error], PF_P | PF_W, "read-only: error code"
	EXPECT [fault_cr2], 0x400000, "read-only: CR2"
	EXPECT [r_edi], 0x400000, "read-only: EDI"
	EXPECT [r_ecx], 4, "read-only: ECX"
	mov eax, [0x400000]
	mov [r_after], eax
	mov eax, [r_before]
	EXPECT [r_after], eax, "read-only: memory written"
	PRINT "string-io: rep insb into a read-only page: #PF (P, W)"

	mov eax, cr0
	and eax, ~(1 << 31)
	mov cr0, eax

	cmp dword [errors], 0
	jne shutdown_now
	PRINT "string-io: every check passed"
shutdown_now:
	PRINT "guest: exit status 1"	; the status Bochs gives, for the launcher of a native run
	call drain
	mov esi, shutdown
	mov ecx, 8
	mov dx, 0x8900
	rep outsb
hang:	cli
	hlt
	jmp hang

; ESI = what: "string-io: WRONG what", counted in [errors]
wrong:
	push esi
	mov esi, msg_wrong_prefix
	call say
	pop esi
	call say
	mov esi, msg_newline
	call say
	inc dword [errors]
	ret

; ESI = NUL-terminated string, to COM1 one byte at a time once the UART
; can take it (LSR bit 5): a real 16550, as Bochs emulates it natively,
; drops bytes written faster than it sends them. Keeps DX.
say:
	push eax
	push edx
.next:	mov dx, COM1 + 5
.wait:	in al, dx
	test al, 0x20
	jz .wait
	lodsb
	test al, al
	jz .done
	mov dx, COM1
	out dx, al
	jmp .next
.done:	pop edx
	pop eax
	ret

; COM1 at 115200 8N1 with its FIFOs on (PC16550D data sheet): Bochs's UART
; sends nothing recognisable until told its format.
uart_init:
	mov dx, COM1 + 3
	mov al, 0x80			; LCR: DLAB
	out dx, al
	mov dx, COM1
	mov al, 1			; divisor 1
	out dx, al
	inc dx
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 0x03			; LCR: 8N1
	out dx, al
	dec dx
	mov al, 0xc7			; FCR: FIFOs on and cleared
	out dx, al
	mov dx, COM1 + 4
	mov al, 0x03			; MCR: DTR, RTS
	out dx, al
	ret

; Wait until the UART has sent everything (LSR bit 6), before the end.
drain:
	mov dx, COM1 + 5
.wait:	in al, dx
	test al, 0x40
	jz .wait
	ret

; #SS, #GP, #PF: record the fault, resume at [recover].
%macro FAULT_HANDLER 2
%1:
	mov dword [fault_vector], %2
	pop dword [fault_error]
	push eax
	mov eax, cr2
	mov [fault_cr2], eax
	mov eax, [esp + 4]		; EIP
	mov [fault_eip], eax
	mov eax, [esp + 12]		; EFLAGS
	mov [fault_eflags], eax
	mov eax, [recover]
	mov [esp + 4], eax
	pop eax
	iretd
%endmacro
FAULT_HANDLER fault_ss, VEC_SS
FAULT_HANDLER fault_gp, VEC_GP
FAULT_HANDLER fault_pf, VEC_PF

section .data
msg_rep: db "string-io: rep outsb to COM1 in protected mode", 10
msg_rep_len equ $ - msg_rep
msg_back: db 10, "sdrawkcab skrow 1=FD htiw bstuo per :oi-gnirts"
msg_back_len equ $ - msg_back
msg_zero: db "ZERO-COUNT-PRINTED", 10
msg_a16: db "string-io: a16 rep outsb wraps SI at 64 KiB", 10
msg_a16_len equ $ - msg_a16
msg_es:	db "string-io: es rep outsb adds ES's base", 10
msg_es_len equ $ - msg_es
msg_paged: db "string-io: rep outsb through 32-bit paging", 10
msg_paged_len equ $ - msg_paged
msg_wrong_prefix: db "string-io: WRONG ", 0
msg_newline: db 10, 0
shutdown: db "Shutdown"
align 8
sio_gdt: dq 0
	dq 0x00CF9A000000FFFF		; 0x08 code
	dq 0x00CF92000000FFFF		; 0x10 flat data
	dq 0x0040920200000FFF		; 0x18 base 0x20000, limit 0xfff
	dq 0x00C09200000007FF		; 0x20 base 0, limit 0x7ff pages
sio_gdt_ptr:
	dw $ - sio_gdt - 1
	dd sio_gdt
idt_ptr:
	dw 15 * 8 - 1
	dd idt

section .bss
alignb 4096
pd:	resb 4096
idt:	resb 15 * 8
recover: resd 1
fault_vector: resd 1
fault_error: resd 1
fault_cr2: resd 1
fault_eip: resd 1
fault_eflags: resd 1
r_esi:	resd 1
r_edi:	resd 1
r_ecx:	resd 1
r_rf:	resd 1
r_scratch: resd 1
r_before: resd 1
r_after: resd 1
