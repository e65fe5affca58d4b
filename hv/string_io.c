#include "hv/string_io.h"
#include "hv/cpu_rules.h"
#include "arch/x86_64/cpu.h"
#include <dimvisor/errno.h>

#define RFLAGS_DF (1ULL << 10) /* SDM Vol. 1 3.4.3 */

#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14

#define SIO_PAGE_OFFSET 0xfffULL
#define MAX_INSN_LEN	15 /* SDM Vol. 2A 2.3.11 */

/* One execution: the instruction, where it goes, and the last page of the
 * operand translated (elements walk through memory a page at a time). */
struct sio_run {
	const struct sio_insn *insn;
	const struct sio_ops *ops;
	struct sio_result *res;
	bool cached;
	u64 cached_la;	 /* the linear page */
	u8 *cached_page; /* its host address */
};

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (8 * addr_size)) - 1;
}

/* A register written with the address size, as the CPU writes it: 16 bits
 * keep bits 63:16, 32 bits zero-extend (SDM Vol. 1 3.4.1.1). */
static u64 put_sized(u64 old, u64 value, u8 addr_size)
{
	u64 m = addr_mask(addr_size);

	return addr_size == 2 ? (old & ~m) | (value & m) : value & m;
}

/* The exception, as the CPU raises it: an error code only in protected mode
 * (a #GP or #SS of real mode pushes none); RF set in the pushed RFLAGS, as
 * for every fault-class exception (SDM Vol. 3B 18.3.1.1). */
static bool fault(struct sio_run *r, u8 vector, u32 error_code)
{
	r->res->outcome = SIO_FAULT;
	r->res->vector = vector;
	r->res->has_error = r->insn->protected_mode;
	r->res->error_code = error_code;
	return false;
}

/* Outside 64-bit mode: may the element at offset off be accessed through the
 * segment? SDM Vol. 3A 5.3 (limits, expand-down up to 64 KiB or 4 GiB with
 * D/B), 5.4.1 (an unusable segment, a write to a code or read-only segment,
 * a read of an execute-only one). In real mode only the limit counts. A flat
 * 4 GiB segment wraps instead of faulting, as in Bochs. */
static bool segment_allows(const struct sio_insn *in, u64 off)
{
	const struct vcpu_segment *s = &in->seg;
	u64 last = off + in->size - 1;

	if (in->protected_mode) {
		if (!s->usable)
			return false;
		if (in->in ? !s->writable : !s->readable)
			return false;
	}
	if (s->expand_down)
		return off > s->limit && last <= (s->big ? 0xffffffffULL : 0xffffULL);
	return s->limit == 0xffffffffu || last <= s->limit;
}

/* The linear address of the element at offset off, or false with the fault.
 * 64-bit mode: only FS and GS have a base, ES CS SS DS overrides are ignored
 * (SDM Vol. 1 3.3.7.1), and an address that is not canonical at either end
 * is a #GP. Elsewhere: the segment's checks (#SS through SS), then base +
 * offset, within 4 GiB. */
static bool element_address(struct sio_run *r, u64 off, u64 *la)
{
	const struct sio_insn *in = r->insn;

	if (in->mode64) {
		bool based = in->sreg == VCPU_FS || in->sreg == VCPU_GS;

		*la = (based ? in->seg.base : 0) + off;
		if (!is_canonical(*la, in->linear_bits) ||
		    !is_canonical(*la + in->size - 1, in->linear_bits))
			return fault(r, VEC_GP, 0);
		return true;
	}
	if (!segment_allows(in, off))
		return fault(r, in->sreg == VCPU_SS ? VEC_SS : VEC_GP, 0);
	*la = (u32)(in->seg.base + off);
	return true;
}

/* Translate the page of linear address a into the cache, or false with the
 * #PF (CR2 = a), or with the address that is not guest RAM. */
static bool map_page(struct sio_run *r, u64 a)
{
	u64 gpa = 0;
	u32 pf_error = 0;
	int err = r->ops->translate(r->ops->ctx, a, r->insn->in, r->insn->user, &gpa, &pf_error);
	u8 *page;

	if (err == -DV_EFAULT) {
		r->res->cr2 = a;
		return fault(r, VEC_PF, pf_error);
	}
	if (err < 0)
		return fault(r, VEC_GP, 0);
	page = r->ops->ram_page(r->ops->ctx, gpa & ~SIO_PAGE_OFFSET);
	if (!page) {
		r->res->outcome = SIO_NOT_RAM;
		r->res->la = a;
		r->res->gpa = gpa;
		return false;
	}
	r->cached = true;
	r->cached_la = a & ~SIO_PAGE_OFFSET;
	r->cached_page = page;
	return true;
}

/* Host addresses of the element's bytes at la, in address order so that
 * when it straddles two pages the first fault is the CPU's; false with the
 * result filled. Nothing has been transferred yet when this fails. */
