// SPDX-License-Identifier: GPL-2.0-or-later
#include "settings.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define FIX "tests/fixtures/config/"

static void test_defaults(void **state)
{
	struct settings s;

	settings_init(&s);
	assert_null(s.target);
	assert_string_equal(s.path, "/var/crash");
	assert_int_equal(s.dump_level, 31);
	assert_int_equal(s.compression, COMPRESSION_ZSTD);
	assert_int_equal(s.zstd_level, 1);
	assert_int_equal(s.threads, 0);
	assert_int_equal(s.crash_cpus, 1);
	assert_int_equal(s.load_method, LOAD_METHOD_AUTO);
	assert_null(s.kernel);
	assert_null(s.initrd);
	assert_null(s.crash_args);
	assert_int_equal(s.final_action, ACTION_REBOOT);
	assert_int_equal(s.failure_action, ACTION_REBOOT);
	assert_int_equal(s.keep_dumps, 0);
	assert_int_equal(s.max_dumps_size, 0);
	assert_int_equal(s.hotplug_reload, HOTPLUG_RELOAD_AUTO);
	assert_int_equal(s.hotplug_quiet_usec, 1000000);
	assert_int_equal(s.hotplug_max_delay_usec, 10000000);
	assert_false(s.keep_loaded_on_stop);
	assert_int_equal(s.target_timeout_usec, 60000000);
	settings_done(&s);
	settings_done(&s); /* idempotent */
}

static void test_every_key(void **state)
{
	struct config_error err = {};
	struct settings s;

	settings_init(&s);
	assert_int_equal(settings_load(&s, NULL, FIX "good.conf", &err), 0);
	assert_string_equal(s.target, "UUID=2f1c5d9e-1b7a-4f0e-9a53-7c1d2e3f4a5b");
	assert_string_equal(s.path, "/srv/dumps");
	assert_int_equal(s.dump_level, 17);
	assert_int_equal(s.compression, COMPRESSION_LZO);
	assert_int_equal(s.zstd_level, 9);
	assert_int_equal(s.threads, 2);
	assert_int_equal(s.load_method, LOAD_METHOD_FILE);
	assert_string_equal(s.kernel, "/boot/vmlinuz-6.1.0-13-amd64");
	assert_string_equal(s.initrd, "/var/lib/crashcap/custom.img");
	assert_string_equal(s.crash_args, "console=ttyS1,115200 loglevel=7");
	assert_int_equal(s.final_action, ACTION_POWEROFF);
	assert_int_equal(s.failure_action, ACTION_HALT);
	settings_done(&s);

	settings_init(&s);
	assert_int_equal(settings_load(&s, NULL, FIX "daemon.conf", &err), 0);
	assert_int_equal(s.keep_dumps, 5);
	assert_int_equal(s.max_dumps_size, 20ULL << 30);
	assert_int_equal(s.hotplug_reload, HOTPLUG_RELOAD_ALWAYS);
	assert_int_equal(s.hotplug_quiet_usec, 250000);
	assert_int_equal(s.hotplug_max_delay_usec, 120000000);
	assert_true(s.keep_loaded_on_stop);
	assert_int_equal(s.target_timeout_usec, 90000000);
	settings_done(&s);
}

static int apply(struct settings *s, const char *text, struct config_error *err)
{
	_cleanup_(config_done) struct config c = {};
	int r;

	r = config_parse_string(&c, text, "test.conf", err);
	if (r < 0)
		return r;
	return settings_from_config(s, &c, err);
}

static void test_bad_values(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "dump_level = 40\n", "test.conf:1: dump_level must be 0..31, got '40'" },
		{ "dump_level = -1\n", "test.conf:1: dump_level must be 0..31, got '-1'" },
		{ "dump_level = 3x\n", "test.conf:1: dump_level must be 0..31, got '3x'" },
		{ "dump_level =\n", "test.conf:1: dump_level must be 0..31, got ''" },
		{ "zstd_level = 0\n", "test.conf:1: zstd_level must be 1..19, got '0'" },
		{ "zstd_level = 20\n", "test.conf:1: zstd_level must be 1..19, got '20'" },
		{ "threads = many\n",
		  "test.conf:1: threads must be 0..4096 (0: all CPUs), got 'many'" },
		{ "crash_cpus = 0\n",
		  "test.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got '0'" },
		{ "crash_cpus = 65\n",
		  "test.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got '65'" },
		{ "crash_cpus = two\n",
		  "test.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got 'two'" },
		{ "crash_cpus = -2\n",
		  "test.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got '-2'" },
		{ "crash_cpus =\n",
		  "test.conf:1: crash_cpus must be 1..64 (CPUs the crash kernel brings up), got ''" },
		{ "compression = xz\n",
		  "test.conf:1: compression must be zstd, none, zlib, lzo or snappy, got 'xz'" },
		{ "compression = ZSTD\n",
		  "test.conf:1: compression must be zstd, none, zlib, lzo or snappy, got 'ZSTD'" },
		{ "load_method = kexec\n",
		  "test.conf:1: load_method must be auto, file or segments, got 'kexec'" },
		{ "# x\nfinal_action = shutdown\n",
		  "test.conf:2: final_action must be reboot, poweroff or halt, got 'shutdown'" },
		{ "failure_action = \"\"\n",
		  "test.conf:1: failure_action must be reboot, poweroff or halt, got ''" },
		{ "path = var/crash\n",
		  "test.conf:1: path must be an absolute path, got 'var/crash'" },
		{ "path =\n", "test.conf:1: path must be an absolute path, got ''" },
		{ "kernel = vmlinuz\n",
		  "test.conf:1: kernel must be an absolute path, got 'vmlinuz'" },
		{ "initrd = ./x.img\n",
		  "test.conf:1: initrd must be an absolute path, got './x.img'" },
		{ "path = /ok\nfoo = bar\n", "test.conf:2: unknown key 'foo'" },
		{ "Dump_Level = 3\n", "test.conf:1: unknown key 'Dump_Level'" },
		{ "keep_dumps = -1\n",
		  "test.conf:1: keep_dumps must be 0..100000 (0: no limit), got '-1'" },
		{ "keep_dumps = 100001\n",
		  "test.conf:1: keep_dumps must be 0..100000 (0: no limit), got '100001'" },
		{ "max_dumps_size = 20X\n",
		  "test.conf:1: max_dumps_size must be a size such as 20G or 500M (0: no limit), got "
		  "'20X'" },
		{ "hotplug_reload = sometimes\n",
		  "test.conf:1: hotplug_reload must be auto, always or never, got 'sometimes'" },
		{ "hotplug_quiet = 2 s\n",
		  "test.conf:1: hotplug_quiet must be a time from 0 to 1h such as 500ms, 2s or 1min, "
		  "got '2 s'" },
		{ "hotplug_quiet = 1h\n",
		  "test.conf:1: hotplug_quiet must be a time from 0 to 1h such as 500ms, 2s or 1min, "
		  "got '1h'" },
		{ "hotplug_max_delay = 61min\n",
		  "test.conf:1: hotplug_max_delay must be a time from 0 to 1h such as 500ms, 2s or "
		  "1min, got '61min'" },
		{ "hotplug_max_delay = -5s\n",
		  "test.conf:1: hotplug_max_delay must be a time from 0 to 1h such as 500ms, 2s or "
		  "1min, got '-5s'" },
		{ "target_timeout = 0\n",
		  "test.conf:1: target_timeout must be a time from 1ms to 1h such as 500ms, 2s or "
		  "1min, got '0'" },
		{ "keep_loaded_on_stop = maybe\n",
		  "test.conf:1: keep_loaded_on_stop must be yes or no, got 'maybe'" },
		{ "keep_loaded_on_stop =\n",
		  "test.conf:1: keep_loaded_on_stop must be yes or no, got ''" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct config_error err = {};
		struct settings s;
		char buf[600];

		settings_init(&s);
		assert_int_equal(apply(&s, cases[i].text, &err), -EINVAL);
		assert_string_equal(config_error_format(&err, buf, sizeof(buf)), cases[i].message);
		/* Nothing of a bad config is applied, not even the good lines before it. */
		assert_string_equal(s.path, "/var/crash");
		assert_int_equal(s.dump_level, 31);
		assert_int_equal(s.crash_cpus, 1);
		settings_done(&s);
	}
}

static void test_good_values(void **state)
{
	struct config_error err = {};
	struct settings s;

	settings_init(&s);
	assert_int_equal(apply(&s,
			       "dump_level = 0\nzstd_level = 19\nthreads = 0\ncompression = none\n"
			       "compression = snappy\nload_method = segments\nfinal_action = halt\n"
			       "kernel = /k\nkernel =\ncrash_args = a\ncrash_args = \"\"\n",
			       &err),
			 0);
	assert_int_equal(s.dump_level, 0);
	assert_int_equal(s.zstd_level, 19);
	assert_int_equal(s.compression, COMPRESSION_SNAPPY);
	assert_int_equal(s.load_method, LOAD_METHOD_SEGMENTS);
	assert_int_equal(s.final_action, ACTION_HALT);
	/* An empty value sets a string back to its default. */
	assert_null(s.kernel);
	assert_null(s.crash_args);
	settings_done(&s);

	settings_init(&s);
	assert_int_equal(apply(&s,
			       "hotplug_quiet = 0\nhotplug_max_delay = 60min\nkeep_dumps = 0\n"
			       "max_dumps_size = 0\nkeep_loaded_on_stop = true\n"
			       "keep_loaded_on_stop = off\nhotplug_reload = never\n"
			       "target_timeout = 1ms\n",
			       &err),
			 0);
	assert_int_equal(s.hotplug_quiet_usec, 0);
	assert_int_equal(s.hotplug_max_delay_usec, 3600000000ULL);
	assert_false(s.keep_loaded_on_stop);
	assert_int_equal(s.hotplug_reload, HOTPLUG_RELOAD_NEVER);
	assert_int_equal(s.target_timeout_usec, 1000);
	settings_done(&s);

	/* The bounds, and the last line wins like any other key. */
	settings_init(&s);
	assert_int_equal(apply(&s, "crash_cpus = 64\n", &err), 0);
	assert_int_equal(s.crash_cpus, 64);
	assert_int_equal(apply(&s, "crash_cpus = 4\ncrash_cpus = 1\n", &err), 0);
	assert_int_equal(s.crash_cpus, 1);
	assert_int_equal(apply(&s, "crash_cpus = 2\n", &err), 0);
	assert_int_equal(s.crash_cpus, 2);
	assert_int_equal(s.threads, 0);
	settings_done(&s);
}

