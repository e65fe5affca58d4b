#include "arch/x86_64/gdt.h"

#define CRITICAL_STACK_SIZE 16384

struct tss64 boot_tss __attribute__((aligned(16)));
static u8 critical_stack[CRITICAL_STACK_SIZE] __attribute__((aligned(16)));

void tss_init(void)
{
	boot_tss.ist[IST_CRITICAL - 1] = (u64)(critical_stack + CRITICAL_STACK_SIZE);
	/* No I/O permission bitmap: the offset points past the TSS limit. */
	boot_tss.iomap_base = sizeof(struct tss64);
}
