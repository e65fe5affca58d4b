/* Parsing and printing of the hypervisor command line. Each key is a row of
 * config_keys with its own parser; a parser checks one value and stores it in
 * a scratch copy, so a bad command line leaves the caller's config alone. */
#include <stdarg.h>
#include <dimvisor/types.h>
#include <dimvisor/errno.h>
#include "arch/x86_64/pte.h"
#include "hv/config.h"
#include "lib/parse.h"
#include "lib/printf.h"

#define CONFIG_NAMES_MAX 160 /* room for a space-separated list of accepted names */
#define SIZE_TEXT_MAX	 24

/* One key=value token, split at the first '='. */
struct token {
	const char *text; /* the whole token, for messages */
	size_t len;
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
};

/* Where error messages go. */
struct errbuf {
	char *buf;
	size_t len;
};

/* A value of an enumerated key and its command-line spelling. */
struct choice {
	const char *name;
	unsigned value;
};

struct config_key {
	const char *name;
	int (*parse)(struct dv_config *cfg, const struct token *t, struct errbuf *e);
};

static const struct choice mode_choices[] = {
	{"base", MODE_BASE},
	{"vmm-direct", MODE_VMM_DIRECT},
	{"guest-direct", MODE_GUEST_DIRECT},
	{"dual-direct", MODE_DUAL_DIRECT},
};

static const struct choice ept_choices[] = {
	{"4k", PAGE_SHIFT},
	{"2m", PAGE_2M_SHIFT},
	{"1g", PAGE_1G_SHIFT},
};

static const struct choice log_choices[] = {
	{"quiet", LOG_QUIET},
	{"info", LOG_INFO},
	{"debug", LOG_DEBUG},
};

static const struct choice selftest_choices[] = {
	{"none", SELFTEST_NONE},
	{"page-fault", SELFTEST_PAGE_FAULT},
	{"invalid-opcode", SELFTEST_INVALID_OPCODE},
	{"panic", SELFTEST_PANIC},
	{"vmentry-guest-state", SELFTEST_VMENTRY_GUEST_STATE},
	{"vmentry-control", SELFTEST_VMENTRY_CONTROL},
	{"nmi", SELFTEST_NMI},
	{"unchecked-guest-values", SELFTEST_UNCHECKED},
	{"corrupt-ept", SELFTEST_CORRUPT_EPT},
};

/* Units for printing sizes, largest first. */
static const struct {
	char letter;
	u8 shift;
} size_units[] = {
	{'T', 40},
	{'G', 30},
	{'M', 20},
	{'K', 10},
};

static __printf_like(2, 3) int config_error(struct errbuf *e, const char *fmt, ...)
{
	if (e->buf && e->len) {
		va_list ap;

		va_start(ap, fmt);
		kvsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return -DV_EINVAL;
}

/* Does the span s[0..len) spell name? Letter case is ignored when fold. */
static bool span_is(const char *s, size_t len, const char *name, bool fold)
{
	size_t i;

	for (i = 0; i < len && name[i]; i++) {
		char a = s[i], b = name[i];

		if (fold && a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return i == len && !name[i];
}

/* Append name to the space-separated list in buf (of size n). */
static void names_append(char *buf, size_t n, const char *name)
{
	size_t used = 0;

	while (used < n && buf[used])
		used++;
	ksnprintf(buf + used, n - used, "%s%s", used ? " " : "", name);
}

/* Write size as the command line would say it: "256M", "1T", "4097". */
static void format_size(u64 size, char *buf, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_units); i++) {
		u64 unit = 1ULL << size_units[i].shift;

		if (size && size % unit == 0) {
			ksnprintf(buf, n, "%llu%c", (unsigned long long)(size / unit),
				  size_units[i].letter);
			return;
		}
	}
	ksnprintf(buf, n, "%llu", (unsigned long long)size);
}

static const char *choice_name(const struct choice *c, size_t n, unsigned value)
{
	for (size_t i = 0; i < n; i++) {
		if (c[i].value == value)
			return c[i].name;
	}
	return "?";
}

/* Look t's value up among the choices (ignoring case); on failure the error
 * lists them all. */
static int parse_choice(const struct token *t, const struct choice *c, size_t n, unsigned *value,
			struct errbuf *e)
{
	char names[CONFIG_NAMES_MAX] = "";

	for (size_t i = 0; i < n; i++) {
		if (span_is(t->val, t->vlen, c[i].name, true)) {
			*value = c[i].value;
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		names_append(names, sizeof(names), c[i].name);
	return config_error(e, "bad value in '%.*s' (accepted: %s)", (int)t->len, t->text, names);
}

static int parse_mode(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, mode_choices, ARRAY_SIZE(mode_choices), &v, e);

	if (!err)
		cfg->mode = (enum dv_mode)v;
	return err;
}

static int parse_ept(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, ept_choices, ARRAY_SIZE(ept_choices), &v, e);

	if (!err) {
		cfg->ept_page_shift = v;
		cfg->ept_set = true;
	}
	return err;
}

static int parse_log(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, log_choices, ARRAY_SIZE(log_choices), &v, e);

	if (!err)
		cfg->log = (enum dv_log)v;
	return err;
}

