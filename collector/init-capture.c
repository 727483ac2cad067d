// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /init's work once the target is mounted: name and create the dump's
 * directory, write the dump, the dead kernel's log and summary.json, and
 * make sure all of it is on disk before the machine reboots.
 */
#include "init-steps.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "collect.h"
#include "dmesg.h"
#include "log.h"
#include "utsname.h"

double init_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void crash_info_done(struct crash_info *ci)
{
	if (!ci)
		return;
	free(ci->release);
	free(ci->hostname);
	free(ci->panic);
	*ci = (struct crash_info){};
}

/* The dead kernel's nodename, or NULL when it had none (or it cannot be read). */
static char *read_hostname(struct dump *d)
{
	struct kdump_utsname u;

	if (dump_read_utsname(d, &u) < 0)
		return NULL;
	/* "(none)" is the kernel's default: no hostname was ever set. */
	if (!u.nodename[0] || streq(u.nodename, "(none)"))
		return NULL;
	return strdup(u.nodename);
}

int init_crash_info(struct dump *d, struct crash_info *ret)
{
	const struct vmcoreinfo *vi = d ? dump_vmcoreinfo(d) : NULL;
	struct crash_info ci = { .crash_time = time(NULL) };
	const char *v;
	uint64_t t;

	if (vi) {
		v = vmcoreinfo_osrelease(vi);
		if (v && *v && !(ci.release = strdup(v)))
			return -ENOMEM;
		v = vmcoreinfo_get(vi, "CRASHTIME");
		if (v && parse_u64(v, 10, &t) >= 0 && t <= INT64_MAX) {
			ci.crash_time = (int64_t)t;
			ci.crash_time_from_dump = true;
		}
		ci.hostname = read_hostname(d);
	}
	if (d && dmesg_find_panic(d, &ci.panic) < 0)
		ci.panic = NULL;
	*ret = ci;
	return 0;
}

int init_dump_dir_name(int64_t crash_time, const char *release, char **ret)
{
	_cleanup_free_ char *rel = strdup(release && *release ? release : "unknown");
	time_t t = (time_t)crash_time;
	char stamp[32];
	struct tm tm;

	if (!rel)
		return -ENOMEM;
	/* The release names a directory: no separators, nothing hidden. */
	for (char *p = rel; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			*p = '_';
	if (!gmtime_r(&t, &tm) || strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H:%M:%S", &tm) == 0)
		return -EINVAL;
	return asprintf(ret, "%s-%s", stamp, rel) < 0 ? -ENOMEM : 0;
}

/* Creates path's directories after the first skip bytes (the target, which must exist). */
static int mkdir_below(char *path, size_t skip)
{
	struct stat st;
	char saved = path[skip];

	path[skip] = 0;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		path[skip] = saved;
		return -ENOENT;
	}
	path[skip] = saved;
	return mkdir_p(path, 0755);
}

int init_make_output_dir(const char *target_root, const char *path, const char *name,
			 char **ret_dir)
{
	_cleanup_free_ char *base = NULL;
	int r;

	if (!path || path[0] != '/' || strchr(name, '/') || !*target_root)
		return -EINVAL;
	if (asprintf(&base, "%s%s%scrashcap", target_root, path,
		     path[strlen(path) - 1] == '/' ? "" : "/") < 0)
		return -ENOMEM;
	r = mkdir_below(base, strlen(target_root));
	if (r < 0)
		return log_debug_errno(r, "Cannot create %s: %m", base);
	for (unsigned i = 1; i < 1000; i++) {
		_cleanup_free_ char *dir = NULL;

		if ((i == 1 ? asprintf(&dir, "%s/%s", base, name) :
			      asprintf(&dir, "%s/%s-%u", base, name, i)) < 0)
			return -ENOMEM;
		/* The memory of the dead kernel: for root only. */
		if (mkdir(dir, 0700) == 0) {
			*ret_dir = TAKE_PTR(dir);
			return 0;
		}
		if (errno != EEXIST)
			return log_debug_errno(negative_errno(), "Cannot create %s: %m", dir);
	}
	return -EEXIST;
}

void init_capture_done(struct init_capture *c)
{
	if (!c)
		return;
	free(c->dir);
	*c = (struct init_capture){};
}

static int fsync_path(const char *path, int flags)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | flags);

	if (fd < 0 || fsync(fd) < 0)
		return negative_errno();
	return 0;
}

static void capture_error(struct init_capture *c, int r, const char *fmt, ...) _printf_(3, 4);

/* Keeps the first error: it is what the summary and the console line report. */
static void capture_error(struct init_capture *c, int r, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->error[0])
		snprintf(c->error, sizeof(c->error), "%s: %s", what, strerror(r < 0 ? -r : r));
	log_error_errno(r, "%s: %m", what);
}

static int write_dmesg(struct dump *d, const char *dir)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	int fd, r;

	if (asprintf(&path, "%s/dmesg.txt", dir) < 0)
		return -ENOMEM;
	/* The kernel's log can hold secrets as much as its memory: root only. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return negative_errno();
	f = fdopen(fd, "w");
	if (!f) {
		r = negative_errno();
		close(fd);
		(void)unlink(path);
		return r;
	}
	r = dmesg_write(d, f);
	if (r >= 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
		r = negative_errno();
	if (r < 0) {
		(void)unlink(path);
		return r;
	}
	return 0;
}

/* collect_dump() into vmcore.incomplete; renamed to vmcore only once complete and on disk. */
static int save_vmcore(const struct settings *s, const char *vmcore, const char *dir,
		       uint64_t inflight_bytes, struct collect_result *res, struct summary *sum,
		       struct init_capture *c)
{
	_cleanup_free_ char *partial = NULL, *final = NULL;
	struct collect_options o = {
		.vmcore_path = vmcore,
		.dump_level = s->dump_level,
		.compression = s->compression,
		.zstd_level = s->zstd_level,
		.threads = s->threads,
		.progress = true,
		.inflight_bytes = inflight_bytes,
	};
	int r;

