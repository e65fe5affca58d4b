/* One-line wrappers for the x86-64 instructions the hypervisor uses, in the
 * spirit of xv6's x86.h. Register and MSR numbers: Intel SDM Vol. 3A/4. */
#ifndef ARCH_X86_64_CPU_H
#define ARCH_X86_64_CPU_H

#include <dimvisor/types.h>

#define CR0_PE (1UL << 0)
#define CR0_MP (1UL << 1)
#define CR0_EM (1UL << 2)
#define CR0_TS (1UL << 3)
#define CR0_ET (1UL << 4)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR0_NW (1UL << 29)
#define CR0_CD (1UL << 30)
#define CR0_PG (1UL << 31)

#define CR4_PSE	       (1UL << 4)
#define CR4_PAE	       (1UL << 5)
#define CR4_PGE	       (1UL << 7)
#define CR4_OSFXSR     (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define CR4_VMXE       (1UL << 13)
#define CR4_SMXE       (1UL << 14)
#define CR4_PCIDE      (1UL << 17)
#define CR4_OSXSAVE    (1UL << 18)

#define MSR_IA32_FEATURE_CONTROL	 0x3a
#define MSR_IA32_SYSENTER_CS		 0x174
#define MSR_IA32_SYSENTER_ESP		 0x175
#define MSR_IA32_SYSENTER_EIP		 0x176
#define MSR_IA32_PAT			 0x277
#define MSR_IA32_VMX_BASIC		 0x480
#define MSR_IA32_VMX_PINBASED_CTLS	 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS	 0x482
#define MSR_IA32_VMX_EXIT_CTLS		 0x483
#define MSR_IA32_VMX_ENTRY_CTLS		 0x484
#define MSR_IA32_VMX_MISC		 0x485
#define MSR_IA32_VMX_CR0_FIXED0		 0x486
#define MSR_IA32_VMX_CR0_FIXED1		 0x487
#define MSR_IA32_VMX_CR4_FIXED0		 0x488
#define MSR_IA32_VMX_CR4_FIXED1		 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2	 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP	 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS	 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS	 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS	 0x490
#define MSR_IA32_EFER			 0xc0000080
#define MSR_FS_BASE			 0xc0000100
#define MSR_GS_BASE			 0xc0000101

#define EFER_SCE (1UL << 0)
#define EFER_LME (1UL << 8)
#define EFER_LMA (1UL << 10)
#define EFER_NXE (1UL << 11)

#define RFLAGS_TF (1UL << 8)
#define RFLAGS_IF (1UL << 9)
#define RFLAGS_RF (1UL << 16)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

/* A CPUID output register by name, for tables of feature flags. */
enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

static inline u32 *cpuid_reg(struct cpuid_regs *r, enum cpuid_reg reg)
{
	return reg == CPUID_EAX	  ? &r->eax
	       : reg == CPUID_EBX ? &r->ebx
	       : reg == CPUID_ECX ? &r->ecx
				  : &r->edx;
}

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                                                     \
	static inline u64 read_cr##n(void)                                                         \
	{                                                                                          \
		u64 v;                                                                             \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(u64 v)                                                      \
	{                                                                                          \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");                         \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline u64 read_rflags(void)
{
	u64 v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}
static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}
static inline void invlpg(u64 va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

struct __packed desc_ptr {
	u16 limit;
	u64 base;
};

static inline void lidt(const struct desc_ptr *p)
{
	__asm__ volatile("lidt %0" : : "m"(*p));
}
static inline void sidt(struct desc_ptr *p)
{
	__asm__ volatile("sidt %0" : "=m"(*p));
}
static inline void sgdt(struct desc_ptr *p)
{
	__asm__ volatile("sgdt %0" : "=m"(*p));
}
static inline u16 str(void)
{
	u16 v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

#define DEFINE_SEG_READER(seg)                                                                     \
	static inline u16 read_##seg(void)                                                         \
	{                                                                                          \
		u16 v;                                                                             \
		__asm__ volatile("mov %%" #seg ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}
DEFINE_SEG_READER(cs)
DEFINE_SEG_READER(ds)
DEFINE_SEG_READER(es)
DEFINE_SEG_READER(ss)
DEFINE_SEG_READER(fs)
DEFINE_SEG_READER(gs)
#undef DEFINE_SEG_READER

/* Stop this CPU for good: interrupts off, halt in a loop (an NMI resumes hlt). */
static inline __noreturn void cpu_halt_forever(void)
{
	for (;;) {
		cli();
		hlt();
	}
}

#endif
