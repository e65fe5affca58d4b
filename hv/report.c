#include "hv/report.h"
#include "hv/balloon.h"
#include "arch/x86_64/fixup.h"
#include "hv/compact.h"
#include "hv/exit.h"
#include "hv/invariants.h"
#include "hv/legacy.h"
#include "hv/io.h"
#include "hv/mode.h"
#include "hv/sample.h"
#include "mm/ept.h"
#include "lib/printf.h"

static void report_exits(const struct vcpu *v)
{
	kprintf("report: %lu VM exits, %lu hypercalls\n", v->exits_total, v->hypercalls);
	for (unsigned k = 0; k < DV_EXIT_KINDS; k++)
		if (v->exits[k])
			kprintf("report:   exit %-30s %lu\n", exit_kind_name(k), v->exits[k]);
}

static void report_ept(const struct vcpu *v)
{
	const struct pagetable *ept = &v->mem->ept;

	kprintf("report: EPT paging structures: %lu PML4, %lu PDPT, %lu PD, %lu PT pages\n",
		ept->tables[4], ept->tables[3], ept->tables[2], ept->tables[1]);
	kprintf("report: EPT leaves: %lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB\n", ept->leaves[3],
		ept->leaves[2], ept->leaves[1]);
}

static void report_triple(const char *name, const struct segment *s)
{
	if (!segment_enabled(s)) {
		kprintf("report: %s segment: disabled (BASE = LIMIT)\n", name);
		return;
	}
	kprintf("report: %s segment: BASE 0x%lx LIMIT 0x%lx OFFSET 0x%lx\n", name, s->base,
		s->limit, s->offset);
}

/* The modes, both register triples, and what the VMM segment costs in EPT:
 * its paging-structure pages, its escaped pages and the escape filter's
 * false positives, probed page by page. */
static void report_segments(const struct vcpu *v)
{
	const struct guestmem *gm = v->mem;
	const struct vmm_segment *vs = &gm->vseg;
	const struct segment none = {0, 0, 0};
	const struct vm_mode *m = mode_state();
	const struct vseg_footprint *f;
	u64 cr3 = vcpu_get(v, VCPU_CR3);
	const struct segment *g = guest_segments_lookup(&m->guest, cr3);

	kprintf("report: mode asked %s, in effect %s\n", config_mode_name(m->asked),
		config_mode_name(mode_in_effect(cr3)));
	report_triple("guest", g ? g : &none);
	if (m->switches)
		kprintf("report: mode switches %lu: %lu pages copied, %lu TSC ticks\n", m->switches,
			m->pages_copied, m->switch_tsc);
	if (mode_has_guest_segment(m->asked))
		kprintf("report: guest segments registered %lu, refused %lu; %u address space%s "
			"with one\n",
			m->guest_sets, m->guest_refusals, m->guest.n, m->guest.n == 1 ? "" : "s");
	report_triple("VMM", gm->vseg_active ? &vs->regs : &none);
	if (!gm->vseg_active)
		return;
	kprintf("report: VMM segment host range %016lx-%016lx (%lu MiB), %s leaves\n", vs->hpa,
		vs->hpa + vs->len, vs->len >> 20, page_shift_name(vs->leaf_shift));
	f = guestmem_segment_footprint(v->mem);
	if (f->counted) {
		kprintf("report: EPT pages mapping the VMM segment: %lu PML4, %lu PDPT, %lu PD, "
			"%lu "
			"PT (%lu in all)\n",
			f->tables[4], f->tables[3], f->tables[2], f->tables[1],
			f->needed + f->splits);
		kprintf("report: EPT splits for escapes: %lu tables beyond the %lu a hole-free "
			"segment needs\n",
			f->splits, f->needed);
	}
	kprintf("report: escaped pages %u; escape filter false positives %lu of %lu pages\n",
		vs->nholes, f->false_positives, (vs->len >> PAGE_SHIFT) - vs->nholes);
	for (unsigned i = 0; i < vs->nholes; i++)
		kprintf("report:   escaped gPA 0x%lx (segment frame 0x%lx) -> hPA 0x%lx\n",
			vs->hole_gpa[i], vs->hole_gpa[i] + vs->regs.offset, vs->hole_spare[i]);
}

