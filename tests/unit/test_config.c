/* hv/config.c: the hypervisor command line. Every key, every error message,
 * the kernel file name, duplicates, limits, and cfg untouched on error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "hv/config.h"
#include "lib/printf.h"

static struct dv_config cfg;
static char err[4096];

static int setup(void **state)
{
	memset(&cfg, 0xab, sizeof(cfg)); /* garbage: parse must set every field */
	strcpy(err, "stale");
	return 0;
}

static void parse_ok(const char *cmdline)
{
	int rc = config_parse(cmdline, &cfg, err, sizeof(err));

	if (rc)
		fail_msg("config_parse(\"%s\") = %d: %s", cmdline, rc, err);
	assert_string_equal(err, "");
}

/* cmdline must fail with exactly message, leaving cfg as it was. */
static void parse_fails(const char *cmdline, const char *message)
{
	struct dv_config before;

	config_defaults(&cfg);
	cfg.mode = MODE_GUEST_DIRECT; /* not a default, so a reset would show */
	cfg.badmem[0] = 0x5000;
	cfg.nbadmem = 1;
	before = cfg;
	assert_int_equal(config_parse(cmdline, &cfg, err, sizeof(err)), -DV_EINVAL);
	assert_string_equal(err, message);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void assert_defaults(void)
{
	assert_int_equal(cfg.mode, MODE_BASE);
	assert_int_equal(cfg.mem, 268435456);
	assert_int_equal(cfg.ept_page_shift, 12);
	assert_int_equal(cfg.log, LOG_INFO);
	assert_int_equal(cfg.nbadmem, 0);
	assert_false(cfg.mem_set);
	assert_false(cfg.ept_set);
}

static void defaults_are_base_256m_4k_info(void **state)
{
	config_defaults(&cfg);
	assert_defaults();
}

static void empty_or_null_cmdline_gives_defaults(void **state)
{
	parse_ok("");
	assert_defaults();
	memset(&cfg, 0xab, sizeof(cfg));
	parse_ok(NULL);
	assert_defaults();
	memset(&cfg, 0xab, sizeof(cfg));
	parse_ok("  \t\n ");
	assert_defaults();
}

static void first_token_without_equals_is_the_file_name(void **state)
{
	parse_ok("/boot/dimvisor.elf");
	assert_defaults();
	parse_ok("/boot/dimvisor.elf mode=vmm-direct");
	assert_int_equal(cfg.mode, MODE_VMM_DIRECT);
	parse_ok("  dimvisor.elf   log=debug  ");
	assert_int_equal(cfg.log, LOG_DEBUG);
}

/* GRUB 2 passes only the arguments: a lone word first is an error, not a name. */
static void first_token_that_is_not_a_path_is_an_error(void **state)
{
	parse_fails("ept", "expected key=value, got 'ept' (accepted keys: mode mem ept badmem log "
			   "selftest iogap fragment apicv compact)");
	parse_fails("dimvisor mode=base",
		    "expected key=value, got 'dimvisor' (accepted keys: mode "
		    "mem ept badmem log selftest iogap fragment apicv compact)");
}

static void selftest_takes_every_failure_path(void **state)
{
	parse_ok("");
	assert_int_equal(cfg.selftest, SELFTEST_NONE);
	parse_ok("selftest=page-fault");
	assert_int_equal(cfg.selftest, SELFTEST_PAGE_FAULT);
	parse_ok("selftest=invalid-opcode");
	assert_int_equal(cfg.selftest, SELFTEST_INVALID_OPCODE);
	parse_ok("selftest=panic");
	assert_int_equal(cfg.selftest, SELFTEST_PANIC);
	parse_ok("selftest=vmentry-guest-state");
	assert_int_equal(cfg.selftest, SELFTEST_VMENTRY_GUEST_STATE);
	parse_ok("selftest=vmentry-control");
	assert_int_equal(cfg.selftest, SELFTEST_VMENTRY_CONTROL);
	parse_ok("selftest=nmi");
	assert_int_equal(cfg.selftest, SELFTEST_NMI);
	parse_ok("selftest=unchecked-guest-values");
	assert_int_equal(cfg.selftest, SELFTEST_UNCHECKED);
	parse_ok("selftest=corrupt-ept");
	assert_int_equal(cfg.selftest, SELFTEST_CORRUPT_EPT);
	parse_fails("selftest=reboot",
		    "bad value in 'selftest=reboot' (accepted: none page-fault invalid-opcode "
		    "panic vmentry-guest-state vmentry-control nmi unchecked-guest-values "
		    "corrupt-ept)");
}

static void iogap_sets_the_start_of_the_io_gap(void **state)
{
	parse_ok("");
	assert_int_equal(cfg.iogap, 3ULL << 30);
	parse_ok("iogap=1G");
	assert_int_equal(cfg.iogap, 1ULL << 30);
	parse_ok("iogap=256M");
	assert_int_equal(cfg.iogap, 256ULL << 20);
	parse_fails("iogap=4G", "size too large in 'iogap=4G' (at most 3G)");
	parse_fails("iogap=128M", "size too small in 'iogap=128M' (at least 256M)");
	parse_fails("iogap=1025M", "size not a multiple of 2M in 'iogap=1025M'");
	parse_fails("iogap=x",
		    "bad size in 'iogap=x' (use a number with K, M, G or T, e.g. iogap=512M)");
}

static void mode_takes_every_mode(void **state)
{
	parse_ok("mode=base");
	assert_int_equal(cfg.mode, MODE_BASE);
	parse_ok("mode=vmm-direct");
	assert_int_equal(cfg.mode, MODE_VMM_DIRECT);
	parse_ok("mode=guest-direct");
	assert_int_equal(cfg.mode, MODE_GUEST_DIRECT);
	parse_ok("mode=dual-direct");
	assert_int_equal(cfg.mode, MODE_DUAL_DIRECT);
	parse_ok("mode=Dual-Direct"); /* values ignore case */
	assert_int_equal(cfg.mode, MODE_DUAL_DIRECT);
}

static void mem_takes_sizes(void **state)
{
	parse_ok("mem=512M");
	assert_int_equal(cfg.mem, 536870912);
	assert_true(cfg.mem_set);
	assert_false(cfg.ept_set);
	parse_ok("mem=4g");
	assert_int_equal(cfg.mem, 4294967296ULL);
	parse_ok("mem=0x20000000");
	assert_int_equal(cfg.mem, 536870912);
	parse_ok("mem=2101248"); /* 2M + 4K, in bytes */
	assert_int_equal(cfg.mem, 2101248);
}

static void mem_limits_are_inclusive(void **state)
{
	parse_ok("mem=2M");
	assert_int_equal(cfg.mem, 2097152);
	parse_ok("mem=1T");
	assert_int_equal(cfg.mem, 1099511627776ULL);
	parse_ok("mem=2048K");
	assert_int_equal(cfg.mem, 2097152);
}

static void ept_takes_three_page_sizes(void **state)
{
	parse_ok("ept=4k");
	assert_int_equal(cfg.ept_page_shift, 12);
	assert_true(cfg.ept_set);
	assert_false(cfg.mem_set);
	parse_ok("ept=2m");
	assert_int_equal(cfg.ept_page_shift, 21);
	parse_ok("ept=1g");
	assert_int_equal(cfg.ept_page_shift, 30);
	parse_ok("ept=2M");
	assert_int_equal(cfg.ept_page_shift, 21);
}

static void log_takes_every_level(void **state)
{
	parse_ok("log=quiet");
	assert_int_equal(cfg.log, LOG_QUIET);
	parse_ok("log=info");
	assert_int_equal(cfg.log, LOG_INFO);
	parse_ok("log=debug");
	assert_int_equal(cfg.log, LOG_DEBUG);
}

static void badmem_takes_a_list_rounded_to_pages(void **state)
{
	parse_ok("badmem=0x7f000000");
	assert_int_equal(cfg.nbadmem, 1);
	assert_int_equal(cfg.badmem[0], 0x7f000000);
	parse_ok("badmem=0x1234,8192,0x7f001fff");
	assert_int_equal(cfg.nbadmem, 3);
	assert_int_equal(cfg.badmem[0], 0x1000);
	assert_int_equal(cfg.badmem[1], 0x2000);
	assert_int_equal(cfg.badmem[2], 0x7f001000);
}

static void badmem_takes_64_addresses(void **state)
{
	char line[2048] = "badmem=";

	for (int i = 0; i < 64; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s0x%x", i ? "," : "",
			 (i + 1) * 0x1000);
	parse_ok(line);
	assert_int_equal(cfg.nbadmem, 64);
	assert_int_equal(cfg.badmem[0], 0x1000);
	assert_int_equal(cfg.badmem[63], 0x40000);
}

static void all_keys_together(void **state)
{
	parse_ok("/boot/dimvisor.elf mode=dual-direct\tmem=1G ept=2m\n"
		 "badmem=0x7f000000,0x7f001abc log=quiet");
	assert_int_equal(cfg.mode, MODE_DUAL_DIRECT);
	assert_int_equal(cfg.mem, 1073741824);
	assert_int_equal(cfg.ept_page_shift, 21);
	assert_int_equal(cfg.nbadmem, 2);
	assert_int_equal(cfg.badmem[0], 0x7f000000);
	assert_int_equal(cfg.badmem[1], 0x7f001000);
	assert_int_equal(cfg.log, LOG_QUIET);
	assert_true(cfg.mem_set);
	assert_true(cfg.ept_set);
}

static void unknown_key(void **state)
{
	parse_fails("foo=1", "unknown key 'foo' in 'foo=1' (accepted: mode mem ept badmem log "
			     "selftest iogap fragment apicv compact)");
	parse_fails("mode=base MODE=base", "unknown key 'MODE' in 'MODE=base' (accepted: mode mem "
					   "ept badmem log selftest iogap fragment apicv compact)");
	parse_fails("=5", "unknown key '' in '=5' (accepted: mode mem ept badmem log selftest "
			  "iogap fragment apicv compact)");
	parse_fails("memory=1G", "unknown key 'memory' in 'memory=1G' (accepted: mode mem ept "
				 "badmem log selftest iogap fragment apicv compact)");
}

static void apicv_is_yes_or_no(void **state)
{
	parse_ok("");
	assert_false(cfg.no_apicv);
	parse_ok("apicv=no");
	assert_true(cfg.no_apicv);
	parse_ok("apicv=yes");
	assert_false(cfg.no_apicv);
	parse_fails("apicv=maybe", "bad value in 'apicv=maybe' (accepted: no yes)");
}

static void fragment_is_yes_or_no(void **state)
{
	parse_ok("");
	assert_false(cfg.fragment);
	parse_ok("fragment=yes");
	assert_int_equal(cfg.fragment, FRAGMENT_YES);
	parse_ok("fragment=no");
	assert_false(cfg.fragment);
	parse_ok("fragment=leave");
	assert_int_equal(cfg.fragment, FRAGMENT_LEAVE);
	parse_fails("fragment=1", "bad value in 'fragment=1' (accepted: no yes leave)");
	/* compaction is on unless said otherwise */
	parse_ok("mode=vmm-direct");
	assert_true(cfg.compact);
	parse_ok("compact=no");
	assert_false(cfg.compact);
	parse_fails("compact=later", "bad value in 'compact=later' (accepted: no yes)");
}

static void later_token_without_equals(void **state)
{
	parse_fails("dimvisor.elf quiet",
		    "expected key=value, got 'quiet' (accepted keys: mode "
		    "mem ept badmem log selftest iogap fragment apicv compact)");
	parse_fails("mode=base quiet", "expected key=value, got 'quiet' (accepted keys: mode mem "
				       "ept badmem log selftest iogap fragment apicv compact)");
}

static void bad_mode(void **state)
{
	parse_fails(
		"mode=fast",
		"bad value in 'mode=fast' (accepted: base vmm-direct guest-direct dual-direct)");
	parse_fails("mode=",
		    "bad value in 'mode=' (accepted: base vmm-direct guest-direct dual-direct)");
	parse_fails(
		"mode=basex",
		"bad value in 'mode=basex' (accepted: base vmm-direct guest-direct dual-direct)");
	parse_fails("mode=bas",
		    "bad value in 'mode=bas' (accepted: base vmm-direct guest-direct dual-direct)");
}

static void bad_ept(void **state)
{
	parse_fails("ept=8k", "bad value in 'ept=8k' (accepted: 4k 2m 1g)");
	parse_fails("ept=4096", "bad value in 'ept=4096' (accepted: 4k 2m 1g)");
}

static void bad_log(void **state)
{
	parse_fails("log=loud", "bad value in 'log=loud' (accepted: quiet info debug)");
}

static void bad_mem_size(void **state)
{
	parse_fails("mem=12Q",
		    "bad size in 'mem=12Q' (use a number with K, M, G or T, e.g. mem=512M)");
	parse_fails("mem=", "bad size in 'mem=' (use a number with K, M, G or T, e.g. mem=512M)");
	parse_fails("mem=1.5G",
		    "bad size in 'mem=1.5G' (use a number with K, M, G or T, e.g. mem=512M)");
}

static void mem_out_of_limits(void **state)
{
	parse_fails("mem=1M", "size too small in 'mem=1M' (at least 2M)");
	parse_fails("mem=0", "size too small in 'mem=0' (at least 2M)");
	parse_fails("mem=2093056", "size too small in 'mem=2093056' (at least 2M)"); /* 2M - 4K */
	parse_fails("mem=2T", "size too large in 'mem=2T' (at most 1T)");
	parse_fails("mem=1099511631872", "size too large in 'mem=1099511631872' (at most 1T)");
	parse_fails("mem=99999999999999999999",
		    "size too large in 'mem=99999999999999999999' (at most 1T)");
	parse_fails("mem=16777216T", "size too large in 'mem=16777216T' (at most 1T)");
}

static void mem_not_page_multiple(void **state)
{
	parse_fails("mem=3000000", "size not a multiple of 4K in 'mem=3000000'");
	parse_fails("mem=2097153", "size not a multiple of 4K in 'mem=2097153'");
}

static void bad_badmem(void **state)
{
	parse_fails("badmem=", "missing address in 'badmem=' (e.g. badmem=0x7f000000,0x7f001000)");
	parse_fails("badmem=0x1000,,0x2000", "empty address in 'badmem=0x1000,,0x2000'");
	parse_fails("badmem=0x1000,", "empty address in 'badmem=0x1000,'");
	parse_fails("badmem=,0x1000", "empty address in 'badmem=,0x1000'");
	parse_fails("badmem=0x1000,zz", "bad address 'zz' in 'badmem=0x1000,zz' (use hex 0x... or "
					"decimal, separated by commas)");
	parse_fails("badmem=1M", "bad address '1M' in 'badmem=1M' (use hex 0x... or decimal, "
				 "separated by commas)");
	parse_fails(
		"badmem=0x10000000000000000",
		"bad address '0x10000000000000000' in 'badmem=0x10000000000000000' (use hex 0x... "
		"or decimal, separated by commas)");
}

static void badmem_more_than_64(void **state)
{
	char line[2048] = "badmem=", want[2200];

	for (int i = 0; i < 65; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s0x%x", i ? "," : "",
			 (i + 1) * 0x1000);
	snprintf(want, sizeof(want), "too many addresses in '%s' (at most 64)", line);
	parse_fails(line, want);
}

static void key_given_twice(void **state)
{
	parse_fails("mode=base mode=vmm-direct", "'mode' given twice");
	parse_fails("mem=1G log=info mem=1G", "'mem' given twice");
	parse_fails("ept=4k ept=2m", "'ept' given twice");
	parse_fails("badmem=0x1000 badmem=0x2000", "'badmem' given twice");
	parse_fails("log=info log=info", "'log' given twice");
}

static void first_error_is_reported(void **state)
{
	parse_fails(
		"mode=fast log=loud",
		"bad value in 'mode=fast' (accepted: base vmm-direct guest-direct dual-direct)");
}

static void error_is_truncated_to_errlen(void **state)
{
	char small[16];

	memset(small, 'X', sizeof(small));
	assert_int_equal(config_parse("foo=1", &cfg, small, 10), -DV_EINVAL);
	assert_string_equal(small, "unknown k");
	assert_int_equal(small[10], 'X');
	assert_int_equal(config_parse("foo=1", &cfg, small, 1), -DV_EINVAL);
	assert_string_equal(small, "");
}

static void error_buffer_may_be_absent(void **state)
{
	assert_int_equal(config_parse("foo=1", &cfg, NULL, 0), -DV_EINVAL);
	assert_int_equal(config_parse("mode=base", &cfg, NULL, 0), 0);
	assert_int_equal(cfg.mode, MODE_BASE);
}

static void mode_and_log_names(void **state)
{
	assert_string_equal(config_mode_name(MODE_BASE), "base");
	assert_string_equal(config_mode_name(MODE_VMM_DIRECT), "vmm-direct");
	assert_string_equal(config_mode_name(MODE_GUEST_DIRECT), "guest-direct");
	assert_string_equal(config_mode_name(MODE_DUAL_DIRECT), "dual-direct");
	assert_string_equal(config_mode_name((enum dv_mode)17), "?");
	assert_string_equal(config_log_name(LOG_QUIET), "quiet");
	assert_string_equal(config_log_name(LOG_INFO), "info");
	assert_string_equal(config_log_name(LOG_DEBUG), "debug");
	assert_string_equal(config_log_name((enum dv_log)9), "?");
}

static char console[4096];
static size_t console_len;

static void capture_sink(void *ctx, const char *s, size_t n)
{
	assert_true(console_len + n < sizeof(console));
	memcpy(console + console_len, s, n);
	console_len += n;
	console[console_len] = '\0';
}

static const char *printed(void)
{
	console_len = 0;
	console[0] = '\0';
	console_set_sink(capture_sink, NULL);
	config_print(&cfg);
	console_set_sink(NULL, NULL);
	return console;
}

static void print_defaults(void **state)
{
	config_defaults(&cfg);
	assert_string_equal(printed(),
			    "config: mode=base mem=256M ept=4k log=info iogap=3G badmem=none\n");
}

static void print_everything(void **state)
{
	parse_ok("mode=guest-direct mem=1536M ept=1g log=quiet badmem=0x1000,0x7f001234");
	assert_string_equal(printed(),
			    "config: mode=guest-direct mem=1536M ept=1g log=quiet iogap=3G "
			    "badmem=0x1000,0x7f001000\n");
}

static void print_mem_in_largest_exact_unit(void **state)
{
	parse_ok("mem=1T");
	assert_string_equal(printed(),
			    "config: mode=base mem=1T ept=4k log=info iogap=3G badmem=none\n");
	parse_ok("mem=3072M ept=2m");
	assert_string_equal(printed(),
			    "config: mode=base mem=3G ept=2m log=info iogap=3G badmem=none\n");
	parse_ok("mem=4100K");
	assert_string_equal(printed(),
			    "config: mode=base mem=4100K ept=4k log=info iogap=3G badmem=none\n");
}

#define TEST(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(defaults_are_base_256m_4k_info),
		TEST(empty_or_null_cmdline_gives_defaults),
		TEST(first_token_without_equals_is_the_file_name),
		TEST(first_token_that_is_not_a_path_is_an_error),
		TEST(selftest_takes_every_failure_path),
		TEST(iogap_sets_the_start_of_the_io_gap),
		TEST(mode_takes_every_mode),
		TEST(mem_takes_sizes),
		TEST(mem_limits_are_inclusive),
		TEST(ept_takes_three_page_sizes),
		TEST(log_takes_every_level),
		TEST(badmem_takes_a_list_rounded_to_pages),
		TEST(badmem_takes_64_addresses),
		TEST(all_keys_together),
		TEST(unknown_key),
		TEST(later_token_without_equals),
		TEST(apicv_is_yes_or_no),
		TEST(fragment_is_yes_or_no),
		TEST(bad_mode),
		TEST(bad_ept),
		TEST(bad_log),
		TEST(bad_mem_size),
		TEST(mem_out_of_limits),
		TEST(mem_not_page_multiple),
		TEST(bad_badmem),
		TEST(badmem_more_than_64),
		TEST(key_given_twice),
		TEST(first_error_is_reported),
		TEST(error_is_truncated_to_errlen),
		TEST(error_buffer_may_be_absent),
		TEST(mode_and_log_names),
		TEST(print_defaults),
		TEST(print_everything),
		TEST(print_mem_in_largest_exact_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
