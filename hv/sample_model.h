/* What each sampled TLB miss would cost in each mode: the MMU model's walker
 * (mm/model) run over the guest's live page tables and the live EPT, once per
 * mode, for the miss's address. The VMM segment is the real one while it is
 * in effect, else a would-be one over the run it would cover; the guest
 * segment is the current address space's triple, when it has one. While
 * sampling, EPT is split to 4 KiB leaves (hv/sample.h), so the nested walks
 * are 4-level walks to 4 KiB leaves. One data miss in SAMPLE_MODEL_EVERY is
 * walked: the walks cost more than the sampling exit itself. */
#ifndef HV_SAMPLE_MODEL_H
#define HV_SAMPLE_MODEL_H

#include <dimvisor/types.h>

#define SAMPLE_MODEL_EVERY 16 /* data misses per miss the model walks */

struct vcpu;

/* References and segment additions over the misses walked, per mode
 * (indexed by enum dv_mode_id). */
struct sample_model_totals {
	u64 walked;	/* misses walked in every mode */
	u64 unwalkable; /* misses a walk could not follow (tables changed meanwhile) */
	u64 refs[4];	/* memory references of the walks */
	u64 adds[4];	/* segment additions */
};

/* Start afresh: the next miss configures the model. */
void sample_model_reset(void);
/* Walk the miss at gva (a write when write) in every mode. */
void sample_model_miss(struct vcpu *v, u64 gva, bool write);
const struct sample_model_totals *sample_model_totals(void);

#endif
