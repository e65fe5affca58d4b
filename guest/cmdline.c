/* Command-line parsing: a table of keys, each with its value parser. */
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "guest/cmdline.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "lib/string.h"

#define NAMES_MAX 768

struct cmdline_key {
	const char *name;
	int (*apply)(const char *value, size_t len, struct guest_options *opt, char *err,
		     size_t errlen);
};

/* test=NAME,NAME,...: each NAME is a test, a group or "all". */
static int apply_tests(const char *value, size_t len, struct guest_options *opt, char *err,
		       size_t errlen)
{
	test_set set = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && value[i] != ',')
			continue;
		if (i == start) {
			ksnprintf(err, errlen, "empty test name in 'test=%.*s'", (int)len, value);
			return -DV_EINVAL;
		}
		if (tests_select(value + start, i - start, &set)) {
			char names[NAMES_MAX];

			tests_names(names, sizeof(names));
			ksnprintf(err, errlen, "unknown test '%.*s' in 'test=%.*s' (tests: %s)",
				  (int)(i - start), value + start, (int)len, value, names);
			return -DV_EINVAL;
		}
		start = i + 1;
	}
	opt->tests = set;
	return 0;
}

/* gseg=4k|2m|1g */
static int apply_gseg(const char *value, size_t len, struct guest_options *opt, char *err,
		      size_t errlen)
{
	static const char *const names[] = {"4k", "2m", "1g"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (strlen(names[i]) == len && memcmp(names[i], value, len) == 0) {
			opt->gseg_level = i + 1;
			return 0;
		}
	}
	ksnprintf(err, errlen, "bad value in 'gseg=%.*s' (accepted: 4k 2m 1g)", (int)len, value);
	return -DV_EINVAL;
}

/* fuzz=N: thousands of hypercalls, so the fuzz test keeps whole batches. */
static int apply_fuzz(const char *value, size_t len, struct guest_options *opt, char *err,
		      size_t errlen)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < len && i < 8 && value[i] >= '0' && value[i] <= '9'; i++)
		n = n * 10 + (u64)(value[i] - '0');
	if (i != len || n < 1000 || n > 1000000 || n % 1000) {
		ksnprintf(err, errlen,
			  "bad value in 'fuzz=%.*s' (accepted: 1000 to 1000000, in thousands)",
			  (int)len, value);
		return -DV_EINVAL;
	}
	opt->fuzz_calls = (unsigned)n;
	return 0;
}

/* A number in [lo, hi] (a size when size is set) for key, into *out. */
static int apply_number(const char *key, const char *value, size_t len, bool size, u64 lo, u64 hi,
			u64 *out, char *err, size_t errlen)
{
	u64 n = 0;
	int rc = size ? parse_size(value, len, &n) : parse_u64(value, len, &n);

	if (rc || n < lo || n > hi) {
		ksnprintf(err, errlen, "bad value in '%s=%.*s' (accepted: %lu to %lu%s)", key,
			  (int)len, value, lo, hi, size ? " bytes, K M G suffixes" : "");
		return -DV_EINVAL;
	}
	*out = n;
	return 0;
}

/* wl-size=SIZE: the workloads' footprint, 64 KiB .. 1 GiB. */
static int apply_wl_size(const char *value, size_t len, struct guest_options *opt, char *err,
			 size_t errlen)
{
	return apply_number("wl-size", value, len, true, 64 * KiB, GiB, &opt->wl.size, err, errlen);
}

static int apply_wl_seed(const char *value, size_t len, struct guest_options *opt, char *err,
			 size_t errlen)
{
	return apply_number("wl-seed", value, len, false, 0, ~0ULL, &opt->wl.seed, err, errlen);
}

static int apply_wl_ops(const char *value, size_t len, struct guest_options *opt, char *err,
			size_t errlen)
{
	return apply_number("wl-ops", value, len, false, 1, 1000000000ULL, &opt->wl.ops, err,
			    errlen);
}

/* key=NO|YES: *out false or true; anything else is refused, naming both. */
static int apply_either(const char *key, const char *value, size_t len, const char *no,
			const char *yes, bool *out, char *err, size_t errlen)
{
	if (strlen(no) == len && memcmp(value, no, len) == 0) {
		*out = false;
		return 0;
	}
	if (strlen(yes) == len && memcmp(value, yes, len) == 0) {
		*out = true;
		return 0;
	}
	ksnprintf(err, errlen, "bad value in '%s=%.*s' (accepted: %s %s)", key, (int)len, value, no,
		  yes);
	return -DV_EINVAL;
}

/* wl-data=primary|outside: in the primary region (large pages, the guest
 * segment where offered) or outside it (4 KiB pages, no segment). */
static int apply_wl_data(const char *value, size_t len, struct guest_options *opt, char *err,
			 size_t errlen)
{
	return apply_either("wl-data", value, len, "primary", "outside", &opt->wl.outside, err,
			    errlen);
}

/* wl-sample=gups|chase: the workload the sampling tests run. */
static int apply_wl_sample(const char *value, size_t len, struct guest_options *opt, char *err,
			   size_t errlen)
{
	return apply_either("wl-sample", value, len, "gups", "chase", &opt->wl.chase, err, errlen);
}

static const struct cmdline_key keys[] = {
	{"test", apply_tests},	    {"gseg", apply_gseg},	    {"fuzz", apply_fuzz},
	{"wl-size", apply_wl_size}, {"wl-seed", apply_wl_seed},	    {"wl-ops", apply_wl_ops},
	{"wl-data", apply_wl_data}, {"wl-sample", apply_wl_sample},
};

static void key_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(keys) && used < len; i++)
		used += ksnprintf(buf + used, len - used, "%s%s", i ? " " : "", keys[i].name);
}

int cmdline_parse(const char *cmdline, bool image_name_first, struct guest_options *opt, char *err,
		  size_t errlen)
{
	struct guest_options scratch = {
		.tests = tests_all(),
		.gseg_level = 2,
		.fuzz_calls = 100000,
		.wl = {.size = 16 * MiB, .seed = 1, .ops = 1000000, .outside = false}};
	const char *cursor = cmdline, *tok;
	char names[NAMES_MAX];
	unsigned seen = 0;
	size_t len;

	for (bool first = true; next_token(&cursor, &tok, &len); first = false) {
		size_t keylen = 0;
		unsigned k;
		int rc;

		if (first && image_name_first)
			continue;
		while (keylen < len && tok[keylen] != '=')
			keylen++;
		for (k = 0; keylen < len && k < ARRAY_SIZE(keys); k++)
			if (strlen(keys[k].name) == keylen &&
			    memcmp(keys[k].name, tok, keylen) == 0)
				break;
		if (keylen == len || k == ARRAY_SIZE(keys)) {
			key_names(names, sizeof(names));
			ksnprintf(err, errlen, "unknown option '%.*s' (accepted keys: %s)",
				  (int)len, tok, names);
			return -DV_EINVAL;
		}
		if (seen & (1u << k)) {
			ksnprintf(err, errlen, "'%s=' given twice", keys[k].name);
			return -DV_EINVAL;
		}
		seen |= 1u << k;
		rc = keys[k].apply(tok + keylen + 1, len - keylen - 1, &scratch, err, errlen);
		if (rc)
			return rc;
	}
	*opt = scratch;
	return 0;
}
