#include "hv/hypercall.h"
#include "arch/x86_64/serial.h"
#include "hv/gva.h"
#include "hv/invariants.h"
#include "lib/log.h"
#include "lib/string.h"
#include <dimvisor/errno.h>
#include <dimvisor/exitcodes.h>
#include <dimvisor/hypercall.h>
#include <dimvisor/version.h>

struct hc_args {
	u64 a1, a2, a3, a4; /* RBX, RCX, RDX, RSI */
};

typedef s64 (*hc_fn)(struct vcpu *v, const struct hc_args *a);

static s64 hc_version(struct vcpu *v, const struct hc_args *a)
{
	(void)v;
	(void)a;
	return (DV_VERSION_MAJOR << 16) | DV_VERSION_MINOR;
}

static s64 hc_features(struct vcpu *v, const struct hc_args *a)
{
	(void)v;
	(void)a;
	return hypercall_features();
}

/* Copy the whole buffer first: a bad buffer prints nothing. */
static s64 hc_console_write(struct vcpu *v, const struct hc_args *a)
{
	static char buf[DV_CONSOLE_MAX];
	u64 len = a->a2;

	if (len > DV_CONSOLE_MAX)
		return -DV_EINVAL;
	if (len == 0)
		return 0;
	if (gva_read(v, a->a1, buf, len) < 0)
		return -DV_EFAULT;
	for (u64 i = 0; i < len; i++)
		if (buf[i] != '\r')
			serial_write(&buf[i], 1);
	return (s64)len;
}

static s64 hc_exit(struct vcpu *v, const struct hc_args *a)
{
	if (a->a1 > DV_EXIT_GUEST_MAX)
		return -DV_EINVAL;
	kprintf("dimvisor: guest exited with status %lu\n", a->a1);
	vcpu_stop(v, (int)a->a1);
	return 0;
}

static s64 hc_stats(struct vcpu *v, const struct hc_args *a)
{
	static struct dv_stats s;
	u64 size = MIN(a->a2, sizeof(s));

	if (a->a2 < sizeof(u32) * 2)
		return -DV_EINVAL;
	memset(&s, 0, sizeof(s));
	s.size = (u32)size;
	s.abi_version = DV_ABI_VERSION;
	s.exits_total = v->exits_total;
	for (unsigned k = 0; k < DV_EXIT_KINDS; k++)
		s.exits_by_kind[k] = v->exits[k];
	for (unsigned l = 1; l <= 4; l++)
		s.ept_tables[l] = v->mem->ept.tables[l];
	for (unsigned l = 1; l <= 3; l++)
		s.ept_leaves[l] = v->mem->ept.leaves[l];
	s.guest_ram_bytes = v->mem->ram_bytes;
	s.hypercalls = v->hypercalls;
	if (gva_write(v, a->a1, &s, size) < 0)
		return -DV_EFAULT;
	return (s64)size;
}

static const struct {
	const char *name;
	hc_fn fn;
} hypercalls[DV_HC_COUNT] = {
	[DV_HC_VERSION] = {"version", hc_version},
	[DV_HC_FEATURES] = {"features", hc_features},
	[DV_HC_CONSOLE_WRITE] = {"console_write", hc_console_write},
	[DV_HC_EXIT] = {"exit", hc_exit},
	[DV_HC_STATS] = {"stats", hc_stats},
};

u32 hypercall_features(void)
{
	return DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS;
}

const char *hypercall_name(u64 nr)
{
	return nr < DV_HC_COUNT && hypercalls[nr].name ? hypercalls[nr].name : "unknown";
}

void hypercall_handle(struct vcpu *v)
{
	u64 nr = v->regs.rax;
	struct hc_args a = {v->regs.rbx, v->regs.rcx, v->regs.rdx, v->regs.rsi};
	s64 rc;

	v->hypercalls++;
	if (vcpu_cpl(v) != 0)
		rc = -DV_EPERM;
	else if (nr >= DV_HC_COUNT || !hypercalls[nr].fn)
		rc = -DV_ENOSYS;
	else
		rc = hypercalls[nr].fn(v, &a);
	kdebug("hypercall: %s (%lu) from CPL %u, args 0x%lx 0x%lx 0x%lx 0x%lx -> %ld\n",
	       hypercall_name(nr), nr, vcpu_cpl(v), a.a1, a.a2, a.a3, a.a4, rc);
	if (v->hypercalls % INVARIANTS_EVERY_HYPERCALLS == 0) {
		char when[40];

		ksnprintf(when, sizeof(when), "hypercall %lu", v->hypercalls);
		invariants_check(v, when);
	}
	if (v->stopped)
		return;
	v->regs.rax = (u64)rc;
	vcpu_skip_instruction(v);
}
