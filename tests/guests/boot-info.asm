; A plain Multiboot 1 kernel that prints what its boot loader handed it: its
; command line and every module (where it lies, its size, its command line and
; the first line of its bytes), then leaves through QEMU's debug-exit port with
; value 3 (status 7). It sets COM1 up itself, so it prints the same natively
; in QEMU and Bochs (GRUB multiboot, QEMU -kernel) and under dimvisor.
;   boot-info: command line "ARGS"
;   boot-info: modules: 2
;   boot-info: module 0 at 0x00123000-0x00123020 (0x00000020 bytes) "CMDLINE": FIRST LINE
%include "tests/guests/common.inc"
%include "tests/guests/uart.inc"
MB1_BOOT_MAGIC	equ 0x2badb002
MB1_INFO_CMDLINE equ 1 << 2          ; Multiboot 0.6.96 3.3: flags bits
MB1_INFO_MODS	equ 1 << 3
INFO_CMDLINE	equ 16                ; offsets in the information structure
INFO_MODS_COUNT	equ 20
INFO_MODS_ADDR	equ 24
MOD_START	equ 0                 ; offsets in a module entry (16 bytes)
MOD_END		equ 4
MOD_STRING	equ 8
MOD_ENTRY_SIZE	equ 16
CONTENT_MAX	equ 60                ; bytes of a module's first line shown

global _start
section .text
_start:
	SETUP_STACK
	call uart_init
	cmp eax, MB1_BOOT_MAGIC
	jne not_multiboot
	mov ebp, ebx                  ; the information structure, kept in EBP
	mov esi, msg_cmdline
	call uart_puts
	mov esi, empty
	test dword [ebp], MB1_INFO_CMDLINE
	jz .print_cmdline
	mov esi, [ebp + INFO_CMDLINE]
.print_cmdline:
	call print_quoted
	mov al, 10
	call uart_putc
	xor ecx, ecx                  ; module count: 0 without the MODS flag
	test dword [ebp], MB1_INFO_MODS
	jz .count
	mov ecx, [ebp + INFO_MODS_COUNT]
.count:
	mov esi, msg_modules
	call uart_puts
	mov eax, ecx
	call print_decimal
	mov al, 10
	call uart_putc
	mov edi, [ebp + INFO_MODS_ADDR]
	xor ebx, ebx                  ; module index
.module:
	cmp ebx, ecx
	je .done
	call print_module
	add edi, MOD_ENTRY_SIZE
	inc ebx
	jmp .module
.done:
	call uart_flush
	mov eax, 3
	call debug_exit

not_multiboot:
	mov esi, msg_not_multiboot
	call uart_puts
	call uart_flush
	mov eax, 1
	call debug_exit

; EDI = the module entry, EBX = its index
print_module:
	pusha
	mov esi, msg_module
	call uart_puts
	mov eax, ebx
	call print_decimal
	mov esi, msg_at
	call uart_puts
	mov eax, [edi + MOD_START]
	call uart_hex
	mov al, '-'
	call uart_putc
	mov eax, [edi + MOD_END]
	call uart_hex
	mov esi, msg_open_size
	call uart_puts
	mov eax, [edi + MOD_END]
	sub eax, [edi + MOD_START]
	call uart_hex
	mov esi, msg_bytes
	call uart_puts
	mov esi, [edi + MOD_STRING]
	test esi, esi
	jnz .quoted
	mov esi, empty
.quoted:
	call print_quoted
	mov al, ':'
	call uart_putc
	mov al, ' '
	call uart_putc
	mov esi, [edi + MOD_START]
	mov ecx, [edi + MOD_END]
	sub ecx, esi
	cmp ecx, CONTENT_MAX
	jbe .content
	mov ecx, CONTENT_MAX
.content:                             ; the first line, "." for what does not print
	jecxz .end
	lodsb
	cmp al, 10
	je .end
	cmp al, ' '
	jb .dot
	cmp al, '~'
	jbe .put
.dot:	mov al, '.'
.put:	call uart_putc
	dec ecx
	jmp .content
.end:	mov al, 10
	call uart_putc
	popa
	ret

; ESI = a string, printed between double quotes
print_quoted:
	push eax
	mov al, '"'
	call uart_putc
	call uart_puts
	call uart_putc
	pop eax
	ret

; EAX = a value below 100, printed in decimal
print_decimal:
	pusha
	xor edx, edx
	mov ecx, 10
	div ecx
	test eax, eax
	jz .ones
	add al, '0'
	call uart_putc
.ones:	mov al, dl
	add al, '0'
	call uart_putc
	popa
	ret

section .data
msg_cmdline:	db "boot-info: command line ", 0
msg_modules:	db "boot-info: modules: ", 0
msg_module:	db "boot-info: module ", 0
msg_at:		db " at ", 0
msg_open_size:	db " (", 0
msg_bytes:	db " bytes) ", 0
msg_not_multiboot: db "boot-info: not started by a Multiboot 1 loader", 10, 0
empty:		db 0
