#include "hv/sample_model.h"
#include "hv/gva.h"
#include "hv/mode.h"
#include "hv/vcpu.h"
#include "lib/string.h"
#include "mm/model/model.h"
#include <dimvisor/hypercall.h>

static const enum model_mode model_of[4] = {
	[DV_MODE_BASE] = MODEL_BASE_VIRT,
	[DV_MODE_VMM_DIRECT] = MODEL_VMM_DIRECT,
	[DV_MODE_GUEST_DIRECT] = MODEL_GUEST_DIRECT,
	[DV_MODE_DUAL_DIRECT] = MODEL_DUAL_DIRECT,
};

static struct model models[4];
static struct sample_model_totals totals;
static struct {
	bool valid;
	u64 cr3, generation;
	struct segment gseg;
	bool vseg_active;
} key;

void sample_model_reset(void)
{
	memset(&totals, 0, sizeof(totals));
	key.valid = false;
}

const struct sample_model_totals *sample_model_totals(void)
{
	return &totals;
}

/* An EPT entry as the engine sees it: sampling's poison is not the model's. */
static u64 read_ept(void *ctx, u64 pa)
{
	(void)ctx;
	return pt_ept_unpoisoned(*(const u64 *)pa);
}

static bool configure(struct vcpu *v, u64 cr3, const struct segment *gseg)
{
	const struct guestmem *gm = v->mem;
	const struct vmm_segment *vs = &gm->vseg;
	struct walk_tables guest;
	struct walk_env env;
	/* the model reads guest tables by gPA (gva.c's reader, through the extent
	 * map), so a would-be segment needs no host range behind it */
	struct guest_range run = guestmem_segment_range(gm);
	struct segment vseg =
		gm->vseg_active ? vs->regs
				: (struct segment){.base = run.gpa, .limit = run.gpa + run.len};

	if (gva_guest_tables(v, &guest, &env) < 0)
		return false;
	for (unsigned m = 0; m < 4; m++) {
		struct model_config c;

		model_config_init(&c, model_of[m]);
		c.env = env;
		c.user = false;
		c.guest = guest;
		c.nested = (struct walk_tables){.root = gm->ept.root, .read = read_ept};
		c.gseg = *gseg;
		c.vseg = vseg;
		if (model_init(&models[m], &c) < 0)
			return false;
		for (unsigned h = 0; gm->vseg_active && h < vs->nholes; h++)
			model_escape_page(&models[m], vs->hole_gpa[h]);
	}
	key = (typeof(key)){true, cr3, gm->generation, *gseg, gm->vseg_active};
	return true;
}

void sample_model_miss(struct vcpu *v, u64 gva, bool write)
{
	u64 cr3 = vcpu_get(v, VCPU_CR3);
	const struct segment *g = guest_segments_lookup(&mode_state()->guest, cr3);
	struct segment gseg = g ? *g : (struct segment){0, 0, 0};
	u64 refs[4], adds[4];

	if (!key.valid || key.cr3 != cr3 || key.generation != v->mem->generation ||
	    memcmp(&key.gseg, &gseg, sizeof(gseg)) || key.vseg_active != v->mem->vseg_active)
		if (!configure(v, cr3, &gseg)) {
			totals.unwalkable++;
			return;
		}
	for (unsigned m = 0; m < 4; m++) {
		struct model_xlat x;

		model_flush_page(&models[m], gva);
		if (model_translate(&models[m], gva, write ? WALK_ACC_WRITE : 0, &x) < 0) {
			totals.unwalkable++; /* counted in no mode, so the modes stay comparable */
			return;
		}
		refs[m] = x.refs.total;
		adds[m] = x.refs.seg_adds;
	}
	for (unsigned m = 0; m < 4; m++) {
		totals.refs[m] += refs[m];
		totals.adds[m] += adds[m];
	}
	totals.walked++;
}
