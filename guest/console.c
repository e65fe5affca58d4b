/* COM1 console: a polled 16550. Register offsets and bits: the National
 * Semiconductor PC16550D data sheet (THR/RBR 0, IER 1, FCR 2, LCR 3, MCR 4,
 * LSR 5; LSR bit 5 = transmit holding register empty). */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/console.h"
#include "lib/printf.h"

#define COM1	 0x3f8
#define UART_THR 0
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_IER 1
#define UART_DLM 1 /* with LCR.DLAB */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1		 0x03
#define LCR_DLAB	 0x80
#define FCR_ENABLE_CLEAR 0xc7 /* FIFOs on, both cleared, 14-byte trigger */
#define MCR_DTR_RTS	 0x03
#define LSR_THRE	 0x20
#define LSR_TEMT	 0x40 /* holding and shift registers both empty */

#define BAUD_DIVISOR 1	    /* 115200 = 1.8432 MHz / 16 / 1 */
#define UART_SPINS   100000 /* a missing UART must not hang the guest */

static void uart_putc(char c)
{
	for (unsigned i = 0; i < UART_SPINS && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + UART_THR, (u8)c);
}

/* kprintf sink: a terminal wants CR LF. */
static void console_sink(void *ctx, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void console_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, BAUD_DIVISOR & 0xff);
	outb(COM1 + UART_DLM, BAUD_DIVISOR >> 8);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
	console_set_sink(console_sink, NULL);
}

void console_flush(void)
{
	for (unsigned i = 0; i < UART_SPINS && !(inb(COM1 + UART_LSR) & LSR_TEMT); i++)
		cpu_relax();
}
