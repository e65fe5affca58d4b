#include "arch/x86_64/cpuident.h"
#include "arch/x86_64/cpu.h"
#include "lib/string.h"

static void put_regs(char *dst, const u32 *regs, int n)
{
	memcpy(dst, regs, (size_t)n * 4);
}

void cpu_identify(struct cpu_ident *id)
{
	struct cpuid_regs r = cpuid(0, 0);
	u32 v[3] = {r.ebx, r.edx, r.ecx};

	memset(id, 0, sizeof(*id));
	put_regs(id->vendor, v, 3);
	id->intel = strcmp(id->vendor, "GenuineIntel") == 0;
	id->amd = strcmp(id->vendor, "AuthenticAMD") == 0;

	r = cpuid(1, 0);
	u32 base_family = (r.eax >> 8) & 0xf, base_model = (r.eax >> 4) & 0xf;
	id->family = base_family == 0xf ? base_family + ((r.eax >> 20) & 0xff) : base_family;
	id->model = (base_family == 6 || base_family == 0xf)
			    ? base_model | (((r.eax >> 16) & 0xf) << 4)
			    : base_model;
	id->stepping = r.eax & 0xf;

	if (cpuid(0x80000000, 0).eax >= 0x80000004) {
		for (u32 leaf = 0; leaf < 3; leaf++) {
			r = cpuid(0x80000002 + leaf, 0);
			u32 b[4] = {r.eax, r.ebx, r.ecx, r.edx};
			put_regs(id->brand + leaf * 16, b, 4);
		}
	}
	if (!id->brand[0])
		strlcpy(id->brand, "(no brand string)", sizeof(id->brand));
}
