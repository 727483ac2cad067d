// SPDX-License-Identifier: GPL-2.0-or-later
#include "kexec_syscall.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/reboot.h>
#include <sys/syscall.h>

static int real_kexec_file_load(int kernel_fd, int initrd_fd, const char *cmdline,
				unsigned long flags)
{
	/* The kernel wants the length including the terminating NUL. */
	unsigned long len = cmdline ? strlen(cmdline) + 1 : 0;

	if (syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, len, cmdline, flags) < 0)
		return negative_errno();
	return 0;
}

static int real_kexec_load(unsigned long entry, unsigned long nr_segments,
			   const struct kexec_segment *segments, unsigned long flags)
{
	if (syscall(SYS_kexec_load, entry, nr_segments, segments, flags) < 0)
		return negative_errno();
	return 0;
}

static int real_reboot(int cmd)
{
	if (reboot(cmd) < 0)
		return negative_errno();
	return 0;
}

static int real_finit_module(int fd, const char *params, int flags)
{
	if (syscall(SYS_finit_module, fd, params ? params : "", flags) < 0)
		return negative_errno();
	return 0;
}

static int real_crash_size_write(uint64_t bytes)
{
	_cleanup_close_ int fd = open("/sys/kernel/kexec_crash_size", O_WRONLY | O_CLOEXEC);
	char buf[32];
	int n;

	if (fd < 0)
		return negative_errno();
	n = snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
	/* The kernel's answer (ENOENT, EINVAL, EBUSY) comes back from this one write. */
	errno = 0;
	if (write(fd, buf, (size_t)n) != n)
		return errno ? negative_errno() : -EIO;
	return 0;
}

static const struct kexec_syscall_ops real_ops = {
	.kexec_file_load = real_kexec_file_load,
	.kexec_load = real_kexec_load,
	.reboot = real_reboot,
	.finit_module = real_finit_module,
	.crash_size_write = real_crash_size_write,
};

static const struct kexec_syscall_ops *ops = &real_ops;

const struct kexec_syscall_ops *kexec_syscall_set_ops(const struct kexec_syscall_ops *new_ops)
{
	const struct kexec_syscall_ops *old = ops;

	ops = new_ops ? new_ops : &real_ops;
	return old;
}

int sys_kexec_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags)
{
	return ops->kexec_file_load ? ops->kexec_file_load(kernel_fd, initrd_fd, cmdline, flags) :
				      -ENOSYS;
}

int sys_kexec_load(unsigned long entry, unsigned long nr_segments,
		   const struct kexec_segment *segments, unsigned long flags)
{
	return ops->kexec_load ? ops->kexec_load(entry, nr_segments, segments, flags) : -ENOSYS;
}

int sys_reboot(int cmd)
{
	return ops->reboot ? ops->reboot(cmd) : -ENOSYS;
}

int sys_finit_module(int fd, const char *params, int flags)
{
	return ops->finit_module ? ops->finit_module(fd, params, flags) : -ENOSYS;
}

int sys_crash_size_write(uint64_t bytes)
{
	return ops->crash_size_write ? ops->crash_size_write(bytes) : -EOPNOTSUPP;
}
