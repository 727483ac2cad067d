// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcap-collect as PID 1 of the crash kernel. Every step that fails is
 * reported on the console and in the kernel log; the machine then takes the
 * configured failure action. Nothing here may wait without a bound except
 * the very last loop, when even rebooting failed.
 */
#include "init.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>

#include "collect.h"
#include "init-steps.h"
#include "kexec_syscall.h"
#include "log.h"
#include "rootfs.h"

int init_module_flags(const char *path)
{
	static const char *const compressed[] = { ".ko.xz", ".ko.zst", ".ko.gz" };
	size_t n = strlen(path);

	for (size_t i = 0; i < ELEMENTSOF(compressed); i++) {
		size_t m = strlen(compressed[i]);

		if (n > m && streq(path + n - m, compressed[i]))
			return MODULE_INIT_COMPRESSED_FILE;
	}
	return 0;
}

static int load_one_module(const char *root, const char *path)
{
	_cleanup_close_ int fd = root_open(root, path, O_RDONLY);
	int r;

	if (fd < 0)
		return fd;
	r = sys_finit_module(fd, "", init_module_flags(path));
	return r == -EEXIST ? 0 : r;
}

int init_load_modules(const char *root, const char *list, unsigned *ret_loaded,
		      unsigned *ret_failed)
{
	_cleanup_free_ char *data = NULL;
	unsigned loaded = 0, failed = 0;
	char *line, *save = NULL;
	int r;

	r = root_read_file(root, list, 1 << 20, &data, NULL);
	if (r == -ENOENT)
		log_debug("No %s: no modules to load.", list);
	else if (r < 0)
		return log_error_errno(r, "Cannot read %s: %m", list);
	for (line = data ? strtok_r(data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *path = strstrip(line);

		if (!*path || *path == '#')
			continue;
		r = path[0] == '/' ? load_one_module(root, path) : -EINVAL;
		if (r < 0) {
			/* The next module may still be enough to reach the target. */
			log_warning_errno(r, "Cannot load module %s: %m", path);
			failed++;
		} else
			loaded++;
	}
	*ret_loaded = loaded;
	*ret_failed = failed;
	return 0;
}

int init_drop_module_files(const char *root, const char *list, unsigned *ret_removed)
{
	_cleanup_free_ char *data = NULL;
	unsigned removed = 0;
	char *line, *save = NULL;
	int r, ret = 0;

	r = root_read_file(root, list, 1 << 20, &data, NULL);
	if (r == -ENOENT) {
		*ret_removed = 0;
		return 0;
	}
	if (r < 0)
		return log_debug_errno(r, "Cannot read %s: %m", list);
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *p = NULL;
		char *path = strstrip(line);

		if (!*path || *path == '#' || path[0] != '/')
			continue;
		r = root_path(root, path, &p);
		if (r < 0)
			return r;
		if (unlink(p) < 0 && errno != ENOENT) {
			r = log_debug_errno(negative_errno(), "Cannot remove %s: %m", p);
			if (ret == 0)
				ret = r;
			continue;
		}
		removed++;
	}
	if (ret < 0)
		return ret;
	*ret_removed = removed;
	return 0;
}

int init_read_mem_available(const char *root, uint64_t *ret)
{
	_cleanup_free_ char *data = NULL;
	unsigned long long kib;
	const char *p;
	int r;

	r = root_read_file(root, "/proc/meminfo", 1 << 16, &data, NULL);
	if (r < 0)
		return r;
	p = strstr(data, "MemAvailable:");
	if (!p || (p != data && p[-1] != '\n'))
		return -ENODATA;
	if (sscanf(p, "MemAvailable: %llu kB", &kib) != 1)
		return -EBADMSG;
	*ret = (uint64_t)kib * 1024;
	return 0;
}

uint64_t init_inflight_for(uint64_t mem_available)
{
	if (mem_available == 0)
		return COLLECT_INFLIGHT_DEFAULT;
	return MIN(MAX(mem_available / 16, (uint64_t)COLLECT_INFLIGHT_MIN),
		   (uint64_t)COLLECT_INFLIGHT_DEFAULT);
}

