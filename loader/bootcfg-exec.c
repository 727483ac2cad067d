// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one place crashcap runs a boot loader tool (update-grub). Safety
 * first: with a fixture root, or CRASHCAP_FAKE_SYSCALLS=1, the command is
 * recorded in the root and never run, so no test can regenerate the boot
 * menu of the machine it runs on.
 */
#include "bootcfg.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "errmsg.h"
#include "kexec_fixture.h"
#include "log.h"
#include "rootfs.h"

extern char **environ;

static bool fake_forced(void)
{
	const char *e = getenv("CRASHCAP_FAKE_SYSCALLS");

	return e && streq(e, "1");
}

static int record(const char *root, const char *const argv[])
{
	_cleanup_free_ char *path = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	int r;

	r = root_path(root, BOOTCFG_FAKE_COMMANDS, &path);
	if (r < 0)
		return r;
	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	f = fopen(path, "ae");
	if (!f)
		return negative_errno();
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fputc('\n', f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	log_debug("recorded, not run: %s (in %s)", argv[0], path);
	return 1;
}

int bootcfg_run(const char *root, const char *const argv[], char **error)
{
	pid_t pid;
	int r, status;

	if (!root_is_host(root))
		return record(root, argv);
	if (fake_forced())
		return errmsg_set(error, -EPERM,
				  "CRASHCAP_FAKE_SYSCALLS=1 is set: %s is not run on the running "
				  "system; pass --root DIR with a fixture tree",
				  argv[0]);
	log_debug("running %s", argv[0]);
	r = posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
	if (r != 0)
		return errmsg_set(error, -r, "cannot run %s: %s", argv[0], strerror(r));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errmsg_set(error, negative_errno(), "cannot wait for %s: %m",
					  argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return errmsg_set(
			error, -EPROTO,
			"%s failed (exit status %d): run it by hand and read its messages", argv[0],
			WEXITSTATUS(status));
	return errmsg_set(error, -EPROTO, "%s was killed by signal %d: run it by hand", argv[0],
			  WTERMSIG(status));
}
