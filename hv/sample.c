#include "hv/sample.h"
#include "lib/string.h"

enum sample_class sample_classify(const struct segment *guest, const struct segment *vmm,
				  bool escaped, u64 gva, u64 gpa)
{
	bool g = guest && segment_enabled(guest) && segment_contains(guest, gva);
	bool v = vmm && segment_enabled(vmm) && segment_contains(vmm, gpa) && !escaped;

	return g && v ? SAMPLE_BOTH : g ? SAMPLE_GUEST_ONLY : v ? SAMPLE_VMM_ONLY : SAMPLE_NEITHER;
}

void sample_reset(struct sampler *s)
{
	memset(s, 0, sizeof(*s));
}

static void rearm_oldest(struct sampler *s, const struct sample_leaf_ops *ops)
{
	ops->poison(ops->ctx, s->held[0], true);
	s->stats.rearms++;
	memmove(&s->held[0], &s->held[1], (s->nheld - 1) * sizeof(s->held[0]));
	s->nheld--;
}

static void count(struct sample_stats *st, const struct sample_fault *f)
{
	if (!f->gva_valid || !f->final)
		st->table_faults++;
	else if (f->fetch)
		st->fetch_misses++;
	else {
		st->data_misses++;
		st->by_class[f->cls < SAMPLE_CLASSES ? f->cls : SAMPLE_NEITHER]++;
	}
}

void sample_fault(struct sampler *s, const struct sample_fault *f,
		  const struct sample_leaf_ops *ops)
{
	s->stats.exits++;
	count(&s->stats, f);
	if (s->nheld == SAMPLE_HELD)
		rearm_oldest(s, ops);
	ops->poison(ops->ctx, f->gpa, false);
	if (f->gva_valid && f->final)
		s->held[s->nheld++] = f->gpa;
}

void sample_rearm_all(struct sampler *s, const struct sample_leaf_ops *ops)
{
	while (s->nheld)
		rearm_oldest(s, ops);
}

static u64 ppm(u64 n, u64 m)
{
	return m ? n * 1000000 / m : 0;
}

u64 sample_ppm_gd(const struct sample_stats *st)
{
	return ppm(st->by_class[SAMPLE_GUEST_ONLY] + st->by_class[SAMPLE_BOTH], st->data_misses);
}

u64 sample_ppm_vd(const struct sample_stats *st)
{
	return ppm(st->by_class[SAMPLE_VMM_ONLY] + st->by_class[SAMPLE_BOTH], st->data_misses);
}

u64 sample_ppm_dd(const struct sample_stats *st)
{
	return ppm(st->by_class[SAMPLE_BOTH], st->data_misses);
}
