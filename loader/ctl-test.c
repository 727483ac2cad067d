// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl test --yes-crash-this-machine: a real panic (sysrq c), to see
 * a dump captured end to end. Without the flag it only says what it would
 * do. With a fixture root it writes the fixture's proc/sysrq-trigger.
 */
#include "ctl.h"

#include <fcntl.h>

#include "ctl-flags.h"
#include "log.h"
#include "rootfs.h"

int verb_test(int argc, char *argv[], const struct ctl_context *ctx)
{
	bool yes = false;
	const struct ctl_flag flags[] = {
		{ "yes-crash-this-machine", 0, &yes },
		{},
	};
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t loaded = 0;
	int r;

	r = ctl_parse_flags(argc, argv,
			    "Usage: crashcapctl test --yes-crash-this-machine\n\n"
			    "Panics this machine at once (echo c > /proc/sysrq-trigger) so the\n"
			    "crash kernel captures a dump: everything running is lost. Check\n"
			    "crashcapctl status first; afterwards, crashcapctl list.\n",
			    flags, 0, NULL);
	if (r <= 0)
		return r;
	if (!yes)
		return log_error_errno(-EPERM, "test crashes this machine at once and everything "
					       "running is lost: if that is what you want, run "
					       "crashcapctl test --yes-crash-this-machine");
	r = root_read_u64(ctx->root, "/sys/kernel/kexec_crash_loaded", 10, &loaded);
	if (r < 0 || !loaded)
		return log_error_errno(-ENOENT,
				       "no crash kernel is loaded: the panic would capture nothing "
				       "(run crashcapctl start first)");
	r = root_path(ctx->root, "/proc/sysrq-trigger", &path);
	if (r < 0)
		return log_error_errno(r, "out of memory");
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return log_error_errno(negative_errno(), "cannot open %s: %m (run as root)", path);
	printf("crashing this machine now (sysrq c): the crash kernel takes over\n");
	fflush(stdout);
	sync();
	r = write_full_fd(fd, "c", 1);
	if (r < 0)
		return log_error_errno(r, "cannot write %s: %m", path);
	/* Only a fixture's file gets here: the real one never returns. */
	printf("wrote c to %s\n", path);
	return 0;
}
