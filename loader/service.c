// SPDX-License-Identifier: GPL-2.0-or-later
#include "service.h"

#include <fcntl.h>
#include <inttypes.h>
#include <time.h>

#include "dumps.h"
#include "iomem.h"
#include "kexec_syscall.h"
#include "log.h"
#include "manifest.h"
#include "retention.h"
#include "rootfs.h"
#include "sha256.h"

#define KERNEL_HEADER_READ (256U * 512)

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * The load syscalls, timed: a table wrapped around whatever is installed
 * (the real calls, or a fixture's fakes) for the length of one load. The
 * seam's table is process-wide, so this record is too.
 */
static struct {
	const struct kexec_syscall_ops *next;
	unsigned calls;
	uint64_t first_start, last_end;
} timed;

static int timed_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags)
{
	uint64_t t = now_usec();
	int r;

	if (!timed.calls++)
		timed.first_start = t;
	r = timed.next->kexec_file_load ?
		    timed.next->kexec_file_load(kernel_fd, initrd_fd, cmdline, flags) :
		    -ENOSYS;
	timed.last_end = now_usec();
	return r;
}

static int timed_load(unsigned long entry, unsigned long nr_segments,
		      const struct kexec_segment *segments, unsigned long flags)
{
	uint64_t t = now_usec();
	int r;

	if (!timed.calls++)
		timed.first_start = t;
	r = timed.next->kexec_load ? timed.next->kexec_load(entry, nr_segments, segments, flags) :
				     -ENOSYS;
	timed.last_end = now_usec();
	return r;
}

static int timed_reboot(int cmd)
{
	return timed.next->reboot ? timed.next->reboot(cmd) : -ENOSYS;
}

static int timed_finit_module(int fd, const char *params, int flags)
{
	return timed.next->finit_module ? timed.next->finit_module(fd, params, flags) : -ENOSYS;
}

/* Not timed: the shrink (reservation_shrink) happens before the load, nothing is unloaded. */
static int timed_crash_size_write(uint64_t bytes)
{
	return timed.next->crash_size_write ? timed.next->crash_size_write(bytes) : -EOPNOTSUPP;
}

static const struct kexec_syscall_ops timed_ops = {
	.kexec_file_load = timed_file_load,
	.kexec_load = timed_load,
	.reboot = timed_reboot,
	.finit_module = timed_finit_module,
	.crash_size_write = timed_crash_size_write,
};

static void timer_start(void)
{
	timed.calls = 0;
	timed.first_start = timed.last_end = 0;
	timed.next = kexec_syscall_set_ops(&timed_ops);
}

static void timer_stop(void)
{
	kexec_syscall_set_ops(timed.next);
	timed.next = NULL;
}

int service_fingerprint(const char *root, char ret[65])
{
	static const char *const cpus[] = { "/sys/devices/system/cpu/present",
					    "/sys/devices/system/cpu/possible" };
	_cleanup_(iomem_done) struct iomem m = {};
	const struct iomem_range *range;
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	int r;

	r = iomem_read(root, &m, NULL);
	if (r < 0)
		return r;
	sha256_init(&ctx);
	iomem_foreach(range, &m)
		if (streq(range->name, "System RAM")) {
			uint64_t be[2] = { range->start, range->end };

			sha256_update(&ctx, be, sizeof(be));
		}
	for (size_t i = 0; i < ELEMENTSOF(cpus); i++) {
		_cleanup_free_ char *line = NULL;

		if (root_read_line(root, cpus[i], &line) >= 0)
			sha256_update(&ctx, line, strlen(line));
		sha256_update(&ctx, "\n", 1);
	}
	sha256_final(&ctx, d);
	sha256_hex(d, ret);
	return 0;
}

void service_init(struct service *svc, const char *root, const char *config, const char *collector)
{
	*svc = (struct service){ .root = root, .config = config, .collector = collector };
}

void service_done(struct service *svc)
{
	if (!svc)
		return;
	if (svc->have_settings)
		settings_done(&svc->settings);
	crash_image_done(&svc->good);
	*svc = (struct service){};
}

bool service_crash_loaded(const char *root)
{
	uint64_t v = 0;

	return root_read_u64(root, "/sys/kernel/kexec_crash_loaded", 10, &v) >= 0 && v;
}

int service_read_settings(struct service *svc, struct settings *ret)
{
	struct config_error err = {};
	struct settings s;
	int r;

	svc->error[0] = 0;
	settings_init(&s);
	r = settings_load(&s, svc->root, svc->config, &err);
	if (r < 0) {
		settings_done(&s);
		if (r == -ENOMEM)
			return log_error_errno(r, "cannot read the settings: %m");
		config_error_format(&err, svc->error, sizeof(svc->error));
		return log_error_errno(r, "%s", svc->error);
	}
	*ret = s;
	return 0;
}

