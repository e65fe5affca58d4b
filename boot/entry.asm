; dimvisor entry: Multiboot 1 + Multiboot 2 headers, 32-bit protected-mode
; entry, long-mode check, identity map of the first 4 GiB, GDT with a TSS,
; switch to long mode and call dv_main(magic, info) with a proper stack.
;
; Multiboot 0.6.96 s3.2: entered in 32-bit protected mode, paging off,
; EAX = 0x2BADB002 (MB1) or 0x36D76289 (MB2), EBX = physical info address.

MB1_MAGIC       equ 0x1BADB002
MB1_PAGE_ALIGN  equ 1 << 0
MB1_MEMINFO     equ 1 << 1
MB1_AOUT_KLUDGE equ 1 << 16     ; use the address fields below (QEMU -kernel needs it for ELF64)
MB1_FLAGS       equ MB1_PAGE_ALIGN | MB1_MEMINFO | MB1_AOUT_KLUDGE

MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0

COM1            equ 0x3f8
BOOT_STACK_SIZE equ 65536

CPUID_EXT_LM    equ 1 << 29     ; CPUID 0x80000001 EDX: long mode
CPUID_EXT_1G    equ 1 << 26     ; CPUID 0x80000001 EDX: 1 GiB pages
CPUID_EXT_NX    equ 1 << 20     ; CPUID 0x80000001 EDX: execute disable

PTE_P_RW        equ 0x003
PTE_P_RW_PS     equ 0x083

extern __image_start, __load_end, __bss_start, __bss_end
extern dv_main, boot_tss

global _start32, boot_pml4, boot_stack_top, boot_has_1g_pages

section .multiboot1 progbits alloc noexec nowrite align=4
mb1_header:
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
	dd mb1_header           ; header_addr
	dd __image_start        ; load_addr
	dd __load_end           ; load_end_addr
	dd __bss_end            ; bss_end_addr
	dd _start32             ; entry_addr

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
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
	mov edi, eax            ; multiboot magic, kept in EDI/ESI for dv_main
	mov esi, ebx            ; multiboot info

	; Zero .bss (tables and stack live there). Loaders should have done it;
	; doing it here costs microseconds and removes a dependency on them.
	mov ebx, edi
	mov edx, esi
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov edi, ebx
	mov esi, edx
	mov esp, boot_stack_top

	call early_serial_init

	; CPUID present? (EFLAGS.ID toggles)
	pushfd
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	xor eax, ecx
	jz .no_long_mode

	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz .no_long_mode
	mov ebp, edx            ; keep the extended feature bits

	; PML4[0] -> PDPT
	mov eax, boot_pdpt
	or eax, PTE_P_RW
	mov [boot_pml4], eax

	test ebp, CPUID_EXT_1G
	jz .map_2m
	mov byte [boot_has_1g_pages], 1
	xor ecx, ecx
.map_1g:                        ; PDPT[i] = i GiB, 1 GiB leaf
	mov eax, ecx
	shl eax, 30
	or eax, PTE_P_RW_PS
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .map_1g
	jmp .tables_done

.map_2m:                        ; PDPT[i] -> PD i, 2048 leaves of 2 MiB
	xor ecx, ecx
.pdpt_loop:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, PTE_P_RW
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jb .pdpt_loop
	xor ecx, ecx
.pd_loop:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P_RW_PS
	mov [boot_pd + ecx * 8], eax
	inc ecx
	cmp ecx, 2048
	jb .pd_loop

.tables_done:
	; TSS descriptor base (boot_tss lies below 4 GiB: the image is linked at 1 MiB)
	mov eax, boot_tss
	mov [gdt_tss + 2], ax
	shr eax, 16
	mov [gdt_tss + 4], al
	mov [gdt_tss + 7], ah

	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, 1 << 5          ; PAE
	mov cr4, eax
	mov ecx, 0xC0000080     ; IA32_EFER
	rdmsr
	or eax, 1 << 8          ; LME
	test ebp, CPUID_EXT_NX
	jz .no_nx
	or eax, 1 << 11         ; NXE, so NX bits in our tables are legal
.no_nx:
	wrmsr
	mov eax, cr0
	and eax, ~((1 << 30) | (1 << 29))       ; caches on: clear CD, NW
	or eax, (1 << 31) | (1 << 16) | (1 << 5) | 1  ; PG, WP, NE (VMXON needs it), PE
	mov cr0, eax
	lgdt [gdt_ptr]
	jmp 0x08:long_mode_entry

.no_long_mode:
	mov ebx, msg_no_long_mode
	call early_puts
	mov ebx, msg_exit_status
	call early_puts
	; QEMU isa-debug-exit (status 1 -> QEMU exits 3), Bochs shutdown port (exit 1)
	mov dx, 0xf4
	mov al, 1
	out dx, al
	mov dx, 0x8900
	mov ebx, msg_shutdown
.shutdown_loop:
	mov al, [ebx]
	test al, al
	jz .dead
	out dx, al
	inc ebx
	jmp .shutdown_loop
.dead:
	cli
	hlt
	jmp .dead

; 16550 on COM1, 115200 8N1, FIFOs on, interrupts off.
early_serial_init:
	mov dx, COM1 + 1
	xor al, al
	out dx, al              ; IER = 0
	mov dx, COM1 + 3
	mov al, 0x80
	out dx, al              ; LCR: DLAB
	mov dx, COM1
	mov al, 1
	out dx, al              ; DLL = 1 (115200)
	mov dx, COM1 + 1
	xor al, al
	out dx, al              ; DLM = 0
	mov dx, COM1 + 3
	mov al, 0x03
	out dx, al              ; 8N1
	mov dx, COM1 + 2
	mov al, 0xc7
	out dx, al              ; FIFO enable + clear
	mov dx, COM1 + 4
	mov al, 0x0b
	out dx, al              ; DTR, RTS, OUT2
	ret

; EBX = NUL-terminated string. Bounded wait for THRE so a missing UART cannot hang us.
early_puts:
	mov al, [ebx]
	test al, al
	jz .done
	mov ecx, 100000
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jnz .ready
	dec ecx
	jnz .wait
.ready:
	mov al, [ebx]
	mov dx, COM1
	out dx, al
	inc ebx
	jmp early_puts
.done:
	ret

bits 64
long_mode_entry:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov ax, 0x18
	ltr ax
	mov rsp, boot_stack_top
	mov edi, edi            ; upper halves are undefined after the switch:
	mov esi, esi            ; zero-extend magic and info pointer
	xor ebp, ebp
	call dv_main
.hang:
	cli
	hlt
	jmp .hang

section .boot.data progbits alloc noexec write align=16
msg_no_long_mode:
	db 13, 10, "dimvisor: this CPU does not support 64-bit long mode (CPUID 0x80000001 EDX bit 29); cannot start", 13, 10, 0
msg_exit_status:
	db "dimvisor: exit status 1", 13, 10, 0
msg_shutdown:
	db "Shutdown", 0

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

global gdt
boot_has_1g_pages:
	db 0

section .bss
align 4096
boot_pml4:  resb 4096
boot_pdpt:  resb 4096
boot_pd:    resb 4 * 4096
boot_stack: resb BOOT_STACK_SIZE
boot_stack_top:
