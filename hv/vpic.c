/* See hv/vpic.h. Priorities are the 8259A's fully nested mode (IR0 highest);
 * rotation commands are taken as the EOIs they include. */
#include "hv/vpic.h"
#include "lib/string.h"

#define ICW1	      0x10
#define ICW1_IC4      0x01
#define ICW1_SNGL     0x02
#define OCW3	      0x08
#define OCW3_RR	      0x02
#define OCW3_RIS      0x01
#define ICW4_AEOI     0x02
#define OCW2_EOI      0x20
#define OCW2_SPECIFIC 0x40

void vpic_reset(struct vpic *p)
{
	memset(p, 0, sizeof(*p));
	p->chip[0] = (struct vpic_chip){.imr = 0xff, .base = 0x08, .icw4 = true};
	p->chip[1] = (struct vpic_chip){.imr = 0xff, .base = 0x70, .icw4 = true};
}

/* The highest-priority line of c that is requested, unmasked and above
 * everything in service; -1 if none. */
static int chip_pending(const struct vpic_chip *c)
{
	u8 req = c->irr & ~c->imr;

	for (int irq = 0; irq < 8; irq++) {
		if (c->isr & (1u << irq))
			return -1; /* in service: it and everything below wait */
		if (req & (1u << irq))
			return irq;
	}
	return -1;
}

static int master_line(const struct vpic *p)
{
	/* The slave's INT drives the master's IR2 as a level. */
	struct vpic_chip m = p->chip[0];

	if (chip_pending(&p->chip[1]) >= 0)
		m.irr |= 1u << VPIC_CASCADE_IRQ;
	else
		m.irr &= (u8) ~(1u << VPIC_CASCADE_IRQ);
	return chip_pending(&m);
}

int vpic_pending(const struct vpic *p)
{
	int irq = master_line(p);

	if (irq < 0)
		return -1;
	if (irq == VPIC_CASCADE_IRQ && !p->chip[0].single)
		return p->chip[1].base + chip_pending(&p->chip[1]);
	return p->chip[0].base + irq;
}

static void take(struct vpic_chip *c, int irq)
{
	c->irr &= (u8) ~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= (u8)(1u << irq);
}

u8 vpic_ack(struct vpic *p)
{
	int irq = master_line(p), slave_irq;

	p->interrupts++;
	if (irq < 0) /* nothing: the 8259A answers with IR7 (spurious) */
		return p->chip[0].base + 7;
	take(&p->chip[0], irq);
	if (irq != VPIC_CASCADE_IRQ || p->chip[0].single)
		return p->chip[0].base + (u8)irq;
	slave_irq = chip_pending(&p->chip[1]);
	take(&p->chip[1], slave_irq);
	return p->chip[1].base + (u8)slave_irq;
}

void vpic_raise(struct vpic *p, unsigned irq)
{
	if (irq < 16)
		p->chip[irq >= 8].irr |= (u8)(1u << (irq & 7));
}

static void eoi(struct vpic_chip *c, u8 ocw2)
{
	if (ocw2 & OCW2_SPECIFIC) {
		c->isr &= (u8) ~(1u << (ocw2 & 7));
		return;
	}
	for (int irq = 0; irq < 8; irq++) /* the highest in service */
		if (c->isr & (1u << irq)) {
			c->isr &= (u8) ~(1u << irq);
			return;
		}
}

static void write_command(struct vpic_chip *c, u8 v)
{
	if (v & ICW1) {
		/* Initialization: IMR, ISR and IRR clear, IRR selected for reads. */
		*c = (struct vpic_chip){.base = c->base,
					.icw_step = 1,
					.icw4 = v & ICW1_IC4,
					.single = v & ICW1_SNGL};
		return;
	}
	if (v & OCW3) {
		if (v & OCW3_RR)
			c->read_isr = v & OCW3_RIS;
		return;
	}
	if (v & OCW2_EOI) /* OCW2: EOI, specific EOI, rotate on (specific) EOI */
		eoi(c, v);
}

static void write_data(struct vpic_chip *c, u8 v)
{
	switch (c->icw_step) {
	case 0:
		c->imr = v; /* OCW1 */
		return;
	case 1: /* ICW2 */
		c->base = v & 0xf8;
		c->icw_step = c->single ? (c->icw4 ? 3 : 0) : 2;
		return;
	case 2: /* ICW3: the wiring, fixed on a PC */
		c->icw_step = c->icw4 ? 3 : 0;
		return;
	default: /* ICW4 */
		c->auto_eoi = v & ICW4_AEOI;
		c->icw_step = 0;
	}
}

u8 vpic_read(struct vpic *p, u16 port)
{
	const struct vpic_chip *c = &p->chip[port >= 0xa0];

	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void vpic_write(struct vpic *p, u16 port, u8 value)
{
	struct vpic_chip *c = &p->chip[port >= 0xa0];

	if (port & 1)
		write_data(c, value);
	else
		write_command(c, value);
}
