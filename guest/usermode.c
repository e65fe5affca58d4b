/* Ring 3 round trip: mapping of the .user pages and the IRETQ frame. */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pte.h"
#include "guest/gdt.h"
#include "guest/paging.h"
#include "guest/usermode.h"

#define RFLAGS_RESERVED1 (1UL << 1) /* always 1; IF stays 0 in ring 3 too */

/* What guest/user.asm's user_enter reads; keep the offsets in sync. */
struct user_entry {
	u64 rip, cs, rflags, rsp, ss;
	u64 rax, rbx, rcx, rdx, rsi;
};
_Static_assert(sizeof(struct user_entry) == 80, "user_entry layout (guest/user.asm UE_*)");

u64 user_enter(const struct user_entry *e);

extern u8 __user_start[], __user_end[];
static u8 user_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

int usermode_init(void)
{
	u64 code = (u64)__user_start, size = (u64)__user_end - (u64)__user_start;
	int rc;

	rc = paging_map(USER_CODE_VA, code, size, X86_PTE_US);
	if (rc)
		return rc;
	return paging_map(USER_STACK_VA, (u64)user_stack, PAGE_SIZE, X86_PTE_US | X86_PTE_RW);
}

u64 usermode_va(const void *sym)
{
	return USER_CODE_VA + ((u64)sym - (u64)__user_start);
}

u64 usermode_run(const u8 *stub, const struct user_regs *regs)
{
	struct user_entry e = {
		.rip = usermode_va(stub),
		.cs = GDT_USER_CS | GDT_RPL_USER,
		.rflags = RFLAGS_RESERVED1,
		.rsp = USER_STACK_VA + PAGE_SIZE,
		.ss = GDT_USER_DS | GDT_RPL_USER,
		.rax = regs->rax,
		.rbx = regs->rbx,
		.rcx = regs->rcx,
		.rdx = regs->rdx,
		.rsi = regs->rsi,
	};

	return user_enter(&e);
}
