// SPDX-License-Identifier: GPL-2.0-or-later
/* What a crash load needs, found and checked before the syscall. */
#include "loadfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "bzimage.h"
#include "iomem.h"
#include "log.h"
#include "rootfs.h"

/*
 * One CPU (crash_cpus), no devices reset by the dead kernel left half-programmed, no USB
 * or resume probing, and a panic in the crash kernel reboots at once.
 * swiotlb=noforce: a guest with hotpluggable memory otherwise runs the small
 * crash kernel out of memory (measured, notes/qemu-panic-tests.md).
 * memhp_default_state=offline: the crash kernel finds hot-added DIMMs in
 * the ACPI tables and, where the kernel onlines new memory by default
 * (Debian's 6.12), would use the dead kernel's memory there as its own
 * and overwrite it before it is dumped (seen in test-segments-hotplug.py).
 * cgroup.memory=nokmem and initcall_blacklist=tracer_init_tracefs: the
 * crash kernel needs neither kernel-memory accounting nor tracefs, and
 * they cost it ~4 MiB (per-CPU memcg arrays) and ~8 MiB of slab (a tracefs
 * file for every trace event, created at boot on 6.1); with them Debian's
 * 6.1 kernel captures 1 GiB and 4 GiB guests with crashkernel=80M, without
 * them it needs 96M (tests/qemu/find-min-crashkernel.py). An initcall name
 * a kernel does not have is ignored.
 */
#define CRASH_ARGS_BEFORE_CPUS "irqpoll"
#define CRASH_ARGS_AFTER_CPUS                                           \
	"reset_devices panic=1 nousb noresume mce=off swiotlb=noforce " \
	"memhp_default_state=offline cgroup.memory=nokmem "             \
	"initcall_blacklist=tracer_init_tracefs"

int load_error_set(struct load_error *err, int error, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return error < 0 ? error : -error;
}

int loadfile_probe_kernel(const void *buf, size_t len, struct kernel_probe *ret, const char **why)
{
	struct kernel_probe info = {};
	struct bzimage b;
	char banner[256];
	int r;

	/* One parser for both load paths (loader/bzimage.c). */
	r = bzimage_parse(buf, len, &b, why);
	if (r < 0)
		return r;
	info.version = b.version;
	info.xloadflags = b.hdr.xloadflags;
	info.init_size = b.hdr.init_size;
	info.cmdline_size = b.hdr.cmdline_size;
	/* The kernel's own bzImage64 probe refuses what kexec_load can still place below 4 GiB. */
	if (!(b.hdr.xloadflags & BZIMAGE_XLF_CAN_BE_LOADED_ABOVE_4G))
		info.file_refusal = "kexec_file_load takes only images that can be loaded above "
				    "4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not set)";

	/* "6.1.0-13-amd64 (debian-kernel@...) #1 SMP ...": the release is the first word. */
	if (bzimage_kernel_version(buf, len, banner, sizeof(banner))) {
		size_t n = 0;

		while (banner[n] && n < sizeof(info.release) - 1 &&
		       isgraph((unsigned char)banner[n]))
			n++;
		memcpy(info.release, banner, n);
	}
	*ret = info;
	return 0;
}