static const struct choice yes_no_choices[] = {
	{"no", 0},
	{"yes", 1},
};

static const struct choice fragment_choices[] = {
	{"no", FRAGMENT_NO},
	{"yes", FRAGMENT_YES},
	{"leave", FRAGMENT_LEAVE},
};

static int parse_fragment(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, fragment_choices, ARRAY_SIZE(fragment_choices), &v, e);

	if (!err)
		cfg->fragment = (enum dv_fragment)v;
	return err;
}

static int parse_compact(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, yes_no_choices, ARRAY_SIZE(yes_no_choices), &v, e);

	if (!err)
		cfg->compact = v;
	return err;
}

static int parse_apicv(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, yes_no_choices, ARRAY_SIZE(yes_no_choices), &v, e);

	if (!err)
		cfg->no_apicv = !v;
	return err;
}

static int parse_selftest(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	unsigned v;
	int err = parse_choice(t, selftest_choices, ARRAY_SIZE(selftest_choices), &v, e);

	if (!err)
		cfg->selftest = (enum dv_selftest)v;
	return err;
}

/* A size in [min, max] that is a multiple of align, for key=SIZE tokens. */
static int parse_size_in(const struct token *t, u64 min, u64 max, u64 align, const char *align_name,
			 u64 *out, struct errbuf *e)
{
	char limit[SIZE_TEXT_MAX];
	int tlen = (int)t->len;
	u64 size;
	int err = parse_size(t->val, t->vlen, &size);

	if (err && err != -DV_ERANGE)
		return config_error(
			e, "bad size in '%.*s' (use a number with K, M, G or T, e.g. %.*s=512M)",
			tlen, t->text, (int)t->klen, t->key);
	if (err || size > max) {
		format_size(max, limit, sizeof(limit));
		return config_error(e, "size too large in '%.*s' (at most %s)", tlen, t->text,
				    limit);
	}
	if (size < min) {
		format_size(min, limit, sizeof(limit));
		return config_error(e, "size too small in '%.*s' (at least %s)", tlen, t->text,
				    limit);
	}
	if (!IS_ALIGNED(size, align))
		return config_error(e, "size not a multiple of %s in '%.*s'", align_name, tlen,
				    t->text);
	*out = size;
	return 0;
}

/* iogap=SIZE: where the I/O gap below 4 GiB starts (RAM beyond it resumes at
 * 4 GiB). 2 MiB-aligned so large EPT pages still fit below it. */
static int parse_iogap(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	return parse_size_in(t, CONFIG_IOGAP_MIN, CONFIG_IOGAP_MAX, 2 * MiB, "2M", &cfg->iogap, e);
}

/* mem=SIZE: a multiple of 4 KiB in [CONFIG_MEM_MIN, CONFIG_MEM_MAX]. */
static int parse_mem(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	int err = parse_size_in(t, CONFIG_MEM_MIN, CONFIG_MEM_MAX, PAGE_SIZE, "4K", &cfg->mem, e);

	if (err)
		return err;
	cfg->mem_set = true;
	return 0;
}

/* badmem=HPA[,HPA...]: at least one address, no empty element, at most
 * CONFIG_MAX_BADMEM; each stored rounded down to its page. */
static int parse_badmem(struct dv_config *cfg, const struct token *t, struct errbuf *e)
{
	const char *p = t->val, *end = t->val + t->vlen;
	int tlen = (int)t->len;
	unsigned n = 0;

	if (t->vlen == 0)
		return config_error(e,
				    "missing address in '%.*s' (e.g. badmem=0x7f000000,0x7f001000)",
				    tlen, t->text);
	for (;;) {
		const char *comma = p;
		u64 addr;

		while (comma < end && *comma != ',')
			comma++;
		if (comma == p)
			return config_error(e, "empty address in '%.*s'", tlen, t->text);
		if (n == CONFIG_MAX_BADMEM)
			return config_error(e, "too many addresses in '%.*s' (at most %d)", tlen,
					    t->text, CONFIG_MAX_BADMEM);
		if (parse_u64(p, (size_t)(comma - p), &addr))
			return config_error(
				e,
				"bad address '%.*s' in '%.*s' (use hex 0x... or decimal, "
				"separated by commas)",
				(int)(comma - p), p, tlen, t->text);
		cfg->badmem[n++] = ALIGN_DOWN(addr, PAGE_SIZE);
		if (comma == end)
			break;
		p = comma + 1;
	}
	cfg->nbadmem = n;
	return 0;
}

