/* The guest's 8254 interval timer (ports 0x40-0x43) and the gate and output
 * of its channel 2 in port 0x61, as a PC has them: channel 0 drives IRQ0,
 * channel 2 is what kernels calibrate their TSC against. Modes 0 (interrupt
 * on terminal count), 2 (rate generator) and 3 (square wave); binary
 * counting; the latch and read-back commands. Pure logic: time is the
 * guest's TSC, converted at the TSC's rate given to vpit_reset. Intel 8254
 * datasheet (order no. 231164). */
#ifndef HV_VPIT_H
#define HV_VPIT_H

#include <dimvisor/types.h>

#define VPIT_HZ 1193182 /* the PC's PIT input clock */

struct vpit_channel {
	u8 mode, access;      /* control word bits 3:1 and 5:4 */
	u32 reload;	      /* 1..65536 once loaded */
	bool loaded, running; /* a count was written; counting (gate high) */
	u64 start;	      /* guest TSC where counting began */
	bool write_high;      /* lobyte/hibyte access: the next write is the high byte */
	bool read_high;	      /* and the next read */
	u8 low_written;
	bool latched;
	u16 latch;
	bool status_latched;
	u8 status;
};

struct vpit {
	u64 tsc_hz;
	struct vpit_channel ch[3];
	bool gate2, speaker, refresh;
	u64 irq0_seen; /* channel 0 periods already signalled */
	u64 irq0s;
};

void vpit_reset(struct vpit *t, u64 tsc_hz);
/* Ports 0x40-0x43 and 0x61. */
u8 vpit_read(struct vpit *t, u16 port, u64 now);
void vpit_write(struct vpit *t, u16 port, u8 value, u64 now);
/* How many rising edges of channel 0's output (IRQ0) happened up to now
 * since the last call (the caller raises IRQ0 once for any number). */
u64 vpit_irq0_edges(struct vpit *t, u64 now);
/* The guest TSC of channel 0's next edge, or 0 when none will come. */
u64 vpit_next_irq0(const struct vpit *t);

#endif
