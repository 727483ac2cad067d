// SPDX-License-Identifier: GPL-2.0-or-later
/* ctl_parse_flags: crashcapctl's flag-only option parsing, with stdout and stderr captured. */
#include "loader/ctl-flags.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "log.h"

#define HELP "Usage: crashcapctl cmd [--json]\n\nDoes things.\n"

struct parsed {
	int r;
	int first; /* -1: not written */
	char out[1024];
	char err[1024];
};

static void read_all(int fd, char *buf, size_t size)
{
	ssize_t n;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
}

/* Runs the parser on argv (NULL-terminated, permuted in place) with stdout and stderr captured. */
static void parse(char **argv, const struct ctl_flag *flags, size_t max_args, bool want_first,
		  struct parsed *p)
{
	char out_tmpl[] = "/tmp/crashcap-ctl-flags-XXXXXX",
	     err_tmpl[] = "/tmp/crashcap-ctl-flags-XXXXXX";
	int out = mkstemp(out_tmpl), err = mkstemp(err_tmpl);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	int argc = 0;

	assert_true(out >= 0 && err >= 0 && saved_out >= 0 && saved_err >= 0);
	unlink(out_tmpl);
	unlink(err_tmpl);
	while (argv[argc])
		argc++;

	p->first = -1;
	fflush(stdout);
	assert_int_equal(dup2(out, STDOUT_FILENO), STDOUT_FILENO);
	assert_int_equal(dup2(err, STDERR_FILENO), STDERR_FILENO);
	p->r = ctl_parse_flags(argc, argv, HELP, flags, max_args, want_first ? &p->first : NULL);
	fflush(stdout);
	assert_int_equal(dup2(saved_out, STDOUT_FILENO), STDOUT_FILENO);
	assert_int_equal(dup2(saved_err, STDERR_FILENO), STDERR_FILENO);
	close(saved_out);
	close(saved_err);

	read_all(out, p->out, sizeof(p->out));
	read_all(err, p->err, sizeof(p->err));
	close(out);
	close(err);
}

static void test_nothing_given(void **state)
{
	bool json = true;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	char *argv[] = { "status", NULL };
	struct parsed p;

	parse(argv, flags, 0, true, &p);
	assert_int_equal(p.r, 1);
	assert_false(json); /* reset: the caller need not */
	assert_int_equal(p.first, 1);
	assert_string_equal(p.out, "");
	assert_string_equal(p.err, "");
}

static void test_long_short_and_abbreviated(void **state)
{
	bool json, yes;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, { "yes-really", 0, &yes }, {} };
	char *a1[] = { "cmd", "--json", NULL };
	char *a2[] = { "cmd", "-j", NULL };
	char *a3[] = { "cmd", "--yes-really", NULL };
	char *a4[] = { "cmd", "--js", "--yes", NULL };
	struct parsed p;

	parse(a1, flags, 0, false, &p);
	assert_int_equal(p.r, 1);
	assert_true(json);
	assert_false(yes);

	parse(a2, flags, 0, false, &p);
	assert_int_equal(p.r, 1);
	assert_true(json);
	assert_false(yes);

	parse(a3, flags, 0, false, &p);
	assert_int_equal(p.r, 1);
	assert_false(json);
	assert_true(yes);

	parse(a4, flags, 0, true, &p);
	assert_int_equal(p.r, 1);
	assert_true(json);
	assert_true(yes);
	assert_int_equal(p.first, 3);
	assert_string_equal(p.err, "");
}

static void test_help(void **state)
{
	bool json;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	char *a1[] = { "cmd", "--help", NULL };
	char *a2[] = { "cmd", "-jh", "extra", "more", NULL };
	struct parsed p;

	parse(a1, flags, 0, true, &p);
	assert_int_equal(p.r, 0);
	assert_string_equal(p.out, HELP);
	assert_string_equal(p.err, "");
	assert_int_equal(p.first, -1);

	/* --help wins over positional arguments that would be refused. */
	parse(a2, flags, 0, true, &p);
	assert_int_equal(p.r, 0);
	assert_string_equal(p.out, HELP);
	assert_string_equal(p.err, "");
}

static void test_unknown_option(void **state)
{
	bool json;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	char *a1[] = { "status", "--bogus", "--help", NULL };
	char *a2[] = { "status", "-x", NULL };
	char *a3[] = { "status", "--json=1", NULL };
	struct parsed p;

	parse(a1, flags, 0, true, &p);
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.out, "");
	assert_string_equal(p.err, "status: unrecognized option '--bogus'\n");
	assert_int_equal(p.first, -1);

	parse(a2, flags, 0, false, &p);
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.err, "status: invalid option -- 'x'\n");

	parse(a3, flags, 0, false, &p);
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.err, "status: option '--json' doesn't allow an argument\n");
}

static void test_positionals(void **state)
{
	bool dry_run;
	const struct ctl_flag flags[] = { { "dry-run", 'n', &dry_run }, {} };
	char *a1[] = { "reserve", "192M", "--dry-run", NULL };
	char *a2[] = { "reserve", "--", "-n", NULL };
	char *a3[] = { "reserve", "192M", "-n", "256M", "512M", NULL };
	char *a4[] = { "unreserve", "now", NULL };
	struct parsed p;

	/* getopt moves the positional argument after the options. */
	parse(a1, flags, 1, true, &p);
	assert_int_equal(p.r, 1);
	assert_true(dry_run);
	assert_int_equal(p.first, 2);
	assert_string_equal(a1[p.first], "192M");

	parse(a2, flags, 1, true, &p);
	assert_int_equal(p.r, 1);
	assert_false(dry_run);
	assert_int_equal(p.first, 2);
	assert_string_equal(a2[p.first], "-n");

	/* The first argument beyond max_args is the one named. */
	parse(a3, flags, 1, true, &p);
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.err, "crashcapctl: reserve: unexpected argument '256M'\n");
	assert_int_equal(p.first, -1);

	parse(a4, flags, 0, true, &p);
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.out, "");
	assert_string_equal(p.err, "crashcapctl: unreserve: unexpected argument 'now'\n");
}

static void test_too_many_flags(void **state)
{
	bool v[CTL_FLAGS_MAX + 1];
	struct ctl_flag flags[CTL_FLAGS_MAX + 2] = {};
	char names[CTL_FLAGS_MAX + 1][8];
	char *argv[] = { "cmd", "--f0", NULL };
	struct parsed p;

	for (size_t i = 0; i < CTL_FLAGS_MAX + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		flags[i] = (struct ctl_flag){ names[i], 0, &v[i] };
	}
	parse(argv, flags, 0, false, &p);
	assert_int_equal(p.r, -E2BIG);
	assert_string_equal(p.err,
			    "crashcapctl: cmd: more than 8 flags to parse (a crashcapctl bug)\n");

	/* CTL_FLAGS_MAX long-only flags, the last one given: its value is found. */
	flags[CTL_FLAGS_MAX] = (struct ctl_flag){};
	argv[1] = "--f7";
	parse(argv, flags, 0, false, &p);
	assert_int_equal(p.r, 1);
	for (size_t i = 0; i < CTL_FLAGS_MAX; i++)
		assert_int_equal(v[i], i == CTL_FLAGS_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_given),
		cmocka_unit_test(test_long_short_and_abbreviated),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_too_many_flags),
	};

	log_setup("crashcapctl", LOG_TARGET_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