/* The crash kernel these settings load, and its release (for the initramfs' modules). */
static int crash_kernel(const struct service *svc, const struct settings *s, char **ret_path,
			char **ret_release)
{
	_cleanup_free_ char *running = NULL, *rel = NULL, *path = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct kernel_probe bz = {};
	const char *why = NULL;
	size_t n = 0;
	int r;

	r = loadfile_release(svc->root, &running);
	if (r < 0)
		return r;
	if (!s->kernel && asprintf(&rel, "/boot/vmlinuz-%s", running) < 0)
		return -ENOMEM;
	r = root_path(svc->root, s->kernel ? s->kernel : rel, &path);
	if (r < 0)
		return r;
	buf = malloc(KERNEL_HEADER_READ);
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	r = pread_full(fd, buf, KERNEL_HEADER_READ, 0, &n);
	if (r < 0)
		return r;
	r = loadfile_probe_kernel(buf, n, &bz, &why);
	if (r < 0)
		return r;
	*ret_release = strdup(bz.release[0] ? bz.release : running);
	if (!*ret_release)
		return -ENOMEM;
	*ret_path = TAKE_PTR(path);
	return 0;
}

/* A crash initramfs for one load: the one to load, and a newly built one to keep if it loads. */
struct initrd_plan {
	char *kernel; /* NULL: loadfile finds it (and says what is wrong with it) */
	char *path; /* ROOT/var/lib/crashcap/initrd-<release>.img; NULL: settings->initrd */
	char *building; /* path + ".new" when built for this load, else NULL */
	struct manifest manifest;
};

static void initrd_plan_done(struct initrd_plan *p)
{
	if (p->building)
		(void)unlink(p->building);
	free(p->kernel);
	free(p->path);
	free(p->building);
	*p = (struct initrd_plan){};
}

/*
 * Builds the crash initramfs when it is missing or one of its inputs
 * changed since it was built; never over the one the loaded image came
 * from: a new one is built beside it and takes its place once loaded.
 */
static int plan_initrd(struct service *svc, const struct settings *s, struct initrd_plan *p)
{
	_cleanup_free_ char *release = NULL, *dir = NULL, *mpath = NULL, *built = NULL;
	struct manifest old = {};
	struct manifest_inputs in;
	struct initramfs_result res = {};
	struct load_error err = {};
	char size[32];
	int r, diff;

	r = crash_kernel(svc, s, &p->kernel, &release);
	if (r < 0) {
		/* loadfile_load() checks the kernel again and says what is wrong. */
		log_debug_errno(r, "cannot probe the crash kernel: %m");
		return 0;
	}
	if (s->initrd)
		return 0;
	r = root_path(svc->root, CRASHCAP_STATE_DIR, &dir);
	if (r < 0)
		return r;
	if (asprintf(&p->path, "%s/initrd-%s.img", dir, release) < 0 ||
	    asprintf(&mpath, "%s.manifest", p->path) < 0)
		return -ENOMEM;
	in = (struct manifest_inputs){
		.root = svc->root,
		.kernel = p->kernel,
		.collector = loadfile_collector(svc->collector),
		.settings = s,
		.release = release,
	};
	r = manifest_compute(&in, &p->manifest);
	if (r < 0)
		return log_error_errno(r, "cannot read the crash initramfs' inputs: %m");
	r = manifest_read(mpath, &old);
	diff = r < 0 ? 0 : manifest_diff(&p->manifest, &old);
	if (diff < 0 && access(p->path, R_OK) == 0) {
		log_info("crash initramfs %s is up to date", p->path);
		return 0;
	}
	if (access(p->path, F_OK) < 0)
		log_info("building the crash initramfs %s", p->path);
	else
		log_info("building the crash initramfs again: its %s changed",
			 r < 0 ? "manifest is missing, so anything may have" :
				 manifest_input_to_string(diff));
	if (asprintf(&p->building, "%s.new", p->path) < 0)
		return -ENOMEM;
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "cannot create %s: %m", dir);
	r = loadfile_build_initrd(
		&(struct initrd_request){
			.root = svc->root,
			.settings = s,
			.output = p->building,
			.release = release,
			.collector = svc->collector,
		},
		&built, &res, &err);
	if (r < 0) {
		free(p->building);
		p->building = NULL;
		return log_error_errno(r, "%s", err.message[0] ? err.message : "cannot build: %m");
	}
	svc->stats.builds++;
	log_info("built the crash initramfs (%s, %zu kernel module%s)",
		 format_size(res.size, size, sizeof(size)), res.nr_modules,
		 res.nr_modules == 1 ? "" : "s");
	return 0;
}

