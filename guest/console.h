/* The guest's console: COM1, a 16550 UART driven by port I/O. Under dimvisor
 * COM1 is emulated and forwarded to the real serial port. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

/* Program COM1 (115200 8N1, no interrupts) and make it kprintf's sink. */
void console_init(void);

/* Wait until COM1 has sent every byte: an emulator that stops the machine
 * right after the last write may otherwise drop the end of the line. */
void console_flush(void);

#endif
