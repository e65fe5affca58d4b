/* hv/string_io.c: INS and OUTS executed as the CPU executes them, against a
 * fake guest: 64 KiB of RAM at gPA 0, linear addresses identity-mapped below
 * 64 KiB except pages marked unmapped or read-only, a few extra mappings,
 * and a port that records what is written and answers reads from a script. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/string_io.h"
#include "mm/model/walk.h"
#include <dimvisor/errno.h>

#define RAM_SIZE  0x10000ULL
#define DF	  (1ULL << 10)
#define RF	  (1ULL << 16)
#define FLAT_4G	  0xffffffffu
#define VEC_SS	  12
#define VEC_GP	  13
#define VEC_PF	  14
#define NOT_RAM	  0x100000ULL /* a gPA past RAM */
#define MAX_EXTRA 4
#define NO_PAGE	  1 /* never a page address */

static u8 ram[RAM_SIZE];
static struct {
	u64 unmapped, readonly; /* one linear page each (NO_PAGE: none) */
	struct {
		u64 la, gpa;
	} extra[MAX_EXTRA]; /* linear page -> gPA page */
	unsigned nextra;
	bool last_user; /* what the last walk was asked */
} paging;
static struct {
	u8 out[4096];
	unsigned nout; /* bytes written, in order (each value little-endian) */
	unsigned writes, reads;
	u32 in_values[16];   /* what reads return, in turn */
	unsigned stop_after; /* the write that ends the run (0: never) */
} port;

static int translate(void *ctx, u64 la, bool write, bool user, u64 *gpa, u32 *pf_error)
{
	u64 page = la & ~0xfffULL;
	u32 acc = (write ? WALK_PF_W : 0) | (user ? WALK_PF_U : 0);

	(void)ctx;
	paging.last_user = user;
	for (unsigned i = 0; i < paging.nextra; i++) {
		if (paging.extra[i].la == page) {
			*gpa = paging.extra[i].gpa | (la & 0xfff);
			return 0;
		}
	}
	if (la >= RAM_SIZE || page == paging.unmapped) {
		*pf_error = acc;
		return -DV_EFAULT;
	}
	if (write && page == paging.readonly) {
		*pf_error = WALK_PF_P | acc;
		return -DV_EFAULT;
	}
	*gpa = la;
	return 0;
}

static u8 *ram_page(void *ctx, u64 gpa)
{
	(void)ctx;
	return gpa < RAM_SIZE ? ram + gpa : NULL;
}

static u32 port_in(void *ctx, u16 p, unsigned size)
{
	(void)ctx;
	assert_int_equal(p, 0x511);
	assert_true(size == 1 || size == 2 || size == 4);
	return port.in_values[port.reads++ % 16];
}

static bool port_out(void *ctx, u16 p, unsigned size, u32 value)
{
	(void)ctx;
	assert_int_equal(p, 0x3f8);
	for (unsigned i = 0; i < size; i++)
		port.out[port.nout++ % sizeof(port.out)] = (u8)(value >> (8 * i));
	return ++port.writes != port.stop_after;
}

static const struct sio_ops ops = {translate, ram_page, port_in, port_out, NULL};

/* An extra mapping of the linear page la to the gPA page gpa. */
static void map(u64 la, u64 gpa)
{
	assert_true(paging.nextra < MAX_EXTRA);
	paging.extra[paging.nextra].la = la;
	paging.extra[paging.nextra++].gpa = gpa;
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0, sizeof(ram));
	memset(&paging, 0, sizeof(paging));
	paging.unmapped = paging.readonly = NO_PAGE;
	memset(&port, 0, sizeof(port));
	return 0;
}

/* A flat 32-bit data segment (what a 64-bit kernel's DS/ES also hold). */
static struct vcpu_segment flat(void)
{
	return (struct vcpu_segment){
		.limit = FLAT_4G, .usable = true, .readable = true, .writable = true, .big = true};
}