int loadfile_release(const char *root, char **ret)
{
	struct utsname u;
	char *s;
	int r;

	r = root_read_line(root, "/proc/sys/kernel/osrelease", &s);
	if (r >= 0 && *s) {
		*ret = s;
		return 0;
	}
	if (r >= 0)
		free(s);
	if (uname(&u) < 0)
		return negative_errno();
	s = strdup(u.release);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* Appends " word" (or "word" at the start) to *buf. */
static int append_word(char **buf, const char *word, size_t len)
{
	size_t old = *buf ? strlen(*buf) : 0;
	char *n;

	if (len == 0)
		return 0;
	n = realloc(*buf, old + 1 + len + 1);
	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ' ';
	memcpy(n + old, word, len);
	n[old + len] = 0;
	*buf = n;
	return 0;
}

/*
 * Appends the words of root/proc/cmdline (quotes allowed, as the kernel
 * does): with consoles_only the console= ones up to "--" (what follows is
 * for init, not the kernel), else all but the boot loader's BOOT_IMAGE=
 * and initrd=, which name files of the boot loader's, not ours.
 */
static int append_running_cmdline(char **buf, const char *root, bool consoles_only)
{
	_cleanup_free_ char *line = NULL;
	const char *p;
	int r;

	r = root_read_line(root, "/proc/cmdline", &line);
	if (r < 0) {
		log_debug_errno(r, "no /proc/cmdline to take arguments from: %m");
		return 0;
	}
	for (p = line; *p;) {
		const char *start;
		bool quoted = false, keep;

		while (isspace((unsigned char)*p))
			p++;
		start = p;
		while (*p && (quoted || !isspace((unsigned char)*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if (consoles_only && p - start == 2 && startswith(start, "--"))
			break;
		if (consoles_only)
			keep = startswith(start, "console=");
		else
			keep = !startswith(start, "BOOT_IMAGE=") && !startswith(start, "initrd=");
		if (keep) {
			r = append_word(buf, start, p - start);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int loadfile_reboot_cmdline(const char *root, const char *append, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = append_running_cmdline(&buf, root, false);
	if (r >= 0 && append)
		r = append_word(&buf, append, strlen(append));
	if (r < 0)
		return r;
	if (!buf) {
		buf = strdup("");
		if (!buf)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(buf);
	return 0;
}

/*
 * The initial APIC ID of CPU 0, the boot CPU, from root/proc/cpuinfo (as
 * kdump-utils' kdumpctl finds it). -ENODATA when cpuinfo has none (not x86).
 */
static int boot_cpu_apicid(const char *root, unsigned *ret)
{
	_cleanup_free_ char *data = NULL;
	bool cpu0 = false;
	int r;

	r = root_read_file(root, "/proc/cpuinfo", 16 << 20, &data, NULL);
	if (r < 0)
		return r;
	for (char *line = data, *next; line && *line; line = next) {
		unsigned v;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (startswith(line, "processor"))
			cpu0 = sscanf(line, "processor : %u", &v) == 1 && v == 0;
		else if (cpu0 && startswith(line, "initial apicid") &&
			 sscanf(line, "initial apicid : %u", &v) == 1) {
			*ret = v;
			return 0;
		}
	}
	return -ENODATA;
}

/*
 * nr_cpus=N for the crash kernel. With more than one CPU it must not wake
 * the boot CPU: after a panic on another CPU the crash kernel boots there,
 * and an INIT sent to the boot CPU resets or hangs some machines
 * (disable_cpu_apicid= in the kernel's parameters; kdumpctl adds it too).
 * A QEMU guest survives it (measured: a dump saved), real firmware may not.
 * The price: a panic on another CPU gets one CPU fewer than asked for.
 */
static int append_cpus(char **buf, const char *root, unsigned cpus)
{
	char word[64];
	unsigned apicid;
	int r;

	snprintf(word, sizeof(word), "nr_cpus=%u", MAX(cpus, 1U));
	r = append_word(buf, word, strlen(word));
	if (r < 0 || cpus <= 1)
		return r;
	r = boot_cpu_apicid(root, &apicid);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_debug_errno(
			r, "no APIC ID for CPU 0 in /proc/cpuinfo, no disable_cpu_apicid=: %m");
		return 0;
	}
	snprintf(word, sizeof(word), "disable_cpu_apicid=%u", apicid);
	return append_word(buf, word, strlen(word));
}

int loadfile_cmdline(const char *root, const char *crash_args, unsigned crash_cpus,
		     const char *append, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = append_running_cmdline(&buf, root, true);
	if (r >= 0)
		r = append_word(&buf, CRASH_ARGS_BEFORE_CPUS, strlen(CRASH_ARGS_BEFORE_CPUS));
	if (r >= 0)
		r = append_cpus(&buf, root, crash_cpus);
	if (r >= 0)
		r = append_word(&buf, CRASH_ARGS_AFTER_CPUS, strlen(CRASH_ARGS_AFTER_CPUS));
	if (r >= 0 && crash_args)
		r = append_word(&buf, crash_args, strlen(crash_args));
	if (r >= 0 && append)
		r = append_word(&buf, append, strlen(append));
	if (r < 0)
		return r;
	*ret = TAKE_PTR(buf);
	return 0;
}

const char *loadfile_collector(const char *requested)
{
	const char *env = getenv("CRASHCAP_COLLECTOR");

	if (requested)
		return requested;
	if (env && *env)
		return env;
	return CRASHCAP_DEFAULT_COLLECTOR;
}

uint64_t reservation_main_size(const struct reservation *r)
{
	return r->has_main ? r->main_end - r->main_start + 1 : r->crash_size;
}

uint64_t reservation_total(const struct reservation *r)
{
	if (!r->has_main)
		return r->crash_size;
	return reservation_main_size(r) + (r->has_low ? r->low_end - r->low_start + 1 : 0);
}

int reservation_read(const char *root, struct reservation *ret, struct load_error *err)
{
	_cleanup_(iomem_done) struct iomem m = {};
	struct iomem_crash_ranges crash;
	struct reservation res = {};
	unsigned line = 0;
	int r;

	r = root_read_u64(root, "/sys/kernel/kexec_crash_size", 10, &res.crash_size);
	if (r >= 0)
		res.has_crash_size = true;
	else if (r != -ENOENT)
		log_debug_errno(r, "cannot read /sys/kernel/kexec_crash_size: %m");

	r = iomem_read(root, &m, &line);
	if (r == -EINVAL) {
		return load_error_set(
			err, r, "%s/proc/iomem:%u: malformed line: cannot read the memory map",
			root && !streq(root, "/") ? root : "", line);
	}
	if (r >= 0) {
		res.ranges_known = true;
		if (iomem_crash_ranges(&m, &crash) >= 0) {
			res.has_main = true;
			res.main_start = crash.main->start;
			res.main_end = crash.main->end;
			if (crash.low) {
				res.has_low = true;
				res.low_start = crash.low->start;
				res.low_end = crash.low->end;
			}
		}
	} else
		log_debug_errno(r, "memory map unavailable: %m");
	*ret = res;
	return 0;
}

/* The effective settings as one file for the initrd: drop-ins merged. */
static int write_settings_tmp(const struct settings *s, char **ret)
{
	const char *tmpdir = getenv("TMPDIR");
	_cleanup_free_ char *path = NULL;
	struct settings defaults;
	FILE *f;
	int fd, r;

	if (asprintf(&path, "%s/crashcap-conf-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
		return -ENOMEM;
	fd = mkstemp(path);
	if (fd < 0)
		return negative_errno();
	f = fdopen(fd, "w");
	if (!f) {
		r = negative_errno();
		close(fd);
		unlink(path);
		return r;
	}
	settings_init(&defaults);
	r = settings_write(s ? s : &defaults, f);
	settings_done(&defaults);
	if (fclose(f) != 0 && r >= 0)
		r = -EIO;
	if (r < 0) {
		unlink(path);
		return r;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

int loadfile_build_initrd(const struct initrd_request *req, char **ret_path,
			  struct initramfs_result *ret, struct load_error *err)
{
	_cleanup_free_ char *release = NULL, *output = NULL, *dir = NULL, *conf = NULL;
	_cleanup_free_ char *why = NULL;
	const char *collector = loadfile_collector(req->collector);
	struct initramfs_options o;
	struct initramfs_result res = {};
	int r;

	if (access(collector, R_OK) < 0) {
		r = negative_errno();
		return load_error_set(err, r,
				      "collector %s: %s: build it (make) or pass --collector PATH "
				      "(or set CRASHCAP_COLLECTOR)",
				      collector, strerror(-r));
	}
	if (req->release)
		release = strdup(req->release);
	else {
		r = loadfile_release(req->root, &release);
		if (r < 0)
			return load_error_set(err, r, "cannot find the kernel release: %s",
					      strerror(-r));
	}
	if (!release)
		return -ENOMEM;
	if (req->output)
		output = strdup(req->output);
	else {
		r = root_path(req->root, CRASHCAP_STATE_DIR, &dir);
		if (r < 0)
			return r;
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return load_error_set(err, r, "cannot create %s: %s", dir, strerror(-r));
		if (asprintf(&output, "%s/initrd-%s.img", dir, release) < 0)
			output = NULL;
	}
	if (!output)
		return -ENOMEM;
	r = write_settings_tmp(req->settings, &conf);
	if (r < 0)
		return load_error_set(err, r, "cannot write the settings for the initrd: %s",
				      strerror(-r));

	o = (struct initramfs_options){
		.root = req->root,
		.output_path = output,
		.collector_path = collector,
		.config_path = conf,
		.kernel_release = release,
		.modules_dir = req->modules_dir,
		.extra_modules = req->extra_modules,
	};
	r = initramfs_build(&o, &res, &why);
	unlink(conf);
	if (r < 0)
		/* why names the missing file or module and what to do; NULL only out of memory. */
		return load_error_set(err, r, "%s", why ? why : strerror(-r));
	*ret_path = TAKE_PTR(output);
	if (ret)
		*ret = res;
	return 0;
}
