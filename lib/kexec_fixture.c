// SPDX-License-Identifier: GPL-2.0-or-later
#include "kexec_fixture.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "kexec_syscall.h"
#include "log.h"
#include "rootfs.h"

/*
 * The seam's table is process-wide and its functions take no context, so
 * the root the fakes write into is process-wide too (like the log target).
 */
static char *fixture_root;
static const struct kexec_syscall_ops *previous_ops;

bool root_is_host(const char *root)
{
	char resolved[PATH_MAX];

	if (!root || !*root || streq(root, "/"))
		return true;
	/* A root that does not exist cannot be the host; the fakes' writes just fail. */
	if (!realpath(root, resolved))
		return false;
	return streq(resolved, "/");
}

int errno_from_name(const char *s)
{
	uint64_t n;

	if (parse_u64(s, 10, &n) >= 0)
		return n > 0 && n < 4096 ? (int)n : -EINVAL;
	for (int e = 1; e < 4096; e++) {
		const char *name = strerrorname_np(e);

		if (name && streq(name, s))
			return e;
	}
	return -EINVAL;
}

/* Never a write below the real /sys or /proc, whatever symlinks a fixture holds. */
static int check_not_host_fs(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	char resolved[PATH_MAX];

	if (!copy)
		return -ENOMEM;
	if (!realpath(dirname(copy), resolved))
		return negative_errno();
	if (streq(resolved, "/") || startswith(resolved, "/sys") || startswith(resolved, "/proc") ||
	    startswith(resolved, "/dev"))
		return log_debug_errno(-EPERM,
				       "fake syscalls: refusing to write %s (resolves to %s)", path,
				       resolved);
	return 0;
}

static int append_log(const char *fmt, ...) _printf_(1, 2);

static int append_log(const char *fmt, ...)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	_cleanup_close_ int fd = -1;
	va_list ap;
	int r, n;

	r = root_path(fixture_root, KEXEC_FIXTURE_LOG, &path);
	if (r < 0)
		return r;
	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	r = check_not_host_fs(path);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return negative_errno();
	return write_full_fd(fd, line, n);
}

/* Drops the first line of the errno file once it has been used: one line per call. */
static int consume_first_line(const char *text)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *rest = strchr(text, '\n');

	if (!rest || !rest[1])
		return 0;
	rest++;
	if (root_path(fixture_root, KEXEC_FIXTURE_ERRNO, &path) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negative_errno();
	return write_full_fd(fd, rest, strlen(rest));
}

/*
 * The error the fixture asks for: 0 when ROOT/fake/kexec_errno is absent.
 * One line applies to every call; with several, each call takes the first
 * and removes it, and the last line stays.
 */
static int wanted_error(void)
{
	_cleanup_free_ char *text = NULL, *name = NULL;
	int r, e;

	r = root_read_file(fixture_root, KEXEC_FIXTURE_ERRNO, 4096, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	name = strndup(text, strcspn(text, "\n"));
	if (!name)
		return -ENOMEM;
	r = consume_first_line(text);
	if (r < 0)
		return r;
	if (streq(strstrip(name), "0"))
		return 0;
	e = errno_from_name(strstrip(name));
	if (e < 0)
		/* A typo in a fixture must not pass for success or for a real error. */
		return log_debug_errno(-EIO, "fake syscalls: unknown errno '%s' in %s", name,
				       KEXEC_FIXTURE_ERRNO);
	return -e;
}

/* Writes "0" or "1" into an existing ROOT/sys/kernel file, as the kernel's state would change. */
static int set_flag(const char *file, bool value)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	r = root_path(fixture_root, file, &path);
	if (r < 0)
		return r;
	r = check_not_host_fs(path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		/* A fixture without the file is a kernel without kexec: leave it so. */
		return errno == ENOENT ? 0 : negative_errno();
	return write_full_fd(fd, value ? "1\n" : "0\n", 2);
}

static const char *result_name(int r, char *buf, size_t len)
{
	const char *name = r < 0 ? strerrorname_np(-r) : NULL;

	if (r == 0)
		snprintf(buf, len, "0");
	else if (name)
		snprintf(buf, len, "-%s", name);
	else
		snprintf(buf, len, "%d", r);
	return buf;
}

static void fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	if (fd < 0) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		snprintf(buf, len, "fd:%d", fd);
	else
		buf[n] = 0;
}

static const char *file_flags_string(unsigned long flags, char *buf, size_t len)
{
	static const struct {
		unsigned long bit;
		const char *name;
	} names[] = {
		{ KEXEC_FILE_UNLOAD, "KEXEC_FILE_UNLOAD" },
		{ KEXEC_FILE_ON_CRASH, "KEXEC_FILE_ON_CRASH" },
		{ KEXEC_FILE_NO_INITRAMFS, "KEXEC_FILE_NO_INITRAMFS" },
	};
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (flags & names[i].bit)
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 used ? "|" : "", names[i].name);
	if (!used)
		snprintf(buf, len, "0");
	return buf;
}

