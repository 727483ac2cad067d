// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The service core of crashcapd through the syscall seam: a reload whose
 * syscall fails ends with the last good image loaded again; a refusal
 * before the kernel freed anything leaves it; bad settings make no
 * syscall. Also the hotplug fingerprint, the initramfs manifest and the
 * uevent parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kexec_syscall.h"
#include "loader/hotplug.h"
#include "loader/manifest.h"
#include "loader/service.h"
#include "log.h"
#include "rootfs.h"
#include "tests/unit/load-root.h"

/* The kernel as the fakes see it: results to give, calls seen. */
static struct {
	const char *root;
	int results[8]; /* one per call, then 0 */
	size_t n_results, next;
	unsigned loads, unloads;
} k;

static void set_loaded(bool v)
{
	fixture_write_text(k.root, "/sys/kernel/kexec_crash_loaded", v ? "1\n" : "0\n");
}

static int fake_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags)
{
	int r = k.next < k.n_results ? k.results[k.next] : 0;

	k.next++;
	if (flags & KEXEC_FILE_UNLOAD) {
		k.unloads++;
		set_loaded(false);
		return 0;
	}
	k.loads++;
	/* As the kernel: only EPERM and EBUSY come before the loaded image is freed. */
	if (r == -EPERM || r == -EBUSY)
		return r;
	set_loaded(r == 0);
	return r;
}

static const struct kexec_syscall_ops fake_ops = { .kexec_file_load = fake_file_load };

static void script(const int *results, size_t n)
{
	if (n)
		memcpy(k.results, results, n * sizeof(int));
	k.n_results = n;
	k.next = 0;
	k.loads = k.unloads = 0;
}

static int setup(void **state)
{
	char *root = load_root_make();

	fixture_write_text(root, "/etc/crashcap.conf",
			   "initrd = /initrd.img\nload_method = file\nkeep_loaded_on_stop = no\n");
	k = (typeof(k)){ .root = root };
	kexec_syscall_set_ops(&fake_ops);
	log_set_max_level(LOG_CRIT);
	*state = root;
	return 0;
}

static int teardown(void **state)
{
	kexec_syscall_set_ops(NULL);
	log_set_max_level(LOG_INFO);
	load_root_remove(*state);
	return 0;
}

static bool loaded(const char *root)
{
	return service_crash_loaded(root);
}

static void test_start_reload_stop(void **state)
{
	const char *root = *state;
	struct service svc;

	service_init(&svc, root, NULL, NULL);
	script(NULL, 0);
	assert_int_equal(service_start(&svc), 0);
	assert_true(svc.loaded && loaded(root));
	assert_int_equal(k.loads, 1);
	assert_false(svc.stats.gap_known); /* nothing was loaded before */
	assert_non_null(strstr(svc.good.initrd, "/initrd.img"));
	assert_int_equal(strlen(svc.fingerprint), 64);

	assert_int_equal(service_reload(&svc, "test", false), 0);
	assert_int_equal(k.loads, 2);
	assert_true(svc.stats.gap_known);
	assert_int_equal(svc.stats.reloads, 1);
	assert_int_equal(svc.stats.failed_reloads, 0);

	assert_int_equal(service_stop(&svc), 0);
	assert_int_equal(k.unloads, 1);
	assert_false(loaded(root));
	assert_false(root_exists(root, LOADED_STATE_PATH));
	service_done(&svc);
}

