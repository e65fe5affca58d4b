/* Port I/O of the guest platform (docs/guest-platform.md): the devices a
 * kernel written for QEMU -kernel expects, and a count of every other port. */
#ifndef HV_IO_H
#define HV_IO_H

#include "hv/vcpu.h"

#define IO_MAX_COUNTED_PORTS 32

struct io_port_count {
	u16 port;
	u64 reads, writes;
};

void io_init(u64 ram_bytes, const char *guest_cmdline);
void io_handle_exit(struct vcpu *v);
/* One access of size bytes to a port, through its device: what IN and OUT
 * do, and each element of INS and OUTS. A port without a device reads all
 * ones and ignores writes; both are counted for the report. */
u32 io_port_read(struct vcpu *v, u16 port, unsigned size);
void io_port_write(struct vcpu *v, u16 port, unsigned size, u32 val);
/* Ports no device claimed, with their access counts. */
const struct io_port_count *io_unclaimed_ports(unsigned *n, u64 *overflow);

#endif