/* The new initramfs loaded: it takes the place of the old one, with its manifest. */
static void keep_initrd(struct initrd_plan *p, struct crash_image *img)
{
	_cleanup_free_ char *mpath = NULL;

	if (!p->building)
		return;
	if (rename(p->building, p->path) < 0) {
		log_warning_errno(negative_errno(), "cannot rename %s: %m", p->building);
		return;
	}
	free(p->building);
	p->building = NULL;
	free(img->initrd);
	img->initrd = strdup(p->path);
	if (asprintf(&mpath, "%s.manifest", p->path) >= 0 &&
	    manifest_write(mpath, &p->manifest) < 0)
		log_warning("cannot write %s: the initramfs will be built again next time", mpath);
}

static void record_loaded(struct service *svc, struct crash_image *img)
{
	crash_image_done(&svc->good);
	svc->good = *img;
	*img = (struct crash_image){};
	svc->loaded = true;
	svc->stats.loads++;
	if (loaded_state_write(svc->root, &svc->good) < 0)
		log_warning("cannot write %s", LOADED_STATE_PATH);
}

static void record_gap(struct service *svc, uint64_t usec)
{
	svc->stats.gap_known = true;
	svc->stats.last_gap_usec = usec;
	svc->stats.max_gap_usec = MAX(svc->stats.max_gap_usec, usec);
}

/*
 * One load with settings s. what: "start", "reload (SIGHUP)"... On
 * failure after the old image was freed, the last good image goes back.
 */
static int load(struct service *svc, const struct settings *s, const char *what)
{
	_cleanup_(initrd_plan_done) struct initrd_plan plan = {};
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {}, err2 = {};
	struct load_request req;
	bool had = svc->loaded && service_crash_loaded(svc->root);
	char fingerprint[65];
	uint64_t gap_start;
	unsigned calls;
	char ms[32] = "";
	int r, q;

	r = plan_initrd(svc, s, &plan);
	if (r < 0)
		return r; /* logged; no syscall was made */
	if (service_fingerprint(svc->root, fingerprint) < 0)
		fingerprint[0] = 0;
	req = (struct load_request){
		.root = svc->root,
		.settings = s,
		.kernel = plan.kernel,
		.initrd = plan.building ? plan.building : plan.path,
		.collector = svc->collector,
	};
	timer_start();
	r = loadfile_load(&req, &img, &err);
	timer_stop();
	calls = timed.calls;
	gap_start = timed.first_start;
	if (r >= 0) {
		keep_initrd(&plan, &img);
		if (had) {
			record_gap(svc, timed.last_end - gap_start);
			snprintf(ms, sizeof(ms), "%.1f ms", svc->stats.last_gap_usec / 1000.0);
		}
		log_info("%s: crash kernel loaded: %s with %s, method %s%s%s", what, img.kernel,
			 img.initrd ? img.initrd : "no initrd", loadfile_method_name(&img),
			 had ? "; without a crash kernel for " : "", had ? ms : "");
		record_loaded(svc, &img);
		memcpy(svc->fingerprint, fingerprint, sizeof(svc->fingerprint));
		return 0;
	}
	log_error_errno(r, "%s: %s", what, err.message[0] ? err.message : "load failed: %m");
	if (!had)
		return r;
	if (calls == 0 || service_crash_loaded(svc->root)) {
		/* Refused before the syscall, or by the kernel before it freed anything. */
		log_notice("%s: the previous crash kernel %s stays loaded", what, svc->good.kernel);
		return r;
	}
	timer_start();
	q = loadfile_load_image(svc->root, &svc->good, &err2);
	timer_stop();
	if (q < 0) {
		log_error("%s: loading the previous crash kernel %s again failed too: %s; no crash "
			  "kernel is loaded",
			  what, svc->good.kernel, err2.message);
		svc->loaded = false;
		(void)loaded_state_remove(svc->root);
		return r;
	}
	record_gap(svc, timed.last_end - gap_start);
	log_notice("%s: loaded the previous crash kernel %s again; without a crash kernel for "
		   "%.1f ms",
		   what, svc->good.kernel, svc->stats.last_gap_usec / 1000.0);
	/* The old image, loaded again now, covers what is there now. */
	memcpy(svc->fingerprint, fingerprint, sizeof(svc->fingerprint));
	svc->stats.fallbacks++;
	svc->stats.loads++;
	if (loaded_state_write(svc->root, &svc->good) < 0)
		log_warning("cannot write %s", LOADED_STATE_PATH);
	return r;
}

