/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Debian guest kernel that scripts/setup.sh unpacks for the QEMU tests
 * (build/cache/kernel-6.1/lib/modules/<release>/, with modules.dep.bin).
 * Tests that use real modules skip, saying so, when it is absent.
 */
#pragma once

#include "util.h"

/* -ENOENT when no unpacked kernel with a depmod'ed module tree is there. */
int real_kernel_modules(char **ret_modules_dir, char **ret_release);
