// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The load and unload by method (kexec_file_load, or kexec_load through
 * loader/loadseg.h), auto's fallback, and what the kernel's errors mean.
 */
#include "loadfile.h"
#include "reserve-shrink.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "kexec_syscall.h"
#include "loadseg.h"
#include "log.h"
#include "rootfs.h"

/* The setup code and its strings: at most 256 sectors of 512 bytes. */
#define KERNEL_HEADER_READ (256U * 512)
/* "elfcorehdr=0x<64-bit>": what the kernel appends to the command line (kexec-bzimage64.c). */
#define ELFCOREHDR_ARG_MAX 30
#define PAGE_SIZE_4K 4096ULL

void crash_image_done(struct crash_image *img)
{
	if (!img)
		return;
	free(img->kernel);
	free(img->initrd);
	free(img->cmdline);
	free(img->release);
	free(img->method);
	free(img->fallback);
	*img = (struct crash_image){};
}

static const char *sz(uint64_t bytes, char *buf, size_t len)
{
	return format_size(bytes, buf, len);
}

/* The bracketed mode of /sys/kernel/security/lockdown ("none [integrity] ..."), or NULL. */
static char *lockdown_mode(const char *root)
{
	_cleanup_free_ char *line = NULL;
	char *open, *close;

	if (root_read_line(root, "/sys/kernel/security/lockdown", &line) < 0)
		return NULL;
	open = strchr(line, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return NULL;
	*close = 0;
	return strdup(open + 1);
}

static bool is_segments(const struct crash_image *img)
{
	return img && img->method && streq(img->method, "segments");
}

const char *loadfile_method_name(const struct crash_image *img)
{
	return is_segments(img) ? "segments (kexec_load)" : "file (kexec_file_load)";
}

static void explain_eperm(const char *root, const struct crash_image *img, struct load_error *err)
{
	_cleanup_free_ char *mode = lockdown_mode(root);
	uint64_t disabled = 0;

	if (root_read_u64(root, "/proc/sys/kernel/kexec_load_disabled", 10, &disabled) >= 0 &&
	    disabled) {
		load_error_set(
			err, -EPERM,
			"kexec is disabled on this system (kernel.kexec_load_disabled = 1, "
			"which only a reboot clears): remove that sysctl setting and reboot");
		return;
	}
	if (mode && !streq(mode, "none") && is_segments(img)) {
		load_error_set(
			err, -EPERM,
			"the kernel refused kexec_load (EPERM): kernel lockdown is in '%s' mode "
			"(Secure Boot), which allows only kexec_file_load of a signed kernel: use "
			"load_method = file (or auto) with your distribution's signed kernel image",
			mode);
		return;
	}
	if (mode && !streq(mode, "none")) {
		load_error_set(
			err, -EPERM,
			"the kernel refused to load %s (EPERM): kernel lockdown is in '%s' mode "
			"(Secure Boot): only a kernel signed with a key the kernel trusts "
			"loads; use your distribution's signed kernel image",
			img && img->kernel ? img->kernel : "the crash kernel", mode);
		return;
	}
	if (geteuid() != 0) {
		load_error_set(
			err, -EPERM,
			"loading a crash kernel needs root (CAP_SYS_BOOT): run crashcapctl as root");
		return;
	}
	load_error_set(
		err, -EPERM,
		"the kernel refused the crash kernel (EPERM): this process lacks CAP_SYS_BOOT "
		"(a container or a sandboxed service?)");
}

void loadfile_explain(int error, const char *root, const struct crash_image *img,
		      const struct reservation *res, struct load_error *err)
{
	const char *kernel = img && img->kernel ? img->kernel : "the crash kernel";
	char a[32], b[32], c[32], d[32];

	switch (-error) {
	case EPERM:
		explain_eperm(root, img, err);
		break;
	case ENOEXEC:
		load_error_set(
			err, error,
			"the running kernel did not accept %s (ENOEXEC): it loads only an x86_64 "
			"bzImage it can relocate; use a kernel image from your distribution",
			kernel);
		break;
	case EKEYREJECTED:
	case ENOKEY:
	case EBADMSG:
	case ENODATA:
		load_error_set(
			err, error,
			"the signature of %s was rejected (%s): with Secure Boot or lockdown "
			"only kernels signed with a trusted key load; use your distribution's "
			"signed kernel image",
			kernel, strerrorname_np(-error));
		break;
	case EBUSY:
		load_error_set(
			err, error,
			"another program is loading or unloading a crash kernel right now "
			"(EBUSY): wait and retry (is kdump-tools or a second crashcapd running?)");
		break;
	case ENOMEM:
	case EADDRNOTAVAIL:
		if (img && img->reboot) {
			load_error_set(
				err, error,
				"the kernel could not stage %s for a kexec reboot (%s): free "
				"some memory or use a smaller initrd",
				kernel, strerrorname_np(-error));
			break;
		}
		load_error_set(
			err, error,
			"the crash kernel does not fit in the reserved memory (%s): kernel %s "
			"(needs %s to boot) + initrd %s, reserved %s: raise crashkernel= "
			"(e.g. crashkernel=384M) or make the initrd smaller",
			strerrorname_np(-error), sz(img ? img->kernel_size : 0, a, sizeof(a)),
			sz(img ? img->kernel_init_size : 0, b, sizeof(b)),
			sz(img ? img->initrd_size : 0, c, sizeof(c)),
			sz(res ? reservation_main_size(res) : 0, d, sizeof(d)));
		break;
	case EINVAL:
		load_error_set(err, error,
			       "the kernel rejected the load as invalid (EINVAL): check the crash "
			       "kernel command line (%zu bytes): %s",
			       img && img->cmdline ? strlen(img->cmdline) : 0,
			       img && img->cmdline ? img->cmdline : "");
		break;
	case ENOSYS:
		load_error_set(err, error,
			       "this kernel has no kexec_file_load (ENOSYS): it was built without "
			       "CONFIG_KEXEC_FILE");
		break;
	default:
		load_error_set(err, error, "kexec_file_load failed: %s", strerror(-error));
		break;
	}
}

/* A path of the running system: as given, else the setting under root, else root + fallback. */
static int resolve(const char *given, const char *setting, const char *root, const char *fallback,
		   char **ret)
{
	char *p;

	if (given)
		p = strdup(given);
	else
		return root_path(root, setting ? setting : fallback, ret);
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

static int open_input(const char *what, const char *path, uint64_t *ret_size,
		      struct load_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = negative_errno();
		if (r == -ENOENT)
			return load_error_set(err, r,
					      "%s %s does not exist: pass --%s PATH or set %s= in "
					      "crashcap.conf",
					      streq(what, "kernel") ? "kernel image" : "initrd",
					      path, what, what);
		return load_error_set(err, r, "cannot open %s %s: %s%s", what, path, strerror(-r),
				      r == -EACCES ? " (run as root)" : "");
	}
	if (fstat(fd, &st) < 0)
		return load_error_set(err, negative_errno(), "cannot stat %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return load_error_set(err, -EINVAL, "%s %s is not a regular file", what, path);
	*ret_size = st.st_size;
	return TAKE_FD(fd);
}

/* Opens and checks the kernel; fills img->kernel_size, kernel_init_size and bz. */
static int check_kernel(struct crash_image *img, struct kernel_probe *bz, struct load_error *err)
{
	_cleanup_free_ uint8_t *buf = malloc(KERNEL_HEADER_READ);
	_cleanup_close_ int fd = -1;
	const char *why = NULL;
	size_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	fd = open_input("kernel", img->kernel, &img->kernel_size, err);
	if (fd < 0)
		return fd;
	r = pread_full(fd, buf, KERNEL_HEADER_READ, 0, &n);
	if (r < 0)
		return load_error_set(err, r, "cannot read %s: %s", img->kernel, strerror(-r));
	r = loadfile_probe_kernel(buf, n, bz, &why);
	if (r < 0)
		return load_error_set(err, r, "%s is not a kernel that can be loaded: %s (ENOEXEC)",
				      img->kernel, why);
	img->kernel_init_size = bz->init_size;
	return 0;
}

static int build_initrd(const struct load_request *req, const struct settings *s,
			const char *release, char **ret, struct load_error *err)
{
	struct initrd_request ir = {
		.root = req->root,
		.settings = s,
		.release = release,
		.collector = req->collector,
	};

	return loadfile_build_initrd(&ir, ret, NULL, err);
}

/* A reboot kernel's initrd: as given, else root/boot/initrd.img-<release> when it exists. */
static int reboot_initrd(const struct load_request *req, const char *release, char **ret)
{
	_cleanup_free_ char *path = NULL, *rel = NULL;
	int r;

	if (req->no_initrd)
		return 0;
	if (req->initrd)
		return resolve(req->initrd, NULL, req->root, NULL, ret);
	if (asprintf(&rel, "/boot/initrd.img-%s", release) < 0)
		return -ENOMEM;
	r = root_path(req->root, rel, &path);
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0) {
		log_debug("no %s: the reboot kernel gets no initrd", path);
		return 0;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

/* Everything but the syscall: the image to load, checked against the reservation. */
static int prepare(const struct load_request *req, const struct settings *s,
		   struct crash_image *img, struct kernel_probe *bz, struct load_error *err)
{
	_cleanup_free_ char *running = NULL, *fallback = NULL;
	struct reservation res = {};
	uint64_t need, have;
	size_t extra;
	char a[32], b[32];
	int r = 0;

	img->reboot = req->reboot_kernel;
	r = loadfile_release(req->root, &running);
	if (r < 0)
		return load_error_set(err, r, "cannot find the running kernel's release: %s",
				      strerror(-r));
	if (asprintf(&fallback, "/boot/vmlinuz-%s", running) < 0)
		return -ENOMEM;
	r = resolve(req->kernel, img->reboot ? NULL : s->kernel, req->root, fallback, &img->kernel);
	if (r < 0)
		return r;
	r = check_kernel(img, bz, err);
	if (r < 0)
		return r;
	/* The initrd's modules must be the crash kernel's, which need not be the running one. */
	img->release = strdup(bz->release[0] ? bz->release : running);
	if (!img->release)
		return -ENOMEM;

	if (!img->reboot) {
		r = reservation_read(req->root, &res, err);
		if (r < 0)
			return r;
		if (reservation_total(&res) == 0)
			return load_error_set(err, -ENOMEM, NO_RESERVATION_MESSAGE);
	}

	if (img->reboot)
		r = reboot_initrd(req, img->release, &img->initrd);
	else if (req->no_initrd)
		img->initrd = NULL;
	else if (req->initrd || s->initrd)
		r = resolve(req->initrd, s->initrd, req->root, NULL, &img->initrd);
	else
		r = build_initrd(req, s, img->release, &img->initrd, err);
	if (r < 0)
		return r;
	if (img->initrd) {
		_cleanup_close_ int fd = open_input("initrd", img->initrd, &img->initrd_size, err);

		if (fd < 0)
			return fd;
	}

	if (img->reboot)
		r = loadfile_reboot_cmdline(req->root, req->append, &img->cmdline);
	else
		r = loadfile_cmdline(req->root, s->crash_args, s->crash_cpus, req->append,
				     &img->cmdline);
	if (r < 0)
		return r;
	extra = img->reboot ? 0 : ELFCOREHDR_ARG_MAX;
	if (bz->cmdline_size && strlen(img->cmdline) + extra > bz->cmdline_size) {
		if (img->reboot)
			return load_error_set(err, -E2BIG,
					      "the kernel command line is %zu bytes: %s takes at "
					      "most %u: shorten --append",
					      strlen(img->cmdline), img->kernel, bz->cmdline_size);
		return load_error_set(
			err, -E2BIG,
			"the crash kernel command line is %zu bytes: %s takes at most "
			"%u, and the kernel adds elfcorehdr= (up to %d): shorten "
			"crash_args or --append",
			strlen(img->cmdline), img->kernel, bz->cmdline_size, ELFCOREHDR_ARG_MAX);
	}
	if (img->reboot)
		return 0;

	/* What surely does not fit is refused here, before the loaded image is freed. */
	need = ALIGN_UP((uint64_t)bz->init_size, PAGE_SIZE_4K) +
	       ALIGN_UP(img->initrd_size, PAGE_SIZE_4K);
	have = reservation_main_size(&res);
	if (have && need > have) {
		loadfile_explain(-ENOMEM, req->root, img, &res, err);
		return -ENOMEM;
	}
	log_debug("crash image needs at least %s of %s reserved", sz(need, a, sizeof(a)),
		  sz(have, b, sizeof(b)));
	return 0;
}

static int load_file(const char *root, struct crash_image *img, struct load_error *err)
{
	_cleanup_close_ int kfd = -1, ifd = -1;
	struct reservation res = {};
	uint64_t size;
	int r;

	kfd = open_input("kernel", img->kernel, &size, err);
	if (kfd < 0)
		return kfd;
	if (img->initrd) {
		ifd = open_input("initrd", img->initrd, &size, err);
		if (ifd < 0)
			return ifd;
	}
	img->flags = (img->reboot ? 0 : KEXEC_FILE_ON_CRASH) |
		     (img->initrd ? 0 : KEXEC_FILE_NO_INITRAMFS);
	r = sys_kexec_file_load(kfd, ifd, img->cmdline, img->flags);
	if (r < 0) {
		if (!img->reboot)
			(void)reservation_read(root, &res, NULL);
		loadfile_explain(r, root, img, &res, err);
		return r;
	}
	img->time = time(NULL);
	return 0;
}

/* Whether the crash kernel will talk on the first serial port: the purgatory may then too. */
static bool serial_console(const char *cmdline)
{
	for (const char *p = strstr(cmdline, "console=ttyS0"); p;
	     p = strstr(p + 1, "console=ttyS0"))
		if ((p == cmdline || p[-1] == ' ') && (p[13] == 0 || p[13] == ' ' || p[13] == ','))
			return true;
	return false;
}

static int load_segments(const char *root, struct crash_image *img, struct load_error *err)
{
	_cleanup_free_ char *why = NULL;
	struct loadseg_options o = {
		.root = root,
		.cmdline = img->cmdline,
		/* Taken only where the kernel can rewrite the header (crash_elfcorehdr_size). */
		.hotplug = !img->reboot,
		.reboot = img->reboot,
		.purgatory_verbose = serial_console(img->cmdline),
	};
	unsigned long flags = 0;
	int r;

	r = loadseg_load_files(&o, img->kernel, img->initrd, &flags, &why);
	if (r == -EPERM) {
		explain_eperm(root, img, err);
		return r;
	}
	if (r < 0)
		return load_error_set(err, r, "%s", why ? why : strerror(-r));
	img->flags = flags;
	img->time = time(NULL);
	return 0;
}

int loadfile_load_image(const char *root, struct crash_image *img, struct load_error *err)
{
	return is_segments(img) ? load_segments(root, img, err) : load_file(root, img, err);
}

static int set_method(struct crash_image *img, const char *method)
{
	free(img->method);
	img->method = strdup(method);
	return img->method ? 0 : -ENOMEM;
}

/*
 * load_method = auto: kexec_file_load unless the kernel cannot load this
 * image that way, then kexec_load. Lockdown and signature errors stop here:
 * kexec_load would be refused for the same reason.
 */
static int load_auto(const char *root, struct crash_image *img, const struct kernel_probe *bz,
		     struct load_error *err)
{
	struct load_error file_err = {}, seg_err = {};
	int r;

	if (bz->file_refusal) {
		img->fallback = strdup(bz->file_refusal);
		if (!img->fallback)
			return -ENOMEM;
	} else {
		r = set_method(img, "file");
		if (r < 0)
			return r;
		r = load_file(root, img, &file_err);
		if (r != -ENOSYS && r != -ENOEXEC) {
			if (r < 0 && err)
				*err = file_err;
			return r;
		}
		if (asprintf(&img->fallback, "kexec_file_load refused it (%s)",
			     strerrorname_np(-r)) < 0) {
			img->fallback = NULL;
			return -ENOMEM;
		}
	}
	log_debug("%s: %s: loading it with kexec_load (segments) instead", img->kernel,
		  img->fallback);
	r = set_method(img, "segments");
	if (r < 0)
		return r;
	r = load_segments(root, img, &seg_err);
	if (r < 0)
		load_error_set(err, r, "%s: %s, and kexec_load could not load it either: %s",
			       img->kernel, img->fallback, seg_err.message);
	return r;
}

int loadfile_load(const struct load_request *req, struct crash_image *ret, struct load_error *err)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	const struct settings *s = req->settings;
	struct settings defaults;
	struct kernel_probe bz;
	int r;

	settings_init(&defaults);
	if (!s)
		s = &defaults;
	r = prepare(req, s, &img, &bz, err);
	/* Before the syscall: the kernel shrinks the reservation only while nothing is loaded. */
	if (r >= 0 && !img.reboot)
		(void)reserve_shrink(req->root, s, img.kernel, img.initrd);
	if (r >= 0 && s->load_method == LOAD_METHOD_FILE) {
		r = set_method(&img, "file");
		if (r >= 0 && bz.file_refusal)
			r = load_error_set(err, -ENOEXEC,
					   "%s cannot be loaded with load_method = file: %s: use "
					   "load_method = segments or auto",
					   img.kernel, bz.file_refusal);
		if (r >= 0)
			r = load_file(req->root, &img, err);
	} else if (r >= 0 && s->load_method == LOAD_METHOD_SEGMENTS) {
		r = set_method(&img, "segments");
		if (r >= 0)
			r = load_segments(req->root, &img, err);
	} else if (r >= 0)
		r = load_auto(req->root, &img, &bz, err);
	settings_done(&defaults);
	if (r < 0)
		return r;
	*ret = img;
	img = (struct crash_image){};
	return 0;
}

static int unload(const char *root, bool reboot, struct load_error *err)
{
	_cleanup_free_ char *why = NULL;
	int r;

	r = sys_kexec_file_load(-1, -1, NULL,
				KEXEC_FILE_UNLOAD | (reboot ? 0 : KEXEC_FILE_ON_CRASH));
	if (r == -ENOSYS) {
		/* A kernel without kexec_file_load: what is loaded came through kexec_load. */
		r = loadseg_unload(reboot, &why);
		if (r < 0)
			return load_error_set(err, r, "%s", why ? why : strerror(-r));
		return 0;
	}
	if (r < 0) {
		loadfile_explain(r, root, NULL, NULL, err);
		return r;
	}
	return 0;
}

int loadfile_unload(const char *root, struct load_error *err)
{
	return unload(root, false, err);
}

int loadfile_unload_reboot(const char *root, struct load_error *err)
{
	return unload(root, true, err);
}
