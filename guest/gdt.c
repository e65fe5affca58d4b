/* GDT and TSS. Descriptor formats: SDM Vol. 3A 3.4.5 (segment descriptors),
 * 5.2.1 (L bit: 64-bit code), 8.2.3 (the 16-byte TSS descriptor in IA-32e
 * mode) and 8.7 (the 64-bit TSS). */
#include "arch/x86_64/desc.h"
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/gdt.h"

#define KERNEL_STACK_SIZE   (16 * KiB) /* ring 3 -> ring 0 entries */
#define CRITICAL_STACK_SIZE (16 * KiB) /* #DF, NMI, #MC */

#define DESC_CODE64_DPL0   0x00AF9A000000FFFFULL /* P, S, execute/read, L */
#define DESC_DATA_DPL0	   0x00CF92000000FFFFULL /* P, S, read/write */
#define DESC_DATA_DPL3	   0x00CFF2000000FFFFULL
#define DESC_CODE64_DPL3   0x00AFFA000000FFFFULL
#define DESC_TSS_AVAILABLE 0x89ULL /* P, type 9: available 64-bit TSS */

static u64 gdt[GDT_TSS / 8 + 2] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static u8 kernel_stack[KERNEL_STACK_SIZE] __attribute__((aligned(16)));
static u8 critical_stack[CRITICAL_STACK_SIZE] __attribute__((aligned(16)));

static void set_tss_descriptor(u64 *slot, u64 base, u32 limit)
{
	slot[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (DESC_TSS_AVAILABLE << 40) |
		  ((u64)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	slot[1] = base >> 32;
}

/* Far return to reload CS (a plain mov cannot), then the data segments. */
static void load_segments(void)
{
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w[ds], %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 :
			 : [cs] "i"(GDT_KERNEL_CS), [ds] "i"(GDT_KERNEL_DS)
			 : "rax", "memory");
}

void gdt_init(void)
{
	gdt[GDT_KERNEL_CS / 8] = DESC_CODE64_DPL0;
	gdt[GDT_KERNEL_DS / 8] = DESC_DATA_DPL0;
	gdt[GDT_USER_DS / 8] = DESC_DATA_DPL3;
	gdt[GDT_USER_CS / 8] = DESC_CODE64_DPL3;
	set_tss_descriptor(&gdt[GDT_TSS / 8], (u64)&tss, sizeof(tss) - 1);

	tss.rsp[0] = (u64)(kernel_stack + sizeof(kernel_stack));
	tss.ist[GDT_IST_CRITICAL - 1] = (u64)(critical_stack + sizeof(critical_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 gets no ports (IOPL 0) */

	struct desc_ptr p = {.limit = sizeof(gdt) - 1, .base = (u64)gdt};
	__asm__ volatile("lgdt %0" : : "m"(p) : "memory");
	load_segments();
	__asm__ volatile("ltr %w0" : : "r"((u16)GDT_TSS) : "memory");
}