int init_reboot_command(enum final_action a)
{
	switch (a) {
	case ACTION_POWEROFF:
		return RB_POWER_OFF;
	case ACTION_HALT:
		return RB_HALT_SYSTEM;
	case ACTION_REBOOT:
	default:
		return RB_AUTOBOOT;
	}
}

int init_final_action(enum final_action a)
{
	sync();
	return sys_reboot(init_reboot_command(a));
}

static void mount_pseudo(void)
{
	static const struct {
		const char *type, *dir;
	} fs[] = {
		{ "proc", "/proc" },
		{ "sysfs", "/sys" },
		{ "devtmpfs", "/dev" },
	};

	for (size_t i = 0; i < ELEMENTSOF(fs); i++) {
		(void)mkdir(fs[i].dir, 0755);
		/* EBUSY: already mounted, by a wrapper /init that ran first. */
		if (mount(fs[i].type, fs[i].dir, fs[i].type, MS_NOSUID | MS_NOEXEC, NULL) < 0 &&
		    errno != EBUSY)
			log_warning_errno(errno, "Cannot mount %s on %s: %m", fs[i].type,
					  fs[i].dir);
	}
}

/* One look for the target: a device node, or a TAG=value found by probing. */
static char *find_target(const char *spec)
{
	struct stat st;
	blkid_cache cache = NULL;
	char *dev;

	if (spec[0] == '/')
		return stat(spec, &st) == 0 && S_ISBLK(st.st_mode) ? strdup(spec) : NULL;
	/* No udev here: a fresh cache each time, filled by scanning /proc/partitions. */
	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return NULL;
	blkid_probe_all_new(cache);
	dev = blkid_evaluate_tag(spec, NULL, &cache);
	blkid_put_cache(cache);
	return dev;
}

static int wait_for_target(const char *spec, unsigned timeout_sec, char **ret_dev)
{
	double start = init_now(), next_note = start + 10;
	char *dev;

	for (;;) {
		dev = find_target(spec);
		if (dev) {
			*ret_dev = dev;
			return 0;
		}
		if (init_now() - start >= timeout_sec)
			return -ETIMEDOUT;
		if (init_now() >= next_note) {
			log_info("phase: still waiting for %s (%.0f s)", spec, init_now() - start);
			next_note += 10;
		}
		usleep(200 * 1000);
	}
}

static int mount_target(const char *dev)
{
	_cleanup_free_ char *type = NULL;

	type = blkid_get_tag_value(NULL, "TYPE", dev);
	if (!type)
		return log_error_errno(ENODEV, "No file system found on %s: %m", dev);
	log_info("phase: mounting %s (%s) on " INIT_TARGET_DIR, dev, type);
	(void)mkdir(INIT_TARGET_DIR, 0755);
	if (mount(dev, INIT_TARGET_DIR, type, MS_NOATIME | MS_NOSUID | MS_NODEV, NULL) < 0)
		return log_error_errno(errno, "Cannot mount %s (%s) on " INIT_TARGET_DIR ": %m",
				       dev, type);
	return 0;
}

/* Everything up to the final action; returns the action to take. */
static enum final_action run(double start, char *final_line, size_t len)
{
	_cleanup_(settings_done) struct settings s = {};
	_cleanup_(init_capture_done) struct init_capture c = {};
	_cleanup_free_ char *dev = NULL;
	struct config_error err = {};
	unsigned loaded, failed, timeout, removed;
	uint64_t avail = 0, inflight;
	char buf[600], size[32];
	int r;

	log_info("phase: mounting /proc, /sys and /dev");
	mount_pseudo();

	log_info("phase: reading " INIT_CONFIG_PATH);
	settings_init(&s);
	r = settings_load(&s, "/", INIT_CONFIG_PATH, &err);
	if (r < 0) {
		snprintf(final_line, len, "failed: %s; rebuild the initramfs with a valid config",
			 config_error_format(&err, buf, sizeof(buf)));
		return s.failure_action;
	}
	if (access(INIT_VMCORE, R_OK) < 0) {
		snprintf(final_line, len,
			 "failed: no " INIT_VMCORE ": this is not a crash kernel (booted by kexec "
			 "after a panic)");
		return s.failure_action;
	}

