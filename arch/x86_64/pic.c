#include "arch/x86_64/pic.h"
#include "arch/x86_64/cpu.h"

/* Interrupt mask registers (OCW1) of the master and slave 8259A: Intel 8259A
 * datasheet, "Operation Command Words". */
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_DATA	0xa1

void pic_mask_all(void)
{
	outb(PIC_MASTER_DATA, 0xff);
	outb(PIC_SLAVE_DATA, 0xff);
}
