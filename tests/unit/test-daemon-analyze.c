// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapd's automatic analysis.json, driven through a real sd-event loop
 * on a dumps folder in a temporary directory: a dump gets its report; a
 * dump that is no dump, one whose analysis hangs (its vmcore held by a
 * write lease, so the child's open blocks) and one analyzed under a memory
 * limit too small get a small analysis.json with the error, once, never
 * again; a dump that appears later, a dumps folder made later, and a dump
 * folder still being written (no summary.json) are analyzed when ready;
 * in a crash kernel nothing is.
 */
#include "loader/daemon-analyze.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <time.h>

#include "loader/jsonflat.h"
#include "vmcore-synth.h"

#define NAME1 "2026-01-02-03:04:05-6.1.0-synth"
#define NAME2 "2026-01-02-03:04:06-6.1.0-synth"

static char *tmpdir;
static char *dumps; /* tmpdir/crashcap */

static const struct daemon_analyze_limits fast = {
	.timeout_usec = 20 * USEC_PER_SEC,
	.memory_bytes = 512ULL << 20,
	.settle_usec = 300 * 1000,
	.quiet_usec = 20 * 1000,
};

static int setup(void **state)
{
	char t[] = "/tmp/crashcap-danalyze-XXXXXX";

	assert_non_null(mkdtemp(t));
	tmpdir = strdup(t);
	assert_true(asprintf(&dumps, "%s/crashcap", tmpdir) > 0);
	return 0;
}

static int teardown(void **state)
{
	_cleanup_free_ char *cmd = NULL;

	assert_true(asprintf(&cmd, "rm -rf '%s'", tmpdir) > 0);
	assert_int_equal(system(cmd), 0);
	free(tmpdir);
	free(dumps);
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *p = NULL;
	FILE *f;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A dump folder; vmcore NULL: a synthetic ELF vmcore, else that text. */
static char *make_dump(const char *name, const char *vmcore, bool summary)
{
	static const struct synth_segment seg = { .phys_start = 0x100000, .mem_size = 0x4000 };
	const struct synth_vmcore spec = {
		.vmcoreinfo = "OSRELEASE=6.1.0-synth\nPAGESIZE=4096\nCRASHTIME=1767323045\n",
		.nr_cpus = 1,
		.segments = &seg,
		.n_segments = 1,
	};
	char *dir, *p = NULL;

	assert_true(asprintf(&dir, "%s/%s", dumps, name) > 0);
	assert_int_equal(mkdir_p(dir, 0755), 0);
	assert_true(asprintf(&p, "%s/vmcore", dir) > 0);
	if (vmcore)
		write_file(dir, "vmcore", vmcore);
	else
		assert_int_equal(synth_vmcore_write(p, &spec), 0);
	free(p);
	if (summary)
		write_file(dir, "summary.json",
			   "{\"result\": \"ok\", \"kernel_release\": "
			   "\"6.1.0-synth\"}\n");
	return dir;
}

/* Runs the loop until cond (or the analyzer is idle when cond is NULL), 15 s at most. */
static void run_until(sd_event *e, struct daemon_analyzer *a, bool (*cond)(void *), void *arg)
{
	uint64_t end = now_usec() + 15 * USEC_PER_SEC;

	while (now_usec() < end) {
		assert_true(sd_event_run(e, 50 * 1000) >= 0);
		if (cond ? cond(arg) : daemon_analyzer_idle(a))
			return;
	}
	fail_msg("the analyzer did not finish in 15 s");
}

static bool exists(void *path)
{
	return access(path, F_OK) == 0;
}

static void read_json(const char *dir, struct jsonflat *ret)
{
	_cleanup_free_ char *p = NULL, *text = NULL;
	struct stat st;

	assert_true(asprintf(&p, "%s/analysis.json", dir) > 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(read_full_file(p, 1 << 20, &text, NULL), 0);
	assert_int_equal(jsonflat_parse(text, ret), 0);
}

static void counts_equal(struct daemon_analyzer *a, unsigned written, unsigned failed)
{
	unsigned w, f;

	daemon_analyzer_counts(a, &w, &f);
	assert_int_equal(w, written);
	assert_int_equal(f, failed);
}

static void test_report_and_errors(void **state)
{
	_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;
	_cleanup_free_ char *good = make_dump(NAME1, NULL, true);
	_cleanup_free_ char *bad = make_dump(NAME2, "not a dump\n", true);
	_cleanup_(jsonflat_done) struct jsonflat j1 = {}, j2 = {}, sys = {};
	_cleanup_free_ char *json2 = NULL;
	sd_event *e = NULL;
	struct stat st1, st2;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(daemon_analyzer_new(e, &fast, &a), 0);
	assert_int_equal(daemon_analyzer_watch(a, dumps), 0);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 1, 1);

	read_json(good, &j1);
	/* The report of a dump without kallsyms: the gap named, the system section there. */
	assert_non_null(jsonflat_string(&j1, "symbols_error"));
	assert_null(jsonflat_string(&j1, "error"));
	assert_non_null(jsonflat_nested(&j1, "system"));
	assert_int_equal(jsonflat_parse(jsonflat_nested(&j1, "system"), &sys), 0);
	assert_string_equal(jsonflat_string(&sys, "release"), "6.1.0-synth");
	assert_null(jsonflat_nested(&j1, "version"));
	assert_null(jsonflat_nested(&j1, "missing"));
	read_json(bad, &j2);
	assert_string_equal(jsonflat_string(&j2, "dump"), NAME2);
	assert_string_equal(jsonflat_string(&j2, "error"), "analysis failed: Exec format error");

	/* Touching the folders wakes the watch: nothing is analyzed twice. */
	assert_true(asprintf(&json2, "%s/analysis.json", bad) > 0);
	assert_int_equal(stat(json2, &st1), 0);
	assert_int_equal(unlink(json2), 0);
	write_file(good, "dmesg.txt", "x\n");
	write_file(dumps, "notes.txt", "x\n");
	usleep(100 * 1000);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 1, 1);
	assert_int_equal(stat(json2, &st2), -1);

	/* A new dump while it runs: analyzed. */
	free(make_dump("2026-01-02-03:04:07-6.1.0-synth", NULL, true));
	usleep(100 * 1000);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 2, 1);

	a = daemon_analyzer_free(a);
	sd_event_unref(e);
}

