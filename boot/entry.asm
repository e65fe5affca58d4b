; dimvisor entry: the shared 32-bit start (boot/early.inc), then a GDT with a
; TSS, the boot stack, and dv_main(magic, info) in long mode.

%include "early.inc"

BOOT_STACK_SIZE equ 65536
SEL_CODE64      equ 0x08
SEL_DATA        equ 0x10
SEL_TSS         equ 0x18
EXIT_NO_LONG_MODE equ 0         ; QEMU exits with (0 << 1) | 1 = 1; dimvisor's status 1

extern dv_main, boot_tss
global _start32, boot_pml4, boot_stack_top, gdt

MULTIBOOT_HEADERS

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start32:
	EARLY_START boot_stack_top
	; TSS descriptor base (boot_tss lies below 4 GiB: the image is linked at 1 MiB)
	mov eax, boot_tss
	mov [gdt_tss + 2], ax
	shr eax, 16
	mov [gdt_tss + 4], al
	mov [gdt_tss + 7], ah
	ENTER_LONG_MODE gdt_ptr, SEL_CODE64, long_mode_entry

	EARLY_ROUTINES EXIT_NO_LONG_MODE

bits 64
long_mode_entry:
	mov ax, SEL_TSS
	ltr ax
	CALL_C_ENTRY SEL_DATA, boot_stack_top, dv_main

section .boot.data progbits alloc noexec write align=16
msg_no_long_mode:
	db 13, 10, "dimvisor: this CPU does not support 64-bit long mode (CPUID 0x80000001 EDX bit 29); cannot start", 13, 10, 0
msg_no_long_mode_status:
	db "dimvisor: exit status 1", 13, 10, 0

align 16
gdt:
	dq 0                    ; 0x00 null
	dq 0x00AF9A000000FFFF   ; 0x08 64-bit code, DPL 0
	dq 0x00CF92000000FFFF   ; 0x10 data, DPL 0
gdt_tss:                        ; 0x18 64-bit TSS (available), 16 bytes; base filled at boot
	dw 0x67                 ; limit: 104-byte TSS
	dw 0
	db 0
	db 0x89                 ; present, type 9
	db 0
	db 0
	dd 0
	dd 0
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dq gdt

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4 * 4096
boot_stack: resb BOOT_STACK_SIZE
boot_stack_top:
