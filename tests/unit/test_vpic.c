/* hv/vpic.c and hv/vpit.c: the 8259A pair and the 8254, programmed the way
 * kernels program them. The TSC runs at 1193182 Hz here, one tick per PIT
 * tick, unless a test says otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vpic.h"
#include "hv/vpit.h"

static struct vpic pic;
static struct vpit pit;

static int setup(void **state)
{
	(void)state;
	vpic_reset(&pic);
	vpit_reset(&pit, VPIT_HZ);
	return 0;
}

/* The classic remap: master at 0x20, slave at 0x28, cascade on IR2, 8086 mode. */
static void init_pics(u8 master_mask, u8 slave_mask)
{
	vpic_write(&pic, 0x20, 0x11);
	vpic_write(&pic, 0x21, 0x20);
	vpic_write(&pic, 0x21, 0x04);
	vpic_write(&pic, 0x21, 0x01);
	vpic_write(&pic, 0xa0, 0x11);
	vpic_write(&pic, 0xa1, 0x28);
	vpic_write(&pic, 0xa1, 0x02);
	vpic_write(&pic, 0xa1, 0x01);
	vpic_write(&pic, 0x21, master_mask);
	vpic_write(&pic, 0xa1, slave_mask);
}

static void reset_masks_everything(void **state)
{
	(void)state;
	assert_int_equal(vpic_read(&pic, 0x21), 0xff);
	assert_int_equal(vpic_read(&pic, 0xa1), 0xff);
	vpic_raise(&pic, 0);
	assert_int_equal(vpic_pending(&pic), -1);
}

static void priorities_eoi_and_reads(void **state)
{
	(void)state;
	init_pics(0x00, 0x00);
	vpic_raise(&pic, 4);
	vpic_raise(&pic, 1);
	assert_int_equal(vpic_read(&pic, 0x20), 0x12); /* IRR by default */
	assert_int_equal(vpic_pending(&pic), 0x21);
	assert_int_equal(vpic_ack(&pic), 0x21);
	vpic_write(&pic, 0x20, 0x0b); /* OCW3: read ISR */
	assert_int_equal(vpic_read(&pic, 0x20), 0x02);
	/* IR4 waits while IR1 is in service; IR0 would not */
	assert_int_equal(vpic_pending(&pic), -1);
	vpic_raise(&pic, 0);
	assert_int_equal(vpic_pending(&pic), 0x20);
	assert_int_equal(vpic_ack(&pic), 0x20);
	vpic_write(&pic, 0x20, 0x20); /* non-specific EOI: IR0 */
	vpic_write(&pic, 0x20, 0x20); /* and IR1 */
	assert_int_equal(vpic_read(&pic, 0x20), 0x00);
	assert_int_equal(vpic_pending(&pic), 0x24);
	/* a masked line waits in the IRR */
	vpic_write(&pic, 0x21, 0x10);
	assert_int_equal(vpic_pending(&pic), -1);
}

static void slave_through_cascade(void **state)
{
	(void)state;
	init_pics(0x00, 0x00);
	vpic_raise(&pic, 12);
	assert_int_equal(vpic_pending(&pic), 0x2c);
	assert_int_equal(vpic_ack(&pic), 0x2c);
	vpic_write(&pic, 0x0a0, 0x0b);
	assert_int_equal(vpic_read(&pic, 0xa0), 0x10);
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(vpic_read(&pic, 0x20), 0x04); /* IR2 in service on the master */
	/* masking the cascade line on the master holds the slave back */
	vpic_write(&pic, 0xa0, 0x20);
	vpic_write(&pic, 0x20, 0x62); /* specific EOI for IR2 */
	vpic_write(&pic, 0x21, 0x04);
	vpic_raise(&pic, 8);
	assert_int_equal(vpic_pending(&pic), -1);
}

static void auto_eoi(void **state)
{
	(void)state;
	vpic_write(&pic, 0x20, 0x11);
	vpic_write(&pic, 0x21, 0x40);
	vpic_write(&pic, 0x21, 0x04);
	vpic_write(&pic, 0x21, 0x03); /* 8086 mode, auto-EOI */
	vpic_write(&pic, 0x21, 0x00);
	vpic_raise(&pic, 3);
	assert_int_equal(vpic_ack(&pic), 0x43);
	vpic_raise(&pic, 5);
	assert_int_equal(vpic_pending(&pic), 0x45);
}