/* OUTS of size bytes to COM1 in 64-bit mode, REP or not. */
static struct sio_insn outs64(u8 size, bool rep)
{
	return (struct sio_insn){.port = 0x3f8,
				 .size = size,
				 .addr_size = 8,
				 .rep = rep,
				 .sreg = VCPU_DS,
				 .seg = flat(),
				 .mode64 = true,
				 .protected_mode = true,
				 .linear_bits = 48};
}

/* INS from fw_cfg's data port in 64-bit mode. */
static struct sio_insn ins64(u8 size, bool rep)
{
	struct sio_insn in = outs64(size, rep);

	in.port = 0x511;
	in.in = true;
	in.sreg = VCPU_ES;
	return in;
}

/* The same in 32-bit protected mode with a 32-bit (or 16-bit) address size. */
static struct sio_insn outs32(u8 size, bool rep, u8 addr_size)
{
	struct sio_insn in = outs64(size, rep);

	in.mode64 = false;
	in.addr_size = addr_size;
	return in;
}

static void run(const struct sio_insn *in, struct sio_regs *r, struct sio_result *res)
{
	sio_execute(in, r, &ops, STRING_IO_BATCH, res);
}

/* ---- the instruction used as intended ---------------------------------- */

static void rep_outsb_sends_each_byte(void **state)
{
	struct sio_insn in = outs64(1, true);
	struct sio_regs r = {.rcx = 5, .rsi = 0x100, .rdi = 0x777, .rflags = RF | 2};
	struct sio_result res;

	(void)state;
	memcpy(ram + 0x100, "hello", 5);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_int_equal(res.iterations, 5);
	assert_int_equal(port.nout, 5);
	assert_memory_equal(port.out, "hello", 5);
	assert_int_equal(r.rsi, 0x105);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(r.rdi, 0x777);
	assert_int_equal(r.rflags, 2); /* RF cleared: the instruction completed */
}

