/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the crash kernel will write: the dump target of the settings, turned
 * into what the crash initramfs needs. An unset target means "the file
 * system that holds path on this system": found in root's
 * /proc/self/mountinfo and named by its UUID, and then path is rewritten to
 * where it lies inside that file system (a /var/crash on a separate /var is
 * /crash there). Everything is read relative to root (the /dev/disk/by-*
 * links udev makes, /sys, /proc); libblkid probes devices only when root is
 * the running system ("/" or NULL).
 */
#pragma once

#include "util.h"

struct target_info {
	char *spec; /* what the collector looks for: "UUID=...", "LABEL=...", "/dev/..." */
	char *path; /* the dump directory inside that file system */
	char *device; /* kernel name ("vda1") when found on this system, else NULL */
	char *fstype; /* "ext4" when known, else NULL */
	bool resolved; /* spec and path were derived here (the target was unset) */
};

void target_info_done(struct target_info *t);

/*
 * target: the setting (NULL or "" when unset), path: the path setting.
 * A given target that this system does not show (a disk plugged in later)
 * is not an error: device and fstype stay NULL. For an unset target,
 * -ENOTBLK: path lies on a file system with no block device (tmpfs, NFS).
 * -EINVAL: a target of no known form, or a path that is not absolute.
 * On failure *error (when error is not NULL) gets a one-line message for
 * the user (lib/errmsg.h); the caller frees it.
 */
int target_resolve(const char *root, const char *target, const char *path, struct target_info *ret,
		   char **error);
