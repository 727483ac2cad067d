// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>

#include "collector/init-steps.h"
#include "kexec_syscall.h"
#include "fixture-tree.h"
#include "vmcore-synth.h"

/* --- the fake seam: nothing here can reach a real syscall ----------------- */

static struct {
	char paths[8][256];
	int flags[8];
	const char *params[8];
	size_t n;
	int reboot_cmd;
	int reboot_calls;
} calls;

static int fake_finit_module(int fd, const char *params, int flags)
{
	char link[64];
	ssize_t n;
	size_t i = calls.n++;

	assert_true(i < ELEMENTSOF(calls.paths));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, calls.paths[i], sizeof(calls.paths[i]) - 1);
	assert_true(n > 0);
	calls.paths[i][n] = 0;
	calls.flags[i] = flags;
	calls.params[i] = params;
	/* Loaded already, and a module the kernel rejects. */
	if (strstr(calls.paths[i], "/already.ko"))
		return -EEXIST;
	if (strstr(calls.paths[i], "/bad.ko"))
		return -ENOEXEC;
	return 0;
}

static int fake_reboot(int cmd)
{
	calls.reboot_cmd = cmd;
	calls.reboot_calls++;
	return -EPERM;
}

static const struct kexec_syscall_ops fake_ops = {
	.finit_module = fake_finit_module,
	.reboot = fake_reboot,
};

