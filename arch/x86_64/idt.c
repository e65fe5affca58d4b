#include "arch/x86_64/desc.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exception.h"
#include "arch/x86_64/fixup.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/platform.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

#define IDT_VECTORS    32
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern const u64 isr_stub_table[IDT_VECTORS];
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static int trap_depth;

static void set_gate(unsigned vector, u64 handler, u8 ist)
{
	struct idt_gate *g = &idt[vector];

	g->offset_lo = handler & 0xffff;
	g->selector = SEL_KERNEL_CS;
	g->ist = ist;
	g->type_attr = GATE_INTERRUPT;
	g->offset_mid = (handler >> 16) & 0xffff;
	g->offset_hi = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		bool critical = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */
		set_gate(v, isr_stub_table[v], critical ? IST_CRITICAL : 0);
	}
	struct desc_ptr p = {.limit = sizeof(idt) - 1, .base = (u64)idt};
	lidt(&p);
}

/* #PF error code bits: SDM Vol. 3A 4.7. */
static void print_pf_error(u64 err)
{
	kprintf("  page fault: %s, %s, %s%s%s\n", err & 1 ? "protection violation" : "not present",
		err & 2 ? "write" : "read", err & 4 ? "user" : "supervisor",
		err & 8 ? ", reserved bit set" : "", err & 16 ? ", instruction fetch" : "");
}

static void dump_trap(const struct trap_frame *tf)
{
	kprintf("\ndimvisor: CPU exception %s (vector %lu) in the hypervisor\n",
		exception_name(tf->vector), tf->vector);
	kprintf("  error code 0x%lx\n", tf->error_code);
	if (tf->vector == 14)
		print_pf_error(tf->error_code);
	kprintf("  RIP %016lx  CS %04lx  RFLAGS %016lx\n", tf->rip, tf->cs, tf->rflags);
	kprintf("  RSP %016lx  SS %04lx\n", tf->rsp, tf->ss);
	kprintf("  CR0 %016lx  CR2 %016lx\n", read_cr0(), read_cr2());
	kprintf("  CR3 %016lx  CR4 %016lx\n", read_cr3(), read_cr4());
	kprintf("  RAX %016lx  RBX %016lx  RCX %016lx\n", tf->rax, tf->rbx, tf->rcx);
	kprintf("  RDX %016lx  RSI %016lx  RDI %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	kprintf("  RBP %016lx  R8  %016lx  R9  %016lx\n", tf->rbp, tf->r8, tf->r9);
	kprintf("  R10 %016lx  R11 %016lx  R12 %016lx\n", tf->r10, tf->r11, tf->r12);
	kprintf("  R13 %016lx  R14 %016lx  R15 %016lx\n", tf->r13, tf->r14, tf->r15);
}

static u64 host_nmis;

u64 idt_host_nmi_count(void)
{
	return host_nmis;
}

void trap_dispatch(struct trap_frame *tf)
{
	/* An NMI is not a bug of ours (watchdogs, hardware error reports): say so
	 * and resume. It runs on its own IST stack, so it may interrupt anything. */
	if (tf->vector == 2) {
		host_nmis++;
		kprintf("dimvisor: NMI while the hypervisor ran, at RIP 0x%lx; resuming\n",
			tf->rip);
		return;
	}
	/* An instruction run with a guest's value faulted: its wrapper reports
	 * it (the guest gets the fault), the hypervisor goes on. */
	if (tf->vector != 8 && tf->vector != 18 && fixup_apply(tf))
		return;
	/* A fault while dumping a fault: say the minimum and stop. */
	if (++trap_depth > 1) {
		kprintf("\ndimvisor: nested CPU exception %lu at RIP %lx while reporting another\n",
			tf->vector, tf->rip);
		platform_exit(DV_EXIT_PANIC);
	}
	dump_trap(tf);
	platform_exit(DV_EXIT_PANIC);
}
