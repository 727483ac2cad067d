/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reservation_shrink = yes: before a crash kernel is loaded, the memory
 * reserved with crashkernel= is cut down to the budget (loader/budget.h)
 * by writing /sys/kernel/kexec_crash_size, through lib/kexec_syscall.h;
 * the kernel gives the rest back to the system as RAM. The kernel only
 * shrinks while no crash kernel is loaded (ENOENT otherwise) and never
 * grows it again (EINVAL) until the next boot. So it is done on the first
 * load after boot, when nothing is loaded yet; a crash kernel that is
 * loaded is never unloaded for it, since that leaves the machine without
 * one. Up to 6.4 kexec_crash_size is the main range only; from 6.5 the
 * main and the low range together (the kernel shrinks the main one first).
 */
#pragma once

#include "budget.h"
#include "loadfile.h"

struct shrink_plan {
	uint64_t before; /* kexec_crash_size now */
	uint64_t target; /* kexec_crash_size to write */
	uint64_t main_before; /* the main range now */
	uint64_t main_after; /* the main range after the shrink: the budget */
	uint64_t low; /* the low range, left as it is */
	bool low_counted; /* kexec_crash_size counts the low range (6.5 and later) */
};

/*
 * What to write for a main range of budget bytes. Returns 1 when
 * shrinking makes sense, 0 when not (*why says: already that small, or
 * less than the budget; ret has target = before), -ENOENT when nothing is reserved, or
 * -EBUSY when a crash kernel is loaded.
 */
int shrink_plan_make(const struct reservation *res, bool crash_loaded, uint64_t budget,
		     struct shrink_plan *ret, const char **why);

/*
 * The whole step for a load of kernel and initrd (paths as opened) with
 * settings s: the budget, the plan, the write; logs what it did and why.
 * Returns 1 shrunk, 0 left as it was, or a negative errno (the load can go
 * on: the reservation is only larger than needed). Does nothing unless
 * s->reservation_shrink.
 */
int reserve_shrink(const char *root, const struct settings *s, const char *kernel,
		   const char *initrd);
