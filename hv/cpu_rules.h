/* The architecture's rules for values a guest writes into its own CPU state
 * (XCR0, MSRs, CR0/CR3/CR4): what a real CPU would refuse with #GP.
 * Pure functions over the values and the CPU's capabilities, so the exit
 * handlers stay thin and the rules are unit-tested on the host. */
#ifndef HV_CPU_RULES_H
#define HV_CPU_RULES_H

#include <dimvisor/types.h>
#include "arch/x86_64/cpu.h"

/* What the rules depend on: the CPU as the guest's CPUID describes it
 * (cpu_rules_caps_from_cpuid), so that the guest is refused exactly what its
 * CPUID does not promise. */
struct cpu_rules_caps {
	unsigned linear_bits;  /* CPUID.80000008H:EAX[15:8]: 48, or 57 with 5-level paging */
	u64 xcr0_supported;    /* CPUID.(EAX=0DH,ECX=0):EDX:EAX */
	u64 efer_writable;     /* EFER bits a WRMSR may set (SCE, LME, LMA, NXE as present) */
	u64 cr4_writable;      /* CR4 bits the CPU implements (CPUID) */
	unsigned maxphyaddr;   /* CPUID.80000008H:EAX[7:0] */
	u64 debugctl_writable; /* IA32_DEBUGCTL bits a WRMSR may set */
	/* IA32_MISC_ENABLE: the bits a WRMSR may change, and the read-only ones
	 * (MISC_ENABLE_READ_ONLY) with the values they read as */
	u64 misc_enable_writable, misc_enable_read_only;
};

/* The CPUID leaves the rules follow. A leaf past the highest one is zero. */
struct cpu_rules_cpuid {
	struct cpuid_regs leaf0, leaf1, leaf7; /* leaf 7: subleaf 0 */
	struct cpuid_regs pmu;		       /* leaf 0xA */
	struct cpuid_regs xsave;	       /* leaf 0xD, subleaf 0 */
	struct cpuid_regs ext1, widths;	       /* 0x80000001, 0x80000008 */
};

/* The rules for a CPU whose CPUID says c. IA32_MISC_ENABLE's bits follow
 * features it can itself hide (MONITOR, NX): they are read from unlimited, the
 * same CPU's CPUID with IA32_MISC_ENABLE at its reset value. */
void cpu_rules_caps_from_cpuid(const struct cpu_rules_cpuid *c,
			       const struct cpu_rules_cpuid *unlimited,
			       struct cpu_rules_caps *caps);

/* The CPUID flag that says CR4 bit `bit` exists (leaf 1, or leaf 7 subleaf 0;
 * register; mask). False for bits every x86-64 CPU has (VME..OSXMMEXCPT) and
 * for reserved ones. SDM Vol. 3A 2.5. */
bool cr4_bit_feature(unsigned bit, u32 *leaf, enum cpuid_reg *reg, u32 *mask);

/* Control-register bits the rules name: SDM Vol. 3A 2.5. */
#define CR0_BIT_PE	(1ULL << 0)
#define CR0_BIT_NW	(1ULL << 29)
#define CR0_BIT_CD	(1ULL << 30)
#define CR0_BIT_PG	(1ULL << 31)
#define CR4_BIT_PAE	(1ULL << 5)
#define CR4_BIT_LA57	(1ULL << 12)
#define CR4_BIT_PCIDE	(1ULL << 17)
#define CR3_BIT_NOFLUSH (1ULL << 63)

/* The guest's mode and control registers, as a MOV to a CR sees them. */
struct cr_context {
	u64 cr0, cr3, cr4, efer;
	bool in_64bit_code; /* EFER.LMA and CS.L */
};

/* EFER bits: SDM Vol. 3A 2.2.1, Table 2-1. */
#define EFER_BIT_SCE (1ULL << 0)
#define EFER_BIT_LME (1ULL << 8)
#define EFER_BIT_LMA (1ULL << 10)
#define EFER_BIT_NXE (1ULL << 11)

/* IA32_DEBUGCTL (MSR 0x1d9): SDM Vol. 3B 18.4.1, Vol. 4 Table 2-2. Only LBR
 * and BTF (and RTM_DEBUG with RTM) are offered: the others drive the branch
 * trace store, PEBS and performance counters, which the guest does not have. */
#define DEBUGCTL_LBR	   (1ULL << 0)
#define DEBUGCTL_BTF	   (1ULL << 1)
#define DEBUGCTL_RTM_DEBUG (1ULL << 15)

/* IA32_MISC_ENABLE (MSR 0x1a0): SDM Vol. 4 Table 2-2. */
#define MISC_ENABLE_FAST_STRINGS (1ULL << 0)
#define MISC_ENABLE_PERF_MON	 (1ULL << 7)  /* performance monitoring available (RO) */
#define MISC_ENABLE_BTS_UNAVAIL	 (1ULL << 11) /* branch trace storage unavailable (RO) */
#define MISC_ENABLE_PEBS_UNAVAIL (1ULL << 12) /* PEBS unavailable (RO) */
#define MISC_ENABLE_EST		 (1ULL << 16) /* Enhanced Intel SpeedStep */
#define MISC_ENABLE_MONITOR	 (1ULL << 18) /* MONITOR/MWAIT (and CPUID.1:ECX[3]) */
#define MISC_ENABLE_LIMIT_CPUID	 (1ULL << 22) /* CPUID.0:EAX reports at most 2 */
#define MISC_ENABLE_XTPR_DISABLE (1ULL << 23)
#define MISC_ENABLE_XD_DISABLE	 (1ULL << 34) /* no NX: CPUID.80000001H:EDX[20] clear */
#define MISC_ENABLE_READ_ONLY                                                                      \
	(MISC_ENABLE_PERF_MON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

/* IA32_MTRR_DEF_TYPE (MSR 0x2ff): SDM Vol. 3A 12.11.2.1. dimvisor's MTRRCAP
 * offers no variable or fixed ranges and no write-combining. */
#define MTRR_DEF_TYPE_TYPE 0xffULL
#define MTRR_DEF_TYPE_FE   (1ULL << 10)
#define MTRR_DEF_TYPE_E	   (1ULL << 11)

/* XCR0 state components: SDM Vol. 1 13.1, 13.3. */
#define XCR0_X87	(1ULL << 0)
#define XCR0_SSE	(1ULL << 1)
#define XCR0_AVX	(1ULL << 2)
#define XCR0_BNDREGS	(1ULL << 3)
#define XCR0_BNDCSR	(1ULL << 4)
#define XCR0_OPMASK	(1ULL << 5)
#define XCR0_ZMM_HI256	(1ULL << 6)
#define XCR0_HI16_ZMM	(1ULL << 7)
#define XCR0_PKRU	(1ULL << 9)
#define XCR0_XTILECFG	(1ULL << 17)
#define XCR0_XTILEDATA	(1ULL << 18)
#define XCR0_AVX512_ALL (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XCR0_MPX_ALL	(XCR0_BNDREGS | XCR0_BNDCSR)
#define XCR0_AMX_ALL	(XCR0_XTILECFG | XCR0_XTILEDATA)

/* Why a value is refused, for the console line; NULL when it is accepted. */
typedef const char *cpu_rule_verdict;

/* XSETBV: NULL if the CPU accepts XCR[index] = value. SDM Vol. 2D XSETBV. */
cpu_rule_verdict xsetbv_check(u32 index, u64 value, const struct cpu_rules_caps *caps);

/* WRMSR: NULL if the CPU accepts value for msr, given the guest's current
 * EFER and CR0.PG (EFER.LME cannot change while paging is on). Only MSRs
 * with a rule are checked; others return NULL. */
cpu_rule_verdict msr_write_check(u32 msr, u64 value, u64 efer, bool paging,
				 const struct cpu_rules_caps *caps);
/* What a WRMSR of an accepted value to EFER leaves in the register: LMA is
 * read-only and keeps the old value. SDM Vol. 3A 2.2.1. */
u64 efer_after_write(u64 old_efer, u64 value);

/* IA32_MISC_ENABLE after reset: fast strings on, MONITOR/MWAIT on where the
 * CPU has them, the read-only bits as caps says. */
u64 misc_enable_at_reset(const struct cpu_rules_caps *caps);
/* WRMSR IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): NULL and *stored = what the
 * MSR then holds (read-only bits keep their values), or why the CPU refuses
 * it: a reserved bit, or XD Bit Disable while EFER.NXE is set (which would
 * leave NXE on in a CPU without NX; the SDM leaves it undefined). */
cpu_rule_verdict misc_enable_write_check(u64 old, u64 value, u64 efer,
					 const struct cpu_rules_caps *caps, u64 *stored);

/* MOV to CR0/CR4/CR3 (SDM Vol. 2B "MOV - Move to/from Control Registers",
 * Vol. 3A 2.5): NULL if the CPU accepts value. *stored gets what CR3 would
 * hold (bit 63 is a no-flush hint with PCIDE, never stored). */
cpu_rule_verdict cr0_write_check(u64 value, const struct cr_context *ctx);
cpu_rule_verdict cr4_write_check(u64 value, const struct cr_context *ctx,
				 const struct cpu_rules_caps *caps);
cpu_rule_verdict cr3_write_check(u64 value, const struct cr_context *ctx,
				 const struct cpu_rules_caps *caps, u64 *stored);

/* value is canonical for a linear-address width of bits (48 or 57). */
bool is_canonical(u64 value, unsigned bits);
/* Every byte of value is a valid PAT memory type (0, 1, 4, 5, 6, 7). SDM Vol. 3A 12.12.2. */
bool pat_valid(u64 value);

#endif
