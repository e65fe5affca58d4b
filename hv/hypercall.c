#include "hv/hypercall.h"
#include "arch/x86_64/serial.h"
#include "hv/compact.h"
#include "hv/gva.h"
#include "hv/invariants.h"
#include "hv/mode.h"
#include "hv/sample.h"
#include "mm/ept.h"
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

/* The reply of STATS and SEGMENT_INFO: a struct that starts with u32 size and
 * u32 abi_version, written to the guest's buffer up to the size it gave
 * (the caller refused sizes below those 8 bytes). Returns the bytes filled. */
static s64 reply_struct(struct vcpu *v, const struct hc_args *a, void *reply, u64 whole)
{
	u64 size = MIN(a->a2, whole);
	u32 *head = reply;

	head[0] = (u32)size;
	head[1] = DV_ABI_VERSION;
	return gva_write(v, a->a1, reply, size) < 0 ? -DV_EFAULT : (s64)size;
}

static s64 hc_stats(struct vcpu *v, const struct hc_args *a)
{
	static struct dv_stats s;

	if (a->a2 < sizeof(u32) * 2)
		return -DV_EINVAL;
	memset(&s, 0, sizeof(s));
	s.exits_total = v->exits_total;
	for (unsigned k = 0; k < DV_EXIT_KINDS; k++)
		s.exits_by_kind[k] = v->exits[k];
	for (unsigned l = 1; l <= 4; l++)
		s.ept_tables[l] = v->mem->ept.tables[l];
	for (unsigned l = 1; l <= 3; l++)
		s.ept_leaves[l] = v->mem->ept.leaves[l];
	s.guest_ram_bytes = v->mem->ram_bytes;
	s.hypercalls = v->hypercalls;
	s.extents = extent_count(&v->mem->map);
	s.compact_state = compact_stats()->state;
	s.compact_pages_moved = compact_stats()->pages_moved;
	s.compact_steps = compact_stats()->steps;
	s.compact_tsc = compact_stats()->tsc;
	s.compact_upgrades = compact_stats()->upgrades;
	return reply_struct(v, a, &s, sizeof(s));
}

static bool guest_ram(void *ctx, u64 gpa, u64 len)
{
	return guestmem_is_ram(ctx, gpa, len);
}

/* Believe a guest triple only when guest RAM and the guest's own tables
 * implement it (hv/guest_segment.c); keep it with the current address space. */
static s64 hc_guest_segment_set(struct vcpu *v, const struct hc_args *a)
{
	struct vm_mode *m = mode_state();
	struct segment seg = {.base = a->a1, .limit = a->a2, .offset = a->a3};
	struct walk_tables t;
	struct walk_env env;
	u64 bad = 0;
	int rc;

	if (!mode_has_guest_segment(m->asked))
		return -DV_ENOTSUP;
	rc = gva_guest_tables(v, &t, &env);
	if (rc == 0)
		rc = guest_segment_check(&seg, guest_ram, v->mem, &t, &env, &bad);
	if (rc == 0)
		rc = guest_segments_set(&m->guest, vcpu_get(v, VCPU_CR3), &seg);
	if (rc < 0) {
		m->guest_refusals++;
		kprintf("dimvisor: guest segment BASE_g 0x%lx LIMIT_g 0x%lx OFFSET_g 0x%lx refused "
			"(%s%s)\n",
			seg.base, seg.limit, seg.offset, dv_strerror(rc),
			rc == -DV_EFAULT ? ": the guest's tables do not map it so" : "");
		if (rc == -DV_EFAULT)
			kprintf("dimvisor:   first page that differs: gVA 0x%lx\n", bad);
		return rc;
	}
	m->guest_sets++;
	kinfo("vm: guest segment BASE_g 0x%lx LIMIT_g 0x%lx OFFSET_g 0x%lx for CR3 0x%lx: mode "
	      "in effect %s\n",
	      seg.base, seg.limit, seg.offset, vcpu_get(v, VCPU_CR3),
	      config_mode_name(mode_in_effect(vcpu_get(v, VCPU_CR3))));
	return 0;
}

static s64 hc_guest_segment_clear(struct vcpu *v, const struct hc_args *a)
{
	struct vm_mode *m = mode_state();

	(void)a;
	if (!mode_has_guest_segment(m->asked))
		return -DV_ENOTSUP;
	return guest_segments_clear(&m->guest, vcpu_get(v, VCPU_CR3));
}

static void triple_out(struct dv_segment_triple *out, const struct segment *s)
{
	*out = s ? (struct dv_segment_triple){s->base, s->limit, s->offset}
		 : (struct dv_segment_triple){0, 0, 0};
}

