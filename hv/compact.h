/* Compaction while the guest runs (mm/compact.c's planner and steps applied
 * to the VM): when the mode asked for has the VMM segment but no contiguous
 * host range could be had, the mode runs degraded (VMM Direct as base, Dual
 * Direct as Guest Direct, the paper's rule) while guest pages move, a bounded
 * batch per step, to where the segment puts them. The steps run before VM
 * entries, at most one per COMPACT_STEP_US of guest time (the VMX-preemption
 * timer brings the exit when the guest makes none); when every page is in
 * place the segment is adopted (nothing copied) and the mode upgraded. */
#ifndef HV_COMPACT_H
#define HV_COMPACT_H

#include <dimvisor/hypercall.h>
#include <dimvisor/types.h>

#define COMPACT_STEP_PAGES 256 /* moves per step: 1 MiB copied at most */
#define COMPACT_STEP_US	   5000

struct vcpu;

struct compact_stats {
	enum dv_compact_state state;
	u64 pages_moved, steps, tsc, upgrades, attempts;
	u64 target, len; /* the host range being freed */
};

/* At the start of the run (allowed: compact=yes): begin if the mode asked for
 * is degraded. tsc_hz paces the steps. */
void compact_init(struct vcpu *v, bool allowed, u64 tsc_hz);
/* Before a VM entry: a step when one is due. */
void compact_tick(struct vcpu *v);
/* The guest TSC the next step is due at, or 0. */
u64 compact_next_event(const struct vcpu *v);
/* A live mode switch is about to happen: stop, giving back the frames held.
 * compact_mode_changed after it: begin again if the new mode is degraded. */
void compact_cancel(struct vcpu *v);
void compact_mode_changed(struct vcpu *v);
/* Guest memory changed (a balloon call): when the run the segment is being
 * built for is no longer the one it should cover (re-added memory lengthened
 * it), compaction starts again for the new run. */
void compact_memory_changed(struct vcpu *v);
/* While compaction runs, gpa lies in the range the VMM segment will cover. */
bool compact_covers(u64 gpa);
/* An escape asked for while compaction runs: taken now (0) and applied when
 * the segment is built, as the guest would expect of the mode it asked for.
 * -DV_ERANGE outside the range, -DV_EINVAL misaligned, -DV_EEXIST asked
 * already, -DV_E2BIG too many; -DV_ENOTSUP when no compaction runs. */
int compact_defer_escape(u64 gpa);
const struct compact_stats *compact_stats(void);
void compact_report(void);

#endif
