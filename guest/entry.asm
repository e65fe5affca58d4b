; dimvisor test guest: Multiboot 1 + 2 headers and the 32-bit entry.
;
; Multiboot 0.6.96 s3.2 / Multiboot2 s3.3: we arrive in 32-bit protected mode,
; paging off, interrupts off, EAX = 0x2BADB002 (MB1) or 0x36D76289 (MB2), EBX =
; physical address of the boot information. We check for long mode, map the
; low 4 GiB with 2 MiB pages (enough to reach the image, the boot information
; and the first page tables C builds), switch to long mode and call
; guest_main(magic, info). guest/paging.c then builds the real tables from the
; memory map (all RAM, also above 4 GiB) and replaces these.

MB1_MAGIC       equ 0x1BADB002
MB1_PAGE_ALIGN  equ 1 << 0
MB1_MEMINFO     equ 1 << 1
MB1_AOUT_KLUDGE equ 1 << 16     ; use the address fields: QEMU -kernel refuses ELF64 otherwise
MB1_FLAGS       equ MB1_PAGE_ALIGN | MB1_MEMINFO | MB1_AOUT_KLUDGE

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0

COM1            equ 0x3f8
STACK_SIZE      equ 65536

EFLAGS_ID       equ 1 << 21     ; toggles when CPUID exists
CPUID_EXT_LM    equ 1 << 29     ; CPUID 0x80000001 EDX: long mode (SDM Vol. 2A CPUID)

PTE_P_RW        equ 0x003
PTE_P_RW_PS     equ 0x083       ; present, writable, 2 MiB leaf

CR0_PE          equ 1 << 0
CR0_WP          equ 1 << 16
CR0_PG          equ 1 << 31
CR4_PAE         equ 1 << 5
MSR_EFER        equ 0xC0000080
EFER_LME        equ 1 << 8

; Selectors of the boot GDT below; guest/gdt.c installs the full GDT with the
; same kernel selectors.
SEL_CODE64      equ 0x08
SEL_DATA        equ 0x10

; guest/exit.h GUEST_EXIT_NO_LONG_MODE; keep in sync.
EXIT_NO_LONG_MODE equ 5
DEBUG_EXIT_PORT equ 0xf4        ; QEMU isa-debug-exit
BOCHS_SHUTDOWN_PORT equ 0x8900

extern __image_start, __load_end, __bss_start, __bss_end
extern guest_main

global _start32, guest_stack_top

section .multiboot1 progbits alloc noexec nowrite align=4
mb1_header:                     ; Multiboot 0.6.96 s3.1.1
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
	dd mb1_header           ; header_addr
	dd __image_start        ; load_addr
	dd __load_end           ; load_end_addr
	dd __bss_end            ; bss_end_addr
	dd _start32             ; entry_addr

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:                     ; Multiboot2 s3.1.1: the ELF headers say where to load us
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	dw 0, 0                 ; end tag
	dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
_start32:
	cli
	cld
	mov edi, eax            ; magic and info stay in EDI/ESI for guest_main
	mov esi, ebx

	; Zero .bss (stacks and boot tables live there): a loader should have
	; done it, but not every one does.
	mov ebp, edi
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov edi, ebp
	mov esp, guest_stack_top

	call serial_init32

	pushfd                  ; CPUID exists when EFLAGS.ID can be toggled
	pop eax
	mov ecx, eax
	xor eax, EFLAGS_ID
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	xor eax, ecx
	jz no_long_mode
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz no_long_mode

	; PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 512 x 2 MiB: 0..4 GiB identity.
	mov eax, boot_pdpt
	or eax, PTE_P_RW
	mov [boot_pml4], eax
	xor ecx, ecx
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, PTE_P_RW
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .pdpt
	xor ecx, ecx
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P_RW_PS
	mov [boot_pd + ecx * 8], eax
	inc ecx
	cmp ecx, 4 * 512
	jb .pd

	; SDM Vol. 3A 10.8.5: PAE, load CR3, EFER.LME, then CR0.PG activates IA-32e mode.
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP | CR0_PE
	mov cr0, eax
	lgdt [boot_gdt_ptr]
	jmp SEL_CODE64:long_mode_entry

; No CPUID or no long mode: say so, then leave through every exit we know.
no_long_mode:
	mov ebx, msg_no_long_mode
	call puts32
	mov ebx, msg_exit_status
	call puts32
	mov dx, DEBUG_EXIT_PORT
	mov eax, EXIT_NO_LONG_MODE
	out dx, eax
	mov dx, BOCHS_SHUTDOWN_PORT
	mov ebx, msg_shutdown
.shutdown:
	mov al, [ebx]
	test al, al
	jz .halt
	out dx, al
	inc ebx
	jmp .shutdown
.halt:
	cli
	hlt
	jmp .halt

; COM1 16550: 115200 8N1, FIFOs on, no interrupts (guest/console.c does the
; same in C once we are in long mode).
serial_init32:
	mov dx, COM1 + 1
	xor al, al
	out dx, al              ; IER: no interrupts
	mov dx, COM1 + 3
	mov al, 0x80
	out dx, al              ; LCR: DLAB
	mov dx, COM1
	mov al, 1
	out dx, al              ; divisor 1 = 115200
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 0x03
	out dx, al              ; 8N1
	mov dx, COM1 + 2
	mov al, 0xc7
	out dx, al              ; FIFO on and cleared
	mov dx, COM1 + 4
	mov al, 0x03
	out dx, al              ; DTR, RTS
	ret

; EBX = NUL-terminated string. The wait for THRE is bounded: no UART, no hang.
puts32:
	mov al, [ebx]
	test al, al
	jz .done
	mov ecx, 100000
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jnz .send
	dec ecx
	jnz .wait
.send:
	mov al, [ebx]
	mov dx, COM1
	out dx, al
	inc ebx
	jmp puts32
.done:
	ret

bits 64
long_mode_entry:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, guest_stack_top
	mov edi, edi            ; the upper halves are undefined after the
	mov esi, esi            ; switch: zero-extend magic and info
	xor ebp, ebp
	call guest_main
.hang:
	cli
	hlt
	jmp .hang

section .boot.data progbits alloc noexec write align=16
msg_no_long_mode:
	db 13, 10, "guest: this CPU has no 64-bit long mode (CPUID 0x80000001 EDX bit 29); cannot run the tests", 13, 10, 0
msg_exit_status:
	db "guest: exit status 5", 13, 10, 0
msg_shutdown:
	db "Shutdown", 0

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
