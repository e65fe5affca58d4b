/* See tsc_calibrate.h. Channel 2 in mode 0 with its gate (port 0x61 bit 0)
 * raised counts down once; OUT2 (port 0x61 bit 5) goes high at zero. Intel
 * 8254 datasheet; the port 0x61 bits are the PC AT's. */
#include "arch/x86_64/tsc_calibrate.h"
#include "arch/x86_64/cpu.h"

#define PIT_HZ	     1193182
#define PIT_CH2	     0x42
#define PIT_CONTROL  0x43
#define SYSTEM_B     0x61
#define GATE2	     0x01
#define SPEAKER	     0x02
#define OUT2	     0x20
#define CH2_MODE0_LH 0xb0  /* channel 2, lobyte/hibyte, mode 0, binary */
#define WINDOW_TICKS 11932 /* 10 ms */
#define MAX_POLLS    100000000ULL

u64 tsc_calibrate_hz(void)
{
	u8 b = inb(SYSTEM_B);
	u64 t0, t1, polls = 0;

	outb(SYSTEM_B, (u8)((b & ~SPEAKER) & ~GATE2));
	outb(PIT_CONTROL, CH2_MODE0_LH);
	outb(PIT_CH2, WINDOW_TICKS & 0xff);
	outb(PIT_CH2, WINDOW_TICKS >> 8);
	outb(SYSTEM_B, (u8)((b & ~SPEAKER) | GATE2));
	t0 = rdtsc();
	while (!(inb(SYSTEM_B) & OUT2))
		if (++polls == MAX_POLLS)
			return 0;
	t1 = rdtsc();
	outb(SYSTEM_B, b);
	return (t1 - t0) * PIT_HZ / WINDOW_TICKS;
}
