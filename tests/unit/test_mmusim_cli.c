/* mmusim's command line: counts and sizes, configuration names, options
 * and their errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <dimvisor/errno.h>
#include "tools/mmusim/cli.h"
#include "tools/mmusim/units.h"

static void counts_use_decimal_suffixes(void **state)
{
	u64 v;

	assert_int_equal(units_parse_count("100M", &v), 0);
	assert_int_equal(v, 100000000);
	assert_int_equal(units_parse_count("10m", &v), 0);
	assert_int_equal(v, 10000000);
	assert_int_equal(units_parse_count("3K", &v), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(units_parse_count("2G", &v), 0);
	assert_int_equal(v, 2000000000);
	assert_int_equal(units_parse_count("12345", &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(units_parse_count("1X", &v), -DV_EINVAL);
	assert_int_equal(units_parse_count("M", &v), -DV_EINVAL);
	assert_int_equal(units_parse_count("", &v), -DV_EINVAL);
	assert_int_equal(units_parse_count("20000000T", &v), -DV_ERANGE);
}

static void sizes_use_binary_suffixes(void **state)
{
	u64 v;
	char buf[32];

	assert_int_equal(units_parse_size("64G", &v), 0);
	assert_int_equal(v, 64ULL << 30);
	assert_int_equal(units_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(units_parse_size("0x7f0000000000", &v), 0);
	assert_int_equal(v, 0x7f0000000000ULL);
	units_format_size(8ULL << 30, buf, sizeof(buf));
	assert_string_equal(buf, "8 GiB");
	units_format_size(12345, buf, sizeof(buf));
	assert_string_equal(buf, "12345 B");
}

static void expect_config(const char *name, enum model_mode mode, enum page_policy g,
			  enum page_policy e, bool virt)
{
	struct config_spec c;
	char err[200];

	if (config_parse(name, &c, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
	assert_string_equal(c.name, name);
	assert_int_equal(c.mode, mode);
	assert_int_equal(c.guest, g);
	assert_int_equal(c.virt, virt);
	if (virt)
		assert_int_equal(c.ept, e);
}

static void configuration_names(void **state)
{
	expect_config("4k+4k", MODEL_BASE_VIRT, PAGES_4K, PAGES_4K, true);
	expect_config("2m+2m", MODEL_BASE_VIRT, PAGES_2M, PAGES_2M, true);
	expect_config("1g+1g", MODEL_BASE_VIRT, PAGES_1G, PAGES_1G, true);
	expect_config("4k+1g", MODEL_BASE_VIRT, PAGES_4K, PAGES_1G, true);
	expect_config("thp+2m", MODEL_BASE_VIRT, PAGES_THP, PAGES_2M, true);
	expect_config("native-4k", MODEL_NATIVE, PAGES_4K, 0, false);
	expect_config("native-thp", MODEL_NATIVE, PAGES_THP, 0, false);
	expect_config("native-ds", MODEL_NATIVE_DS, PAGES_4K, 0, false);
	expect_config("native-ds:2m", MODEL_NATIVE_DS, PAGES_2M, 0, false);
	expect_config("dual-direct", MODEL_DUAL_DIRECT, PAGES_4K, PAGES_4K, true);
	expect_config("vmm-direct", MODEL_VMM_DIRECT, PAGES_4K, PAGES_4K, true);
	expect_config("guest-direct", MODEL_GUEST_DIRECT, PAGES_4K, PAGES_4K, true);
	expect_config("vmm-direct:2m+1g", MODEL_VMM_DIRECT, PAGES_2M, PAGES_1G, true);
}

static void bad_configuration_names(void **state)
{
	static const char *const bad[] = {"",
					  "4k",
					  "4k+",
					  "+4k",
					  "4k+thp",
					  "8k+4k",
					  "native",
					  "native-",
					  "native-8k",
					  "native-ds:",
					  "native-ds:4k+4k",
					  "vmm-direct:",
					  "vmm-direct:2m",
					  "vmm-direct:thp+thp",
					  "4k+4k:2m+2m",
					  "dual-direct:4k+4k+4k",
					  "base"};
	struct config_spec c;
	char err[200];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		if (config_parse(bad[i], &c, err, sizeof(err)) != -DV_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "unknown configuration"));
	}
}

static void configuration_lists(void **state)
{
	struct config_spec c[4];
	size_t n;
	char err[200];

	assert_int_equal(
		config_parse_list("4k+4k,native-4k,vmm-direct", c, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[2].name, "vmm-direct");
	assert_int_equal(config_parse_list("4k+4k,,native-4k", c, 4, &n, err, sizeof(err)),
			 -DV_EINVAL);
	assert_int_equal(config_parse_list("4k+4k,", c, 4, &n, err, sizeof(err)), -DV_EINVAL);
	assert_int_equal(config_parse_list("4k+4k,4k+4k", c, 4, &n, err, sizeof(err)), -DV_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(config_parse_list("4k+4k,2m+2m,1g+1g,native-4k,native-2m", c, 4, &n, err,
					   sizeof(err)),
			 -DV_E2BIG);
}

static enum cli_result parse(struct options *o, char *err, size_t errlen, ...)
{
	char *argv[32] = {"mmusim"};
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	err[0] = '\0';
	return cli_parse(argc, argv, o, err, errlen);
}

static void the_issue_example_parses(void **state)
{
	static struct options o;
	char err[300];

	assert_int_equal(parse(&o, err, sizeof(err), "--workload", "gups", "--footprint", "64G",
			       "--accesses", "100M", "--config",
			       "4k+4k,2m+2m,1g+1g,native-4k,native-ds,dual-direct,vmm-direct,"
			       "guest-direct",
			       "--tlb", "sandybridge", "--json", "--csv", "out.csv", "--plot",
			       "out.png", "--seed", "7", NULL),
			 CLI_RUN);
	assert_string_equal(o.workload, "gups");
	assert_int_equal(o.footprint, 64ULL << 30);
	assert_int_equal(o.accesses, 100000000);
	assert_int_equal(o.nconfigs, 8);
	assert_false(o.configs[3].hidden);
	assert_true(o.json);
	assert_string_equal(o.csv, "out.csv");
	assert_string_equal(o.plot, "out.png");
	assert_int_equal(o.seed, 7);
	assert_string_equal(o.sim.tlb, "sandybridge");
}

/* Without native-4k in the list it is simulated anyway, hidden, for the
 * overhead column; --opt=value works like --opt value. */
