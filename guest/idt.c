/* IDT and the exception dump. Gate format: SDM Vol. 3A 6.14.1 (64-bit IDT
 * gate descriptors); exception names and error codes: Table 6-1 and 6.13. */
#include "arch/x86_64/desc.h"
#include "arch/x86_64/exception.h"
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/exit.h"
#include "guest/fixup.h"
#include "guest/gdt.h"
#include "guest/idt.h"
#include "guest/tests.h"
#include "guest/usermode.h"
#include "lib/printf.h"

#define IDT_ENTRIES    256
#define EXCEPTIONS     32
#define GATE_INTERRUPT 0xe /* 64-bit interrupt gate: IF cleared on entry */
#define GATE_PRESENT   0x80
#define GATE_DPL(d)    ((d) << 5)

#define PF_ERR_P    (1u << 0)
#define PF_ERR_W    (1u << 1)
#define PF_ERR_U    (1u << 2)
#define PF_ERR_RSVD (1u << 3)
#define PF_ERR_I    (1u << 4)

#define SEL_ERR_EXT (1u << 0)
#define SEL_ERR_IDT (1u << 1)
#define SEL_ERR_TI  (1u << 2)

extern const u64 isr_stubs[IDT_ENTRIES];
static trap_handler handlers[IDT_ENTRIES];
extern const struct fixup __fixup_start[], __fixup_end[];
static struct idt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static int dumping;
static u64 last_fixup_rflags;

static void set_gate(unsigned vector, u64 handler, unsigned ist, unsigned dpl)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = GDT_KERNEL_CS,
		.ist = (u8)ist,
		.type_attr = GATE_PRESENT | GATE_DPL(dpl) | GATE_INTERRUPT,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = (u32)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_ENTRIES; v++) {
		bool critical = v == 2 || v == 8 || v == 18; /* NMI, #DF, #MC */
		set_gate(v, isr_stubs[v], critical ? GDT_IST_CRITICAL : 0, 0);
	}
	/* DPL 3 so that ring 3 may raise it with INT (SDM Vol. 3A 6.12.1.1). */
	set_gate(USER_RETURN_VECTOR, (u64)user_return, 0, GDT_RPL_USER);

	struct desc_ptr p = {.limit = sizeof(idt) - 1, .base = (u64)idt};
	lidt(&p);
}

/* SDM Vol. 3A 4.7: the page-fault error code. */
static void print_pf_error(u64 err)
{
	kprintf("guest:   page fault: %s, %s, %s%s%s\n",
		err & PF_ERR_P ? "protection violation" : "page not present",
		err & PF_ERR_W ? "write" : "read", err & PF_ERR_U ? "user mode" : "supervisor mode",
		err & PF_ERR_RSVD ? ", reserved bit set" : "",
		err & PF_ERR_I ? ", instruction fetch" : "");
}

/* SDM Vol. 3A 6.13: #TS, #NP, #SS, #GP name a selector or an IDT vector. */
static void print_selector_error(u64 err)
{
	if (err == 0)
		return;
	kprintf("guest:   error code names %s index %lu%s\n",
		err & SEL_ERR_IDT ? "IDT" : (err & SEL_ERR_TI ? "LDT" : "GDT"), (err & 0xfff8) >> 3,
		err & SEL_ERR_EXT ? " (external event)" : "");
}

/* VMCALL is 0F 01 C1 (SDM Vol. 2B); outside VMX non-root it raises #UD. */
static bool is_vmcall_at(u64 rip)
{
	const u8 *p = (const u8 *)rip;

	return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xc1;
}

/* An exception in ring 0 at an instruction listed in .fixup resumes at its
 * fixup with RAX = vector, RDX = error code. */
static bool apply_fixup(struct trap_frame *f)
{
	if (f->cs & 3)
		return false;
	for (const struct fixup *x = __fixup_start; (u64)x < (u64)__fixup_end; x++) {
		if (x->fault_rip != f->rip)
			continue;
		last_fixup_rflags = f->rflags;
		f->rip = x->resume_rip;
		f->rax = f->vector;
		f->rdx = f->error_code;
		return true;
	}
	return false;
}

void idt_set_handler(unsigned vector, trap_handler fn)
{
	if (vector < IDT_ENTRIES)
		handlers[vector] = fn;
}

u64 fixup_last_rflags(void)
{
	return last_fixup_rflags;
}

void trap_dispatch(struct trap_frame *f)
{
	const char *test = tests_current();

	if (handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	/* Only an exception is an instruction's: an interrupt arriving just
	 * before a listed instruction must not take its fixup. */
	if (f->vector < EXCEPTIONS && apply_fixup(f))
		return;
	if (dumping++) {
		kprintf("\nguest: nested CPU exception (vector %lu at RIP 0x%lx) while reporting "
			"one\n",
			f->vector, f->rip);
		guest_exit(GUEST_EXIT_EXCEPTION);
	}
	kprintf("\nguest: %s %s (vector %lu) in ring %lu%s%s%s\n",
		f->vector < EXCEPTIONS ? "CPU exception" : "unexpected interrupt",
		f->vector < EXCEPTIONS ? exception_name((unsigned)f->vector) : "", f->vector,
		f->cs & 3, test ? " during test '" : "", test ? test : "", test ? "'" : "");
	kprintf("guest:   error code 0x%lx\n", f->error_code);
	if (f->vector == 14)
		print_pf_error(f->error_code);
	if (f->vector >= 10 && f->vector <= 13)
		print_selector_error(f->error_code);
	if (f->vector == 6 && is_vmcall_at(f->rip))
		kprintf("guest:   the instruction is VMCALL: no hypervisor handled it\n");
	kprintf("guest:   RIP 0x%016lx  CS 0x%lx  RFLAGS 0x%lx\n", f->rip, f->cs, f->rflags);
	kprintf("guest:   RSP 0x%016lx  SS 0x%lx\n", f->rsp, f->ss);
	kprintf("guest:   CR2 0x%016lx  CR3 0x%016lx\n", read_cr2(), read_cr3());
	kprintf("guest:   CR0 0x%016lx  CR4 0x%016lx\n", read_cr0(), read_cr4());
	kprintf("guest:   RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", f->rax, f->rbx, f->rcx,
		f->rdx);
	kprintf("guest:   RSI %016lx RDI %016lx RBP %016lx R8  %016lx\n", f->rsi, f->rdi, f->rbp,
		f->r8);
	kprintf("guest:   R9  %016lx R10 %016lx R11 %016lx R12 %016lx\n", f->r9, f->r10, f->r11,
		f->r12);
	kprintf("guest:   R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
	guest_exit(GUEST_EXIT_EXCEPTION);
}