struct env {
	char dir[64];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	strcpy(e->dir, "/tmp/test-init-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	memset(&calls, 0, sizeof(calls));
	kexec_syscall_set_ops(&fake_ops);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fixture_rm_tree(e->dir);
	free(e);
	return 0;
}

static bool exists(const char *dir, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static char *slurp(const char *dir, const char *rel)
{
	char p[512];
	char *data = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(read_full_file(p, 1 << 20, &data, NULL), 0);
	return data;
}

/* --- modules --------------------------------------------------------------- */

static void test_module_flags(void **state)
{
	assert_int_equal(init_module_flags("/lib/modules/6.1/kernel/fs/ext4/ext4.ko"), 0);
	assert_int_equal(init_module_flags("/lib/modules/6.12/ext4.ko.xz"), 4);
	assert_int_equal(init_module_flags("/lib/modules/6.12/ext4.ko.zst"), 4);
	assert_int_equal(init_module_flags("/lib/modules/6.12/ext4.ko.gz"), 4);
	assert_int_equal(init_module_flags("/x/ext4.xz.ko"), 0);
	assert_int_equal(init_module_flags(".ko.xz"), 0);
	assert_int_equal(MODULE_INIT_COMPRESSED_FILE, 4);
}

static void test_load_modules_in_order(void **state)
{
	struct env *e = *state;
	unsigned loaded = 99, failed = 99;
	char want[256];

	fixture_put(e->dir, "/lib/modules/r/a.ko", "A");
	fixture_put(e->dir, "/lib/modules/r/b.ko.xz", "B");
	fixture_put(e->dir, "/lib/modules/r/already.ko", "C");
	fixture_put(e->dir, "/lib/modules/r/bad.ko", "D");
	fixture_put(e->dir, "/lib/modules/r/c.ko.zst", "E");
	fixture_put(e->dir, "/etc/crashcap/modules",
		    "/lib/modules/r/a.ko\n"
		    "\n# a comment\n"
		    "/lib/modules/r/b.ko.xz\n"
		    "/lib/modules/r/already.ko\n"
		    "/lib/modules/r/missing.ko\n"
		    "relative/x.ko\n"
		    "/lib/modules/r/bad.ko\n"
		    "  /lib/modules/r/c.ko.zst  \n");
	assert_int_equal(init_load_modules(e->dir, "/etc/crashcap/modules", &loaded, &failed), 0);
	/* a, b, already (EEXIST is fine), c; missing, relative and bad failed. */
	assert_int_equal(loaded, 4);
	assert_int_equal(failed, 3);
	assert_int_equal(calls.n, 5);
	{
		static const char *const names[] = { "a.ko", "b.ko.xz", "already.ko", "bad.ko",
						     "c.ko.zst" };
		static const int flags[] = { 0, 4, 0, 0, 4 };

		for (size_t i = 0; i < calls.n; i++) {
			snprintf(want, sizeof(want), "%s/lib/modules/r/%s", e->dir, names[i]);
			assert_string_equal(calls.paths[i], want);
			assert_int_equal(calls.flags[i], flags[i]);
			assert_string_equal(calls.params[i], "");
		}
	}
}

static void test_load_modules_without_list(void **state)
{
	struct env *e = *state;
	unsigned loaded = 99, failed = 99;

	assert_int_equal(init_load_modules(e->dir, "/etc/crashcap/modules", &loaded, &failed), 0);
	assert_int_equal(loaded, 0);
	assert_int_equal(failed, 0);
	assert_int_equal(calls.n, 0);
	/* A list that is a directory cannot be read. */
	fixture_put(e->dir, "/etc/crashcap/modules/x", "");
	assert_int_equal(init_load_modules(e->dir, "/etc/crashcap/modules", &loaded, &failed),
			 -EISDIR);
}

/* --- naming and creating the dump's directory ----------------------------- */

static void test_dump_dir_name(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	assert_int_equal(init_dump_dir_name(1700000123, "6.1.0-56-amd64", &a), 0);
	assert_string_equal(a, "2023-11-14-22:15:23-6.1.0-56-amd64");
	assert_int_equal(init_dump_dir_name(0, NULL, &b), 0);
	assert_string_equal(b, "1970-01-01-00:00:00-unknown");
	assert_int_equal(init_dump_dir_name(0, "", &c), 0);
	assert_string_equal(c, "1970-01-01-00:00:00-unknown");
	assert_int_equal(init_dump_dir_name(86399, "../../etc\n", &d), 0);
	assert_string_equal(d, "1970-01-01-23:59:59-.._.._etc_");
}

static void test_make_output_dir(void **state)
{
	struct env *e = *state;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *want = NULL;
	struct stat st;

	assert_int_equal(init_make_output_dir(e->dir, "/", "N", &a), 0);
	assert_int_equal(asprintf(&want, "%s/crashcap/N", e->dir) > 0, true);
	assert_string_equal(a, want);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Taken already: the next free name. */
	assert_int_equal(init_make_output_dir(e->dir, "/", "N", &b), 0);
	free(want);
	assert_int_equal(asprintf(&want, "%s/crashcap/N-2", e->dir) > 0, true);
	assert_string_equal(b, want);
	/* Parents made as needed; a trailing slash adds nothing. */
	assert_int_equal(init_make_output_dir(e->dir, "/var/crash/", "N", &c), 0);
	free(want);
	assert_int_equal(asprintf(&want, "%s/var/crash/crashcap/N", e->dir) > 0, true);
	assert_string_equal(c, want);
	assert_int_equal(init_make_output_dir(e->dir, "relative", "N", &d), -EINVAL);
	assert_int_equal(init_make_output_dir(e->dir, "/", "a/b", &d), -EINVAL);
	/* The target itself is never created: it is a mount point. */
	free(want);
	assert_int_equal(asprintf(&want, "%s/not-mounted", e->dir) > 0, true);
	assert_int_equal(init_make_output_dir(want, "/", "N", &d), -ENOENT);
	assert_false(exists(e->dir, "not-mounted"));
	assert_null(d);
}

/* --- the capture, on a synthetic vmcore --------------------------------------- */

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-test\n"
				      "PAGESIZE=4096\n"
				      "SYMBOL(init_uts_ns)=ffffffff80101000\n"
				      "OFFSET(uts_namespace.name)=0\n"
				      "NUMBER(phys_base)=0\n"
				      "CRASHTIME=1700000123\n";

static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	uint8_t *p = buf;

	synth_pattern_fill(paddr, buf, len);
	/* Zero pages from 1 MiB + 16 KiB on, and init_uts_ns at 0x101000. */
	for (size_t i = 0; i < len; i++)
		if (paddr + i >= 0x104000 && paddr + i < 0x108000)
			p[i] = 0;
	if (paddr <= 0x101000 && paddr + len >= 0x102000) {
		char *u = (char *)p + (0x101000 - paddr);

		memset(u, 0, 4096);
		strcpy(u, "Linux");
		strcpy(u + 65, "crashhost");
		strcpy(u + 130, "6.1.0-test");
	}
}

static const struct synth_segment segs[] = {
	{ .phys_start = 0x100000, .mem_size = 32 * 4096, .fill = fill },
	{ .phys_start = 0x400000, .mem_size = 8 * 4096 },
};

static struct settings test_settings(const char *path)
{
	struct settings s;

