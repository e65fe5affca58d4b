/* See hv/vpit.h. Mode 3 is counted like mode 2 (its counter steps by two,
 * twice a period; the period and the interrupt are the same). */
#include "hv/vpit.h"
#include "lib/string.h"

#define PORT_COUNTER0 0x40
#define PORT_CONTROL  0x43
#define PORT_SYSTEM_B 0x61
#define SYSB_GATE2    0x01
#define SYSB_SPEAKER  0x02
#define SYSB_REFRESH  0x10
#define SYSB_OUT2     0x20
#define ACCESS_LATCH  0
#define ACCESS_LOW    1
#define ACCESS_HIGH   2
#define ACCESS_BOTH   3
#define READ_BACK     3 /* the control word's channel field */

void vpit_reset(struct vpit *t, u64 tsc_hz)
{
	memset(t, 0, sizeof(*t));
	t->tsc_hz = tsc_hz ? tsc_hz : 1;
	for (unsigned i = 0; i < 3; i++)
		t->ch[i].access = ACCESS_BOTH;
}

/* PIT ticks from guest TSC ticks, without overflowing 64 bits. */
static u64 pit_ticks(const struct vpit *t, u64 tsc)
{
	return tsc / t->tsc_hz * VPIT_HZ + tsc % t->tsc_hz * VPIT_HZ / t->tsc_hz;
}

/* The guest TSC ticks that PIT ticks take (rounded up). */
static u64 tsc_ticks(const struct vpit *t, u64 pit)
{
	return pit / VPIT_HZ * t->tsc_hz + (pit % VPIT_HZ * t->tsc_hz + VPIT_HZ - 1) / VPIT_HZ;
}

static bool periodic(const struct vpit_channel *c)
{
	return (c->mode & 3) == 2 || (c->mode & 3) == 3; /* modes 2, 3 (and 6, 7) */
}

static u64 elapsed(const struct vpit *t, const struct vpit_channel *c, u64 now)
{
	return c->running && now > c->start ? pit_ticks(t, now - c->start) : 0;
}

static u16 count_now(const struct vpit *t, const struct vpit_channel *c, u64 now)
{
	u64 e = elapsed(t, c, now);

	if (!c->running)
		return (u16)c->reload;
	if (periodic(c))
		return (u16)(c->reload - e % c->reload);
	return (u16)(c->reload - e); /* mode 0 wraps through 0xffff after 0 */
}

static bool out_now(const struct vpit *t, const struct vpit_channel *c, u64 now)
{
	if (!c->loaded)
		return true; /* before a count, OUT is high in modes 2 and 3 */
	if (periodic(c))
		return true;				      /* low only for a tick per period */
	return c->running && elapsed(t, c, now) >= c->reload; /* mode 0: high at 0 */
}

static void start(struct vpit *t, unsigned i, u64 now)
{
	struct vpit_channel *c = &t->ch[i];

	c->running = c->loaded && (i != 2 || t->gate2);
	c->start = now;
	if (i == 0)
		t->irq0_seen = 0;
}

static void load(struct vpit *t, unsigned i, u16 count, u64 now)
{
	t->ch[i].reload = count ? count : 0x10000;
	t->ch[i].loaded = true;
	start(t, i, now);
}

static void write_counter(struct vpit *t, unsigned i, u8 v, u64 now)
{
	struct vpit_channel *c = &t->ch[i];

	switch (c->access) {
	case ACCESS_LOW:
		load(t, i, v, now);
		break;
	case ACCESS_HIGH:
		load(t, i, (u16)(v << 8), now);
		break;
	default:
		if (!c->write_high) {
			c->low_written = v;
			c->write_high = true;
			c->running = false; /* counting stops until the count is complete */
		} else {
			c->write_high = false;
			load(t, i, (u16)(c->low_written | v << 8), now);
		}
	}
}

