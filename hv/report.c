#include "hv/report.h"
#include "arch/x86_64/fixup.h"
#include "hv/exit.h"
#include "hv/invariants.h"
#include "hv/io.h"
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

void report_print(const struct vcpu *v)
{
	kprintf("report: guest ran for %lu TSC ticks\n", v->tsc_end - v->tsc_start);
	report_exits(v);
	report_ept(v);
	report_ports();
	kprintf("report: invariants checked %lu times, all held\n", invariants_checks());
	/* Each is a check the exit handlers missed: worth a line even when quiet. */
	if (fixup_count())
		kprintf("report: %lu host faults on guest values caught by the exception fixup\n",
			fixup_count());
}