	if (asprintf(&partial, "%s/vmcore.incomplete", dir) < 0 ||
	    asprintf(&final, "%s/vmcore", dir) < 0)
		return -ENOMEM;
	o.output_path = partial;
	r = collect_dump(&o, res);
	if (r < 0) {
		capture_error(c, r, "Cannot save the dump");
		return r;
	}
	sum->dump_level_applied = res->dump_level;
	sum->dump_file = "vmcore.incomplete";
	r = fsync_path(partial, 0);
	if (r < 0) {
		capture_error(c, r, "Cannot flush %s", partial);
		res->incomplete = true;
	}
	if (res->write_error < 0)
		capture_error(c, res->write_error, "Writing the dump stopped early");
	else if (res->incomplete && !c->error[0])
		snprintf(c->error, sizeof(c->error),
			 "the vmcore is incomplete: %" PRIu64 " pages could not be read",
			 res->pages_unreadable);
	if (res->incomplete)
		return 0;
	if (rename(partial, final) < 0) {
		r = negative_errno();
		capture_error(c, r, "Cannot rename %s to vmcore", partial);
		res->incomplete = true;
		return 0;
	}
	sum->dump_file = "vmcore";
	return 0;
}

int init_capture_dump(const struct settings *s, const char *vmcore, const char *target_root,
		      double start, struct init_capture *ret)
{
	return init_capture_dump_bounded(s, vmcore, target_root, start, 0, ret);
}

int init_capture_dump_bounded(const struct settings *s, const char *vmcore, const char *target_root,
			      double start, uint64_t inflight_bytes, struct init_capture *ret)
{
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_(crash_info_done) struct crash_info ci = {};
	_cleanup_free_ char *name = NULL, *summary_path = NULL;
	struct init_capture c = { .result = SUMMARY_FAILED };
	struct collect_result res = {};
	struct summary sum;
	double t0;
	int r;

	r = dump_open(vmcore, &d);
	if (r < 0)
		log_error_errno(r, "Cannot read %s: %m", vmcore);
	r = init_crash_info(d, &ci);
	if (r >= 0)
		r = init_dump_dir_name(ci.crash_time, ci.release, &name);
	if (r >= 0)
		r = init_make_output_dir(target_root, s->path, name, &c.dir);
	if (r < 0)
		return log_error_errno(r, "Cannot create the dump directory under %s%s: %m",
				       target_root, s->path);

	sum = (struct summary){
		.kernel_release = ci.release,
		.hostname = ci.hostname,
		.crash_time = ci.crash_time,
		.crash_time_from_dump = ci.crash_time_from_dump,
		.panic_message = ci.panic,
		.dump_level_asked = s->dump_level,
		.dump_level_applied = -1,
		.compression = s->compression,
	};
	if (!d)
		capture_error(&c, -ENOENT, "No vmcore to read at %s", vmcore);
	else {
		log_info("phase: writing the dump to %s", c.dir + strlen(target_root));
		t0 = init_now();
		if (save_vmcore(s, vmcore, c.dir, inflight_bytes, &res, &sum, &c) >= 0)
			c.result = res.incomplete ? SUMMARY_INCOMPLETE : SUMMARY_OK;
		if (res.fallback[0])
			log_warning("dump level %d asked, %d applied: %s", s->dump_level,
				    res.dump_level, res.fallback);
		c.dump_seconds = init_now() - t0;
		c.output_bytes = res.output_bytes;
		log_info("phase: writing dmesg.txt");
		r = write_dmesg(d, c.dir);
		if (r < 0)
			log_warning_errno(r, "Cannot write dmesg.txt: %m");
	}

	sum.ram_bytes = res.ram_bytes;
	sum.pages_total = res.pages_total;
	sum.pages_written = res.pages_written;
	sum.pages_zero = res.pages_zero;
	sum.pages_unreadable = res.pages_unreadable;
	sum.pages_nodata = res.pages_nodata;
	sum.excluded = &res.excluded;
	sum.level_fallback = res.fallback[0] ? res.fallback : NULL;
	sum.threads = res.threads;
	sum.output_bytes = res.output_bytes;
	sum.dump_seconds = c.dump_seconds;
	sum.incomplete = c.result == SUMMARY_INCOMPLETE;
	sum.result = c.result;
	sum.error = c.error[0] ? c.error : NULL;
	sum.peak_rss_bytes = summary_peak_rss_bytes();
	sum.total_seconds = init_now() - start;
	if (asprintf(&summary_path, "%s/summary.json", c.dir) < 0)
		return -ENOMEM;
	r = summary_write_file(&sum, summary_path);
	if (r < 0)
		log_error_errno(r, "Cannot write %s: %m", summary_path);
	/* The directory's entries, and its own entry in crashcap/. */
	r = fsync_path(c.dir, O_DIRECTORY);
	if (r >= 0) {
		*strrchr(c.dir, '/') = 0;
		r = fsync_path(c.dir, O_DIRECTORY);
		c.dir[strlen(c.dir)] = '/';
	}
	if (r < 0)
		log_warning_errno(r, "Cannot flush %s: %m", c.dir);
	*ret = c;
	return 0;
}
