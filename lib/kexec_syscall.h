/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The only place that makes the syscalls which load, unload or boot
 * kernels. Every call goes through a table of function pointers so tests
 * install fakes (kexec_syscall_set_ops) and nothing in a test can reach the
 * real syscalls: the default table is used only when no fake is installed,
 * and tests install theirs before calling anything.
 */
#pragma once

#include <linux/kexec.h>

#include "util.h"

struct kexec_syscall_ops {
	/* Each returns 0 or a negative errno, never -1 with errno. */
	int (*kexec_file_load)(int kernel_fd, int initrd_fd, const char *cmdline,
			       unsigned long flags);
	int (*kexec_load)(unsigned long entry, unsigned long nr_segments,
			  const struct kexec_segment *segments, unsigned long flags);
	int (*reboot)(int cmd); /* RB_AUTOBOOT, RB_POWER_OFF, RB_HALT_SYSTEM */
	int (*finit_module)(int fd, const char *params, int flags);
	/* Writes /sys/kernel/kexec_crash_size: shrinks the crash reservation (never grows it). */
	int (*crash_size_write)(uint64_t bytes);
};

/* Replaces the syscalls; returns the previous table. NULL restores the real ones. */
const struct kexec_syscall_ops *kexec_syscall_set_ops(const struct kexec_syscall_ops *ops);

int sys_kexec_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags);
int sys_kexec_load(unsigned long entry, unsigned long nr_segments,
		   const struct kexec_segment *segments, unsigned long flags);
int sys_reboot(int cmd);
int sys_finit_module(int fd, const char *params, int flags);
/* -EOPNOTSUPP when the installed table has no such call (a test's own fakes). */
int sys_crash_size_write(uint64_t bytes);