static void report_ports(void)
{
	unsigned n;
	u64 overflow;
	const struct io_port_count *c = io_unclaimed_ports(&n, &overflow);

	for (unsigned i = 0; i < n; i++)
		kprintf("report: port 0x%04x (no device): %lu reads, %lu writes\n", c[i].port,
			c[i].reads, c[i].writes);
	if (overflow)
		kprintf("report: %lu more accesses to other ports without a device\n", overflow);
}

/* What the guest's virtual APIC and the event path did. */
static void report_events(const struct vcpu *v)
{
	const struct vcpu_event_stats *e = &v->events;
	const struct vlapic_stats *a = &v->apic.stats;
	u64 pic_interrupts, pit_irq0s;

	if (!e->interrupts && !e->nmis && !e->halts && !a->timer_fires && !a->self_ipis)
		return;
	kprintf("report: events: %lu interrupts and %lu NMIs injected, %lu re-injected, %lu "
		"HLTs waited\n",
		e->interrupts, e->nmis, e->reinjected, e->halts);
	kprintf("report: local APIC: timer fired %lu times, %lu self-IPIs, %lu EOIs\n",
		a->timer_fires, a->self_ipis, a->eois);
	if (e->host_nmis || e->host_interrupts)
		kprintf("report: host NMIs given to the guest %lu, host interrupts dropped %lu\n",
			e->host_nmis, e->host_interrupts);
	legacy_stats(&pic_interrupts, &pit_irq0s);
	if (pic_interrupts || pit_irq0s)
		kprintf("report: 8259 PICs: %lu interrupts taken; PIT: %lu IRQ0 edges\n",
			pic_interrupts, pit_irq0s);
}

static const char *mem_kind_name(u32 kind)
{
	return kind == DV_MEM_HOTADDED	  ? "hot-added"
	       : kind == DV_MEM_BALLOONED ? "ballooned"
					  : "RAM";
}

/* What the balloon did, and the guest-physical map it left (as the guest's
 * DV_HC_MEMORY_MAP shows it), when it did anything. */
static void report_balloon(const struct vcpu *v)
{
	const struct guestmem *gm = v->mem;
	static struct dv_memory_map map;
	u64 ballooned = balloon_bytes(gm);

	kprintf("report: guest memory %lu KiB in %u extents\n", guestmem_ram_bytes(gm) >> 10,
		extent_count(&gm->map));
	if (gm->balloon_refusals)
		kprintf("report: balloon calls refused %lu\n", gm->balloon_refusals);
	if (!ballooned && !gm->deflated_bytes && !gm->hotadded_bytes && !gm->unplugged_bytes)
		return;
	kprintf("report: balloon: %lu KiB ballooned, %lu KiB deflated, %lu KiB hot-added; host "
		"memory taken while running %ld KiB\n",
		ballooned >> 10, gm->deflated_bytes >> 10, gm->hotadded_bytes >> 10,
		(s64)gm->taken_while_running / 1024);
	if (gm->unplugged_bytes)
		kprintf("report: I/O gap: %lu KiB hot-unplugged, %lu KiB re-added above the top of "
			"RAM\n",
			gm->unplugged_bytes >> 10, gm->readded_bytes >> 10);
	balloon_memory_map(&gm->map, 0, &map);
	for (unsigned i = 0; i < map.n; i++)
		kprintf("report:   gPA %016lx-%016lx %s\n", map.e[i].gpa,
			map.e[i].gpa + map.e[i].len, mem_kind_name(map.e[i].kind));
	if (map.total > map.n)
		kprintf("report:   and %u more pieces\n", map.total - map.n);
}

void report_print(const struct vcpu *v)
{
	kprintf("report: guest ran for %lu TSC ticks\n", v->tsc_end - v->tsc_start);
	report_exits(v);
	report_events(v);
	report_ept(v);
	report_segments(v);
	report_balloon(v);
	report_ports();
	sample_report();
	compact_report();
	kprintf("report: invariants checked %lu times, all held\n", invariants_checks());
	/* Each is a check the exit handlers missed: worth a line even when quiet. */
	if (fixup_count())
		kprintf("report: %lu host faults on guest values caught by the exception fixup\n",
			fixup_count());
}