static void test_timespan(void **state)
{
	uint64_t v;

	assert_int_equal(parse_timespan("3", &v), 0);
	assert_int_equal(v, 3000000);
	assert_int_equal(parse_timespan("500ms", &v), 0);
	assert_int_equal(v, 500000);
	assert_int_equal(parse_timespan("2min", &v), 0);
	assert_int_equal(v, 120000000);
	assert_int_equal(parse_timespan("0s", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_timespan("", &v), -EINVAL);
	assert_int_equal(parse_timespan("s", &v), -EINVAL);
	assert_int_equal(parse_timespan("1.5s", &v), -EINVAL);
	assert_int_equal(parse_timespan("5 s", &v), -EINVAL);
	assert_int_equal(parse_timespan("+5", &v), -EINVAL);
	assert_int_equal(parse_timespan("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_timespan("99999999999999min", &v), -ERANGE);
}

static void test_dropin_order(void **state)
{
	struct config_error err = {};
	struct settings s;

	settings_init(&s);
	assert_int_equal(settings_load(&s, FIX "dropins", NULL, &err), 0);
	/* main: 1, 10-first: 3, 20-second: 2; *.conf.disabled is not read. */
	assert_int_equal(s.dump_level, 2);
	assert_int_equal(s.compression, COMPRESSION_SNAPPY);
	assert_int_equal(s.zstd_level, 5);
	assert_int_equal(s.threads, 8);
	settings_done(&s);
}

static void test_no_config_is_defaults(void **state)
{
	struct config_error err = {};
	struct settings s;

	settings_init(&s);
	assert_int_equal(settings_load(&s, FIX "no-such-root", NULL, &err), 0);
	assert_int_equal(s.dump_level, 31);
	settings_done(&s);
}

static void test_explicit_path_must_exist(void **state)
{
	struct config_error err = {};
	struct settings s;
	char buf[600];

	settings_init(&s);
	assert_int_equal(settings_load(&s, NULL, FIX "missing.conf", &err), -ENOENT);
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)),
			    FIX "missing.conf: No such file or directory");
	assert_int_equal(settings_load(&s, NULL, FIX "bad-dump-level.conf", &err), -EINVAL);
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)),
			    FIX "bad-dump-level.conf:1: dump_level must be 0..31, got '40'");
	assert_int_equal(settings_load(&s, NULL, FIX "unknown-key.conf", &err), -EINVAL);
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)),
			    FIX "unknown-key.conf:2: unknown key 'foo'");
	settings_done(&s);
}