/* A crash kernel crashcap loaded earlier (loaded.json) is the fallback until this one loads. */
static void adopt_loaded(struct service *svc)
{
	struct crash_image img = {};

	if (svc->loaded || !service_crash_loaded(svc->root))
		return;
	if (loaded_state_read(svc->root, &img) < 0) {
		log_notice("a crash kernel is loaded, but not by crashcap (no %s): loading ours",
			   LOADED_STATE_PATH);
		return;
	}
	if (img.reboot) {
		crash_image_done(&img);
		return;
	}
	crash_image_done(&svc->good);
	svc->good = img;
	svc->loaded = true;
}

static void apply_retention(const struct service *svc, const struct settings *s)
{
	_cleanup_free_ char *dir = NULL, *error = NULL;
	struct retention_result res = {};
	char a[32];
	int r;

	if (!s->keep_dumps && !s->max_dumps_size)
		return;
	r = dumps_location(svc->root, s, &dir, &error);
	if (r < 0) {
		log_notice("retention: skipped: %s", error ? error : strerror(-r));
		return;
	}
	r = retention_apply(dir, s->keep_dumps, s->max_dumps_size, &res);
	if (r < 0) {
		log_warning_errno(r, "retention: cannot read %s: %m", dir);
		return;
	}
	if (res.removed || res.failed)
		log_info("retention: removed %u dump%s (%s freed), %u kept in %s", res.removed,
			 res.removed == 1 ? "" : "s", format_size(res.freed, a, sizeof(a)),
			 res.kept, dir);
}

int service_start(struct service *svc)
{
	struct settings s;
	struct reservation res = {};
	struct load_error err = {};
	int r;

	r = service_read_settings(svc, &s);
	if (r < 0)
		return r;
	if (svc->have_settings)
		settings_done(&svc->settings);
	svc->settings = s;
	svc->have_settings = true;

	r = reservation_read(svc->root, &res, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);
	if (reservation_total(&res) == 0)
		return log_error_errno(-ENOMEM, NO_RESERVATION_MESSAGE);
	apply_retention(svc, &svc->settings);
	adopt_loaded(svc);
	r = load(svc, &svc->settings, "start");
	/* A crash kernel crashcap loaded before is still (or again) loaded: run with it. */
	if (r < 0 && svc->loaded && service_crash_loaded(svc->root)) {
		log_warning("start: running with the crash kernel %s loaded before",
			    svc->good.kernel);
		return 0;
	}
	return r;
}

int service_reload(struct service *svc, const char *reason, bool reread_config)
{
	_cleanup_free_ char *what = NULL;
	struct settings s;
	int r;

	if (asprintf(&what, "reload (%s)", reason) < 0)
		return -ENOMEM;
	adopt_loaded(svc);
	svc->stats.reloads++;
	if (reread_config || !svc->have_settings) {
		r = service_read_settings(svc, &s);
		if (r < 0) {
			svc->stats.failed_reloads++;
			if (svc->loaded)
				log_notice(
					"%s: the settings have an error; the crash kernel %s stays "
					"loaded as it was",
					what, svc->good.kernel);
			return r;
		}
	} else {
		r = settings_copy(&s, &svc->settings);
		if (r < 0)
			return r;
	}
	r = load(svc, &s, what);
	if (r < 0) {
		svc->stats.failed_reloads++;
		settings_done(&s);
		return r;
	}
	if (svc->have_settings)
		settings_done(&svc->settings);
	svc->settings = s;
	svc->have_settings = true;
	return 0;
}

int service_stop(struct service *svc)
{
	struct load_error err = {};
	int r;

	if (svc->have_settings && svc->settings.keep_loaded_on_stop) {
		log_info("keep_loaded_on_stop = yes: the crash kernel stays loaded");
		return 0;
	}
	if (!service_crash_loaded(svc->root) && !svc->loaded)
		return 0;
	r = loadfile_unload(svc->root, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);
	svc->loaded = false;
	(void)loaded_state_remove(svc->root);
	log_info("crash kernel unloaded");
	return 0;
}

void service_status(const struct service *svc, char *buf, size_t len)
{
	int n;

	if (!svc->loaded) {
		snprintf(buf, len, "no crash kernel loaded");
		return;
	}
	n = snprintf(buf, len, "crash kernel loaded: %s", svc->good.kernel);
	if (n >= 0 && (size_t)n < len && svc->good.initrd)
		n += snprintf(buf + n, len - n, " with %s", svc->good.initrd);
	if (n >= 0 && (size_t)n < len && svc->stats.reloads)
		n += snprintf(buf + n, len - n, "; %u reload%s, %u failed", svc->stats.reloads,
			      svc->stats.reloads == 1 ? "" : "s", svc->stats.failed_reloads);
	if (n >= 0 && (size_t)n < len && svc->stats.gap_known)
		snprintf(buf + n, len - n, "; last reload without a crash kernel for %.1f ms",
			 svc->stats.last_gap_usec / 1000.0);
}