static void baseline_added_hidden(void **state)
{
	static struct options o;
	char err[300];

	assert_int_equal(parse(&o, err, sizeof(err), "--trace=-", "--config=vmm-direct", "--pwc",
			       "--cn", "50", "--escape", "3", "--primary", "0x10000+1G", NULL),
			 CLI_RUN);
	assert_int_equal(o.nconfigs, 2);
	assert_string_equal(o.configs[1].name, "native-4k");
	assert_true(o.configs[1].hidden);
	assert_int_equal(o.accesses, 0); /* a trace runs to its end */
	assert_true(o.sim.pwc);
	assert_true(o.sim.lin.c_n == 50.0);
	assert_true(o.sim.lin.c_v < 0); /* derived per configuration */
	assert_int_equal(o.escaped, 3);
	assert_int_equal(o.primary_base, 0x10000);
	assert_int_equal(o.primary_limit, 0x10000 + (1ULL << 30));
}

static void expect_cli_error(const char *want, ...)
{
	static struct options o;
	char *argv[32] = {"mmusim"}, err[300] = "";
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, want);
	while ((a = va_arg(ap, char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), CLI_ERROR);
	if (!strstr(err, want))
		fail_msg("message '%s' lacks '%s'", err, want);
}

static void bad_arguments(void **state)
{
	expect_cli_error("exactly one of", NULL);
	expect_cli_error("exactly one of", "--workload", "gups", "--trace", "x", NULL);
	expect_cli_error("unknown workload 'gupz'", "--workload", "gupz", NULL);
	expect_cli_error("unknown option '--bogus'", "--workload", "gups", "--bogus", NULL);
	expect_cli_error("unexpected argument 'gups'", "gups", NULL);
	expect_cli_error("--footprint needs a value", "--workload", "gups", "--footprint", NULL);
	expect_cli_error("--footprint: '12Q'", "--workload", "gups", "--footprint", "12Q", NULL);
	expect_cli_error("--accesses: '0'", "--workload", "gups", "--accesses", "0", NULL);
	expect_cli_error("--tlb: 'haswell'", "--workload", "gups", "--tlb", "haswell", NULL);
	expect_cli_error("unknown configuration '5k+4k'", "--workload", "gups", "--config",
			 "4k+4k,5k+4k", NULL);
	expect_cli_error("--json takes no value", "--workload", "gups", "--json=1", NULL);
	expect_cli_error("--primary: '5-3'", "--trace", "-", "--primary", "5-3", NULL);
	expect_cli_error("--escape: '5000'", "--workload", "gups", "--escape", "5000", NULL);
	expect_cli_error("--cv: '-1'", "--workload", "gups", "--cv", "-1", NULL);
	expect_cli_error("--escape-bits: '0'", "--workload", "gups", "--escape-bits", "0", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_use_decimal_suffixes),
		cmocka_unit_test(sizes_use_binary_suffixes),
		cmocka_unit_test(configuration_names),
		cmocka_unit_test(bad_configuration_names),
		cmocka_unit_test(configuration_lists),
		cmocka_unit_test(the_issue_example_parses),
		cmocka_unit_test(baseline_added_hidden),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
