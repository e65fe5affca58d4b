/* libFuzzer target: the hypervisor command line (hv/config.c).
 * Input: byte 0 picks the error buffer's size (0..127, allocated exactly, so
 * ASan sees any write past it); the rest is the command line.
 * Checks: config_parse returns 0 or -DV_EINVAL; on error the message is
 * terminated inside the buffer and the config is untouched; on success every
 * field is in its documented range, and config_print's line parses back to
 * the same configuration. */
#include "tests/fuzz/fuzz.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "hv/config.h"
#include "lib/printf.h"

static char printed[4096];
static size_t nprinted;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (n > sizeof(printed) - 1 - nprinted)
		n = sizeof(printed) - 1 - nprinted;
	memcpy(printed + nprinted, s, n);
	nprinted += n;
	printed[nprinted] = '\0';
}

static void check_ranges(const struct dv_config *c)
{
	CHECK(c->mode <= MODE_DUAL_DIRECT);
	CHECK(c->mem >= CONFIG_MEM_MIN && c->mem <= CONFIG_MEM_MAX && c->mem % 4096 == 0);
	CHECK(c->ept_page_shift == 12 || c->ept_page_shift == 21 || c->ept_page_shift == 30);
	CHECK(c->nbadmem <= CONFIG_MAX_BADMEM);
	for (unsigned i = 0; i < c->nbadmem; i++)
		CHECK(c->badmem[i] % 4096 == 0);
	CHECK(c->log <= LOG_DEBUG);
	CHECK(c->selftest <= SELFTEST_NMI);
	CHECK(c->iogap >= CONFIG_IOGAP_MIN && c->iogap <= CONFIG_IOGAP_MAX);
	CHECK(c->iogap % (2u << 20) == 0);
}

/* config_print's "config: k=v ..." line, as a command line, gives c back. */
static void check_round_trip(const struct dv_config *c)
{
	struct dv_config again;
	char err[256], *line, *none;

	nprinted = 0;
	printed[0] = '\0';
	console_set_sink(capture, NULL);
	config_print(c);
	console_set_sink(NULL, NULL);
	CHECK(strncmp(printed, "config: ", 8) == 0);
	line = printed + 8;
	none = strstr(line, " badmem=none");
	if (none)
		memmove(none, none + 12, strlen(none + 12) + 1);
	if (config_parse(line, &again, err, sizeof(err)) != 0)
		__builtin_trap(); /* the printed line is not a valid command line */
	CHECK(again.mode == c->mode && again.mem == c->mem);
	CHECK(again.ept_page_shift == c->ept_page_shift && again.log == c->log);
	CHECK(again.iogap == c->iogap && again.nbadmem == c->nbadmem);
	CHECK(memcmp(again.badmem, c->badmem, c->nbadmem * sizeof(c->badmem[0])) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dv_config cfg, before;
	size_t errlen;
	char *cmdline, *err;
	int rc;

	if (size < 1)
		return 0;
	errlen = data[0] & 127;
	cmdline = malloc(size);
	memcpy(cmdline, data + 1, size - 1);
	cmdline[size - 1] = '\0';
	err = errlen ? malloc(errlen) : NULL;
	if (err)
		memset(err, 'x', errlen);
	memset(&cfg, 0xa5, sizeof(cfg));
	before = cfg;

	rc = config_parse(cmdline, &cfg, err, errlen);
	CHECK(rc == 0 || rc == -DV_EINVAL);
	if (rc) {
		CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
		if (errlen) {
			CHECK(memchr(err, '\0', errlen) != NULL);
			CHECK(errlen == 1 || err[0] != '\0'); /* a message, when there is room */
		}
	} else {
		check_ranges(&cfg);
		check_round_trip(&cfg);
	}
	free(err);
	free(cmdline);
	return 0;
}