	log_info("phase: loading kernel modules");
	r = init_load_modules("/", INIT_MODULES_LIST, &loaded, &failed);
	if (r >= 0)
		log_info("phase: %u modules loaded, %u failed", loaded, failed);
	/* Loaded modules live in kernel memory: their files only crowd the reservation. */
	r = init_drop_module_files("/", INIT_MODULES_LIST, &removed);
	if (r < 0)
		log_warning_errno(r, "Cannot remove the loaded modules' files: %m");

	if (!s.target) {
		snprintf(final_line, len, "failed: no dump target in " INIT_CONFIG_PATH);
		return s.failure_action;
	}
	/* target_timeout in crashcap.conf (default 60 s). */
	timeout = (unsigned)MAX(DIV_ROUND_UP(s.target_timeout_usec, USEC_PER_SEC), 1);
	log_info("phase: waiting for the dump target %s (up to %u s)", s.target, timeout);
	r = wait_for_target(s.target, timeout, &dev);
	if (r < 0) {
		snprintf(final_line, len,
			 "failed: the dump target %s did not appear within %u s; check that its "
			 "disk is attached and its drivers are in the initramfs "
			 "(crashcapctl rebuild --add-module NAME), or raise target_timeout%s",
			 s.target, timeout,
			 failed > 0 ? "; some modules failed to load, see above" : "");
		return s.failure_action;
	}
	r = mount_target(dev);
	if (r < 0) {
		snprintf(final_line, len, "failed: cannot mount %s: %s", dev, strerror(-r));
		return s.failure_action;
	}

	/*
	 * The crash kernel has only what crashkernel= reserved: at 96M about
	 * 30 MiB is left for the collector, and 8 MiB of chunks in flight ran
	 * it out of memory. Slower with less in flight, but a dump.
	 */
	r = init_read_mem_available("/", &avail);
	if (r < 0)
		log_warning_errno(r, "Cannot read MemAvailable from /proc/meminfo: %m");
	inflight = init_inflight_for(avail);
	log_info("phase: %" PRIu64 " KiB available, %" PRIu64 " KiB of chunks in flight",
		 avail >> 10, inflight >> 10);
	r = init_capture_dump_bounded(&s, INIT_VMCORE, INIT_TARGET_DIR, start, inflight, &c);
	sync();
	if (umount(INIT_TARGET_DIR) < 0)
		log_warning_errno(errno, "Cannot unmount " INIT_TARGET_DIR ": %m");
	if (r < 0) {
		snprintf(final_line, len, "failed: nothing saved on %s: %s", s.target,
			 strerror(-r));
		return s.failure_action;
	}
	format_size(c.output_bytes, size, sizeof(size));
	switch (c.result) {
	case SUMMARY_OK:
		snprintf(final_line, len, "dump saved to %s (%s, %.1f s)",
			 c.dir + strlen(INIT_TARGET_DIR), size, c.dump_seconds);
		return s.final_action;
	case SUMMARY_INCOMPLETE:
		snprintf(final_line, len, "incomplete dump saved to %s/vmcore.incomplete (%s): %s",
			 c.dir + strlen(INIT_TARGET_DIR), size, c.error);
		return s.failure_action;
	case SUMMARY_FAILED:
	default:
		snprintf(final_line, len, "failed: %s (see %s/summary.json)", c.error,
			 c.dir + strlen(INIT_TARGET_DIR));
		return s.failure_action;
	}
}

_Noreturn void collector_init_main(int argc, char **argv)
{
	double start = init_now();
	char final_line[1024] = "";
	enum final_action a;
	int r;

	log_setup("crashcap", LOG_TARGET_CONSOLE);
	a = run(start, final_line, sizeof(final_line));
	log_info("%s", final_line);
	log_info("phase: %s (%.1f s since /init started)", final_action_to_string(a),
		 init_now() - start);
	r = init_final_action(a);
	log_error_errno(r, "Cannot %s: %m; halting here", final_action_to_string(a));
	/* PID 1 must not exit: that would panic the crash kernel. */
	for (;;)
		pause();
}
