/* The string I/O exit: hv/string_io.c's engine on the vCPU, with the
 * guest's own paging (hv/gva.c), guest RAM and the port devices (hv/io.c). */
#include "hv/string_io.h"
#include "arch/x86_64/cpu.h"
#include "hv/gva.h"
#include "hv/io.h"
#include "lib/log.h"
#include "lib/printf.h"
#include <dimvisor/exitcodes.h>

#define VEC_PF 14

static int translate(void *ctx, u64 la, bool write, bool user, u64 *gpa, u32 *pf_error)
{
	u32 acc = (write ? WALK_ACC_WRITE : 0) | (user ? WALK_ACC_USER : 0);

	return gva_translate(ctx, la, acc, gpa, pf_error);
}

static u8 *ram_page(void *ctx, u64 gpa)
{
	const struct vcpu *v = ctx;

	return guestmem_ptr(v->mem, gpa, PAGE_SIZE);
}

static u32 port_in(void *ctx, u16 port, unsigned size)
{
	return io_port_read(ctx, port, size);
}

static bool port_out(void *ctx, u16 port, unsigned size, u32 value)
{
	struct vcpu *v = ctx;

	io_port_write(v, port, size, value);
	return !v->stopped;
}

/* The operand's address size and segment: as the exit reports them, or from
 * the instruction's prefixes on a CPU that does not report them. */
static bool find_operand(const struct vcpu *v, struct sio_insn *insn)
{
	const struct vcpu_exit *e = &v->exit;
	struct vcpu_segment cs;
	u8 bytes[15];
	unsigned n;

	if (e->io.addr_size) {
		insn->addr_size = e->io.addr_size;
		insn->sreg = e->io.in ? VCPU_ES : e->io.sreg;
		return true;
	}
	vcpu_get_segment(v, VCPU_CS, &cs);
	n = gva_fetch_instruction(v, bytes, sizeof(bytes));
	return sio_decode_prefixes(bytes, n, insn->mode64, cs.big, &insn->addr_size, &insn->sreg);
}

static void report_not_ram(struct vcpu *v, const struct sio_insn *insn,
			   const struct sio_result *res)
{
	kprintf("\ndimvisor: guest %s%c %s port 0x%x at RIP 0x%lx: its operand at linear 0x%lx is "
		"guest-physical 0x%lx, not guest RAM and no device there\n",
		insn->in ? "INS" : "OUTS", "?BW?D"[insn->size], insn -> in ? "from" : "to",
		insn->port, vcpu_get(v, VCPU_RIP), res->la, res->gpa);
	kprintf("dimvisor: stopping the guest, as for any access there; the hypervisor is "
		"unaffected\n");
	vcpu_dump(v);
	vcpu_stop(v, DV_EXIT_GUEST_FAULT);
}

static void inject_fault(struct vcpu *v, const struct sio_insn *insn, const struct sio_result *res)
{
	if (res->vector == VEC_PF)
		v->regs.cr2 = res->cr2;
	kdebug("string-io: %s at RIP 0x%lx after %lu elements: vector %u, error 0x%x, CR2 0x%lx\n",
	       insn->in ? "INS" : "OUTS", vcpu_get(v, VCPU_RIP), res->iterations, res->vector,
	       res->error_code, res->cr2);
	vcpu_inject_exception(v, res->vector, res->has_error, res->error_code);
}

void string_io_handle_exit(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	struct sio_insn insn = {.port = e->io.port,
				.size = e->io.size,
				.in = e->io.in,
				.rep = e->io.rep,
				.mode64 = vcpu_in_64bit_mode(v),
				.protected_mode = vcpu_get(v, VCPU_CR0) & CR0_PE,
				.user = vcpu_cpl(v) == 3,
				.linear_bits = vcpu_get(v, VCPU_CR4) & CR4_BIT_LA57 ? 57 : 48};
	struct sio_regs regs = {v->regs.rcx, v->regs.rsi, v->regs.rdi, vcpu_get(v, VCPU_RFLAGS)};
	const struct sio_ops ops = {translate, ram_page, port_in, port_out, v};
	struct sio_result res;

	if (!find_operand(v, &insn)) {
		kprintf("\ndimvisor: string I/O on port 0x%x at RIP 0x%lx: the CPU did not report "
			"its operand and no INS/OUTS could be decoded there\n",
			e->io.port, vcpu_get(v, VCPU_RIP));
		vcpu_dump(v);
		vcpu_stop(v, DV_EXIT_VMX_FAILURE);
		return;
	}
	vcpu_get_segment(v, insn.sreg, &insn.seg);
	sio_execute(&insn, &regs, &ops, STRING_IO_BATCH, &res);
	v->regs.rcx = regs.rcx;
	v->regs.rsi = regs.rsi;
	v->regs.rdi = regs.rdi;
	vcpu_set(v, VCPU_RFLAGS, regs.rflags);
	switch (res.outcome) {
	case SIO_DONE:
		vcpu_skip_instruction(v);
		break;
	case SIO_AGAIN: /* RIP stays: the CPU executes it again for the rest */
	case SIO_STOPPED:
		break;
	case SIO_FAULT:
		inject_fault(v, &insn, &res);
		break;
	case SIO_NOT_RAM:
		report_not_ram(v, &insn, &res);
		break;
	}
}
