/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fake kexec syscalls for fixture roots. Once installed, no call through
 * lib/kexec_syscall.h reaches the kernel: each call appends one line to
 * ROOT/run/crashcap/fake-syscalls.log, fails with the error named in
 * ROOT/fake/kexec_errno ("EBUSY", a number, or "0" for success; absent:
 * success; with several lines each call takes the first and removes it
 * until one is left), and updates
 * ROOT/sys/kernel/kexec_crash_loaded (or kexec_loaded) the way the kernel
 * would, so that status reads back what a load did: 1 after a load, 0
 * after an unload or a load that failed after the old image was freed
 * (any error but EPERM and EBUSY). A write of kexec_crash_size changes
 * ROOT/sys/kernel/kexec_crash_size as the kernel would (ENOENT while a crash
 * kernel is loaded, EINVAL for growth) and is logged; it ignores kexec_errno.
 *
 * The rule the programs follow: a --root other than "/" is a fixture tree,
 * so the fakes go in whenever one is given; CRASHCAP_FAKE_SYSCALLS=1 forces
 * them as a second guard (and then a fixture root is required).
 */
#pragma once

#include "util.h"

#define KEXEC_FIXTURE_LOG "/run/crashcap/fake-syscalls.log"
#define KEXEC_FIXTURE_ERRNO "/fake/kexec_errno"

/*
 * Installs the fakes for root. -EINVAL when root is NULL or resolves to "/":
 * the fakes write into the root, and the real /sys must never be written.
 */
int kexec_fixture_install(const char *root);
/* Puts back the table that was in place before the install; forgets the root. */
void kexec_fixture_uninstall(void);
/*
 * The programs' decision: installs the fakes when root names a fixture tree
 * or CRASHCAP_FAKE_SYSCALLS=1 is set. Returns 1 when installed, 0 when the
 * real syscalls stay (root is NULL or "/" and nothing forces fakes), or a
 * negative errno (-EINVAL: fakes forced without a fixture root).
 */
int kexec_fixture_setup(const char *root);
/* Whether root (NULL, "/" or a path) is the running system; resolves symlinks and "..". */
bool root_is_host(const char *root);
/* "EBUSY" or "16" to 16; -EINVAL for a name glibc does not know. */
int errno_from_name(const char *s);
