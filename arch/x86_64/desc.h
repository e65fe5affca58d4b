/* System descriptor structures of long mode, shared by the hypervisor and the
 * guest kernel: the 64-bit TSS (SDM Vol. 3A 8.7, Figure 8-11) and the 64-bit
 * IDT gate (SDM Vol. 3A 6.14.1, Figure 6-8). */
#ifndef ARCH_X86_64_DESC_H
#define ARCH_X86_64_DESC_H

#include <dimvisor/types.h>

struct __packed tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout (SDM Vol. 3A Figure 8-11)");

struct __packed idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate layout (SDM Vol. 3A Figure 6-8)");

#endif