static int fake_kexec_file_load(int kernel_fd, int initrd_fd, const char *cmdline,
				unsigned long flags)
{
	char kernel[PATH_MAX], initrd[PATH_MAX], fl[128], res[64];
	int r = wanted_error(), w;

	fd_path(kernel_fd, kernel, sizeof(kernel));
	fd_path(initrd_fd, initrd, sizeof(initrd));
	w = append_log(
		"kexec_file_load kernel=%s initrd=%s cmdline=\"%s\" flags=%s (0x%lx) -> %s\n",
		kernel, initrd, cmdline ? cmdline : "", file_flags_string(flags, fl, sizeof(fl)),
		flags, result_name(r, res, sizeof(res)));
	if (w < 0)
		return w;
	/*
	 * As the kernel does: the loaded image is freed before the new one is
	 * checked, so only the early errors (EPERM, EBUSY) leave it loaded.
	 */
	if (r < 0 && (r == -EPERM || r == -EBUSY || (flags & KEXEC_FILE_UNLOAD)))
		return r;
	w = set_flag((flags & KEXEC_FILE_ON_CRASH) ? "/sys/kernel/kexec_crash_loaded" :
						     "/sys/kernel/kexec_loaded",
		     r >= 0 && !(flags & KEXEC_FILE_UNLOAD));
	return r < 0 ? r : w;
}

static int fake_kexec_load(unsigned long entry, unsigned long nr_segments,
			   const struct kexec_segment *segments, unsigned long flags)
{
	char res[64];
	int r = wanted_error(), w;

	w = append_log("kexec_load entry=0x%lx nr_segments=%lu flags=%s%s (0x%lx) -> %s\n", entry,
		       nr_segments, (flags & KEXEC_ON_CRASH) ? "KEXEC_ON_CRASH" : "0",
		       (flags & KEXEC_ARCH_MASK) == KEXEC_ARCH_X86_64 ? "|KEXEC_ARCH_X86_64" : "",
		       flags, result_name(r, res, sizeof(res)));
	for (unsigned long i = 0; w >= 0 && segments && i < nr_segments; i++)
		w = append_log("  segment %lu: bufsz=0x%zx mem=0x%lx memsz=0x%zx\n", i,
			       segments[i].bufsz, (unsigned long)segments[i].mem,
			       segments[i].memsz);
	if (w < 0)
		return w;
	if (r < 0)
		return r;
	return set_flag((flags & KEXEC_ON_CRASH) ? "/sys/kernel/kexec_crash_loaded" :
						   "/sys/kernel/kexec_loaded",
			nr_segments > 0);
}

static int fake_reboot(int cmd)
{
	char res[64];
	int r = wanted_error(), w;

	w = append_log("reboot cmd=0x%x -> %s\n", (unsigned)cmd, result_name(r, res, sizeof(res)));
	return w < 0 ? w : r;
}

static int fake_finit_module(int fd, const char *params, int flags)
{
	char path[PATH_MAX], res[64];
	int r = wanted_error(), w;

	fd_path(fd, path, sizeof(path));
	w = append_log("finit_module path=%s params=\"%s\" flags=0x%x -> %s\n", path,
		       params ? params : "", (unsigned)flags, result_name(r, res, sizeof(res)));
	return w < 0 ? w : r;
}

/*
 * As the kernel's crash_shrink_memory(): ENOENT while a crash kernel is
 * loaded, EINVAL for growth, nothing for the same size; else the new size.
 */
static int fake_crash_size_write(uint64_t bytes)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t old = 0, loaded = 0;
	char res[64], buf[32];
	int r, w, n;

	r = root_read_u64(fixture_root, "/sys/kernel/kexec_crash_size", 10, &old);
	if (r >= 0 &&
	    root_read_u64(fixture_root, "/sys/kernel/kexec_crash_loaded", 10, &loaded) >= 0 &&
	    loaded)
		r = -ENOENT;
	else if (r >= 0 && bytes > old)
		r = -EINVAL;
	w = append_log("kexec_crash_size write %" PRIu64 " (was %" PRIu64 ") -> %s\n", bytes, old,
		       result_name(r < 0 ? r : 0, res, sizeof(res)));
	if (w < 0)
		return w;
	if (r < 0 || bytes == old)
		return r < 0 ? r : 0;
	r = root_path(fixture_root, "/sys/kernel/kexec_crash_size", &path);
	if (r < 0)
		return r;
	r = check_not_host_fs(path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negative_errno();
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", bytes);
	return write_full_fd(fd, buf, (size_t)n);
}

static const struct kexec_syscall_ops fake_ops = {
	.kexec_file_load = fake_kexec_file_load,
	.kexec_load = fake_kexec_load,
	.reboot = fake_reboot,
	.finit_module = fake_finit_module,
	.crash_size_write = fake_crash_size_write,
};

int kexec_fixture_install(const char *root)
{
	const struct kexec_syscall_ops *old;
	char *copy;

	if (root_is_host(root))
		return -EINVAL;
	copy = strdup(root);
	if (!copy)
		return -ENOMEM;
	free(fixture_root);
	fixture_root = copy;
	old = kexec_syscall_set_ops(&fake_ops);
	if (old != &fake_ops)
		previous_ops = old;
	log_debug("fake syscalls installed for root %s", root);
	return 0;
}

void kexec_fixture_uninstall(void)
{
	const struct kexec_syscall_ops *now;

	/* Puts back the table that was there before (a test's own fakes stay fakes). */
	now = kexec_syscall_set_ops(previous_ops);
	if (now != &fake_ops)
		kexec_syscall_set_ops(now);
	previous_ops = NULL;
	free(fixture_root);
	fixture_root = NULL;
}

int kexec_fixture_setup(const char *root)
{
	const char *force = getenv("CRASHCAP_FAKE_SYSCALLS");
	bool forced = force && *force && !streq(force, "0");
	int r;

	if (root_is_host(root)) {
		if (forced)
			return log_debug_errno(
				-EINVAL, "CRASHCAP_FAKE_SYSCALLS is set but the root is the host");
		return 0;
	}
	r = kexec_fixture_install(root);
	return r < 0 ? r : 1;
}