static u8 read_counter(struct vpit *t, unsigned i, u64 now)
{
	struct vpit_channel *c = &t->ch[i];
	u16 value = c->latched ? c->latch : count_now(t, c, now);
	u8 byte;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->access == ACCESS_LOW)
		byte = (u8)value;
	else if (c->access == ACCESS_HIGH)
		byte = (u8)(value >> 8);
	else {
		byte = c->read_high ? (u8)(value >> 8) : (u8)value;
		c->read_high = !c->read_high;
		if (c->read_high)
			return byte; /* the latch holds until both bytes are read */
	}
	c->latched = false;
	return byte;
}

static void latch_count(struct vpit *t, unsigned i, u64 now)
{
	struct vpit_channel *c = &t->ch[i];

	if (!c->latched) {
		c->latch = count_now(t, c, now);
		c->latched = true;
	}
}

static void read_back(struct vpit *t, u8 v, u64 now)
{
	for (unsigned i = 0; i < 3; i++) {
		struct vpit_channel *c = &t->ch[i];

		if (!(v & (2u << i)))
			continue;
		if (!(v & 0x20))
			latch_count(t, i, now);
		if (!(v & 0x10) && !c->status_latched) {
			c->status = (u8)((out_now(t, c, now) ? 0x80 : 0) | (c->loaded ? 0 : 0x40) |
					 c->access << 4 | c->mode << 1);
			c->status_latched = true;
		}
	}
}

static void write_control(struct vpit *t, u8 v, u64 now)
{
	unsigned i = v >> 6;
	struct vpit_channel *c;

	if (i == READ_BACK) {
		read_back(t, v, now);
		return;
	}
	c = &t->ch[i];
	if (((v >> 4) & 3) == ACCESS_LATCH) {
		latch_count(t, i, now);
		return;
	}
	/* A new mode: the counter waits for its count (8254: OUT per mode). */
	*c = (struct vpit_channel){.mode = (v >> 1) & 7, .access = (v >> 4) & 3};
}

u8 vpit_read(struct vpit *t, u16 port, u64 now)
{
	if (port == PORT_SYSTEM_B) {
		/* The refresh bit toggles on every read: delay loops poll it. */
		t->refresh = !t->refresh;
		return (u8)((t->gate2 ? SYSB_GATE2 : 0) | (t->speaker ? SYSB_SPEAKER : 0) |
			    (t->refresh ? SYSB_REFRESH : 0) |
			    (out_now(t, &t->ch[2], now) ? SYSB_OUT2 : 0));
	}
	if (port == PORT_CONTROL)
		return 0xff; /* write-only */
	return read_counter(t, port - PORT_COUNTER0, now);
}

void vpit_write(struct vpit *t, u16 port, u8 value, u64 now)
{
	if (port == PORT_SYSTEM_B) {
		bool gate = value & SYSB_GATE2;

		t->speaker = value & SYSB_SPEAKER;
		if (gate && !t->gate2) {
			t->gate2 = true;
			start(t, 2, now); /* a rising gate (re)starts the count */
		} else if (!gate) {
			t->gate2 = false;
			t->ch[2].running = false;
		}
		return;
	}
	if (port == PORT_CONTROL)
		write_control(t, value, now);
	else
		write_counter(t, port - PORT_COUNTER0, value, now);
}

u64 vpit_irq0_edges(struct vpit *t, u64 now)
{
	struct vpit_channel *c = &t->ch[0];
	u64 e, periods, edges;

	if (!c->running)
		return 0;
	e = elapsed(t, c, now);
	/* mode 0: one edge, at terminal count; periodic: one per period */
	periods = periodic(c) ? e / c->reload : (e >= c->reload ? 1 : 0);
	edges = periods > t->irq0_seen ? periods - t->irq0_seen : 0;
	t->irq0_seen = periods;
	t->irq0s += edges;
	return edges;
}

u64 vpit_next_irq0(const struct vpit *t)
{
	const struct vpit_channel *c = &t->ch[0];
	u64 next;

	if (!c->running)
		return 0;
	if (!periodic(c) && t->irq0_seen)
		return 0;
	next = (periodic(c) ? t->irq0_seen + 1 : 1) * c->reload;
	return c->start + tsc_ticks(t, next);
}
