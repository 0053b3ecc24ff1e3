/*
 * test_config.c: the config file through config_load on real files: every
 * [limits] key reaches struct limits, sizes take suffixes, a target's
 * repair key (default yes), and bad values (and section names inih would
 * cut short) are refused with the file, line and value named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "verify.h"

static char path[1024];

static void
write_conf(const char *text)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	const char *tmp = getenv("WW_TEST_TMP");

	(void)state;
	snprintf(path, sizeof(path), "%s/test_config-%ld.conf",
	    tmp ? tmp : "/tmp", (long)getpid());
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void
test_limits(void **state)
{
	struct config *c;
	struct limits def;
	struct wwerr err;

	(void)state;
	limits_default(&def);
	write_conf("[global]\nverbose = 0\n");
	assert_int_equal(config_load(path, &c, &err), 0);
	assert_int_equal(c->limits.threads, def.threads);
	assert_int_equal(c->limits.whole_member_max, def.whole_member_max);
	assert_int_equal(c->limits.max_ratio, def.max_ratio);
	config_free(c);

	write_conf("[limits]\nmax_file_size = 1G\nmax_ratio = 50\n"
	    "threads = 3\nwhole_member_max = 8M\n");
	if (config_load(path, &c, &err) == -1)
		fail_msg("%s", err.msg);
	assert_int_equal(c->limits.max_file_size, 1024ULL * 1024 * 1024);
	assert_int_equal(c->limits.max_ratio, 50);
	assert_int_equal(c->limits.threads, 3);
	assert_int_equal(c->limits.whole_member_max, 8ULL * 1024 * 1024);
	config_free(c);

	write_conf("[limits]\nthreads = 0\nwhole_member_max = 0\n");
	assert_int_equal(config_load(path, &c, &err), 0);
	assert_int_equal(c->limits.threads, 0);
	assert_int_equal(c->limits.whole_member_max, 0);
	config_free(c);
}

static void
test_bad_limits(void **state)
{
	static const struct {
		const char *conf, *names;
	} bad[] = {
		{ "[limits]\nthreads = 65\n", "\"65\"" },
		{ "[limits]\nthreads = -1\n", "\"-1\"" },
		{ "[limits]\nthreads = two\n", "\"two\"" },
		{ "[limits]\nthreads = 4K\n", "\"4K\"" },
		{ "[limits]\nwhole_member_max = lots\n", "\"lots\"" },
		{ "[limits]\nno_such_key = 1\n", "no_such_key" },
	};
	struct config *c;
	struct wwerr err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf(bad[i].conf);
		c = NULL;
		if (config_load(path, &c, &err) != -1)
			fail_msg("accepted: %s", bad[i].conf);
		assert_null(c);
		/* file:line, and the value or key */
		if (strstr(err.msg, ".conf:2") == NULL ||
		    strstr(err.msg, bad[i].names) == NULL)
			fail_msg("%s: message \"%s\"", bad[i].conf, err.msg);
	}
}

static void
test_target_repair(void **state)
{
	static const char *bad[] = { "maybe", "", "2", "yes please" };
	struct config *c;
	const struct config_target *t;
	struct wwerr err;
	char conf[256];
	size_t i;

	(void)state;
	write_conf("[target a]\nimage = x\n\n[target b]\nimage = y\n"
	    "repair = no\n\n[target c]\nimage = z\nrepair = yes\n");
	if (config_load(path, &c, &err) == -1)
		fail_msg("%s", err.msg);
	assert_non_null(t = config_target(c, "a"));
	assert_int_equal(t->repair, 1);
	assert_non_null(t = config_target(c, "b"));
	assert_int_equal(t->repair, 0);
	assert_non_null(t = config_target(c, "c"));
	assert_int_equal(t->repair, 1);
	config_free(c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(conf, sizeof(conf), "[target a]\nrepair = %s\n"
		    "image = x\n", bad[i]);
		write_conf(conf);
		c = NULL;
		if (config_load(path, &c, &err) != -1)
			fail_msg("accepted repair = \"%s\"", bad[i]);
		assert_null(c);
		if (strstr(err.msg, ".conf:2") == NULL ||
		    strstr(err.msg, "repair") == NULL ||
		    strstr(err.msg, "yes/no") == NULL)
			fail_msg("repair = \"%s\": message \"%s\"", bad[i],
			    err.msg);
	}
}

/* inih cuts section names at 49 characters: a name that may have been
 * cut is refused, not silently renamed. */
static void
test_long_section_name(void **state)
{
	/* "target " + 41 = 48 characters: kept whole */
	static const char ok[] = "cp311-manylinux_2_28-x86_64-long-name-041";
	static const char cut[] =
	    "cp311-manylinux_2_28-x86_64-with-a-long-target-name";
	struct config *c;
	struct wwerr err;
	char conf[256];

	(void)state;
	assert_int_equal(strlen(ok), 41);
	snprintf(conf, sizeof(conf), "[global]\nverbose = 0\n\n[target %s]\n"
	    "image = x\n", ok);
	write_conf(conf);
	if (config_load(path, &c, &err) == -1)
		fail_msg("%s", err.msg);
	assert_non_null(config_target(c, ok));
	config_free(c);

	snprintf(conf, sizeof(conf), "[global]\nverbose = 0\n\n[target %s]\n"
	    "image = x\n", cut);
	write_conf(conf);
	c = NULL;
	assert_int_equal(config_load(path, &c, &err), -1);
	assert_null(c);
	if (strstr(err.msg, ".conf:5") == NULL ||
	    strstr(err.msg, "too long") == NULL ||
	    strstr(err.msg, "cp311-manylinux_2_28") == NULL)
		fail_msg("message \"%s\"", err.msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_section_name),
		cmocka_unit_test(test_bad_limits),
		cmocka_unit_test(test_target_repair),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