static void outsw_and_outsd_are_little_endian_and_leave_rcx(void **state)
{
	struct sio_insn w = outs64(2, false), d = outs64(4, false);
	struct sio_regs r = {.rcx = 0x99, .rsi = 0x200};
	struct sio_result res;

	(void)state;
	memcpy(ram + 0x200, "\x34\x12\x78\x56\x34\x12", 6);
	run(&w, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_int_equal(r.rsi, 0x202);
	run(&d, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_int_equal(r.rsi, 0x206);
	assert_int_equal(r.rcx, 0x99); /* no REP: the count register is not touched */
	assert_int_equal(port.writes, 2);
	assert_memory_equal(port.out, "\x34\x12\x78\x56\x34\x12", 6);
}

static void rep_insb_fills_memory_from_the_port(void **state)
{
	struct sio_insn in = ins64(1, true);
	struct sio_regs r = {.rcx = 4, .rsi = 0x555, .rdi = 0x300};
	struct sio_result res;

	(void)state;
	memcpy(port.in_values, (u32[]){'Q', 'E', 'M', 'U'}, 4 * sizeof(u32));
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_memory_equal(ram + 0x300, "QEMU", 4);
	assert_int_equal(ram[0x304], 0);
	assert_int_equal(r.rdi, 0x304);
	assert_int_equal(r.rsi, 0x555);
	assert_int_equal(r.rcx, 0);
	assert_int_equal(port.reads, 4);
}

static void insw_and_insd_store_little_endian(void **state)
{
	struct sio_insn w = ins64(2, false), d = ins64(4, false);
	struct sio_regs r = {.rdi = 0x400};
	struct sio_result res;

	(void)state;
	port.in_values[0] = 0x4551;
	port.in_values[1] = 0x554d4551;
	run(&w, &r, &res);
	run(&d, &r, &res);
	assert_memory_equal(ram + 0x400, "QEQEMU", 6);
	assert_int_equal(r.rdi, 0x406);
}

static void direction_flag_goes_backwards(void **state)
{
	struct sio_insn out = outs64(1, true), in = ins64(2, true);
	struct sio_regs r = {.rcx = 4, .rsi = 0x503, .rdi = 0x602, .rflags = DF};
	struct sio_result res;

	(void)state;
	memcpy(ram + 0x500, "dcba", 4);
	run(&out, &r, &res);
	assert_memory_equal(port.out, "abcd", 4);
	assert_int_equal(r.rsi, 0x4ff);
	r.rcx = 2;
	port.in_values[0] = 0x2211;
	port.in_values[1] = 0x4433;
	run(&in, &r, &res);
	assert_memory_equal(ram + 0x600, "\x33\x44\x11\x22", 4);
	assert_int_equal(r.rdi, 0x5fe);
	assert_int_equal(r.rflags, DF);
}

static void rep_count_zero_does_nothing(void **state)
{
	struct sio_insn out = outs64(1, true), in = ins64(4, true);
	struct sio_regs r = {.rcx = 0, .rsi = 0x100, .rdi = 0x200, .rflags = RF};
	struct sio_result res;

	(void)state;
	run(&out, &r, &res);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_int_equal(res.iterations, 0);
	assert_int_equal(port.writes + port.reads, 0);
	assert_int_equal(r.rsi, 0x100);
	assert_int_equal(r.rdi, 0x200);
	assert_int_equal(r.rflags, 0);
	/* ECX = 0 with 32-bit addresses in 64-bit mode: RCX[63:32] cleared */
	out.addr_size = 4;
	r.rcx = 0x1234567800000000ULL;
	run(&out, &r, &res);
	assert_int_equal(res.iterations, 0);
	assert_int_equal(r.rcx, 0);
	/* CX = 0 with 16-bit addresses: the rest of RCX stays */
	out = outs32(1, true, 2);
	r.rcx = 0x12340000;
	run(&out, &r, &res);
	assert_int_equal(res.iterations, 0);
	assert_int_equal(r.rcx, 0x12340000);
}

/* 0x67 in 64-bit code: ESI and ECX, wrapping at 4 GiB, zero-extended. */
static void address_size_32_in_64bit_mode_wraps(void **state)
{
	struct sio_insn in = outs64(1, true);
	struct sio_regs r = {.rcx = 0xabcd00000005ULL, .rsi = 0xdead0000fffffffdULL};
	struct sio_result res;

	(void)state;
	in.addr_size = 4;
	map(0xfffff000, 0x3000);
	memcpy(ram + 0x3ffd, "wra", 3);
	memcpy(ram + 0x0, "p!", 2);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_memory_equal(port.out, "wrap!", 5);
	assert_int_equal(r.rsi, 2);
	assert_int_equal(r.rcx, 0);
}

/* 0x67 in 32-bit code: SI and CX only, the upper halves kept. */
static void address_size_16_wraps_within_si(void **state)
{
	struct sio_insn in = outs32(1, true, 2);
	struct sio_regs r = {.rcx = 0x12340003, .rsi = 0xabcdfffe};
	struct sio_result res;

	(void)state;
	ram[0xfffe] = 'x', ram[0xffff] = 'y', ram[0] = 'z';
	run(&in, &r, &res);
	assert_memory_equal(port.out, "xyz", 3);
	assert_int_equal(r.rsi, 0xabcd0001);
	assert_int_equal(r.rcx, 0x12340000);
}

static void segment_base_outside_64bit_mode(void **state)
{
	struct sio_insn in = outs32(2, false, 4);
	struct sio_regs r = {.rsi = 0x20};
	struct sio_result res;

	(void)state;
	in.sreg = VCPU_ES; /* an ES: override */
	in.seg.base = 0x1000;
	memcpy(ram + 0x1020, "es", 2);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_memory_equal(port.out, "es", 2);
	assert_int_equal(r.rsi, 0x22);
}

/* 64-bit mode: FS and GS bases apply; other segments' bases are ignored. */
static void only_fs_and_gs_have_a_base_in_64bit_mode(void **state)
{
	struct sio_insn in = outs64(1, false);
	struct sio_regs r = {.rsi = 0x10};
	struct sio_result res;

	(void)state;
	ram[0x10] = 'd';
	ram[0x2010] = 'f';
	in.seg.base = 0x2000;
	run(&in, &r, &res);
	in.sreg = VCPU_FS;
	r.rsi = 0x10;
	run(&in, &r, &res);
	in.sreg = VCPU_GS;
	r.rsi = 0x10;
	run(&in, &r, &res);
	assert_memory_equal(port.out, "dff", 3);
}

/* ---- misuse: the faults the CPU gives ------------------------------------ */

static void past_the_limit_is_gp_or_ss(void **state)
{
	struct sio_insn in = outs32(2, false, 4);
	struct sio_regs r = {.rsi = 0xfff};
	struct sio_result res;

	(void)state;
	in.seg.limit = 0xfff;
	in.seg.big = false;
	run(&in, &r, &res); /* the word's second byte is past the limit */
	assert_int_equal(res.outcome, SIO_FAULT);
	assert_int_equal(res.vector, VEC_GP);
	assert_true(res.has_error);
	assert_int_equal(res.error_code, 0);
	assert_int_equal(r.rsi, 0xfff);
	assert_int_equal(port.writes, 0);
	in.sreg = VCPU_SS;
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_SS);
	in.protected_mode = false; /* real mode: no error code */
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_SS);
	assert_false(res.has_error);
	r.rsi = 0xffe;
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
}

