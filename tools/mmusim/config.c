/* Configuration names; the grammar is in config.h. */
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "config.h"

static const char *const policy_names[] = {"4k", "2m", "1g", "thp"};

const char *page_policy_name(enum page_policy p)
{
	return (unsigned)p < ARRAY_SIZE(policy_names) ? policy_names[p] : "?";
}

unsigned page_policy_shift(enum page_policy p)
{
	return p == PAGES_2M ? 21 : p == PAGES_1G ? 30 : 12;
}

/* s[0..len) names a policy; thp only if allow_thp. */
static bool parse_policy(const char *s, size_t len, bool allow_thp, enum page_policy *p)
{
	for (unsigned i = 0; i < ARRAY_SIZE(policy_names); i++) {
		if (strlen(policy_names[i]) == len && strncmp(s, policy_names[i], len) == 0) {
			if (i == PAGES_THP && !allow_thp)
				return false;
			*p = (enum page_policy)i;
			return true;
		}
	}
	return false;
}

/* "G+E" */
static bool parse_pair(const char *s, enum page_policy *g, enum page_policy *e)
{
	const char *plus = strchr(s, '+');

	return plus && parse_policy(s, (size_t)(plus - s), true, g) &&
	       parse_policy(plus + 1, strlen(plus + 1), false, e);
}

static const struct {
	const char *name;
	enum model_mode mode;
} segment_modes[] = {
	{"dual-direct", MODEL_DUAL_DIRECT},
	{"vmm-direct", MODEL_VMM_DIRECT},
	{"guest-direct", MODEL_GUEST_DIRECT},
};

static int config_bad(const char *name, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "unknown configuration '%s' (G+E, native-G, native-ds[:G], "
		 "dual-direct|vmm-direct|guest-direct[:G+E]; G: 4k 2m 1g thp, E: 4k 2m 1g)",
		 name);
	return -DV_EINVAL;
}

int config_parse(const char *name, struct config_spec *c, char *err, size_t errlen)
{
	const char *colon = strchr(name, ':');
	size_t head = colon ? (size_t)(colon - name) : strlen(name);

	memset(c, 0, sizeof(*c));
	if (strlen(name) >= sizeof(c->name) || !*name)
		return config_bad(name, err, errlen);
	strcpy(c->name, name);
	if (strncmp(name, "native-ds", head) == 0 && head == 9) {
		c->mode = MODEL_NATIVE_DS;
		if (colon && !parse_policy(colon + 1, strlen(colon + 1), true, &c->guest))
			return config_bad(name, err, errlen);
		return 0;
	}
	if (!colon && strncmp(name, "native-", 7) == 0) {
		c->mode = MODEL_NATIVE;
		if (!parse_policy(name + 7, strlen(name + 7), true, &c->guest))
			return config_bad(name, err, errlen);
		return 0;
	}
	c->virt = true;
	for (size_t i = 0; i < ARRAY_SIZE(segment_modes); i++) {
		if (strlen(segment_modes[i].name) == head &&
		    strncmp(name, segment_modes[i].name, head) == 0) {
			c->mode = segment_modes[i].mode;
			if (colon && !parse_pair(colon + 1, &c->guest, &c->ept))
				return config_bad(name, err, errlen);
			return 0;
		}
	}
	c->mode = MODEL_BASE_VIRT;
	if (colon || !parse_pair(name, &c->guest, &c->ept))
		return config_bad(name, err, errlen);
	return 0;
}

int config_parse_list(const char *list, struct config_spec *out, size_t max, size_t *n, char *err,
		      size_t errlen)
{
	const char *p = list;

	*n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char name[CONFIG_NAME_MAX + 1];
		int rc;

		if (len == 0 || len > CONFIG_NAME_MAX) {
			snprintf(err, errlen, "bad configuration list '%s'", list);
			return -DV_EINVAL;
		}
		if (*n == max) {
			snprintf(err, errlen, "at most %zu configurations", max);
			return -DV_E2BIG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		rc = config_parse(name, &out[*n], err, errlen);
		if (rc)
			return rc;
		for (size_t i = 0; i < *n; i++) {
			if (strcmp(out[i].name, name) == 0) {
				snprintf(err, errlen, "configuration '%s' listed twice", name);
				return -DV_EINVAL;
			}
		}
		(*n)++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}
