/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading the crash kernel, shared by crashcapctl and crashcapd: with
 * kexec_file_load, or with kexec_load and crashcap's own segments
 * (loader/loadseg.h), by load_method; and a kernel for a kexec reboot the
 * same two ways. Everything that can be checked in user space is checked before
 * the syscall (a load first frees the loaded image, so a load that fails
 * leaves none), and every failure comes back as one line that says what to
 * do, in struct load_error, for the program to print.
 *
 * loadfile.c: the load and unload; load-prep.c: what a load needs (release,
 * kernel header, reservation, command line, initrd); load-state.c: the
 * record of what is loaded (ROOT/run/crashcap/loaded.json).
 */
#pragma once

#include <time.h>

#include "initramfs/initramfs.h"
#include "settings.h"

#define LOADED_STATE_PATH "/run/crashcap/loaded.json"
#define CRASHCAP_STATE_DIR "/var/lib/crashcap"
#define CRASHCAP_DEFAULT_COLLECTOR CRASHCAP_LIBEXECDIR "/crashcap-collect"
#define NO_RESERVATION_MESSAGE                                                                       \
	"no memory is reserved for a crash kernel: add crashkernel=256M to the kernel command line " \
	"(see README) and reboot"

struct load_error {
	char message[768];
};

/* Fills err (when not NULL) and returns error as a negative errno. */
int load_error_set(struct load_error *err, int error, const char *fmt, ...) _printf_(3, 4);

/* What to load. NULL fields take their defaults (see each). */
struct load_request {
	const char *root; /* NULL or "/": the running system */
	const struct settings *settings; /* NULL: defaults */
	/* As given; else settings->kernel under root; else root/boot/vmlinuz-<release>. */
	const char *kernel;
	/* As given; else settings->initrd under root; else one is built. */
	const char *initrd;
	bool no_initrd; /* load without one (KEXEC_FILE_NO_INITRAMFS) */
	const char *append; /* more crash kernel arguments, after settings->crash_args */
	/* For a built initrd: else $CRASHCAP_COLLECTOR; else CRASHCAP_DEFAULT_COLLECTOR. */
	const char *collector;
	/*
	 * Not a crash kernel but one for a kexec reboot (`systemctl kexec`):
	 * loaded without KEXEC_ON_CRASH, with the running kernel's command
	 * line (loadfile_reboot_cmdline) and, unless given, the initrd
	 * root/boot/initrd.img-<release> when it exists. settings->kernel,
	 * initrd and crash_args are for the crash kernel and not used.
	 */
	bool reboot_kernel;
};

/* A crash image: the one being loaded, or the one loaded.json records. */
struct crash_image {
	char *kernel;
	char *initrd; /* NULL: none */
	char *cmdline;
	char *release;
	char *method; /* "file" (kexec_file_load) or "segments" (kexec_load); NULL: "file" */
	/* load_method = auto only: why kexec_file_load was not used; NULL when it was. */
	char *fallback;
	bool reboot; /* a kernel for a kexec reboot (struct load_request), not a crash kernel */
	uint64_t kernel_size; /* bytes of the file */
	uint64_t kernel_init_size; /* memory it needs to boot (setup header init_size) */
	uint64_t initrd_size;
	unsigned long flags; /* as passed to kexec_file_load or kexec_load */
	time_t time; /* when it was loaded */
};

void crash_image_done(struct crash_image *img);

/* The reserved memory, from /sys/kernel/kexec_crash_size and /proc/iomem. */
struct reservation {
	bool has_crash_size; /* /sys/kernel/kexec_crash_size exists */
	uint64_t crash_size;
	/* false when /proc/iomem is missing or hides addresses (not root) */
	bool ranges_known;
	bool has_main, has_low;
	uint64_t main_start, main_end, low_start, low_end; /* inclusive ends */
};

/* Bytes where the crash kernel is placed: the main range, else kexec_crash_size. */
uint64_t reservation_main_size(const struct reservation *r);
/* Bytes reserved in all: main + low, else kexec_crash_size. */
uint64_t reservation_total(const struct reservation *r);
/* -EINVAL with err for a malformed /proc/iomem. */
int reservation_read(const char *root, struct reservation *ret, struct load_error *err);