static void expand_down_segments_allow_above_the_limit(void **state)
{
	struct sio_insn in = outs32(2, false, 4);
	struct sio_regs r = {.rsi = 0x800};
	struct sio_result res;

	(void)state;
	in.seg.limit = 0xfff;
	in.seg.expand_down = true;
	in.seg.big = false; /* valid offsets: 0x1000..0xffff */
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	r.rsi = 0xfffe;
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	r.rsi = 0xffff; /* its second byte at 0x10000 */
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	in.seg.big = true; /* valid up to 4 GiB */
	r.rsi = 0xffff;
	map(0x10000, 0x4000);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
}

static void segment_types_and_null_selectors_are_gp(void **state)
{
	struct sio_insn out = outs32(1, false, 4), in = ins64(1, false);
	struct sio_regs r = {.rsi = 0x10, .rdi = 0x10};
	struct sio_result res;

	(void)state;
	out.seg.usable = false; /* a null selector in DS */
	run(&out, &r, &res);
	assert_int_equal(res.vector, VEC_GP);
	out.seg = flat();
	out.seg.code = true, out.seg.readable = false, out.seg.writable = false;
	run(&out, &r, &res); /* execute-only code */
	assert_int_equal(res.outcome, SIO_FAULT);
	out.seg.readable = true;
	run(&out, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
	in.mode64 = false;
	in.seg.writable = false; /* INS into read-only data */
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	assert_int_equal(res.vector, VEC_GP);
	assert_int_equal(port.reads, 0);
	in.mode64 = true; /* no segment checks in 64-bit mode */
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_DONE);
}

static void non_canonical_is_gp_in_64bit_mode(void **state)
{
	struct sio_insn in = outs64(4, true);
	struct sio_regs r = {.rcx = 3, .rsi = 0x0000800000000000ULL};
	struct sio_result res;

	(void)state;
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	assert_int_equal(res.vector, VEC_GP);
	assert_true(res.has_error);
	assert_int_equal(res.error_code, 0);
	assert_int_equal(r.rcx, 3);
	r.rsi = 0x00007ffffffffffeULL; /* canonical, but not its last bytes */
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_GP);
	in.sreg = VCPU_SS; /* an SS: prefix is ignored in 64-bit mode: still #GP */
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_GP);
	assert_int_equal(port.writes, 0);
	in.linear_bits = 57; /* 5-level paging: canonical; then not mapped */
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_PF);
}

static void unmapped_page_faults_after_the_elements_before_it(void **state)
{
	struct sio_insn in = outs64(1, true);
	struct sio_regs r = {.rcx = 4, .rsi = 0x4ffe};
	struct sio_result res;

	(void)state;
	paging.unmapped = 0x5000;
	memcpy(ram + 0x4ffe, "ok", 2);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	assert_int_equal(res.vector, VEC_PF);
	assert_int_equal(res.cr2, 0x5000);
	assert_int_equal(res.error_code, 0); /* not present, read, supervisor */
	assert_int_equal(res.iterations, 2);
	assert_memory_equal(port.out, "ok", 2);
	assert_int_equal(r.rsi, 0x5000);
	assert_int_equal(r.rcx, 2);
	assert_true(r.rflags & RF); /* pushed with the fault, which restarts it */
}