	settings_init(&s);
	free(s.path);
	s.path = strdup(path);
	s.dump_level = 1;
	s.compression = COMPRESSION_NONE;
	s.threads = 1;
	return s;
}

static void assert_contains(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("'%s' not in:\n%s", what, text);
}

static void test_capture_complete(void **state)
{
	struct env *e = *state;
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo_text, .nr_cpus = 1, .segments = segs, .n_segments = 2
	};
	_cleanup_(settings_done) struct settings s = test_settings("/var/crash");
	_cleanup_(init_capture_done) struct init_capture c = {};
	_cleanup_free_ char *vmcore = NULL, *summary = NULL, *head = NULL, *want = NULL;
	char target[128];

	snprintf(target, sizeof(target), "%s/target", e->dir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(synth_vmcore_tmpfile(&spec, &vmcore), 0);
	assert_int_equal(init_capture_dump(&s, vmcore, target, init_now(), &c), 0);
	unlink(vmcore);

	assert_int_equal(asprintf(&want, "%s/var/crash/crashcap/2023-11-14-22:15:23-6.1.0-test",
				  target) > 0,
			 true);
	assert_string_equal(c.dir, want);
	assert_int_equal(c.result, SUMMARY_OK);
	assert_string_equal(c.error, "");
	assert_true(c.output_bytes > 0);
	assert_true(exists(c.dir, "vmcore"));
	assert_false(exists(c.dir, "vmcore.incomplete"));
	head = slurp(c.dir, "vmcore");
	assert_memory_equal(head, "KDUMP   ", 8);

	summary = slurp(c.dir, "summary.json");
	assert_contains(summary, "\"result\": \"ok\"");
	assert_contains(summary, "\"error\": null");
	assert_contains(summary, "\"kernel_release\": \"6.1.0-test\"");
	assert_contains(summary, "\"hostname\": \"crashhost\"");
	assert_contains(summary, "\"crash_time\": \"2023-11-14T22:15:23Z\"");
	assert_contains(summary, "\"crash_time_source\": \"vmcoreinfo\"");
	assert_contains(summary, "\"dump_level_asked\": 1");
	assert_contains(summary, "\"dump_level_applied\": 1");
	assert_contains(summary, "\"compression\": \"none\"");
	assert_contains(summary, "\"dump_file\": \"vmcore\"");
	assert_contains(summary, "\"incomplete\": false");
	assert_contains(summary, "\"ram_bytes\": 163840");
	assert_contains(summary, "\"pages_total\": 40");
	assert_contains(summary, "\"pages_zero\": 4");
	assert_contains(summary, "\"pages_written\": 36");
	/* No printk symbols in this vmcore: no log, no panic line. */
	assert_contains(summary, "\"panic_message\": null");
	assert_false(exists(c.dir, "dmesg.txt"));
}

static void test_capture_truncated_is_incomplete(void **state)
{
	struct env *e = *state;
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo_text, .nr_cpus = 1, .segments = segs, .n_segments = 2
	};
	_cleanup_(settings_done) struct settings s = test_settings("/");
	_cleanup_(init_capture_done) struct init_capture c = {};
	_cleanup_free_ char *vmcore = NULL, *summary = NULL;

