// SPDX-License-Identifier: GPL-2.0-or-later
#include "reserve-shrink.h"

#include <inttypes.h>

#include "kexec_syscall.h"
#include "log.h"
#include "rootfs.h"

#define MIB (1024.0 * 1024.0)

int shrink_plan_make(const struct reservation *res, bool crash_loaded, uint64_t budget,
		     struct shrink_plan *ret, const char **why)
{
	struct shrink_plan p = {};

	*why = NULL;
	if (!res->has_crash_size)
		return -EOPNOTSUPP;
	if (res->crash_size == 0 || budget == 0)
		return -ENOENT;
	if (crash_loaded)
		return -EBUSY;
	p.before = res->crash_size;
	p.low = res->has_low ? res->low_end - res->low_start + 1 : 0;
	/* 6.5 and later count both ranges; up to 6.4 the main one only. */
	p.low_counted = res->has_low && res->has_main &&
			res->crash_size == res->main_end - res->main_start + 1 + p.low;
	/* kexec_crash_size, not /proc/iomem, is what the kernel compares the write with. */
	p.main_before = res->crash_size - (p.low_counted ? p.low : 0);
	p.main_after = p.main_before;
	p.target = p.before;
	if (p.main_before == budget) {
		*why = "it is the budget already";
		*ret = p;
		return 0;
	}
	if (p.main_before < budget) {
		*why = "it is less than the budget, and the kernel cannot grow it";
		*ret = p;
		return 0;
	}
	p.main_after = budget;
	p.target = budget + (p.low_counted ? p.low : 0);
	*ret = p;
	return 1;
}

static bool crash_loaded(const char *root)
{
	uint64_t v = 0;

	return root_read_u64(root, "/sys/kernel/kexec_crash_loaded", 10, &v) >= 0 && v;
}

int reserve_shrink(const char *root, const struct settings *s, const char *kernel,
		   const char *initrd)
{
	_cleanup_(budget_done) struct budget b = {};
	struct load_error err = {};
	struct reservation res = {};
	struct shrink_plan p = {};
	const char *why = NULL;
	char ram[64];
	int r;

	if (!s || !s->reservation_shrink)
		return 0;
	r = reservation_read(root, &res, &err);
	if (r < 0)
		return log_warning_errno(r, "reservation_shrink: %s", err.message);
	if (crash_loaded(root)) {
		/* Every reload comes here; the first load after boot did the work. */
		log_debug("reservation_shrink: a crash kernel is loaded; the kernel shrinks the "
			  "reservation only while none is");
		return 0;
	}
	r = budget_compute_image(root, s, kernel, initrd, &b, &err);
	if (r < 0)
		return log_warning_errno(r, "reservation_shrink: no budget: %s",
					 err.message[0] ? err.message : strerror(-r));
	if (s->max_memory)
		snprintf(ram, sizeof(ram), "max_memory = %.1f GiB", s->max_memory / MIB / 1024);
	else
		snprintf(ram, sizeof(ram), "the %.1f GiB of RAM there is now, max_memory unset",
			 b.ram / MIB / 1024);
	r = shrink_plan_make(&res, false, b.proposal, &p, &why);
	if (r == -EOPNOTSUPP)
		return log_warning_errno(r, "reservation_shrink: this kernel has no "
					    "/sys/kernel/kexec_crash_size: the reservation stays");
	if (r < 0)
		return log_warning_errno(r, "reservation_shrink: nothing is reserved to shrink");
	if (r == 0) {
		if (p.main_before < b.proposal)
			log_warning(
				"reservation_shrink: the reservation (%.1f MiB) is less than the "
				"budget (%.1f MiB for %s); it cannot grow until the next boot: "
				"boot with crashkernel=%" PRIu64 "M",
				p.main_before / MIB, b.proposal / MIB, ram, b.proposal >> 20);
		else
			log_info("reservation_shrink: the reservation stays at %.1f MiB: %s",
				 p.main_before / MIB, why);
		return 0;
	}
	r = sys_crash_size_write(p.target);
	if (r == -ENOENT)
		/* A crash kernel was loaded between our look and the write. */
		return log_warning_errno(r,
					 "reservation_shrink: a crash kernel is loaded now: "
					 "the reservation stays at %.1f MiB",
					 p.main_before / MIB);
	if (r < 0)
		return log_warning_errno(r,
					 "reservation_shrink: writing %" PRIu64
					 " to /sys/kernel/kexec_crash_size failed: %m; the "
					 "reservation stays at %.1f MiB",
					 p.target, p.main_before / MIB);
	log_notice("reservation_shrink: the crash kernel reservation shrunk from %.1f MiB to "
		   "%.1f MiB (crashcapctl estimate's proposal for %s); %.1f MiB given "
		   "back to the system. It cannot grow again until the next boot.",
		   p.main_before / MIB, p.main_after / MIB, ram,
		   (p.main_before - p.main_after) / MIB);
	return 1;
}