static void element_straddling_an_unmapped_page_transfers_nothing(void **state)
{
	struct sio_insn in = outs64(4, false);
	struct sio_regs r = {.rsi = 0x4ffe};
	struct sio_result res;

	(void)state;
	paging.unmapped = 0x5000;
	in.user = true;
	run(&in, &r, &res);
	assert_int_equal(res.vector, VEC_PF);
	assert_int_equal(res.cr2, 0x5000);
	assert_int_equal(res.error_code, WALK_PF_U);
	assert_true(paging.last_user);
	assert_int_equal(port.writes, 0);
	assert_int_equal(r.rsi, 0x4ffe);
}

static void ins_to_a_read_only_page_faults_before_reading_the_port(void **state)
{
	struct sio_insn in = ins64(2, true);
	struct sio_regs r = {.rcx = 8, .rdi = 0x6000};
	struct sio_result res;

	(void)state;
	paging.readonly = 0x6000;
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_FAULT);
	assert_int_equal(res.vector, VEC_PF);
	assert_int_equal(res.error_code, WALK_PF_P | WALK_PF_W);
	assert_int_equal(res.cr2, 0x6000);
	assert_int_equal(port.reads, 0);
	assert_int_equal(r.rcx, 8);
}

static void memory_that_is_not_ram_touches_nothing(void **state)
{
	struct sio_insn in = ins64(1, true);
	struct sio_regs r = {.rcx = 2, .rdi = 0x7fff};
	struct sio_result res;

	(void)state;
	map(0x8000, NOT_RAM);
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_NOT_RAM);
	assert_int_equal(res.la, 0x8000);
	assert_int_equal(res.gpa, NOT_RAM);
	assert_int_equal(res.iterations, 1);
	assert_int_equal(port.reads, 1);
	assert_int_equal(r.rdi, 0x8000);
	assert_int_equal(r.rcx, 1);
}

/* A long REP: STRING_IO_BATCH elements per call, RIP left on the
 * instruction (SIO_AGAIN, RF set) until the last batch completes it. */
static void huge_count_completes_in_batches(void **state)
{
	struct sio_insn in = outs64(1, true);
	struct sio_regs r = {.rcx = 1000, .rsi = 0x1000};
	struct sio_result res;
	unsigned calls = 0;

	(void)state;
	for (unsigned i = 0; i < 1000; i++)
		ram[0x1000 + i] = (u8)i;
	do {
		run(&in, &r, &res);
		calls++;
		if (res.outcome == SIO_AGAIN) {
			assert_int_equal(res.iterations, STRING_IO_BATCH);
			assert_true(r.rflags & RF);
		}
	} while (res.outcome == SIO_AGAIN && calls < 100);
	assert_int_equal(res.outcome, SIO_DONE);
	assert_int_equal(calls, (1000 + STRING_IO_BATCH - 1) / STRING_IO_BATCH);
	assert_int_equal(port.writes, 1000);
	assert_int_equal(port.out[999], (u8)999);
	assert_int_equal(r.rsi, 0x1000 + 1000);
	assert_int_equal(r.rcx, 0);
	assert_false(r.rflags & RF);
}

static void a_device_that_ends_the_run_stops_the_loop(void **state)
{
	struct sio_insn in = outs64(1, true);
	struct sio_regs r = {.rcx = 10, .rsi = 0x100};
	struct sio_result res;

	(void)state;
	port.stop_after = 3;
	run(&in, &r, &res);
	assert_int_equal(res.outcome, SIO_STOPPED);
	assert_int_equal(res.iterations, 3);
	assert_int_equal(r.rcx, 7);
	assert_int_equal(r.rsi, 0x103);
}

/* ---- the operand from the prefixes, when the CPU does not report it ------ */