static bool element_bytes(struct sio_run *r, u64 la, u8 *bytes[4])
{
	for (unsigned i = 0; i < r->insn->size; i++) {
		u64 a = r->insn->mode64 ? la + i : (u32)(la + i);

		if ((!r->cached || (a & ~SIO_PAGE_OFFSET) != r->cached_la) && !map_page(r, a))
			return false;
		bytes[i] = r->cached_page + (a & SIO_PAGE_OFFSET);
	}
	return true;
}

/* One element between the port and memory (little-endian). The port is
 * read only once the memory is known to be writable, so a fault leaves the
 * device untouched (Bochs does the same). false: the device ended the run. */
static bool transfer(const struct sio_insn *in, const struct sio_ops *ops, u8 *const bytes[4])
{
	u32 value = 0;

	if (in->in) {
		value = ops->port_in(ops->ctx, in->port, in->size);
		for (unsigned i = 0; i < in->size; i++)
			*bytes[i] = (u8)(value >> (8 * i));
		return true;
	}
	for (unsigned i = 0; i < in->size; i++)
		value |= (u32)*bytes[i] << (8 * i);
	return ops->port_out(ops->ctx, in->port, in->size, value);
}

void sio_execute(const struct sio_insn *insn, struct sio_regs *regs, const struct sio_ops *ops,
		 unsigned max_iterations, struct sio_result *res)
{
	struct sio_run r = {.insn = insn, .ops = ops, .res = res};
	u64 *pointer = insn->in ? &regs->rdi : &regs->rsi;
	u64 mask = addr_mask(insn->addr_size);
	u64 step = (regs->rflags & RFLAGS_DF) ? -(u64)insn->size : insn->size;

	*res = (struct sio_result){.outcome = SIO_DONE};
	if (insn->rep && (regs->rcx & mask) == 0) {
		/* Nothing is transferred. Intel CPUs still write ECX with 32-bit
		 * addresses in 64-bit mode, clearing RCX[63:32] (what KVM found
		 * and emulates); elsewhere that half is not visible. */
		regs->rcx = put_sized(regs->rcx, 0, insn->addr_size);
		regs->rflags &= ~RFLAGS_RF;
		return;
	}
	for (;;) {
		u64 off = *pointer & mask, la;
		u8 *bytes[4];
		bool go_on;

		if (!element_address(&r, off, &la) || !element_bytes(&r, la, bytes)) {
			if (res->outcome == SIO_FAULT)
				regs->rflags |= RFLAGS_RF;
			return;
		}
		go_on = transfer(insn, ops, bytes);
		*pointer = put_sized(*pointer, off + step, insn->addr_size);
		if (insn->rep)
			regs->rcx = put_sized(regs->rcx, (regs->rcx & mask) - 1, insn->addr_size);
		res->iterations++;
		if (!go_on) {
			res->outcome = SIO_STOPPED;
			return;
		}
		if (!insn->rep || (regs->rcx & mask) == 0) {
			regs->rflags &= ~RFLAGS_RF;
			return;
		}
		if (res->iterations >= max_iterations) {
			res->outcome = SIO_AGAIN;
			regs->rflags |= RFLAGS_RF;
			return;
		}
	}
}

/* Segment-override prefixes. SDM Vol. 2A 2.1.1. */
static bool segment_prefix(u8 b, enum vcpu_sreg *sreg)
{
	static const struct {
		u8 prefix;
		enum vcpu_sreg sreg;
	} prefixes[] = {{0x26, VCPU_ES}, {0x2e, VCPU_CS}, {0x36, VCPU_SS},
			{0x3e, VCPU_DS}, {0x64, VCPU_FS}, {0x65, VCPU_GS}};

	for (unsigned i = 0; i < ARRAY_SIZE(prefixes); i++) {
		if (prefixes[i].prefix == b) {
			*sreg = prefixes[i].sreg;
			return true;
		}
	}
	return false;
}

bool sio_decode_prefixes(const u8 *bytes, unsigned n, bool mode64, bool cs_big, u8 *addr_size,
			 enum vcpu_sreg *sreg)
{
	enum vcpu_sreg seg = VCPU_DS;
	bool addr_override = false;

	for (unsigned i = 0; i < n && i < MAX_INSN_LEN; i++) {
		u8 b = bytes[i];

		if (segment_prefix(b, &seg))
			continue;
		if (b == 0x67) {
			addr_override = true;
			continue;
		}
		if (b == 0x66 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
		    (mode64 && (b & 0xf0) == 0x40))
			continue; /* operand size, LOCK, REP, REX: no say in the operand */
		if (b < 0x6c || b > 0x6f)
			return false;
		if (mode64)
			*addr_size = addr_override ? 4 : 8;
		else
			*addr_size = cs_big != addr_override ? 4 : 2;
		if (mode64 && seg != VCPU_FS && seg != VCPU_GS)
			seg = VCPU_DS;
		*sreg = b <= 0x6d ? VCPU_ES : seg; /* 6C 6D: INS, whose operand is ES:rDI */
		return true;
	}
	return false;
}
