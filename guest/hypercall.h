/* The guest's hypercall client: detection by CPUID and one inline VMCALL
 * wrapper per call of include/dimvisor/hypercall.h (the KVM convention: RAX =
 * number, RBX RCX RDX RSI = arguments, result in RAX, negative -DV_E* on
 * failure, every other register preserved).
 *
 * Outside VMX non-root operation VMCALL raises #UD (SDM Vol. 2B VMCALL), so
 * call these only after dv_detect() said yes. */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include <dimvisor/hypercall.h>
#include "arch/x86_64/cpu.h"

/* True when CPUID leaf 0x40000000 carries dimvisor's signature. CPUs without
 * hypervisor leaves answer with some basic leaf's data there, which never
 * spells "dimvisor". */
static inline bool dv_detect(void)
{
	struct cpuid_regs r = cpuid(DV_CPUID_SIGNATURE_LEAF, 0);

	return r.ebx == DV_CPUID_SIG_EBX && r.ecx == DV_CPUID_SIG_ECX && r.edx == DV_CPUID_SIG_EDX;
}

/* Raw call: the 64-bit RAX as dimvisor left it. */
static inline s64 dv_hypercall(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	s64 ret;

	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
			 : "memory");
	return ret;
}

/* (major << 16) | minor of the running dimvisor. */
static inline s64 dv_hc_version(void)
{
	return dv_hypercall(DV_HC_VERSION, 0, 0, 0, 0);
}

/* DV_HC_FEATURE_* bits. */
static inline s64 dv_hc_features(void)
{
	return dv_hypercall(DV_HC_FEATURES, 0, 0, 0, 0);
}

/* Write len bytes at gVA buf to dimvisor's console; returns len or -DV_E*. */
static inline s64 dv_hc_console_write(u64 buf, u64 len)
{
	return dv_hypercall(DV_HC_CONSOLE_WRITE, buf, len, 0, 0);
}

/* End the guest with status; returns only when dimvisor refuses (-DV_E*). */
static inline s64 dv_hc_exit(u64 status)
{
	return dv_hypercall(DV_HC_EXIT, status, 0, 0, 0);
}

/* Fill up to size bytes of a struct dv_stats at gVA buf; returns the bytes
 * filled or -DV_E*. */
static inline s64 dv_hc_stats(u64 buf, u64 size)
{
	return dv_hypercall(DV_HC_STATS, buf, size, 0, 0);
}

/* The guest segment of the current address space: 0 or -DV_E*. */
static inline s64 dv_hc_guest_segment_set(u64 base, u64 limit, u64 offset)
{
	return dv_hypercall(DV_HC_GUEST_SEGMENT_SET, base, limit, offset, 0);
}

static inline s64 dv_hc_guest_segment_clear(void)
{
	return dv_hypercall(DV_HC_GUEST_SEGMENT_CLEAR, 0, 0, 0, 0);
}

/* Fill up to size bytes of a struct dv_segment_info at gVA buf. */
static inline s64 dv_hc_segment_info(u64 buf, u64 size)
{
	return dv_hypercall(DV_HC_SEGMENT_INFO, buf, size, 0, 0);
}

/* Escape the VMM segment's page at gpa: 0 or -DV_E*. */
static inline s64 dv_hc_escape_page(u64 gpa)
{
	return dv_hypercall(DV_HC_ESCAPE_PAGE, gpa, 0, 0, 0);
}

/* Switch to mode (enum dv_mode_id): the mode granted, or -DV_E*. */
static inline s64 dv_hc_mode_set(u64 mode)
{
	return dv_hypercall(DV_HC_MODE_SET, mode, 0, 0, 0);
}

/* TLB-miss sampling: start (flags 0), stop, and read a struct dv_sample. */
static inline s64 dv_hc_sample_start(u64 flags)
{
	return dv_hypercall(DV_HC_SAMPLE_START, flags, 0, 0, 0);
}

static inline s64 dv_hc_sample_stop(void)
{
	return dv_hypercall(DV_HC_SAMPLE_STOP, 0, 0, 0, 0);
}

static inline s64 dv_hc_sample_read(u64 buf, u64 size)
{
	return dv_hypercall(DV_HC_SAMPLE_READ, buf, size, 0, 0);
}

/* Give the listed pages (gPA >> 12) to dimvisor's balloon; with
 * DV_BALLOON_HOTADD in flags the same amount comes back above RAM and range
 * (a struct dv_mem_range gVA, or 0) says where. 0 or -DV_E*. */
static inline s64 dv_hc_balloon_inflate(u64 list, u64 n, u64 flags, u64 range)
{
	return dv_hypercall(DV_HC_BALLOON_INFLATE, list, n, flags, range);
}

/* Take listed ballooned pages back (zeroed): 0 or -DV_E*. */
static inline s64 dv_hc_balloon_deflate(u64 list, u64 n)
{
	return dv_hypercall(DV_HC_BALLOON_DEFLATE, list, n, 0, 0);
}

/* Fill up to size bytes of a struct dv_memory_map at gVA buf with the map's
 * pieces from the one holding (or following) gPA from on. */
static inline s64 dv_hc_memory_map(u64 buf, u64 size, u64 from)
{
	return dv_hypercall(DV_HC_MEMORY_MAP, buf, size, from, 0);
}

#endif
