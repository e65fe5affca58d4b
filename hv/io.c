#include "hv/io.h"
#include "hv/legacy.h"
#include "hv/string_io.h"
#include "arch/x86_64/serial.h"
#include "lib/printf.h"
#include "lib/string.h"

struct port_device {
	u16 base, count;
	const char *name;
	u32 (*in)(struct vcpu *v, u16 port, unsigned size);
	void (*out)(struct vcpu *v, u16 port, unsigned size, u32 val);
};

/* --- console output shared by COM1 and port 0xe9 --- */
static void guest_putc(u8 c)
{
	if (c == '\r')
		return; /* serial_write turns '\n' into "\r\n" itself */
	char ch = (char)c;
	serial_write(&ch, 1);
}

/* --- COM1: a 16550 that is always ready to send and never has input.
 * Register layout: PC16550D datasheet. */
#define COM1_BASE 0x3f8
static struct {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
} uart = {.dll = 1};

static u32 uart_in(struct vcpu *v, u16 port, unsigned size)
{
	bool dlab = uart.lcr & 0x80;

	(void)v;
	(void)size;
	switch (port - COM1_BASE) {
	case 0:
		return dlab ? uart.dll : 0; /* RBR: no input */
	case 1:
		return dlab ? uart.dlm : uart.ier;
	case 2:
		return (uart.fcr & 1 ? 0xc0 : 0) | 0x01; /* IIR: no interrupt pending */
	case 3:
		return uart.lcr;
	case 4:
		return uart.mcr;
	case 5:
		return 0x60; /* LSR: THR empty, transmitter empty */
	case 6:
		return 0xb0; /* MSR: DCD, DSR, CTS */
	default:
		return uart.scr;
	}
}

static void uart_out(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	bool dlab = uart.lcr & 0x80;
	u8 b = (u8)val;

	(void)v;
	(void)size;
	switch (port - COM1_BASE) {
	case 0:
		if (dlab)
			uart.dll = b;
		else
			guest_putc(b);
		break;
	case 1:
		if (dlab)
			uart.dlm = b;
		else
			uart.ier = b & 0x0f;
		break;
	case 2:
		uart.fcr = b;
		break;
	case 3:
		uart.lcr = b;
		break;
	case 4:
		uart.mcr = b;
		break;
	case 7:
		uart.scr = b;
		break;
	}
}

/* --- QEMU isa-debug-exit at 0xf4: QEMU exits with (value << 1) | 1, and so
 * does dimvisor, so scripts written for QEMU read the same status. */
static void debug_exit_out(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	int status = (int)(((val << 1) | 1) & 0xff);

	(void)port;
	(void)size;
	kprintf("\ndimvisor: guest wrote 0x%x to the debug-exit port 0xf4 (status %d, as QEMU "
		"reports it)\n",
		val, status);
	vcpu_stop(v, status);
}

/* --- Bochs: "Shutdown" written to 0x8900 powers off; 0xe9 is a console. */
static const char shutdown_word[] = "Shutdown";
static unsigned shutdown_matched;

static void bochs_shutdown_out(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	(void)port;
	(void)size;
	shutdown_matched = (u8)val == (u8)shutdown_word[shutdown_matched] ? shutdown_matched + 1
									  : ((u8)val == 'S');
	if (shutdown_matched == sizeof(shutdown_word) - 1) {
		kprintf("\ndimvisor: guest wrote \"Shutdown\" to port 0x8900 (status 1, as Bochs "
			"reports it)\n");
		vcpu_stop(v, 1);
	}
}

static void e9_out(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	(void)v;
	(void)port;
	(void)size;
	guest_putc((u8)val);
}

static u32 e9_in(struct vcpu *v, u16 port, unsigned size)
{
	(void)v;
	(void)port;
	(void)size;
	return 0xe9; /* what Bochs's port_e9_hack answers */
}

/* --- QEMU fw_cfg, traditional I/O interface: select a key on 0x510 (16-bit),
 * read its bytes from 0x511. Keys: QEMU docs/specs/fw_cfg.rst and
 * include/standard-headers/linux/qemu_fw_cfg.h. */
#define FW_CFG_SIGNATURE    0x00
#define FW_CFG_ID	    0x01
#define FW_CFG_RAM_SIZE	    0x03
#define FW_CFG_NB_CPUS	    0x05
#define FW_CFG_MAX_CPUS	    0x0f
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15

static struct {
	u16 key;
	u32 offset;
	u64 ram_bytes;
	const char *cmdline;
} fwcfg;

static void fwcfg_out(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	(void)v;
	(void)size;
	if (port == 0x510) {
		fwcfg.key = (u16)val;
		fwcfg.offset = 0;
	}
}