/* The kernel frees the old image, then refuses the new one: the old one goes back at once. */
static void test_failed_reload_loads_the_last_good_image(void **state)
{
	static const int results[] = { 0, -ENOEXEC, 0 };
	const char *root = *state;
	struct service svc;
	char status[800];

	service_init(&svc, root, NULL, NULL);
	script(results, ELEMENTSOF(results));
	assert_int_equal(service_start(&svc), 0);
	assert_int_equal(service_reload(&svc, "test", false), -ENOEXEC);
	assert_int_equal(k.loads, 3);
	assert_true(svc.loaded && loaded(root));
	assert_int_equal(svc.stats.fallbacks, 1);
	assert_int_equal(svc.stats.failed_reloads, 1);
	assert_true(svc.stats.gap_known);
	assert_true(root_exists(root, LOADED_STATE_PATH));
	service_status(&svc, status, sizeof(status));
	assert_non_null(strstr(status, "crash kernel loaded: "));
	assert_non_null(strstr(status, "1 reload, 1 failed"));

	/* Both fail: nothing is loaded, and the service says so. */
	static const int both[] = { -ENOEXEC, -ENOEXEC };
	script(both, ELEMENTSOF(both));
	assert_int_equal(service_reload(&svc, "test", false), -ENOEXEC);
	assert_int_equal(k.loads, 2);
	assert_false(svc.loaded || loaded(root));
	assert_false(root_exists(root, LOADED_STATE_PATH));
	service_status(&svc, status, sizeof(status));
	assert_string_equal(status, "no crash kernel loaded");
	service_done(&svc);
}

/* EBUSY comes before the kernel frees anything: no second syscall, still loaded. */
static void test_refusal_before_the_free_keeps_the_image(void **state)
{
	static const int results[] = { 0, -EBUSY };
	const char *root = *state;
	struct service svc;

	service_init(&svc, root, NULL, NULL);
	script(results, ELEMENTSOF(results));
	assert_int_equal(service_start(&svc), 0);
	assert_int_equal(service_reload(&svc, "test", false), -EBUSY);
	assert_int_equal(k.loads, 2);
	assert_true(svc.loaded && loaded(root));
	assert_int_equal(svc.stats.fallbacks, 0);
	service_done(&svc);
}

static void test_bad_settings_make_no_syscall(void **state)
{
	const char *root = *state;
	_cleanup_free_ char *conf = fixture_path(root, "/etc/crashcap.conf");
	_cleanup_free_ char *want = NULL;
	struct service svc;

	service_init(&svc, root, NULL, NULL);
	script(NULL, 0);
	assert_int_equal(service_start(&svc), 0);
	fixture_write_text(root, "/etc/crashcap.conf",
			   "initrd = /initrd.img\nhotplug_max_delay = forever\n");
	assert_int_equal(service_reload(&svc, "SIGHUP", true), -EINVAL);
	assert_int_equal(k.loads, 1);
	assert_true(
		asprintf(&want,
			 "%s:2: hotplug_max_delay must be a time from 0 to 1h such as 500ms, 2s "
			 "or 1min, got 'forever'",
			 conf) > 0);
	assert_string_equal(svc.error, want);
	assert_int_equal(svc.stats.failed_reloads, 1);
	/* The settings in effect stay those of the loaded image. */
	assert_int_equal(svc.settings.hotplug_max_delay_usec, 10 * USEC_PER_SEC);
	service_done(&svc);
}

static void test_keep_loaded_on_stop(void **state)
{
	const char *root = *state;
	struct service svc;

	fixture_write_text(root, "/etc/crashcap.conf",
			   "initrd = /initrd.img\nkeep_loaded_on_stop = yes\n");
	service_init(&svc, root, NULL, NULL);
	script(NULL, 0);
	assert_int_equal(service_start(&svc), 0);
	assert_int_equal(service_stop(&svc), 0);
	assert_int_equal(k.unloads, 0);
	assert_true(loaded(root));
	service_done(&svc);

	/* The next start adopts it: when its own load fails, that one goes back. */
	static const int results[] = { -ENOEXEC, 0 };
	service_init(&svc, root, NULL, NULL);
	script(results, ELEMENTSOF(results));
	assert_int_equal(service_start(&svc), 0);
	assert_int_equal(k.loads, 2);
	assert_true(loaded(root));
	assert_int_equal(svc.stats.fallbacks, 1);
	service_done(&svc);
}