	/* Cut in the middle of the second segment: its last pages are unreadable. */
	spec.truncate_at = synth_segment_file_offset(&spec, 1) + 3 * 4096;
	assert_int_equal(synth_vmcore_tmpfile(&spec, &vmcore), 0);
	assert_int_equal(init_capture_dump(&s, vmcore, e->dir, init_now(), &c), 0);
	unlink(vmcore);
	assert_int_equal(c.result, SUMMARY_INCOMPLETE);
	assert_true(exists(c.dir, "vmcore.incomplete"));
	assert_false(exists(c.dir, "vmcore"));
	assert_string_equal(c.error, "the vmcore is incomplete: 5 pages could not be read");
	summary = slurp(c.dir, "summary.json");
	assert_contains(summary, "\"result\": \"incomplete\"");
	assert_contains(summary, "\"incomplete\": true");
	assert_contains(summary, "\"dump_file\": \"vmcore.incomplete\"");
	assert_contains(summary, "\"pages_unreadable\": 5");
	assert_contains(summary,
			"\"error\": \"the vmcore is incomplete: 5 pages could not be read\"");
}

static void test_capture_without_vmcore(void **state)
{
	struct env *e = *state;
	_cleanup_(settings_done) struct settings s = test_settings("/");
	_cleanup_(init_capture_done) struct init_capture c = {};
	_cleanup_free_ char *summary = NULL;

	assert_int_equal(init_capture_dump(&s, "/nonexistent/vmcore", e->dir, init_now(), &c), 0);
	assert_int_equal(c.result, SUMMARY_FAILED);
	assert_string_equal(c.error,
			    "No vmcore to read at /nonexistent/vmcore: No such file or directory");
	/* The clock names the directory, and the release is unknown. */
	assert_non_null(strstr(c.dir, "-unknown"));
	summary = slurp(c.dir, "summary.json");
	assert_contains(summary, "\"result\": \"failed\"");
	assert_contains(summary, "\"crash_time_source\": \"clock\"");
	assert_contains(summary, "\"dump_level_applied\": null");
	assert_contains(summary, "\"dump_file\": null");
	assert_false(exists(c.dir, "vmcore"));
	assert_false(exists(c.dir, "vmcore.incomplete"));
}

static void test_capture_nowhere_to_write(void **state)
{
	struct env *e = *state;
	_cleanup_(settings_done) struct settings s = test_settings("/");
	struct init_capture c = { .dir = NULL };
	char target[128];

	snprintf(target, sizeof(target), "%s/not-mounted", e->dir);
	assert_int_equal(init_capture_dump(&s, "/nonexistent/vmcore", target, 0, &c), -ENOENT);
	assert_null(c.dir);
	assert_false(exists(e->dir, "not-mounted"));
}

/* --- the final action ---------------------------------------------------------- */

static void test_final_action(void **state)
{
	/* The RB_ values do not fit an int's positive range: compare as unsigned. */
	assert_int_equal((unsigned)init_reboot_command(ACTION_REBOOT), RB_AUTOBOOT);
	assert_int_equal((unsigned)init_reboot_command(ACTION_POWEROFF), RB_POWER_OFF);
	assert_int_equal((unsigned)init_reboot_command(ACTION_HALT), RB_HALT_SYSTEM);
	/* The fake fails, as a real reboot never returns: the error comes back. */
	assert_int_equal(init_final_action(ACTION_POWEROFF), -EPERM);
	assert_int_equal((unsigned)calls.reboot_cmd, RB_POWER_OFF);
	assert_int_equal(init_final_action(ACTION_HALT), -EPERM);
	assert_int_equal((unsigned)calls.reboot_cmd, RB_HALT_SYSTEM);
	assert_int_equal(init_final_action(ACTION_REBOOT), -EPERM);
	assert_int_equal((unsigned)calls.reboot_cmd, RB_AUTOBOOT);
	assert_int_equal(calls.reboot_calls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_module_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_modules_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_modules_without_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_dir_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_make_output_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_truncated_is_incomplete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_capture_without_vmcore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_nowhere_to_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_action, setup, teardown),
	};

	/* Fakes first: no test may reach the real finit_module or reboot. */
	kexec_syscall_set_ops(&fake_ops);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