/* The bzImage setup header fields a load depends on. */
struct kernel_probe {
	uint16_t version; /* boot protocol, 0x020f is 2.15 */
	uint16_t xloadflags;
	uint32_t init_size;
	uint32_t cmdline_size; /* longest command line, without the NUL */
	char release[65]; /* from the kernel_version string; "" when absent */
	/*
	 * Why kexec_file_load would refuse an image that kexec_load can load
	 * (the kernel's bzImage64 probe is stricter); NULL when it would not.
	 */
	const char *file_refusal;
};

/*
 * Checks a kernel file (its first bytes at least, the setup code whole)
 * with loader/bzimage.c's parser. -ENOEXEC with why (a short phrase) when
 * neither load method could load it.
 */
int loadfile_probe_kernel(const void *buf, size_t len, struct kernel_probe *ret, const char **why);

/* The running kernel's release: root/proc/sys/kernel/osrelease, else uname. */
int loadfile_release(const char *root, char **ret);
/*
 * The crash kernel command line: the console= arguments of root/proc/cmdline,
 * the crash defaults with nr_cpus=crash_cpus (0 is 1; above 1 with
 * disable_cpu_apicid= for the boot CPU), crash_args, append (each may be NULL).
 */
int loadfile_cmdline(const char *root, const char *crash_args, unsigned crash_cpus,
		     const char *append, char **ret);
/*
 * The command line of a kernel for a kexec reboot: root/proc/cmdline
 * without the boot loader's BOOT_IMAGE= and initrd=, then append (may be NULL).
 */
int loadfile_reboot_cmdline(const char *root, const char *append, char **ret);
/* The collector binary to put in a built initrd (see struct load_request). */
const char *loadfile_collector(const char *requested);

struct initrd_request {
	const char *root;
	const struct settings *settings; /* written into the initrd as /etc/crashcap.conf */
	const char *output; /* NULL: root/var/lib/crashcap/initrd-<release>.img */
	const char *release; /* NULL: the running kernel's */
	const char *modules_dir; /* NULL: root/lib/modules/<release> */
	const char *collector; /* see loadfile_collector() */
	char **extra_modules; /* NULL-terminated, or NULL */
};

/* Builds a crash initramfs with initramfs_build(); ret_path is the archive. */
int loadfile_build_initrd(const struct initrd_request *req, char **ret_path,
			  struct initramfs_result *ret, struct load_error *err);

/*
 * Checks everything and loads the crash kernel (or with req->reboot_kernel
 * the kexec reboot kernel) by settings->load_method: file is
 * kexec_file_load(..., KEXEC_FILE_ON_CRASH); segments is kexec_load with
 * crashcap's own segments (loader/loadseg.h); auto tries file first and
 * falls back to segments when the kernel cannot load the image that way
 * (ENOSYS, ENOEXEC, or an image its bzImage probe refuses), never after
 * EPERM or a signature error: what lockdown or signature policy forbids
 * to kexec_file_load, it forbids to kexec_load too. On success ret
 * describes what was loaded and how (write it with loaded_state_write()).
 */
int loadfile_load(const struct load_request *req, struct crash_image *ret, struct load_error *err);
/*
 * Loads img as it is (kernel, initrd, cmdline, method and reboot; no checks,
 * no build): for loading the last good image again after a reload failed.
 * Sets img->flags and img->time.
 */
int loadfile_load_image(const char *root, struct crash_image *img, struct load_error *err);
/*
 * kexec_file_load(-1, -1, NULL, KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH),
 * or kexec_load with no segments when the kernel has no kexec_file_load.
 */
int loadfile_unload(const char *root, struct load_error *err);
/* The same for the kexec reboot kernel (no ON_CRASH flags). */
int loadfile_unload_reboot(const char *root, struct load_error *err);
/* "file (kexec_file_load)" or "segments (kexec_load)" for img->method. */
const char *loadfile_method_name(const struct crash_image *img);
/* The message for a kexec_file_load error (negative errno) while loading img. */
void loadfile_explain(int error, const char *root, const struct crash_image *img,
		      const struct reservation *res, struct load_error *err);

/* ROOT/run/crashcap/loaded.json */
int loaded_state_write(const char *root, const struct crash_image *img);
/* -ENOENT when nothing was recorded; -EBADMSG when the file is not what we write. */
int loaded_state_read(const char *root, struct crash_image *ret);
int loaded_state_remove(const char *root);
