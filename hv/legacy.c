/* See hv/legacy.h. */
#include "hv/legacy.h"
#include "hv/apic.h"

#define PIT_IRQ 0

static struct vpic pic;
static struct vpit pit;

void legacy_init(u64 tsc_hz)
{
	vpic_reset(&pic);
	vpit_reset(&pit, tsc_hz);
}

static bool is_pic(u16 port)
{
	return port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1;
}

static bool is_pit(u16 port)
{
	return (port >= 0x40 && port <= 0x43) || port == 0x61;
}

u32 legacy_in(struct vcpu *v, u16 port, unsigned size)
{
	u32 value = 0;

	/* A wider access reads the following ports, as the bus splits it. */
	for (unsigned i = 0; i < size; i++) {
		u16 p = (u16)(port + i);
		u8 b = is_pic(p)   ? vpic_read(&pic, p)
		       : is_pit(p) ? vpit_read(&pit, p, apic_now(v))
				   : 0xff;

		value |= (u32)b << (8 * i);
	}
	return value;
}

void legacy_out(struct vcpu *v, u16 port, unsigned size, u32 value)
{
	for (unsigned i = 0; i < size; i++) {
		u16 p = (u16)(port + i);
		u8 b = (u8)(value >> (8 * i));

		if (is_pic(p))
			vpic_write(&pic, p, b);
		else if (is_pit(p))
			vpit_write(&pit, p, b, apic_now(v));
	}
}

void legacy_advance(u64 now)
{
	if (vpit_irq0_edges(&pit, now))
		vpic_raise(&pic, PIT_IRQ);
}

int legacy_pending(const struct vcpu *v)
{
	return vlapic_passes_extint(&v->apic) ? vpic_pending(&pic) : -1;
}

u8 legacy_ack(void)
{
	return vpic_ack(&pic);
}

u64 legacy_next_event(const struct vcpu *v)
{
	if (!vlapic_passes_extint(&v->apic) || (pic.chip[0].imr & (1u << PIT_IRQ)))
		return 0;
	return vpit_next_irq0(&pit);
}

void legacy_stats(u64 *pic_interrupts, u64 *pit_irq0s)
{
	*pic_interrupts = pic.interrupts;
	*pit_irq0s = pit.irq0s;
}