/* The accepted keys, in the order error messages list them. */
static const struct config_key config_keys[] = {
	{"mode", parse_mode},	    {"mem", parse_mem},		  {"ept", parse_ept},
	{"badmem", parse_badmem},   {"log", parse_log},		  {"selftest", parse_selftest},
	{"iogap", parse_iogap},	    {"fragment", parse_fragment}, {"apicv", parse_apicv},
	{"compact", parse_compact},
};

/* Split text at its first '='; false when there is none. */
static bool token_split(const char *text, size_t len, struct token *t)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '=') {
			*t = (struct token){.text = text,
					    .len = len,
					    .key = text,
					    .klen = i,
					    .val = text + i + 1,
					    .vlen = len - i - 1};
			return true;
		}
	}
	return false;
}

static void key_names(char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++)
		names_append(buf, n, config_keys[i].name);
}

/* Apply one key=value token to cfg; seen has a bit per key already given. */
static int token_apply(struct dv_config *cfg, const struct token *t, unsigned *seen,
		       struct errbuf *e)
{
	char names[CONFIG_NAMES_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(config_keys); i++) {
		if (!span_is(t->key, t->klen, config_keys[i].name, false))
			continue;
		if (*seen & (1u << i))
			return config_error(e, "'%s' given twice", config_keys[i].name);
		*seen |= 1u << i;
		return config_keys[i].parse(cfg, t, e);
	}
	key_names(names, sizeof(names));
	return config_error(e, "unknown key '%.*s' in '%.*s' (accepted: %s)", (int)t->klen, t->key,
			    (int)t->len, t->text, names);
}

void config_defaults(struct dv_config *cfg)
{
	*cfg = (struct dv_config){
		.mode = MODE_BASE,
		.mem = 256 * MiB,
		.ept_page_shift = PAGE_SHIFT,
		.log = LOG_INFO,
		.iogap = CONFIG_IOGAP_DEFAULT,
		.compact = true,
	};
}

static bool looks_like_path(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] == '/' || text[i] == '.')
			return true;
	return false;
}

int config_parse(const char *cmdline, struct dv_config *cfg, char *err, size_t errlen)
{
	struct errbuf e = {.buf = err, .len = errlen};
	const char *cursor = cmdline, *text;
	char names[CONFIG_NAMES_MAX];
	struct dv_config scratch;
	unsigned seen = 0;
	struct token t;
	size_t len;

	if (err && errlen)
		err[0] = '\0';
	config_defaults(&scratch);
	for (bool first = true; next_token(&cursor, &text, &len); first = false) {
		int rc;

		if (!token_split(text, len, &t)) {
			/* QEMU -kernel puts the image's path first; GRUB 2 does not.
			 * Only a token that looks like a path is taken for it, so a
			 * lone "ept" is still reported. */
			if (first && looks_like_path(text, len))
				continue;
			key_names(names, sizeof(names));
			return config_error(&e,
					    "expected key=value, got '%.*s' (accepted keys: %s)",
					    (int)len, text, names);
		}
		rc = token_apply(&scratch, &t, &seen, &e);
		if (rc)
			return rc;
	}
	*cfg = scratch;
	return 0;
}

const char *config_mode_name(enum dv_mode mode)
{
	return choice_name(mode_choices, ARRAY_SIZE(mode_choices), mode);
}

const char *config_log_name(enum dv_log log)
{
	return choice_name(log_choices, ARRAY_SIZE(log_choices), log);
}

void config_print(const struct dv_config *cfg)
{
	char mem[SIZE_TEXT_MAX], gap[SIZE_TEXT_MAX];

	format_size(cfg->mem, mem, sizeof(mem));
	format_size(cfg->iogap, gap, sizeof(gap));
	kprintf("config: mode=%s mem=%s ept=%s log=%s iogap=%s badmem=",
		config_mode_name(cfg->mode), mem,
		choice_name(ept_choices, ARRAY_SIZE(ept_choices), cfg->ept_page_shift),
		config_log_name(cfg->log), gap);
	if (cfg->nbadmem == 0)
		kprintf("none");
	for (unsigned i = 0; i < cfg->nbadmem && i < CONFIG_MAX_BADMEM; i++)
		kprintf("%s0x%llx", i ? "," : "", (unsigned long long)cfg->badmem[i]);
	if (cfg->fragment)
		kprintf(" fragment=%s",
			choice_name(fragment_choices, ARRAY_SIZE(fragment_choices), cfg->fragment));
	if (!cfg->compact)
		kprintf(" compact=no");
	if (cfg->no_apicv)
		kprintf(" apicv=no");
	kprintf("\n");
}
