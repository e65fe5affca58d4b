/* 16550 UART console on COM1, 115200 8N1, polled. */
#ifndef ARCH_X86_64_SERIAL_H
#define ARCH_X86_64_SERIAL_H

#include <dimvisor/types.h>

#define COM1_PORT 0x3f8

/* Program COM1; returns false when no UART answers (output is then dropped). */
bool serial_init(void);
void serial_write(const char *s, size_t n);
/* Wait (bounded) until the UART has sent everything: call before the machine
 * stops, or an emulator may quit with the last bytes still in its FIFO. */
void serial_flush(void);
/* A fmt_sink for lib/printf.h; ctx is unused. */
void serial_sink(void *ctx, const char *s, size_t n);

#endif