static s64 hc_segment_info(struct vcpu *v, const struct hc_args *a)
{
	static struct dv_segment_info info;
	const struct vm_mode *m = mode_state();
	const struct vmm_segment *vs = &v->mem->vseg;
	u64 cr3 = vcpu_get(v, VCPU_CR3);

	if (a->a2 < sizeof(u32) * 2)
		return -DV_EINVAL;
	memset(&info, 0, sizeof(info));
	info.mode_asked = (u32)m->asked;
	info.mode_effect = (u32)mode_in_effect(cr3);
	triple_out(&info.guest, guest_segments_lookup(&m->guest, cr3));
	triple_out(&info.vmm, v->mem->vseg_active ? &vs->regs : NULL);
	if (v->mem->vseg_active) {
		const struct vseg_footprint *f = guestmem_segment_footprint(v->mem);

		info.vmm_host_base = vs->hpa;
		info.escaped_pages = vs->nholes;
		info.vmm_ept_tables = f->tables[1] + f->tables[2] + f->tables[3] + f->tables[4];
		info.vmm_ept_splits = f->splits;
		info.escape_false_positives = f->false_positives;
	}
	info.mode_switches = m->switches;
	info.pages_copied = m->pages_copied;
	info.switch_tsc = m->switch_tsc;
	return reply_struct(v, a, &info, sizeof(info));
}

static s64 hc_escape_page(struct vcpu *v, const struct hc_args *a)
{
	int rc = guestmem_escape_page(v->mem, a->a1);
	u64 hpa = 0;

	if (rc == 0) {
		vcpu_flush_nested(v);
		guestmem_release_deferred(v->mem);
		extent_translate(&v->mem->map, a->a1, &hpa);
		kinfo("vm: escaped gPA 0x%lx of the VMM segment while the guest ran: now at hPA "
		      "0x%lx\n",
		      a->a1, hpa);
	}
	return rc;
}

/* A live mode switch: the hypervisor's own memory state changes on purpose,
 * so the invariants are checked at once and rebased. */
static s64 hc_mode_set(struct vcpu *v, const struct hc_args *a)
{
	if (a->a1 > DV_MODE_DUAL_DIRECT)
		return -DV_EINVAL;
	compact_cancel(v); /* its held frames back first: the switch may need them */
	mode_switch((enum dv_mode)a->a1, v->mem);
	vcpu_flush_nested(v);
	guestmem_release_deferred(v->mem);
	invariants_start(v);
	invariants_check(v, "mode switch");
	compact_mode_changed(v);
	return (s64)mode_granted();
}

static s64 hc_sample_start(struct vcpu *v, const struct hc_args *a)
{
	return sample_start(v, a->a1);
}

static s64 hc_sample_stop(struct vcpu *v, const struct hc_args *a)
{
	(void)a;
	return sample_stop(v);
}

static s64 hc_sample_read(struct vcpu *v, const struct hc_args *a)
{
	static struct dv_sample s;

	if (a->a2 < sizeof(u32) * 2)
		return -DV_EINVAL;
	memset(&s, 0, sizeof(s));
	sample_read(&s);
	return reply_struct(v, a, &s, sizeof(s));
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
	[DV_HC_GUEST_SEGMENT_SET] = {"guest_segment_set", hc_guest_segment_set},
	[DV_HC_GUEST_SEGMENT_CLEAR] = {"guest_segment_clear", hc_guest_segment_clear},
	[DV_HC_SEGMENT_INFO] = {"segment_info", hc_segment_info},
	[DV_HC_ESCAPE_PAGE] = {"escape_page", hc_escape_page},
	[DV_HC_MODE_SET] = {"mode_set", hc_mode_set},
	[DV_HC_SAMPLE_START] = {"sample_start", hc_sample_start},
	[DV_HC_SAMPLE_STOP] = {"sample_stop", hc_sample_stop},
	[DV_HC_SAMPLE_READ] = {"sample_read", hc_sample_read},
};

u32 hypercall_features(void)
{
	return DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS | DV_HC_FEATURE_SEGMENT_INFO |
	       DV_HC_FEATURE_MODE_SET | DV_HC_FEATURE_SAMPLE |
	       (mode_has_guest_segment(mode_state()->asked) ? DV_HC_FEATURE_GUEST_SEGMENT : 0) |
	       (mode_state()->mem && mode_state()->mem->vseg_active ? DV_HC_FEATURE_ESCAPE : 0);
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
