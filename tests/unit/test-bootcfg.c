// SPDX-License-Identifier: GPL-2.0-or-later
#include "loader/bootcfg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static char *grub_line(const char *text)
{
	_cleanup_(grub_cmdline_done) struct grub_cmdline g = {};
	char *line = NULL;

	assert_int_equal(grub_cmdline_eval(text, &g), 0);
	assert_int_equal(grub_cmdline_join(&g, &line), 0);
	return line;
}

static void grub_is(const char *text, const char *want)
{
	_cleanup_free_ char *line = grub_line(text);

	assert_string_equal(line, want);
}

static void test_grub_quoting(void **state)
{
	grub_is("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX=\"\"\n", " quiet");
	grub_is("GRUB_CMDLINE_LINUX='console=ttyS0 $NOT_EXPANDED'\n",
		"console=ttyS0 $NOT_EXPANDED ");
	grub_is("GRUB_CMDLINE_LINUX=a\\ b\\\"c\n", "a b\"c ");
	grub_is("GRUB_CMDLINE_LINUX=\"a \\\"b\\\" \\$c \\d\"\n", "a \"b\" $c \\d ");
	grub_is("GRUB_CMDLINE_LINUX=\"x\"'y'z # a comment\n", "xyz ");
	grub_is("export GRUB_CMDLINE_LINUX=\"exported\"\n", "exported ");
	/* A quoted value over two lines, and an empty assignment. */
	grub_is("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n splash\"\nGRUB_CMDLINE_LINUX=\n",
		" quiet\n splash");
	/* Commented out, and other variables, do nothing. */
	grub_is("#GRUB_CMDLINE_LINUX=\"no\"\nGRUB_TIMEOUT=5\n"
		"GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n",
		" ");
}

static void test_grub_expansion(void **state)
{
	grub_is("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
		"GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=192M\"\n",
		" quiet crashkernel=192M");
	grub_is("GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} b\"\n"
		"GRUB_CMDLINE_LINUX=${GRUB_CMDLINE_LINUX:-x}c\n",
		"a bc ");
	grub_is("GRUB_CMDLINE_LINUX=\"$UNKNOWN x $ y\"\n", " x $ y ");
	grub_is("GRUB_CMDLINE_LINUX=\"a\"; GRUB_CMDLINE_LINUX_DEFAULT=\"b\"\n", "a b");
}

static char *diff_of(const char *path, const char *old_text, const char *new_text)
{
	struct bootcfg_change c = { (char *)path, (char *)old_text, (char *)new_text };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	assert_int_equal(bootcfg_diff(f, &c), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void diff_is(const char *old_text, const char *new_text, const char *want)
{
	_cleanup_free_ char *d = diff_of("/etc/x", old_text, new_text);

	assert_string_equal(d, want);
}

static void test_diff(void **state)
{
	diff_is("same\n", "same\n", "");
	diff_is(NULL, "a\nb\n", "--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1,2 @@\n+a\n+b\n");
	diff_is("a\n", NULL, "--- a/etc/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n");
	diff_is("1\n2\n3\n4\n5\nold\n7\n8\n9\n10\n", "1\n2\n3\n4\n5\nnew\n7\n8\n9\n10\n",
		"--- a/etc/x\n+++ b/etc/x\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-old\n+new\n 7\n 8\n 9\n");
	/* An added line at the end, and the missing newline said as diff says it. */
	diff_is("a\nb", "a\nb\nc\n",
		"--- a/etc/x\n+++ b/etc/x\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n"
		"+b\n+c\n");
	diff_is("x y", "x y z",
		"--- a/etc/x\n+++ b/etc/x\n@@ -1 +1 @@\n-x y\n\\ No newline at end of file\n"
		"+x y z\n\\ No newline at end of file\n");
}

static void test_run_never_on_fixture(void **state)
{
	static const char *const argv[] = { "/bin/false", "--flag", NULL };
	_cleanup_free_ char *error = NULL, *root = NULL, *log = NULL, *path = NULL;
	char tmpl[] = "/tmp/crashcap-bootcfg-XXXXXX";

	root = strdup(mkdtemp(tmpl));
	assert_non_null(root);
	/* A fixture root: recorded (1), not run (/bin/false would fail). */
	assert_int_equal(bootcfg_run(root, argv, &error), 1);
	assert_int_equal(bootcfg_run(root, argv, &error), 1);
	assert_true(asprintf(&path, "%s%s", root, BOOTCFG_FAKE_COMMANDS) > 0);
	assert_int_equal(read_full_file(path, 4096, &log, NULL), 0);
	assert_string_equal(log, "/bin/false --flag\n/bin/false --flag\n");
	assert_null(error);

	/* The running system with CRASHCAP_FAKE_SYSCALLS=1: refused, not run. */
	setenv("CRASHCAP_FAKE_SYSCALLS", "1", 1);
	assert_int_equal(bootcfg_run("/", argv, &error), -EPERM);
	assert_string_equal(error, "CRASHCAP_FAKE_SYSCALLS=1 is set: /bin/false is not run on the "
				   "running system; pass --root DIR with a fixture tree");
	assert_int_equal(bootcfg_run(NULL, argv, &error), -EPERM);
	unsetenv("CRASHCAP_FAKE_SYSCALLS");

	unlink(path);
	free(path);
	path = NULL;
	assert_true(asprintf(&path, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(path), 0);
}

static void test_plan_and_configured(void **state)
{
	_cleanup_(bootcfg_configured_done) struct bootcfg_configured c = {};
	_cleanup_(bootcfg_plan_done) struct bootcfg_plan p = {};
	_cleanup_free_ char *error = NULL;
	const char *root = "tests/fixtures/reserve/kdump-tools";
	enum bootcfg_kind k;

	assert_int_equal(bootcfg_detect(root, &k), 0);
	assert_int_equal(k, BOOTCFG_GRUB);
	assert_int_equal(bootcfg_detect("tests/fixtures/reserve/systemd-boot", &k), 0);
	assert_int_equal(k, BOOTCFG_KERNEL_INSTALL);
	assert_int_equal(bootcfg_detect("tests/fixtures/reserve/none", &k), 0);
	assert_int_equal(k, BOOTCFG_NONE);

	/* Planned only: the fixture is read, never written. */
	assert_int_equal(bootcfg_plan(root, "192M", &p, &error), 0);
	assert_int_equal(p.kind, BOOTCFG_GRUB);
	assert_int_equal(p.n_changes, 1);
	assert_string_equal(p.changes[0].path, BOOTCFG_GRUB_DROPIN);
	assert_null(p.changes[0].old_text);
	assert_true(p.update_grub);
	assert_null(p.previous);
	assert_string_equal(p.overridden_by, "/etc/default/grub.d/kdump-tools.cfg");
	assert_int_equal(p.n_notes, 1);

	assert_int_equal(bootcfg_read_configured(root, &c), 0);
	assert_int_equal(c.kind, BOOTCFG_GRUB);
	assert_string_equal(c.cmdline, " quiet crashkernel=384M-:128M");
	assert_string_equal(c.source, "/etc/default/grub.d/kdump-tools.cfg");
	assert_false(c.ours);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grub_quoting),
		cmocka_unit_test(test_grub_expansion),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_run_never_on_fixture),
		cmocka_unit_test(test_plan_and_configured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
