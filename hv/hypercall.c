#include "hv/hypercall.h"
#include "hv/balloon.h"
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
	s.guest_ram_bytes = guestmem_ram_bytes(v->mem);
	s.hypercalls = v->hypercalls;
	s.ballooned_bytes = balloon_bytes(v->mem);
	s.deflated_bytes = v->mem->deflated_bytes;
	s.hotadded_bytes = v->mem->hotadded_bytes;
	s.unplugged_bytes = v->mem->unplugged_bytes;
	s.readded_bytes = v->mem->readded_bytes;
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
	int rc;
	u64 hpa = 0;

	if (compact_stats()->state == DV_COMPACT_RUNNING)
		return compact_defer_escape(a->a1); /* the segment is on its way */
	rc = guestmem_escape_page(v->mem, a->a1);

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

/* The list of a balloon call, read whole before anything is checked. */
static u64 balloon_list[DV_BALLOON_MAX];

static s64 read_balloon_list(struct vcpu *v, const struct hc_args *a)
{
	if (a->a2 == 0 || a->a2 > DV_BALLOON_MAX)
		return -DV_EINVAL;
	return gva_read(v, a->a1, balloon_list, a->a2 * sizeof(u64)) < 0 ? -DV_EFAULT : 0;
}

/* Where INFLATE's reply goes: the guest-physical pieces (one, or two when it
 * crosses a page) of the struct at gva, found before anything changes so the
 * reply cannot fail after the balloon did. -DV_EFAULT when it is not writable
 * guest RAM or lies in a page being ballooned. */
struct reply_at {
	u64 gpa[2], len[2];
};

static bool listed(u64 gpa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (balloon_list[i] == gpa >> PAGE_SHIFT)
			return true;
	return false;
}

static int balloon_reply_at(struct vcpu *v, u64 gva, unsigned n, struct reply_at *r)
{
	u64 len = sizeof(struct dv_mem_range);
	u64 first = MIN(len, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));

	r->len[0] = first;
	r->len[1] = len - first;
	for (unsigned i = 0; i < 2; i++) {
		u64 at = gva + (i ? first : 0);

		if (!r->len[i])
			continue;
		if (at < gva || gva_to_gpa(v, at, true, &r->gpa[i]) < 0 ||
		    !guestmem_is_ram(v->mem, r->gpa[i], r->len[i]) || listed(r->gpa[i], n))
			return -DV_EFAULT;
	}
	return 0;
}

/* Say why a balloon call was refused, for the first BALLOON_REFUSALS_SAID
 * (a fuzzing guest makes thousands: the serial console would dominate its
 * run); the report counts them all. */
#define BALLOON_REFUSALS_SAID 32

static void balloon_refused(struct guestmem *gm, const char *call, const struct balloon_bad *bad,
			    int rc)
{
	if (++gm->balloon_refusals > BALLOON_REFUSALS_SAID)
		return;
	if (gm->balloon_refusals == BALLOON_REFUSALS_SAID)
		kinfo("vm: balloon: %u calls refused; the report counts any more\n",
		      BALLOON_REFUSALS_SAID);
	else if (bad->why && rc == bad->err)
		kinfo("vm: balloon %s refused (%s): entry %u, page 0x%lx: %s\n", call,
		      dv_strerror(rc), bad->index,
		      bad->index < DV_BALLOON_MAX ? balloon_list[bad->index] : 0, bad->why);
	else
		kinfo("vm: balloon %s refused (%s)\n", call, dv_strerror(rc));
}

/* After a balloon call changed memory: the nested TLB may hold the old
 * translations and the unlinked EPT tables until the flush. */
static void balloon_done(struct vcpu *v, const char *when)
{
	vcpu_flush_nested(v);
	guestmem_release_deferred(v->mem);
	invariants_check(v, when);
}

/* Checked in this order: flags, count, the list's buffer, the reply's, then
 * the entries (mm/balloon.c); the first failure is the answer. */
/* While compaction builds the VMM segment, its range is the segment's: its
 * pages are refused as the segment's are (-DV_EBUSY), the rest balloon. */
static s64 refuse_compacting(const u64 *pfn, unsigned n, struct balloon_bad *bad)
{
	for (unsigned i = 0; i < n; i++) {
		if (pfn[i] < (1ULL << (64 - PAGE_SHIFT)) && compact_covers(pfn[i] << PAGE_SHIFT)) {
			*bad = (struct balloon_bad){
				i, -DV_EBUSY, "inside the VMM segment compaction is building"};
			return -DV_EBUSY;
		}
	}
	return 0;
}

static s64 hc_balloon_inflate(struct vcpu *v, const struct hc_args *a)
{
	struct balloon_bad bad = {0};
	struct dv_mem_range added;
	struct reply_at at = {{0}, {0}};
	s64 rc;

	if (a->a3 & ~(u64)DV_BALLOON_FLAGS)
		return -DV_EINVAL;
	rc = read_balloon_list(v, a);
	if (rc == 0)
		rc = refuse_compacting(balloon_list, (unsigned)a->a2, &bad);
	if (rc == 0 && a->a4)
		rc = balloon_reply_at(v, a->a4, (unsigned)a->a2, &at);
	if (rc == 0)
		rc = balloon_inflate(v->mem, balloon_list, (unsigned)a->a2, (u32)a->a3, &added,
				     &bad);
	if (rc < 0) {
		balloon_refused(v->mem, "inflate", &bad, (int)rc);
		return rc;
	}
	for (unsigned i = 0; a->a4 && i < 2; i++) /* checked above: cannot fail */
		guestmem_write(v->mem, at.gpa[i], (const u8 *)&added + (i ? at.len[0] : 0),
			       at.len[i]);
	balloon_done(v, "balloon inflate");
	compact_memory_changed(v);
	return 0;
}

static s64 hc_balloon_deflate(struct vcpu *v, const struct hc_args *a)
{
	struct balloon_bad bad = {0};
	s64 rc = read_balloon_list(v, a);

	if (rc == 0)
		rc = balloon_deflate(v->mem, balloon_list, (unsigned)a->a2, &bad);
	if (rc < 0) {
		balloon_refused(v->mem, "deflate", &bad, (int)rc);
		return rc;
	}
	balloon_done(v, "balloon deflate");
	return 0;
}

static s64 hc_memory_map(struct vcpu *v, const struct hc_args *a)
{
	static struct dv_memory_map map;

	if (a->a2 < sizeof(u32) * 2)
		return -DV_EINVAL;
	memset(&map, 0, sizeof(map));
	balloon_memory_map(&v->mem->map, a->a3, &map);
	return reply_struct(v, a, &map, sizeof(map));
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
	[DV_HC_BALLOON_INFLATE] = {"balloon_inflate", hc_balloon_inflate},
	[DV_HC_BALLOON_DEFLATE] = {"balloon_deflate", hc_balloon_deflate},
	[DV_HC_MEMORY_MAP] = {"memory_map", hc_memory_map},
};

u32 hypercall_features(void)
{
	return DV_HC_FEATURE_CONSOLE | DV_HC_FEATURE_STATS | DV_HC_FEATURE_SEGMENT_INFO |
	       DV_HC_FEATURE_MODE_SET | DV_HC_FEATURE_SAMPLE | DV_HC_FEATURE_BALLOON |
	       (mode_has_guest_segment(mode_state()->asked) ? DV_HC_FEATURE_GUEST_SEGMENT : 0) |
	       ((mode_state()->mem && mode_state()->mem->vseg_active) ||
				compact_stats()->state == DV_COMPACT_RUNNING
			? DV_HC_FEATURE_ESCAPE
			: 0);
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
