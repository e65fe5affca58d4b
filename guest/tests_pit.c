/* pit: the PC's legacy timer path as a kernel without APIC timer uses it:
 * the 8259 pair remapped (ICW1-4), PIT channel 0 as a rate generator on
 * IRQ0, interrupts taken while halted with EOIs to the PIC, IRR/ISR read
 * back through OCW3, and PIT channel 2 gated through port 0x61 and polled
 * (how Linux calibrates its TSC). Prints the same lines natively in Bochs
 * and under dimvisor (hv/vpic.c, hv/vpit.c). */
#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"
#include "guest/idt.h"
#include "guest/tests.h"
#include "lib/printf.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0	  0x40
#define PIT_CH2	  0x42
#define PIT_CTL	  0x43
#define SYSTEM_B  0x61
#define VEC_IRQ0  0x30
#define VEC_IRQ7  0x37
#define PIT_HZ	  1193182
#define COUNT_1MS 1193 /* one period: about a millisecond */
#define MAX_WAITS 64

static volatile unsigned ticks, spurious;

static void on_irq0(struct trap_frame *f)
{
	(void)f;
	ticks++;
	outb(PIC1_CMD, 0x20); /* non-specific EOI */
}

static void on_irq7(struct trap_frame *f)
{
	(void)f;
	spurious++;
}

static void init_pics(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, VEC_IRQ0); /* ICW2: vectors 0x30.. and 0x38.. */
	outb(PIC2_DATA, VEC_IRQ0 + 8);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IR2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfe); /* only IRQ0 */
	outb(PIC2_DATA, 0xff);
}

/* Channel 0's count, through the latch command. */
static u16 count0(void)
{
	u8 lo;

	outb(PIT_CTL, 0x00);
	lo = inb(PIT_CH0);
	return (u16)(lo | inb(PIT_CH0) << 8);
}

/* Spin until channel 0 reloads n times (its count jumps up): n periods
 * passed, whatever the speed of the CPU or emulator. */
static bool spin_periods(unsigned n)
{
	u16 last = count0(), now;

	for (u32 polls = 0; n && polls < 10000000; polls++, last = now) {
		now = count0();
		if (now > last)
			n--;
	}
	return n == 0;
}

static bool wait_ticks(unsigned want)
{
	for (unsigned i = 0; i < MAX_WAITS && ticks < want; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	return ticks >= want;
}

static void irq0_periodic(struct test *t)
{
	u8 irr;

	init_pics();
	test_check(t, inb(PIC1_DATA) == 0xfe, "master IMR reads 0x%x, want 0xfe", inb(PIC1_DATA));
	outb(PIT_CTL, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, COUNT_1MS & 0xff);
	outb(PIT_CH0, COUNT_1MS >> 8);
	test_check(t, wait_ticks(3), "IRQ0 from the PIT: %u interrupts while halted, want 3",
		   ticks);
	/* masked, IRQ0 waits in the IRR and is not taken */
	outb(PIC1_DATA, 0xff);
	ticks = 0;
	outb(PIC1_CMD, 0x0a); /* OCW3: read IRR */
	/* An emulator may raise the line some periods late (QEMU's TCG runs its
	 * timers beside the vCPU): wait up to 100 periods for the IRR. */
	irr = 0;
	for (unsigned p = 0; p < 100 && !(irr & 1); p++) {
		test_check(t, spin_periods(1), "channel 0 did not reload while IRQ0 was masked");
		irr = inb(PIC1_CMD);
	}
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	irr = inb(PIC1_CMD);
	test_check(t, ticks == 0 && (irr & 1), "masked IRQ0: %u taken, IRR 0x%x", ticks, irr);
	outb(PIC1_CMD, 0x0b); /* OCW3: read ISR */
	test_check(t, inb(PIC1_CMD) == 0, "ISR 0x%x after the EOIs", inb(PIC1_CMD));
	outb(PIT_CTL, 0x30); /* channel 0 waits for a count: stopped */
	kprintf("# pit: IRQ0 through the 8259 while halted; masked it waits in the IRR\n");
}

/* Channel 2 through port 0x61, as Linux's pit_calibrate_tsc: 10 ms. */
static void channel2_poll(struct test *t)
{
	u8 b = inb(SYSTEM_B);
	u64 t0, t1, polls = 0;

	outb(SYSTEM_B, (u8)((b & ~0x02) & ~0x01));
	outb(PIT_CTL, 0xb0);
	outb(PIT_CH2, 11932 & 0xff);
	outb(PIT_CH2, 11932 >> 8);
	test_check(t, !(inb(SYSTEM_B) & 0x20), "OUT2 high before the gate opened");
	outb(SYSTEM_B, (u8)((b & ~0x02) | 0x01));
	t0 = rdtsc();
	while (!(inb(SYSTEM_B) & 0x20) && ++polls < 100000000ULL)
		;
	t1 = rdtsc();
	outb(SYSTEM_B, b);
	test_check(t, polls < 100000000ULL, "OUT2 never went high");
	test_check(t, t1 > t0, "no TSC time passed in 10 ms of PIT time");
	kprintf("# pit: channel 2 counted 10 ms down behind its gate\n");
}

void test_pit(struct test *t)
{
	idt_set_handler(VEC_IRQ0, on_irq0);
	idt_set_handler(VEC_IRQ7, on_irq7);
	ticks = 0;
	irq0_periodic(t);
	channel2_poll(t);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	idt_set_handler(VEC_IRQ0, NULL);
	idt_set_handler(VEC_IRQ7, NULL);
}