static void pit_rate_generator_on_irq0(void **state)
{
	(void)state;
	vpit_write(&pit, 0x43, 0x34, 0); /* channel 0, lobyte/hibyte, mode 2 */
	vpit_write(&pit, 0x40, 0xe8, 0);
	vpit_write(&pit, 0x40, 0x03, 100); /* 1000 */
	assert_int_equal(vpit_next_irq0(&pit), 1100);
	assert_int_equal(vpit_irq0_edges(&pit, 1099), 0);
	assert_int_equal(vpit_irq0_edges(&pit, 1100), 1);
	assert_int_equal(vpit_irq0_edges(&pit, 3500), 2); /* 2100 and 3100 */
	assert_int_equal(vpit_next_irq0(&pit), 4100);
	/* the latch command freezes the count until both bytes are read */
	vpit_write(&pit, 0x43, 0x00, 3600);
	assert_int_equal(vpit_read(&pit, 0x40, 3700), (1000 - 500) & 0xff);
	assert_int_equal(vpit_read(&pit, 0x40, 3800), (1000 - 500) >> 8);
}

static void pit_one_shot(void **state)
{
	(void)state;
	vpit_write(&pit, 0x43, 0x30, 0); /* mode 0 */
	vpit_write(&pit, 0x40, 0x10, 0);
	vpit_write(&pit, 0x40, 0x00, 0); /* 16 */
	assert_int_equal(vpit_irq0_edges(&pit, 100), 1);
	assert_int_equal(vpit_irq0_edges(&pit, 10000), 0);
	assert_int_equal(vpit_next_irq0(&pit), 0);
}

static void pit_channel2_calibration(void **state)
{
	(void)state;
	/* what Linux's pit_calibrate_tsc does: gate on, mode 0, poll OUT2 */
	vpit_reset(&pit, 3 * VPIT_HZ); /* the TSC three times as fast */
	vpit_write(&pit, 0x61, (vpit_read(&pit, 0x61, 0) & ~0x02) | 0x01, 0);
	vpit_write(&pit, 0x43, 0xb0, 0);
	vpit_write(&pit, 0x42, 0x9b, 0);
	vpit_write(&pit, 0x42, 0x2e, 0); /* 0x2e9b = 11931: 10 ms */
	assert_int_equal(vpit_read(&pit, 0x61, 3 * 11930) & 0x20, 0);
	assert_int_equal(vpit_read(&pit, 0x61, 3 * 11931) & 0x20, 0x20);
	/* gate low: no counting */
	vpit_write(&pit, 0x61, 0x00, 0);
	vpit_write(&pit, 0x43, 0xb0, 0);
	vpit_write(&pit, 0x42, 0x10, 0);
	vpit_write(&pit, 0x42, 0x00, 0);
	assert_int_equal(vpit_read(&pit, 0x61, 1000000) & 0x20, 0);
	/* the refresh bit toggles */
	assert_int_not_equal(vpit_read(&pit, 0x61, 0) & 0x10, vpit_read(&pit, 0x61, 0) & 0x10);
}

static void pit_read_back_status(void **state)
{
	(void)state;
	vpit_write(&pit, 0x43, 0x34, 0);
	vpit_write(&pit, 0x43, 0xe2, 0); /* read-back status of channel 0 */
	assert_int_equal(vpit_read(&pit, 0x40, 0), 0x80 | 0x40 | 0x30 | 0x04);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(reset_masks_everything, setup),
		cmocka_unit_test_setup(priorities_eoi_and_reads, setup),
		cmocka_unit_test_setup(slave_through_cascade, setup),
		cmocka_unit_test_setup(auto_eoi, setup),
		cmocka_unit_test_setup(pit_rate_generator_on_irq0, setup),
		cmocka_unit_test_setup(pit_one_shot, setup),
		cmocka_unit_test_setup(pit_channel2_calibration, setup),
		cmocka_unit_test_setup(pit_read_back_status, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
