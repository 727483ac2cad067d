// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test scaffolding for test-kexec-reboot.py, built by that test and run ONLY
 * inside its QEMU guest (it refuses to run anywhere else): what a test needs
 * that crashcapctl must not offer.
 *
 *   kexec-helper file-probe KERNEL   kexec_file_load(KERNEL, ON_CRASH): does
 *                                    the running kernel itself take the image?
 *   kexec-helper reboot              reboot(LINUX_REBOOT_CMD_KEXEC): start the
 *                                    kernel loaded with --reboot-kernel
 *   kexec-helper corrupt-load KERNEL INITRD CMDLINE REGION
 *                                    a crash image whose purgatory holds a
 *                                    wrong digest for REGION and ends QEMU
 *                                    through isa-debug-exit after refusing
 */
#include <fcntl.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>

#include "loader/loadseg.h"
#include "log.h"
#include "rootfs.h"

/* Two guards: the guest's own marker on the kernel command line, and its test env file. */
static bool in_test_guest(void)
{
	_cleanup_free_ char *cmdline = NULL;

	if (root_read_line("/", "/proc/cmdline", &cmdline) < 0)
		return false;
	return strstr(cmdline, "crashcap.qemu_test=1") &&
	       access("/etc/crashcap-test.env", F_OK) == 0;
}

static int file_probe(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	long r;

	if (fd < 0)
		return log_error_errno(-errno, "%s: %m", path);
	r = syscall(SYS_kexec_file_load, fd, -1, 1UL, "",
		    KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS);
	printf("CRASHCAP-TEST: kexec_file_load(%s) -> %s\n", path,
	       r == 0 ? "0" : strerrorname_np(errno));
	return 0;
}

static int corrupt_load(const char *kernel, const char *initrd, const char *cmdline,
			const char *region)
{
	_cleanup_free_ char *error = NULL;
	struct loadseg_options o = {
		.root = "/",
		.cmdline = cmdline,
		.hotplug = true,
		.purgatory_verbose = true,
		.test_corrupt = true,
		.test_corrupt_region = (unsigned)atoi(region),
		.test_exit_port = true,
	};
	int r;

	r = loadseg_load_files(&o, kernel, initrd, NULL, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : "load failed: %m");
	return 0;
}

int main(int argc, char *argv[])
{
	int r = -EINVAL;

	log_setup("kexec-helper", LOG_TARGET_STDERR);
	if (!in_test_guest()) {
		fprintf(stderr, "kexec-helper: not in crashcap's QEMU test guest, refusing\n");
		return 2;
	}
	if (argc == 3 && streq(argv[1], "file-probe"))
		r = file_probe(argv[2]);
	else if (argc == 2 && streq(argv[1], "reboot")) {
		sync();
		r = reboot(LINUX_REBOOT_CMD_KEXEC) < 0 ? -errno : 0;
		if (r < 0)
			log_error_errno(r, "reboot(LINUX_REBOOT_CMD_KEXEC): %m");
	} else if (argc == 6 && streq(argv[1], "corrupt-load"))
		r = corrupt_load(argv[2], argv[3], argv[4], argv[5]);
	else
		fprintf(stderr,
			"usage: kexec-helper file-probe K | reboot | corrupt-load K I C R\n");
	return r < 0 ? 1 : 0;
}