static void test_write_round_trip(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};
	struct settings s, t;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	settings_init(&s);
	assert_int_equal(settings_load(&s, NULL, FIX "good.conf", &err), 0);
	free(s.crash_args);
	s.crash_args = strdup("quote \" and \\ back");
	s.keep_dumps = 7;
	s.max_dumps_size = 123456789;
	s.hotplug_reload = HOTPLUG_RELOAD_NEVER;
	s.hotplug_quiet_usec = 1500000;
	s.hotplug_max_delay_usec = 42000;
	s.keep_loaded_on_stop = true;
	s.target_timeout_usec = 3000;
	s.crash_cpus = 5;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(settings_write(&s, f), 0);
	fclose(f);

	settings_init(&t);
	assert_int_equal(config_parse_string(&c, text, "written", &err), 0);
	assert_int_equal(settings_from_config(&t, &c, &err), 0);
	assert_string_equal(t.target, s.target);
	assert_string_equal(t.path, s.path);
	assert_string_equal(t.kernel, s.kernel);
	assert_string_equal(t.initrd, s.initrd);
	assert_string_equal(t.crash_args, "quote \" and \\ back");
	assert_int_equal(t.dump_level, s.dump_level);
	assert_int_equal(t.compression, s.compression);
	assert_int_equal(t.zstd_level, s.zstd_level);
	assert_int_equal(t.threads, s.threads);
	assert_non_null(strstr(text, "\ncrash_cpus = 5\n"));
	assert_int_equal(t.crash_cpus, 5);
	assert_int_equal(t.load_method, s.load_method);
	assert_int_equal(t.final_action, s.final_action);
	assert_int_equal(t.failure_action, s.failure_action);
	assert_int_equal(t.keep_dumps, s.keep_dumps);
	assert_int_equal(t.max_dumps_size, s.max_dumps_size);
	assert_int_equal(t.hotplug_reload, s.hotplug_reload);
	assert_int_equal(t.hotplug_quiet_usec, s.hotplug_quiet_usec);
	assert_int_equal(t.hotplug_max_delay_usec, s.hotplug_max_delay_usec);
	assert_int_equal(t.keep_loaded_on_stop, s.keep_loaded_on_stop);
	assert_int_equal(t.target_timeout_usec, s.target_timeout_usec);
	settings_done(&s);
	settings_done(&t);
	free(text);
}

/* The shipped conf/crashcap.conf, every "#key = value" line uncommented, is the defaults. */
static void test_shipped_conf_documents_defaults(void **state)
{
	_cleanup_(config_done) struct config c = {};
	_cleanup_free_ char *text = NULL, *out = NULL;
	struct config_error err = {};
	struct settings s, d;
	size_t n, keys = 0;
	char *w;

	assert_int_equal(read_full_file("conf/crashcap.conf", 1 << 20, &text, &n), 0);
	/* Uncomment "#key =" lines; drop every other line. */
	out = calloc(1, n + 1);
	w = out;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		size_t k = strspn(l + 1, "abcdefghijklmnopqrstuvwxyz_");

		if (l[0] == '#' && k > 0 && startswith(l + 1 + k, " =")) {
			w += sprintf(w, "%s\n", l + 1);
			keys++;
		}
	}
	assert_int_equal(keys, 22);
	assert_int_equal(config_parse_string(&c, out, "conf/crashcap.conf", &err), 0);
	settings_init(&s);
	settings_init(&d);
	assert_int_equal(settings_from_config(&s, &c, &err), 0);
	assert_null(s.target);
	assert_string_equal(s.path, d.path);
	assert_int_equal(s.dump_level, d.dump_level);
	assert_int_equal(s.compression, d.compression);
	assert_int_equal(s.zstd_level, d.zstd_level);
	assert_int_equal(s.threads, d.threads);
	assert_int_equal(s.crash_cpus, d.crash_cpus);
	assert_int_equal(s.load_method, d.load_method);
	assert_null(s.kernel);
	assert_null(s.initrd);
	assert_null(s.crash_args);
	assert_int_equal(s.final_action, d.final_action);
	assert_int_equal(s.failure_action, d.failure_action);
	assert_int_equal(s.keep_dumps, d.keep_dumps);
	assert_int_equal(s.max_dumps_size, d.max_dumps_size);
	assert_int_equal(s.hotplug_reload, d.hotplug_reload);
	assert_int_equal(s.hotplug_quiet_usec, d.hotplug_quiet_usec);
	assert_int_equal(s.hotplug_max_delay_usec, d.hotplug_max_delay_usec);
	assert_int_equal(s.keep_loaded_on_stop, d.keep_loaded_on_stop);
	assert_int_equal(s.target_timeout_usec, d.target_timeout_usec);
	assert_false(s.reservation_shrink);
	assert_int_equal(s.max_memory, 0);
	assert_int_equal(s.reservation_shrink, d.reservation_shrink);
	assert_int_equal(s.max_memory, d.max_memory);
	settings_done(&s);
	settings_done(&d);
}

static void test_to_string(void **state)
{
	assert_string_equal(compression_to_string(COMPRESSION_ZSTD), "zstd");
	assert_string_equal(compression_to_string(COMPRESSION_NONE), "none");
	assert_string_equal(final_action_to_string(ACTION_POWEROFF), "poweroff");
	assert_string_equal(load_method_to_string(LOAD_METHOD_SEGMENTS), "segments");
	assert_null(compression_to_string((enum compression)99));
	assert_string_equal(hotplug_reload_to_string(HOTPLUG_RELOAD_NEVER), "never");
	assert_null(hotplug_reload_to_string((enum hotplug_reload)7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_timespan),
		cmocka_unit_test(test_dropin_order),
		cmocka_unit_test(test_no_config_is_defaults),
		cmocka_unit_test(test_explicit_path_must_exist),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_shipped_conf_documents_defaults),
		cmocka_unit_test(test_to_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