/* Byte `off` of item `key`, or 0 for absent keys and past the end. */
static u8 fwcfg_byte(u16 key, u32 off)
{
	u64 num;
	u32 len;

	switch (key) {
	case FW_CFG_SIGNATURE:
		return off < 4 ? (u8) "QEMU"[off] : 0;
	case FW_CFG_ID:
		num = 1, len = 4; /* traditional interface, no DMA */
		break;
	case FW_CFG_RAM_SIZE:
		num = fwcfg.ram_bytes, len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		num = 1, len = 2;
		break;
	case FW_CFG_CMDLINE_SIZE:
		num = strlen(fwcfg.cmdline) + 1, len = 4;
		break;
	case FW_CFG_CMDLINE_DATA:
		return off <= strlen(fwcfg.cmdline) ? (u8)fwcfg.cmdline[off] : 0;
	default:
		return 0;
	}
	return off < len ? (u8)(num >> (8 * off)) : 0;
}

static u32 fwcfg_in(struct vcpu *v, u16 port, unsigned size)
{
	u32 val = 0;

	(void)v;
	if (port != 0x511)
		return 0xffffffff;
	for (unsigned i = 0; i < size; i++)
		val |= (u32)fwcfg_byte(fwcfg.key, fwcfg.offset++) << (8 * i);
	return val;
}

static const struct port_device devices[] = {
	{COM1_BASE, 8, "COM1", uart_in, uart_out},
	{0xf4, 4, "debug-exit", NULL, debug_exit_out},
	{0x510, 2, "fw_cfg", fwcfg_in, fwcfg_out},
	{0x20, 2, "PIC master", legacy_in, legacy_out},
	{0xa0, 2, "PIC slave", legacy_in, legacy_out},
	{0x40, 4, "PIT", legacy_in, legacy_out},
	{0x61, 1, "system control B (PIT gate 2)", legacy_in, legacy_out},
	{0x8900, 1, "Bochs shutdown", NULL, bochs_shutdown_out},
	{0xe9, 1, "port E9 console", e9_in, e9_out},
};

static struct io_port_count unclaimed[IO_MAX_COUNTED_PORTS];
static unsigned nunclaimed;
static u64 unclaimed_overflow;

void io_init(u64 ram_bytes, const char *guest_cmdline)
{
	fwcfg.ram_bytes = ram_bytes;
	fwcfg.cmdline = guest_cmdline ? guest_cmdline : "";
}

static void count_unclaimed(u16 port, bool in)
{
	for (unsigned i = 0; i < nunclaimed; i++) {
		if (unclaimed[i].port == port) {
			in ? unclaimed[i].reads++ : unclaimed[i].writes++;
			return;
		}
	}
	if (nunclaimed == IO_MAX_COUNTED_PORTS) {
		unclaimed_overflow++;
		return;
	}
	unclaimed[nunclaimed++] = (struct io_port_count){port, in ? 1 : 0, in ? 0 : 1};
}

const struct io_port_count *io_unclaimed_ports(unsigned *n, u64 *overflow)
{
	*n = nunclaimed;
	*overflow = unclaimed_overflow;
	return unclaimed;
}

static const struct port_device *find_device(u16 port)
{
	for (unsigned i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i].base && port < devices[i].base + devices[i].count)
			return &devices[i];
	return NULL;
}

u32 io_port_read(struct vcpu *v, u16 port, unsigned size)
{
	const struct port_device *d = find_device(port);

	if (!d)
		count_unclaimed(port, true);
	return d && d->in ? d->in(v, port, size) : 0xffffffffu;
}

void io_port_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	const struct port_device *d = find_device(port);

	if (d && d->out)
		d->out(v, port, size, val);
	else if (!d)
		count_unclaimed(port, false);
}

/* A decoded I/O exit: one access to the port (string I/O: hv/string_io.c). */
void io_handle_exit(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	unsigned size = e->io.size;
	u32 mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (e->io.string) {
		string_io_handle_exit(v);
		return;
	}
	if (e->io.in) {
		u32 val = io_port_read(v, e->io.port, size);
		/* A 32-bit result zero-extends into RAX, as every 32-bit operation
		 * does in 64-bit mode (SDM Vol. 1 3.4.1.1); 8 and 16 bits merge. */
		if (size == 4)
			v->regs.rax = val;
		else
			v->regs.rax = (v->regs.rax & ~(u64)mask) | (val & mask);
	} else {
		io_port_write(v, e->io.port, size, (u32)v->regs.rax & mask);
	}
	if (!v->stopped)
		vcpu_skip_instruction(v);
}
