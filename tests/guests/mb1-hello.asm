; A plain Multiboot 1 kernel that knows nothing of dimvisor: 32-bit protected
; mode only, no paging, no hypercalls. It prints one line to COM1 and leaves
; through QEMU's isa-debug-exit port with status 7 (QEMU then exits with
; (7 << 1) | 1 = 15). This is the kind of kernel people write for QEMU
; -kernel; under dimvisor it must behave exactly the same.
;
; Build: nasm -f elf32 + ld -m elf_i386 -Ttext 0x100000 (an ELF32 image, so
; no a.out-kludge fields are needed: Multiboot 0.6.96 s3.1.3).

MB1_MAGIC   equ 0x1BADB002
MB1_FLAGS   equ 0                   ; nothing requested: ELF tells where to load
COM1        equ 0x3f8
LSR_THRE    equ 0x20                ; line status: transmitter holding register empty
DEBUG_EXIT  equ 0xf4
STATUS      equ 7

section .text
bits 32
align 4
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)

global _start
_start:
	cli
	mov esp, stack_top
	mov esi, message
.next:
	lodsb
	test al, al
	jz .done
	mov ah, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, LSR_THRE
	jz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	jmp .next
.done:
	mov dx, DEBUG_EXIT
	mov al, STATUS
	out dx, al
.halt:                              ; no isa-debug-exit: stop here
	hlt
	jmp .halt

section .rodata
message:
	db "hello from a plain multiboot kernel", 13, 10, 0

section .bss
align 16
	resb 4096
stack_top:
