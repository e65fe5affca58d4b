/* Who made this CPU and which one it is (CPUID leaves 0, 1, 0x80000002-4),
 * for the boot report and vendor decisions. */
#ifndef ARCH_X86_64_CPUIDENT_H
#define ARCH_X86_64_CPUIDENT_H

#include <dimvisor/types.h>

struct cpu_ident {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	bool intel, amd;
};

void cpu_identify(struct cpu_ident *id);

#endif