static void prefixes_give_address_size_and_segment(void **state)
{
	u8 asz = 0;
	enum vcpu_sreg s = VCPU_CS;

	(void)state;
	/* rep outsb in 64-bit mode */
	assert_true(sio_decode_prefixes((const u8 *)"\xf3\x6e", 2, true, false, &asz, &s));
	assert_int_equal(asz, 8);
	assert_int_equal(s, VCPU_DS);
	/* a32 rep gs outsd with REX.W */
	assert_true(
		sio_decode_prefixes((const u8 *)"\x67\xf3\x65\x48\x6f", 5, true, false, &asz, &s));
	assert_int_equal(asz, 4);
	assert_int_equal(s, VCPU_GS);
	/* ss outsb in 64-bit mode: the override is ignored */
	assert_true(sio_decode_prefixes((const u8 *)"\x36\x6e", 2, true, false, &asz, &s));
	assert_int_equal(s, VCPU_DS);
	/* es outsw (66) in 32-bit code, and a16 */
	assert_true(sio_decode_prefixes((const u8 *)"\x26\x66\x6f", 3, false, true, &asz, &s));
	assert_int_equal(asz, 4);
	assert_int_equal(s, VCPU_ES);
	assert_true(sio_decode_prefixes((const u8 *)"\x67\x6e", 2, false, true, &asz, &s));
	assert_int_equal(asz, 2);
	/* 16-bit code: a16 by default, a32 with 0x67 */
	assert_true(sio_decode_prefixes((const u8 *)"\x6e", 1, false, false, &asz, &s));
	assert_int_equal(asz, 2);
	assert_true(sio_decode_prefixes((const u8 *)"\x67\x6e", 2, false, false, &asz, &s));
	assert_int_equal(asz, 4);
	/* INS: ES whatever the prefix */
	assert_true(sio_decode_prefixes((const u8 *)"\x64\xf3\x6d", 3, false, true, &asz, &s));
	assert_int_equal(s, VCPU_ES);
	/* no INS/OUTS: a REX byte outside 64-bit mode is INC; too many prefixes; too short */
	assert_false(sio_decode_prefixes((const u8 *)"\x48\x6e", 2, false, true, &asz, &s));
	assert_false(sio_decode_prefixes((const u8 *)"\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
						     "\x66\x66\x66\x66\x66\x6e",
					 16, true, false, &asz, &s));
	assert_false(sio_decode_prefixes((const u8 *)"\xf3", 1, true, false, &asz, &s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(rep_outsb_sends_each_byte, setup),
		cmocka_unit_test_setup(outsw_and_outsd_are_little_endian_and_leave_rcx, setup),
		cmocka_unit_test_setup(rep_insb_fills_memory_from_the_port, setup),
		cmocka_unit_test_setup(insw_and_insd_store_little_endian, setup),
		cmocka_unit_test_setup(direction_flag_goes_backwards, setup),
		cmocka_unit_test_setup(rep_count_zero_does_nothing, setup),
		cmocka_unit_test_setup(address_size_32_in_64bit_mode_wraps, setup),
		cmocka_unit_test_setup(address_size_16_wraps_within_si, setup),
		cmocka_unit_test_setup(segment_base_outside_64bit_mode, setup),
		cmocka_unit_test_setup(only_fs_and_gs_have_a_base_in_64bit_mode, setup),
		cmocka_unit_test_setup(past_the_limit_is_gp_or_ss, setup),
		cmocka_unit_test_setup(expand_down_segments_allow_above_the_limit, setup),
		cmocka_unit_test_setup(segment_types_and_null_selectors_are_gp, setup),
		cmocka_unit_test_setup(non_canonical_is_gp_in_64bit_mode, setup),
		cmocka_unit_test_setup(unmapped_page_faults_after_the_elements_before_it, setup),
		cmocka_unit_test_setup(element_straddling_an_unmapped_page_transfers_nothing,
				       setup),
		cmocka_unit_test_setup(ins_to_a_read_only_page_faults_before_reading_the_port,
				       setup),
		cmocka_unit_test_setup(memory_that_is_not_ram_touches_nothing, setup),
		cmocka_unit_test_setup(huge_count_completes_in_batches, setup),
		cmocka_unit_test_setup(a_device_that_ends_the_run_stops_the_loop, setup),
		cmocka_unit_test_setup(prefixes_give_address_size_and_segment, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
