; A plain ELF64 kernel whose image (a bss) fills guest RAM up to its last
; page: dimvisor has no room after it for the identity map an ELF64 guest
; starts on, and must say so as a guest-image problem (status 68), not as a
; missing CPU feature. Run with mem=16M. It would print and exit 0 if started.
bits 64
section .text
global _start
_start:
	mov eax, 3              ; DV_HC_EXIT
	xor ebx, ebx
	vmcall
	hlt
section .bss
	resb 16 * 1024 * 1024 - 0x101000 - 4096