static void test_no_reservation(void **state)
{
	const char *root = *state;
	struct service svc;

	fixture_write_text(root, "/sys/kernel/kexec_crash_size", "0\n");
	fixture_write_text(root, "/proc/iomem", "00001000-0009fbff : System RAM\n");
	service_init(&svc, root, NULL, NULL);
	script(NULL, 0);
	assert_int_equal(service_start(&svc), -ENOMEM);
	assert_int_equal(k.loads, 0);
	service_done(&svc);
}

static void test_fingerprint(void **state)
{
	const char *root = *state;
	char a[65], b[65], c[65], d[65];

	fixture_write_text(root, "/proc/iomem",
			   "00001000-0009fbff : System RAM\n00100000-3ffdcfff : System RAM\n"
			   "  2b000000-3affffff : Crash kernel\n");
	fixture_write_text(root, "/sys/devices/system/cpu/present", "0-1\n");
	assert_int_equal(service_fingerprint(root, a), 0);
	/* Lines other than System RAM change nothing. */
	fixture_write_text(root, "/proc/iomem",
			   "00001000-0009fbff : System RAM\n00100000-3ffdcfff : System RAM\n"
			   "  2b000000-3affffff : Crash kernel\nfee00000-fee00fff : Local APIC\n");
	assert_int_equal(service_fingerprint(root, b), 0);
	assert_string_equal(a, b);
	/* A block added does. */
	fixture_write_text(
		root, "/proc/iomem",
		"00001000-0009fbff : System RAM\n00100000-3ffdcfff : System RAM\n"
		"  2b000000-3affffff : Crash kernel\n100000000-107ffffff : System RAM\n");
	assert_int_equal(service_fingerprint(root, c), 0);
	assert_string_not_equal(a, c);
	/* And so does a CPU. */
	fixture_write_text(root, "/sys/devices/system/cpu/present", "0-2\n");
	assert_int_equal(service_fingerprint(root, d), 0);
	assert_string_not_equal(c, d);
	fixture_write_text(root, "/proc/iomem", "garbage\n");
	assert_int_equal(service_fingerprint(root, d), -EINVAL);
}