/* The lease holder only learns of the open through SIGIO: ignored, so the open waits. */
static void test_time_limit(void **state)
{
	struct daemon_analyze_limits l = fast;
	_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;
	_cleanup_free_ char *dir = make_dump(NAME1, NULL, true), *vmcore = NULL;
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_close_ int fd = -1;
	sd_event *e = NULL;
	uint64_t t0;

	signal(SIGIO, SIG_IGN);
	assert_true(asprintf(&vmcore, "%s/vmcore", dir) > 0);
	fd = open(vmcore, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		skip();

	l.timeout_usec = 300 * 1000;
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(daemon_analyzer_new(e, &l, &a), 0);
	t0 = now_usec();
	assert_int_equal(daemon_analyzer_watch(a, dumps), 0);
	run_until(e, a, NULL, NULL);
	assert_true(now_usec() - t0 >= 300 * 1000);
	assert_true(now_usec() - t0 < 10 * USEC_PER_SEC);
	counts_equal(a, 0, 1);
	read_json(dir, &j);
	assert_string_equal(jsonflat_string(&j, "error"),
			    "analysis stopped after 0.3 s (time limit)");
	a = daemon_analyzer_free(a);
	sd_event_unref(e);
}

#if DAEMON_ANALYZE_MEMORY_LIMIT
static void test_memory_limit(void **state)
{
	struct daemon_analyze_limits l = fast;
	_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;
	_cleanup_free_ char *dir = NULL, *vmcore = NULL;
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_free_ void *note = NULL, *desc = NULL;
	static const struct synth_segment seg = { .phys_start = 0x100000, .mem_size = 0x4000 };
	struct synth_vmcore spec = {
		.vmcoreinfo = "OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n",
		.nr_cpus = 1,
		.segments = &seg,
		.n_segments = 1,
	};
	sd_event *e = NULL;

	/* 4 MiB of notes, which the reader holds in memory: more than the limit lets it have. */
	desc = calloc(1, 4 << 20);
	assert_non_null(desc);
	assert_int_equal(synth_note("BIG", 0x99, desc, 4 << 20, &note, &spec.extra_notes_size), 0);
	spec.extra_notes = note;
	dir = make_dump(NAME1, "", true);
	assert_true(asprintf(&vmcore, "%s/vmcore", dir) > 0);
	assert_int_equal(synth_vmcore_write(vmcore, &spec), 0);
	l.memory_bytes = 1 << 20;
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(daemon_analyzer_new(e, &l, &a), 0);
	assert_int_equal(daemon_analyzer_watch(a, dumps), 0);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 0, 1);
	read_json(dir, &j);
	assert_string_equal(jsonflat_string(&j, "error"),
			    "analysis failed: Cannot allocate memory");
	a = daemon_analyzer_free(a);
	sd_event_unref(e);
}
#endif

static void test_folder_made_later_and_unfinished(void **state)
{
	_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;
	_cleanup_free_ char *dir = NULL, *json = NULL;
	sd_event *e = NULL;
	uint64_t t0;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(daemon_analyzer_new(e, &fast, &a), 0);
	assert_int_equal(daemon_analyzer_watch(a, dumps), -ENOENT);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 0, 0);

	/* The collector makes the folder and writes the vmcore; summary.json comes last. */
	dir = make_dump(NAME1, NULL, false);
	assert_true(asprintf(&json, "%s/analysis.json", dir) > 0);
	t0 = now_usec();
	run_until(e, a, exists, json);
	/* Unfinished and fresh: not before it has been still for settle_usec. */
	assert_true(now_usec() - t0 >= 150 * 1000);
	run_until(e, a, NULL, NULL);
	counts_equal(a, 1, 0);
	a = daemon_analyzer_free(a);
	sd_event_unref(e);
}

static void test_not_in_crash_kernel(void **state)
{
	_cleanup_free_ char *vmcore = NULL;
	struct settings s = {};
	sd_event *e = NULL;

	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(mkdir_p(dumps, 0755), 0);
	s.path = "/";
	/* root/ + path / + crashcap = our dumps folder. */
	assert_true(asprintf(&vmcore, "%s/proc/vmcore", tmpdir) > 0);
	assert_int_equal(mkdir_parents(vmcore, 0755), 0);
	write_file(tmpdir, "proc/vmcore", "");
	assert_null(daemon_analyze_start(e, tmpdir, &s));
	assert_int_equal(unlink(vmcore), 0);
	{
		_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;

		a = daemon_analyze_start(e, tmpdir, &s);
		assert_non_null(a);
	}
	sd_event_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_limit, setup, teardown),
#if DAEMON_ANALYZE_MEMORY_LIMIT /* none under ASan: see daemon-analyze.h */
		cmocka_unit_test_setup_teardown(test_memory_limit, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_folder_made_later_and_unfinished, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_in_crash_kernel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
