/* TLB-miss sampling from the hypervisor, BadgerTrap's idea one level down
 * (Gandhi et al., "BadgerTrap: a tool to instrument x86-64 TLB misses",
 * SIGARCH CAN 2014): instead of poisoning the guest's page-table entries, the
 * hypervisor poisons EPT leaves (pt_poison: not present to the CPU, frame and
 * rights kept), split to 4 KiB for the while so that a miss is sampled per
 * page whatever the mode maps with. An access whose translation is not in the TLB walks, meets
 * the poison and exits: that is a sampled miss. The leaf is cured so the
 * access completes and the TLB holds the translation, and poisoned again
 * without a flush at a later sampling exit, so later accesses hit the TLB
 * until it evicts the entry, and the next miss exits again. VPID keeps the
 * guest's translations across exits; without it every exit would flush them.
 *
 * With the monitor trap flag (SDM Vol. 3C 26.5.2) the guest exits right after
 * the instruction, and the leaves cured for it are poisoned again at once.
 * (Bochs 2.7 advertises the flag in its corei7_icelake_u and tigerlake models
 * but raises the exit only for an injected MTF event, type 7, never after an
 * instruction: there sampling falls back on holding, which works either way.)
 * Without it nothing says when the access has completed, so a cured leaf is held, and poisoned
 * again only when SAMPLE_HELD leaves are held and another is cured (oldest first). An instruction
 * that needs several poisoned pages at once (code and data, an access across a page boundary, an
 * event delivery's IDT, stack and handler) gets them all cured one fault at a time and completes;
 * only one that needed more than SAMPLE_HELD could fault forever (BadgerTrap guards the same case).
 * Re-arming at the next fault at another RIP would sample more promptly, but Bochs 2.7 flushes its
 * whole TLB on every VM entry and exit whatever VPID says (handleCpuContextChange), so there a page
 * poisoned again always faults on its next access: holding keeps the hot code and stack pages from
 * exiting on every iteration of a loop. A page the guest's own walk read (its page tables) stays
 * cured: the walk leaves nothing in the TLB to keep, so poisoning it again could make the same
 * access fault on it forever; those reads are not misses anyway.
 *
 * This file is the policy (pure, unit-tested); hv/sample_kern.c applies it to
 * the VM's EPT and exits. */
#ifndef HV_SAMPLE_H
#define HV_SAMPLE_H

#include <dimvisor/types.h>
#include "mm/model/segment.h"

#define SAMPLE_HELD 64 /* leaves kept cured between re-arms */

/* Where a sampled miss's address lies, by the register triples in effect. */
enum sample_class {
	SAMPLE_NEITHER = 0,
	SAMPLE_GUEST_ONLY = 1, /* gVA in the guest segment */
	SAMPLE_VMM_ONLY = 2,   /* gPA in the VMM segment, not escaped */
	SAMPLE_BOTH = 3,
	SAMPLE_CLASSES = 4,
};

struct sample_stats {
	u64 data_misses;	      /* reads and writes: the misses the model's F count */
	u64 by_class[SAMPLE_CLASSES]; /* data misses by class */
	u64 fetch_misses;	      /* instruction fetches */
	u64 table_faults;	      /* the guest's walk read a poisoned page (its tables) */
	u64 exits, tsc;		      /* sampling exits and the TSC ticks they took */
	u64 rearms;		      /* leaves poisoned again */
};

/* One sampling exit: an EPT violation on a poisoned leaf. */
struct sample_fault {
	u64 gpa, gva, rip;
	bool gva_valid;
	bool final; /* the access to gva's translation (not to a guest paging structure) */
	bool fetch;
	enum sample_class cls;
};

/* Poison (on) or cure the EPT leaf that maps gpa. */
struct sample_leaf_ops {
	int (*poison)(void *ctx, u64 gpa, bool on);
	void *ctx;
};

struct sampler {
	bool active;
	u64 held[SAMPLE_HELD]; /* cured leaves to poison again, oldest first */
	unsigned nheld;
	struct sample_stats stats;
};

/* The class of a miss at gva -> gpa: guest is the current address space's
 * triple (NULL: none), vmm the VMM segment's (NULL: none), escaped whether gpa
 * is an escaped page of the VMM segment. */
enum sample_class sample_classify(const struct segment *guest, const struct segment *vmm,
				  bool escaped, u64 gva, u64 gpa);

/* Start afresh (the caller poisons the leaves). */
void sample_reset(struct sampler *s);

/* Count the fault and do the bookkeeping: re-arm the oldest held leaf when
 * SAMPLE_HELD are held, cure the faulting leaf and hold it unless the guest's
 * walk read it (its tables). */
void sample_fault(struct sampler *s, const struct sample_fault *f,
		  const struct sample_leaf_ops *ops);

/* With the monitor trap flag: the instruction completed, every leaf held
 * for it is poisoned again now. */
void sample_rearm_all(struct sampler *s, const struct sample_leaf_ops *ops);

/* F of the designs, in parts per million of the data misses: F_GD (Guest
 * Direct: misses in the guest segment), F_VD (VMM Direct: in the VMM segment),
 * F_DD (Dual Direct: in both). 0 without misses. */
u64 sample_ppm_gd(const struct sample_stats *st);
u64 sample_ppm_vd(const struct sample_stats *st);
u64 sample_ppm_dd(const struct sample_stats *st);

/* --- applied to the VM (hv/sample_kern.c) ----------------------------------------- */
struct vcpu;
struct dv_sample;

/* DV_HC_SAMPLE_START / STOP: poison or cure every leaf of guest memory.
 * Start flushes the nested TLB so that every translation misses once. */
int sample_start(struct vcpu *v, u64 flags);
int sample_stop(struct vcpu *v);
void sample_read(struct dv_sample *out);
/* An EPT violation: true when it hit a poisoned leaf and was a sample (the
 * access is retried); false for a real fault, which the caller reports. */
bool sample_nested_fault(struct vcpu *v);
/* The monitor trap exit that follows a sampled miss where the CPU has the
 * flag: the access completed, so its leaf is poisoned again at once. */
void sample_single_step(struct vcpu *v);
/* The report's lines, when sampling ran. */
void sample_report(void);

#endif