static void test_manifest(void **state)
{
	const char *root = *state;
	_cleanup_free_ char *kernel = fixture_path(root, "/boot/vmlinuz-" LOAD_ROOT_RELEASE);
	_cleanup_free_ char *collector = fixture_path(root, "/initrd.img");
	_cleanup_free_ char *mpath = fixture_path(root, "/m.manifest");
	struct manifest a, b, c;
	struct settings s;
	struct manifest_inputs in;

	settings_init(&s);
	in = (struct manifest_inputs){ .root = root,
				       .kernel = kernel,
				       .collector = collector,
				       .settings = &s,
				       .release = LOAD_ROOT_RELEASE };
	assert_int_equal(manifest_compute(&in, &a), 0);
	assert_int_equal(manifest_diff(&a, &a), -1);
	assert_int_equal(manifest_write(mpath, &a), 0);
	assert_int_equal(manifest_read(mpath, &b), 0);
	assert_int_equal(manifest_diff(&a, &b), -1);
	s.dump_level = 1;
	assert_int_equal(manifest_compute(&in, &c), 0);
	assert_int_equal(manifest_diff(&c, &a), MANIFEST_SETTINGS);
	assert_string_equal(manifest_input_to_string(MANIFEST_SETTINGS), "settings");
	s.dump_level = 31;
	fixture_write_text(root, "/initrd.img", "another collector");
	assert_int_equal(manifest_compute(&in, &c), 0);
	assert_int_equal(manifest_diff(&c, &a), MANIFEST_COLLECTOR);
	fixture_write_text(root, "/lib/modules/" LOAD_ROOT_RELEASE "/modules.dep", "x.ko:\n");
	assert_int_equal(manifest_compute(&in, &b), 0);
	assert_int_equal(manifest_diff(&b, &c), MANIFEST_MODULES);
	/* What is not a manifest is refused; a missing one is -ENOENT. */
	fixture_write_text(root, "/m.manifest", "kernel 1234\n");
	assert_int_equal(manifest_read(mpath, &b), -EBADMSG);
	fixture_write_text(
		root, "/m.manifest",
		"kernels 0000000000000000000000000000000000000000000000000000000000000000\n");
	assert_int_equal(manifest_read(mpath, &b), -EBADMSG);
	unlink(mpath);
	assert_int_equal(manifest_read(mpath, &b), -ENOENT);
	/* A manifest that lacks an input differs from any. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(manifest_diff(&b, &a), MANIFEST_KERNEL);
	settings_done(&s);
}

static void test_uevent_parse(void **state)
{
	static const char add[] =
		"add@/devices/system/memory/memory40\0ACTION=add\0"
		"DEVPATH=/devices/system/memory/memory40\0SUBSYSTEM=memory\0SEQNUM=1";
	static const char cpu[] = "online@/devices/system/cpu/cpu3\0ACTION=online\0"
				  "DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0";
	static const char change[] = "change@/devices/system/memory/memory40\0ACTION=change\0"
				     "DEVPATH=/devices/system/memory/memory40\0SUBSYSTEM=memory\0";
	static const char block[] = "add@/devices/virtual/block/loop0\0ACTION=add\0"
				    "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0";
	static const char no_action[] = "add@/x\0DEVPATH=/x\0SUBSYSTEM=memory\0";
	static const char udev[] = "libudev\0\xfe\xed\xca\xfe";
	static const char unterminated[] = { 'a', 'd', 'd', '@', '/', 'x' };
	enum hotplug_subsystem sub;
	const char *action, *devpath;

	assert_int_equal(hotplug_parse_uevent(add, sizeof(add), &sub, &action, &devpath), 1);
	assert_int_equal(sub, HOTPLUG_MEMORY);
	assert_string_equal(action, "add");
	assert_string_equal(devpath, "/devices/system/memory/memory40");
	assert_int_equal(hotplug_parse_uevent(cpu, sizeof(cpu), &sub, &action, &devpath), 1);
	assert_int_equal(sub, HOTPLUG_CPU);
	assert_string_equal(action, "online");
	assert_int_equal(hotplug_parse_uevent(change, sizeof(change), &sub, &action, &devpath), 0);
	assert_int_equal(hotplug_parse_uevent(block, sizeof(block), &sub, &action, &devpath), 0);
	assert_int_equal(hotplug_parse_uevent(no_action, sizeof(no_action), &sub, &action,
					      &devpath),
			 -EBADMSG);
	assert_int_equal(hotplug_parse_uevent(udev, sizeof(udev), &sub, &action, &devpath),
			 -EBADMSG);
	assert_int_equal(hotplug_parse_uevent(unterminated, sizeof(unterminated), &sub, &action,
					      &devpath),
			 -EBADMSG);
	assert_int_equal(hotplug_parse_uevent("", 0, &sub, &action, &devpath), -EBADMSG);
	assert_true(hotplug_action_matters("remove"));
	assert_false(hotplug_action_matters("bind"));
}

static void test_kernel_updates(void **state)
{
	const char *root = *state;

	assert_false(hotplug_kernel_updates(root, HOTPLUG_MEMORY));
	fixture_write_text(root, "/sys/devices/system/memory/crash_hotplug", "1\n");
	fixture_write_text(root, "/sys/devices/system/cpu/crash_hotplug", "0\n");
	assert_true(hotplug_kernel_updates(root, HOTPLUG_MEMORY));
	assert_false(hotplug_kernel_updates(root, HOTPLUG_CPU));
	assert_string_equal(hotplug_subsystem_to_string(HOTPLUG_CPU), "cpu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_reload_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_reload_loads_the_last_good_image, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusal_before_the_free_keeps_the_image, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_settings_make_no_syscall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_loaded_on_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest, setup, teardown),
		cmocka_unit_test(test_uevent_parse),
		cmocka_unit_test_setup_teardown(test_kernel_updates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
