; dimvisor test guest: Multiboot 1 + 2 headers and the 32-bit entry.
;
; Multiboot 0.6.96 s3.2 / Multiboot2 s3.3: we arrive in 32-bit protected mode,
; paging off, interrupts off, EAX = 0x2BADB002 (MB1) or 0x36D76289 (MB2), EBX =
; physical address of the boot information. We check for long mode, map the
; low 4 GiB (1 GiB pages when the CPU has them, else 2 MiB: enough to reach the
; image, the boot information and the first page tables C builds), switch to
; long mode and call
; guest_main(magic, info). guest/paging.c then builds the real tables from the
; memory map (all RAM, also above 4 GiB) and replaces these.

; The start is shared with dimvisor: boot/early.inc.

%include "early.inc"

STACK_SIZE      equ 65536
; Selectors of the boot GDT below; guest/gdt.c installs the full GDT with the
; same kernel selectors.
SEL_CODE64      equ 0x08
SEL_DATA        equ 0x10
; guest/exit.h GUEST_EXIT_NO_LONG_MODE; keep in sync.
EXIT_NO_LONG_MODE equ 5

extern guest_main
global _start32, guest_stack_top

MULTIBOOT_HEADERS

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start32:
	EARLY_START guest_stack_top
	ENTER_LONG_MODE boot_gdt_ptr, SEL_CODE64, long_mode_entry

	EARLY_ROUTINES EXIT_NO_LONG_MODE

bits 64
long_mode_entry:
	CALL_C_ENTRY SEL_DATA, guest_stack_top, guest_main

section .boot.data progbits alloc noexec write align=16
msg_no_long_mode:
	db 13, 10, "guest: this CPU has no 64-bit long mode (CPUID 0x80000001 EDX bit 29); cannot run the tests", 13, 10, 0
msg_no_long_mode_status:
	db "guest: exit status 5", 13, 10, 0

align 16
boot_gdt:
	dq 0                    ; null
	dq 0x00AF9A000000FFFF   ; 0x08: 64-bit code, DPL 0
	dq 0x00CF92000000FFFF   ; 0x10: data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dd boot_gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4 * 4096
guest_stack: resb STACK_SIZE
guest_stack_top:
