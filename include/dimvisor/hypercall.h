/* The dimvisor hypercall ABI, shared by the hypervisor, the guest kernel and any
 * user's test guest. Include it from C (freestanding or hosted); it has no
 * dependencies beyond <dimvisor/types.h>.
 *
 * Detection: CPUID leaf 0x40000000 returns EAX = highest hypervisor leaf and
 * EBX, ECX, EDX = "dimv" "isor" "\0\0\0\0" (the signature "dimvisor"). Leaf
 * 0x40000001 returns EAX = DV_HC_FEATURE_* bits, EBX = DV_ABI_VERSION.
 *
 * Calling convention (as KVM's): VMCALL with RAX = call number, RBX, RCX, RDX,
 * RSI = arguments; the result comes back in RAX: 0 or a positive value on
 * success, a negative -DV_E* code (<dimvisor/errno.h>) on failure. Other
 * registers are preserved. Calls from CPL > 0 fail with -DV_EPERM; unknown
 * numbers with -DV_ENOSYS. A call that fails changes nothing.
 *
 * Guest addresses passed to calls are guest-virtual addresses in the address
 * space current at the call (guest-physical when paging is off). The hypervisor
 * translates them itself through the guest's page tables and EPT and never
 * reads or writes outside guest RAM: a buffer that is not entirely mapped to
 * guest RAM fails with -DV_EFAULT. */
#ifndef DIMVISOR_HYPERCALL_H
#define DIMVISOR_HYPERCALL_H

#include <dimvisor/types.h>

#define DV_CPUID_SIGNATURE_LEAF 0x40000000u
#define DV_CPUID_FEATURES_LEAF	0x40000001u
#define DV_CPUID_MAX_LEAF	DV_CPUID_FEATURES_LEAF
#define DV_CPUID_SIG_EBX	0x766d6964u /* "dimv" */
#define DV_CPUID_SIG_ECX	0x726f7369u /* "isor" */
#define DV_CPUID_SIG_EDX	0x00000000u

/* 2: dv_stats counts exits by vendor-neutral kind (DV_EXIT_KIND_*), not by
 * VMX exit reason. 3: ballooning, the memory map, compaction statistics,
 * TLB-miss sampling. 4: hot-unplug (DV_BALLOON_UNPLUG), and the VMM segment
 * covers the longest run of guest RAM, which need not start at gPA 0. */
#define DV_ABI_VERSION 4

/* Call numbers. */
#define DV_HC_VERSION  0 /* () -> (major << 16) | minor of dimvisor */
#define DV_HC_FEATURES 1 /* () -> DV_HC_FEATURE_* bits */
#define DV_HC_CONSOLE_WRITE                                                                        \
	2	      /* (RBX = buffer gVA, RCX = length <= DV_CONSOLE_MAX) -> bytes written */
#define DV_HC_EXIT  3 /* (RBX = status 0..DV_EXIT_GUEST_MAX) -> does not return */
#define DV_HC_STATS 4 /* (RBX = struct dv_stats gVA, RCX = its size) -> bytes filled */
/* The guest segment of the current address space (CR3): BASE_g, LIMIT_g,
 * OFFSET_g map gVA [BASE_g, LIMIT_g) to gPA + OFFSET_g. Offered in
 * mode=guest-direct and dual-direct (DV_HC_FEATURE_GUEST_SEGMENT), else
 * -DV_ENOTSUP. SET checks the triple against guest RAM and the guest's live
 * page tables and refuses, changing nothing: -DV_EINVAL (BASE >= LIMIT, a
 * value not 4 KiB aligned, not canonical), -DV_ERANGE (the gPA range is not
 * one piece of guest RAM: outside it or across the I/O gap), -DV_EFAULT (the
 * tables do not map every page as the triple says), -DV_E2BIG (too many
 * address spaces have one), -DV_ENOTSUP (paging is not 4-level). */
#define DV_HC_GUEST_SEGMENT_SET	  5 /* (RBX = BASE_g, RCX = LIMIT_g, RDX = OFFSET_g) -> 0 */
#define DV_HC_GUEST_SEGMENT_CLEAR 6 /* () -> 0, or -DV_ENOENT if there was none */
#define DV_HC_SEGMENT_INFO                                                                         \
	7 /* (RBX = struct dv_segment_info gVA, RCX = its size >= 8) -> bytes filled */
/* Escape one page of the VMM segment while the guest runs (the paper's
 * escape filter): its contents move to another host frame, which backs it
 * from then on; the segment's translation skips it. While compaction builds
 * the segment (dv_stats.compact_state RUNNING) the escape is taken and
 * applied when the segment exists. (RBX = gPA, 4 KiB
 * aligned) -> 0, or -DV_ENOTSUP (no VMM segment in effect), -DV_EINVAL (not
 * aligned), -DV_ERANGE (outside the VMM segment), -DV_EEXIST (escaped
 * already), -DV_E2BIG (no room for more holes), -DV_ENOMEM. */
#define DV_HC_ESCAPE_PAGE 8
/* Switch mode while the guest runs, any mode to any other (the paper's open
 * question). Guest memory is preserved: into a mode with the VMM segment, the
 * segment covers the longest gPA-contiguous run of guest RAM (the lowest of
 * equals: RAM below the I/O gap, unless hot-unplug and re-adding made the RAM
 * above 4 GiB longer), copied into one contiguous host range unless it lies in
 * one already; out of it, only the mappings change. Asking again for the mode
 * in effect moves the segment onto that run when the run has changed (after a
 * re-add, say), else changes nothing. Leaving the modes with
 * a guest segment forgets every guest triple. (RBX = enum dv_mode_id) -> the
 * mode granted: the one asked for, or without the VMM segment when no
 * contiguous range could be had (Dual Direct: Guest Direct; VMM Direct: base);
 * -DV_EINVAL for an unknown mode. The mode in effect also depends on the guest
 * registering its triple (DV_HC_SEGMENT_INFO says both). */
#define DV_HC_MODE_SET 9
/* Self-ballooning (the paper's answer to guest-physical fragmentation): the
 * guest gives dimvisor pages it does not use, as a list of guest-physical page
 * numbers (gPA >> 12), and may ask for the same amount back as one contiguous
 * range above the top of its RAM (hot-add: at or above 4 GiB, on a 1 GiB
 * boundary, above every range the guest has; zeroed). The call is all or
 * nothing; checked in this order, the first failure answers: -DV_EINVAL
 * (unknown flags; entries not 1..DV_BALLOON_MAX), -DV_EFAULT (the list, or
 * the reply struct, is not in guest RAM, or the reply lies in a listed page),
 * then each entry: -DV_EINVAL (not guest RAM, ballooned already, listed
 * twice), -DV_EBUSY (inside the VMM segment: its host range must stay whole,
 * so a page there frees nothing); then -DV_ERANGE (no guest-physical room left
 * for the hot-add), -DV_ENOMEM (the host cannot back it), -DV_E2BIG
 * (dimvisor's map of guest memory is full).
 * (RBX = u64 list gVA, RCX = entries, RDX = DV_BALLOON_* flags, RSI = struct
 * dv_mem_range gVA for the hot-added range, or 0) -> 0.
 * A ballooned page is gone: touching it stops the guest with a report.
 * With DV_BALLOON_UNPLUG (the I/O gap) the pages leave guest memory instead,
 * and the hot-add continues the RAM above 4 GiB (see the flag). */
#define DV_HC_BALLOON_INFLATE 10
/* Give ballooned pages back, zeroed, as RAM (RBX = list gVA, RCX = entries)
 * -> 0, -DV_EINVAL (count, an entry not ballooned or listed twice), -DV_EFAULT
 * (the list), -DV_ENOMEM (the host has no memory for them), -DV_E2BIG. */
#define DV_HC_BALLOON_DEFLATE 11
/* The guest-physical memory map as it is now, adjacent pieces of one kind
 * merged, from the piece that holds (or follows) gPA RDX on: a guest whose map
 * has more than DV_MEMORY_MAP_MAX pieces asks again from the end of the last
 * one it got. (RBX = struct dv_memory_map gVA, RCX = its size >= 8, RDX = gPA)
 * -> bytes filled, or -DV_EINVAL (size), -DV_EFAULT. */
#define DV_HC_MEMORY_MAP 12
/* TLB-miss sampling (BadgerTrap's method from the hypervisor: docs/sampling.md).
 * START (RBX = flags, 0) -> 0, -DV_EBUSY when sampling already, -DV_EINVAL for
 * flags; it begins with a nested-TLB flush and fresh counts. STOP () -> 0, or
 * -DV_ENOENT when not sampling. READ (RBX = struct dv_sample gVA, RCX = its
 * size >= 8) -> bytes filled, while sampling or after. */
#define DV_HC_SAMPLE_START 13
#define DV_HC_SAMPLE_STOP  14
#define DV_HC_SAMPLE_READ  15
#define DV_HC_COUNT	   16 /* first unassigned number */

#define DV_BALLOON_MAX	  16384	    /* list entries per call: 64 MiB of 4 KiB pages */
#define DV_BALLOON_HOTADD (1u << 0) /* add the same amount back, contiguous, above RAM */
/* Hot-unplug (the paper's I/O gap): the pages leave guest memory for good, as
 * if they were part of the gap (absent from the memory map, never deflated;
 * touching one stops the guest); with DV_BALLOON_HOTADD the same amount is
 * re-added right after the top of RAM at or above 4 GiB, so that it continues
 * the RAM above the gap (no 1 GiB boundary) and one segment can cover both. */
#define DV_BALLOON_UNPLUG (1u << 1)
#define DV_BALLOON_FLAGS  (DV_BALLOON_HOTADD | DV_BALLOON_UNPLUG)

#define DV_CONSOLE_MAX 4096 /* longest console write in one call */

/* Feature bits (DV_HC_FEATURES, CPUID 0x40000001 EAX). */
#define DV_HC_FEATURE_CONSOLE	    (1u << 0)
#define DV_HC_FEATURE_STATS	    (1u << 1)
#define DV_HC_FEATURE_GUEST_SEGMENT (1u << 2) /* GUEST_SEGMENT_SET / CLEAR work in this mode */
#define DV_HC_FEATURE_SEGMENT_INFO  (1u << 3)
#define DV_HC_FEATURE_ESCAPE	    (1u << 4) /* a VMM segment is in effect: ESCAPE_PAGE works */
#define DV_HC_FEATURE_MODE_SET	    (1u << 5)
#define DV_HC_FEATURE_BALLOON	    (1u << 6) /* BALLOON_INFLATE / DEFLATE, MEMORY_MAP */
#define DV_HC_FEATURE_SAMPLE	    (1u << 7) /* SAMPLE_START / STOP / READ */

/* The paper's modes (Table I), as DV_HC_SEGMENT_INFO reports them. */
enum dv_mode_id {
	DV_MODE_BASE = 0,
	DV_MODE_VMM_DIRECT = 1,
	DV_MODE_GUEST_DIRECT = 2,
	DV_MODE_DUAL_DIRECT = 3,
};

struct dv_segment_triple {
	u64 base, limit, offset; /* base == limit: disabled */
};

/* Filled by DV_HC_SEGMENT_INFO; grows at the end like dv_stats. */
struct dv_segment_info {
	u32 size; /* bytes the hypervisor filled */
	u32 abi_version;
	u32 mode_asked;			/* enum dv_mode_id on the command line */
	u32 mode_effect;		/* in effect now: which triples are enabled */
	struct dv_segment_triple guest; /* of the current address space */
	struct dv_segment_triple vmm;
	u64 vmm_host_base;	    /* the VMM segment's host range starts here */
	u64 escaped_pages;	    /* 4 KiB holes in the VMM segment */
	u64 vmm_ept_tables;	    /* EPT paging-structure pages that map the VMM segment */
	u64 mode_switches;	    /* DV_HC_MODE_SET calls */
	u64 pages_copied;	    /* by those switches */
	u64 switch_tsc;		    /* TSC ticks those switches took */
	u64 escape_false_positives; /* segment pages the escape filter wrongly flags */
	u64 vmm_ept_splits;	    /* EPT tables the segment needs beyond a hole-free one */
};

/* Why the guest left guest mode, whatever the CPU's vendor: the index of
 * dv_stats.exits_by_kind. Numbers are stable; new kinds are added at the end. */
enum dv_exit_kind {
	DV_EXIT_KIND_OTHER = 0, /* anything dimvisor has no handler for */
	DV_EXIT_KIND_CPUID = 1,
	DV_EXIT_KIND_HLT = 2,
	DV_EXIT_KIND_IO = 3, /* IN, OUT, INS, OUTS */
	DV_EXIT_KIND_MSR_READ = 4,
	DV_EXIT_KIND_MSR_WRITE = 5,
	DV_EXIT_KIND_CR_ACCESS = 6, /* MOV to/from CR, CLTS, LMSW */
	DV_EXIT_KIND_XSETBV = 7,
	DV_EXIT_KIND_HYPERCALL = 8,	    /* VMCALL (VMMCALL) */
	DV_EXIT_KIND_NESTED_FAULT = 9,	    /* EPT violation (NPF): an access EPT refused */
	DV_EXIT_KIND_NESTED_MISCONFIG = 10, /* a malformed nested page-table entry */
	DV_EXIT_KIND_TRIPLE_FAULT = 11,
	DV_EXIT_KIND_CACHE_FLUSH = 12, /* INVD, WBINVD */
	DV_EXIT_KIND_VIRT_INSN = 13,   /* a virtualization instruction (VMX, SVM) */
	DV_EXIT_KIND_HOST_NMI = 14,    /* an NMI for the host arrived in guest mode */
	DV_EXIT_KIND_TASK_SWITCH = 15,
	DV_EXIT_KIND_ENTRY_FAILURE = 16,    /* the CPU refused to enter the guest */
	DV_EXIT_KIND_INTERRUPT_WINDOW = 17, /* the guest can take the interrupt waiting for it */
	DV_EXIT_KIND_NMI_WINDOW = 18,	    /* the guest can take the NMI waiting for it */
	DV_EXIT_KIND_TIMER = 19,	    /* dimvisor's timer for the guest's devices expired */
	DV_EXIT_KIND_HOST_INTERRUPT = 20,   /* a host interrupt arrived in guest mode */
	DV_EXIT_KIND_APIC_ACCESS = 21,	    /* an APIC-page access the CPU does not serve */
	DV_EXIT_KIND_APIC_WRITE = 22,	    /* a write the CPU made to its APIC register page */
	DV_EXIT_KIND_TPR_BELOW = 23,	    /* the guest lowered its TPR below the threshold */
	DV_EXIT_KIND_SINGLE_STEP = 24,	    /* dimvisor's single step (monitor trap flag) */
	DV_EXIT_KINDS = 25,
};

#define DV_STATS_EXIT_KINDS 32 /* room in dv_stats for kinds added later */

/* Filled by DV_HC_STATS. Fields only grow at the end; `size` says how many
 * bytes are valid, so an older guest with a shorter struct still works. */
struct dv_stats {
	u32 size; /* bytes the hypervisor filled */
	u32 abi_version;
	u64 exits_total;
	u64 exits_by_kind[DV_STATS_EXIT_KINDS]; /* indexed by enum dv_exit_kind */
	u64 ept_tables[5];			/* EPT paging-structure pages by level (1..4) */
	u64 ept_leaves[4];			/* EPT leaves: [1] 4 KiB, [2] 2 MiB, [3] 1 GiB */
	u64 guest_ram_bytes;
	u64 hypercalls;
	/* ABI 3: memory that moves */
	u64 ballooned_bytes;	 /* given by the guest's balloon, not given back */
	u64 deflated_bytes;	 /* given back to the guest by DEFLATE */
	u64 hotadded_bytes;	 /* added above the top of RAM for ballooned memory */
	u64 unplugged_bytes;	 /* hot-unplugged (DV_BALLOON_UNPLUG), since boot */
	u64 readded_bytes;	 /* and re-added above the top of RAM for it */
	u64 extents;		 /* pieces of the guest-physical map */
	u64 compact_state;	 /* enum dv_compact_state */
	u64 compact_pages_moved; /* guest pages migrated by compaction */
	u64 compact_steps;	 /* bounded batches it ran in */
	u64 compact_tsc;	 /* TSC ticks they took */
	u64 compact_upgrades;	 /* modes upgraded when compaction finished */
};

/* The designs DV_HC_SAMPLE_READ estimates (the paper's Table IV, plus the
 * baselines), in this order. */
enum dv_design {
	DV_DESIGN_NATIVE = 0,	      /* C_n * M */
	DV_DESIGN_DIRECT_SEGMENT = 1, /* native with a guest segment */
	DV_DESIGN_BASE_VIRT = 2,      /* C_v * M: 2D walks */
	DV_DESIGN_DUAL_DIRECT = 3,
	DV_DESIGN_VMM_DIRECT = 4,
	DV_DESIGN_GUEST_DIRECT = 5,
	DV_DESIGNS = 6,
};

/* Filled by DV_HC_SAMPLE_READ; grows at the end like dv_stats. Misses are
 * sampled data TLB misses (reads and writes) of the guest, classified by the
 * register triples in effect when each happened. */
struct dv_sample {
	u32 size; /* bytes the hypervisor filled */
	u32 abi_version;
	u64 active;				 /* sampling now */
	u64 misses;				 /* M: data misses sampled */
	u64 guest_only, vmm_only, both, neither; /* M by where the address lies */
	u64 fetch_misses;			 /* instruction-fetch misses (not in M) */
	u64 table_faults;		  /* the guest's walk read a poisoned page of its tables */
	u64 exits;			  /* sampling exits taken */
	u64 tsc;			  /* TSC ticks dimvisor spent in them */
	u64 rearms;			  /* leaves poisoned again after a miss */
	u64 f_gd_ppm, f_vd_ppm, f_dd_ppm; /* F_GD, F_VD, F_DD in parts per million of M */
	u64 estimate[DV_DESIGNS];	  /* Table IV cycles per design (enum dv_design) */
	/* The model's walker over the live guest tables and EPT, per data miss
	 * and per mode (indexed by enum dv_mode_id): what it would cost there.
	 * Every 16th data miss is walked. */
	u64 walked;	  /* data misses walked in every mode */
	u64 walk_refs[4]; /* memory references of those walks */
	u64 walk_adds[4]; /* segment additions */
	u64 single_steps; /* monitor trap exits: each access re-armed right after it */
};

/* Compaction of host memory for the VMM segment (dv_stats.compact_state). */
enum dv_compact_state {
	DV_COMPACT_IDLE = 0,	/* nothing to do: no VMM segment wanted, or it exists */
	DV_COMPACT_RUNNING = 1, /* freeing a host range; the mode runs degraded meanwhile */
	DV_COMPACT_DONE = 2,	/* finished: the segment was built and the mode upgraded */
	DV_COMPACT_FAILED = 3,	/* no host range can be freed (what blocks it is reported) */
};

/* A range of guest-physical memory (BALLOON_INFLATE's hot-added range). */
struct dv_mem_range {
	u64 gpa, len;
};

/* The kinds of guest-physical memory DV_HC_MEMORY_MAP reports. */
enum dv_mem_kind {
	DV_MEM_RAM = 1,	      /* RAM the guest booted with */
	DV_MEM_HOTADDED = 2,  /* RAM added while it ran */
	DV_MEM_BALLOONED = 3, /* given away: touching it stops the guest */
};

#define DV_MEMORY_MAP_MAX 64 /* entries in one reply; more are counted, not listed */

struct dv_memory_map_entry {
	u64 gpa, len;
	u32 kind; /* enum dv_mem_kind */
	u32 reserved;
};

/* Filled by DV_HC_MEMORY_MAP; adjacent pieces of one kind are merged. */
struct dv_memory_map {
	u32 size; /* bytes the hypervisor filled */
	u32 abi_version;
	u32 n;	   /* entries filled */
	u32 total; /* entries there are (n < total: the reply was too small) */
	struct dv_memory_map_entry e[DV_MEMORY_MAP_MAX];
};

#endif
