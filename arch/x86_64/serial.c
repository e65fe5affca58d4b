/* Polled 16550 driver. Register layout: PC16550D datasheet (National
 * Semiconductor), offsets from the base port: 0 THR/RBR (DLL with DLAB),
 * 1 IER (DLM with DLAB), 2 FCR, 3 LCR, 4 MCR, 5 LSR, 7 scratch. */
#include "arch/x86_64/serial.h"
#include "arch/x86_64/cpu.h"

#define UART_THR     0
#define UART_DLL     0
#define UART_IER     1
#define UART_DLM     1
#define UART_FCR     2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_SCR     7
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define LCR_DLAB     0x80
#define LCR_8N1	     0x03
#define BAUD_DIVISOR 1 /* 115200 = 1.8432 MHz / 16 / 1 */
#define THRE_SPINS   1000000

static bool uart_present;

bool serial_init(void)
{
	/* The scratch register round-trip tells a UART from an empty port. */
	outb(COM1_PORT + UART_SCR, 0x5a);
	if (inb(COM1_PORT + UART_SCR) != 0x5a) {
		uart_present = false;
		return false;
	}
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DLL, BAUD_DIVISOR & 0xff);
	outb(COM1_PORT + UART_DLM, BAUD_DIVISOR >> 8);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, 0xc7);
	outb(COM1_PORT + UART_MCR, 0x0b);
	uart_present = true;
	return true;
}

static void serial_putc(char c)
{
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	for (u32 i = 0; i < THRE_SPINS; i++) {
		if (inb(COM1_PORT + UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_PORT + UART_THR, (u8)c);
}

void serial_flush(void)
{
	if (!uart_present)
		return;
	for (u32 i = 0; i < THRE_SPINS; i++) {
		if (inb(COM1_PORT + UART_LSR) & LSR_TEMT)
			return;
		cpu_relax();
	}
}

void serial_write(const char *s, size_t n)
{
	if (!uart_present)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

void serial_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	serial_write(s, n);
}
