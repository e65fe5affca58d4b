/* The hypervisor command line (DESIGN.md, "Hypervisor command line"):
 * whitespace-separated key=value tokens
 *
 *   mode=base|vmm-direct|guest-direct|dual-direct   mem=SIZE   ept=4k|2m|1g
 *   badmem=HPA[,HPA...]   log=quiet|info|debug
 *
 * A leading token without '=' is the kernel's file name (GRUB and QEMU
 * -kernel put it there) and is skipped. Unknown keys, keys given twice and bad
 * values are errors with a message naming the token and what is accepted. */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include <dimvisor/types.h>

enum dv_mode { MODE_BASE, MODE_VMM_DIRECT, MODE_GUEST_DIRECT, MODE_DUAL_DIRECT };
enum dv_log { LOG_QUIET, LOG_INFO, LOG_DEBUG }; /* the order of lib/log.h's levels */

#define CONFIG_MAX_BADMEM 64
#define CONFIG_MEM_MIN	  (2 * MiB)
#define CONFIG_MEM_MAX	  TiB
/* iogap=: start of the guest's I/O gap below 4 GiB. */
#define CONFIG_IOGAP_MIN     (256 * MiB)
#define CONFIG_IOGAP_MAX     (3 * GiB)
#define CONFIG_IOGAP_DEFAULT (3 * GiB)

/* selftest=: deliberately trip a failure path at boot, so tests (and users
 * checking a port) can see the hypervisor's own crash reports. */
enum dv_selftest {
	SELFTEST_NONE,
	SELFTEST_PAGE_FAULT,
	SELFTEST_INVALID_OPCODE,
	SELFTEST_PANIC,
	SELFTEST_VMENTRY_GUEST_STATE, /* break the guest state before VMLAUNCH */
	SELFTEST_VMENTRY_CONTROL,     /* break a VM-execution control before VMLAUNCH */
	SELFTEST_NMI,		      /* send the CPU an NMI: the hypervisor must survive it */
	SELFTEST_UNCHECKED,	      /* skip the rules for guest values that reach a host
				       * instruction: the fixup must catch the faults */
	SELFTEST_CORRUPT_EPT,	      /* remap the last page of guest RAM wrongly: the
				       * invariant checks must stop the machine */
};

/* fragment=no|yes|leave: another tenant holds every other free 1 MiB block
 * while guest memory is laid out; with yes it stays, with leave it goes
 * afterwards (hv/vm.c). */
enum dv_fragment {
	FRAGMENT_NO = 0,
	FRAGMENT_YES,
	FRAGMENT_LEAVE,
};

struct dv_config {
	enum dv_mode mode;
	enum dv_fragment fragment; /* fragment=: fragment host memory on purpose (debug) */
	bool compact;		   /* compact=yes: compaction may build a VMM segment late */
	bool no_apicv;		 /* apicv=no: emulate every APIC access, whatever the CPU offers */
	u64 mem;		 /* guest RAM in bytes, a multiple of 4 KiB */
	unsigned ept_page_shift; /* 12, 21 or 30: EPT page size outside the VMM segment */
	u64 badmem[CONFIG_MAX_BADMEM]; /* faulty host pages, page-aligned */
	unsigned nbadmem;
	enum dv_log log;
	enum dv_selftest selftest;
	u64 iogap;	       /* guest RAM below 4 GiB ends here; the rest starts at 4 GiB */
	bool mem_set, ept_set; /* given on the command line, not defaults */
};

/* mode=base mem=256M ept=4k log=info iogap=3G, no bad pages. */
void config_defaults(struct dv_config *cfg);

/* Set *cfg to the defaults overridden by cmdline (NULL or empty: defaults).
 * Returns 0, or -DV_EINVAL with a message in err (truncated to errlen, always
 * terminated when errlen > 0) and *cfg unchanged. */
int config_parse(const char *cmdline, struct dv_config *cfg, char *err, size_t errlen);

/* The command-line spelling of a mode or log level ("vmm-direct"); "?" for
 * a value out of range. */
const char *config_mode_name(enum dv_mode mode);
const char *config_log_name(enum dv_log log);

/* One line on the console, in command-line syntax:
 * "config: mode=base mem=256M ept=4k log=info badmem=none". */
void config_print(const struct dv_config *cfg);

#endif
