// SPDX-License-Identifier: GPL-2.0-or-later
#include "dumps.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <time.h>

#include "jsonflat.h"
#include "log.h"
#include "rootfs.h"

#define SUMMARY_MAX (1U << 20)
/* "2024-01-31-23:59:59-": what init_dump_dir_name() puts before the release. */
#define NAME_TIME_LEN 20

static void dump_info_done(struct dump_info *d)
{
	free(d->name);
	free(d->path);
	free(d->kernel_release);
	free(d->hostname);
	free(d->panic_message);
	free(d->dump_file);
	*d = (struct dump_info){};
}

void dump_list_done(struct dump_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		dump_info_done(&l->dumps[i]);
	free(l->dumps);
	*l = (struct dump_list){};
}

const char *dump_state_to_string(enum dump_state s)
{
	switch (s) {
	case DUMP_COMPLETE:
		return "complete";
	case DUMP_INCOMPLETE:
		return "incomplete";
	case DUMP_FAILED:
		return "failed";
	case DUMP_UNFINISHED:
	default:
		return "unfinished";
	}
}

/* The time in a dump directory's name; -EINVAL for a name that is not a dump's. */
static int name_time(const char *name, int64_t *ret)
{
	struct tm tm = {};
	const char *end;

	if (strlen(name) <= NAME_TIME_LEN || name[NAME_TIME_LEN - 1] != '-')
		return -EINVAL;
	end = strptime(name, "%Y-%m-%d-%H:%M:%S", &tm);
	if (end != name + NAME_TIME_LEN - 1)
		return -EINVAL;
	*ret = (int64_t)timegm(&tm);
	return 0;
}

static int dup_field(const struct jsonflat *j, const char *key, char **ret)
{
	const char *v = jsonflat_string(j, key);

	*ret = NULL;
	if (!v)
		return 0;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

/* What summary.json says; a missing or unreadable one leaves the dump unfinished. */
static int read_summary(int dfd, struct dump_info *d)
{
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1;
	const char *result;
	int64_t t;
	int r;

	fd = openat(dfd, "summary.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	r = read_full_fd(fd, SUMMARY_MAX, &text, NULL);
	if (r < 0 || jsonflat_parse(text, &j) < 0) {
		log_debug("%s/summary.json cannot be read; taking the dump as unfinished", d->path);
		return 0;
	}
	if (jsonflat_i64(&j, "crash_time_unix", &t) >= 0)
		d->time = t;
	(void)jsonflat_u64(&j, "peak_rss_bytes", &d->peak_rss_bytes);
	r = dup_field(&j, "kernel_release", &d->kernel_release);
	if (r >= 0)
		r = dup_field(&j, "hostname", &d->hostname);
	if (r >= 0)
		r = dup_field(&j, "panic_message", &d->panic_message);
	if (r < 0)
		return r;
	result = jsonflat_string(&j, "result");
	if (result && streq(result, "ok"))
		d->state = DUMP_COMPLETE;
	else if (result && streq(result, "incomplete"))
		d->state = DUMP_INCOMPLETE;
	else
		d->state = DUMP_FAILED;
	return 0;
}

/* Sizes of the files in the directory, and which dump file is there. */
static int scan_files(int dfd, struct dump_info *d)
{
	_cleanup_close_ int fd = -1;
	struct dirent *de;
	DIR *dir;

	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	dir = fdopendir(fd);
	if (!dir)
		return negative_errno();
	fd = -1; /* the DIR owns it now */
	while ((de = readdir(dir))) {
		struct stat st;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		d->bytes += (uint64_t)st.st_blocks * 512;
		if (!S_ISREG(st.st_mode))
			continue;
		if (streq(de->d_name, "vmcore") ||
		    (streq(de->d_name, "vmcore.incomplete") && !d->dump_file)) {
			free(d->dump_file);
			d->dump_file = strdup(de->d_name);
			if (!d->dump_file) {
				closedir(dir);
				return -ENOMEM;
			}
			d->dump_bytes = st.st_size;
		}
	}
	closedir(dir);
	return 0;
}

static int read_one(int top, const char *dir, const char *name, struct dump_info *ret)
{
	struct dump_info d = { .state = DUMP_UNFINISHED };
	_cleanup_close_ int dfd = -1;
	int r;

	if (name_time(name, &d.time) < 0)
		return 0;
	dfd = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 0; /* a file or a symlink of that name: not a dump */
	d.name = strdup(name);
	if (!d.name || asprintf(&d.path, "%s/%s", dir, name) < 0) {
		d.path = NULL;
		dump_info_done(&d);
		return -ENOMEM;
	}
	r = read_summary(dfd, &d);
	if (r >= 0)
		r = scan_files(dfd, &d);
	if (r < 0) {
		dump_info_done(&d);
		return r;
	}
	/* A summary that says ok about a vmcore that is gone is no complete dump. */
	if (d.state == DUMP_COMPLETE && (!d.dump_file || !streq(d.dump_file, "vmcore")))
		d.state = DUMP_INCOMPLETE;
	*ret = d;
	return 1;
}

static int by_time(const void *a, const void *b)
{
	const struct dump_info *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	/* Same second: "name" before "name-2", before "name-10". */
	if (strlen(x->name) != strlen(y->name))
		return strlen(x->name) < strlen(y->name) ? -1 : 1;
	return strcmp(x->name, y->name);
}

int dumps_read(const char *dir, struct dump_list *ret)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	struct dirent **names = NULL;
	_cleanup_close_ int top = -1;
	int n, r = 0;

	top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0) {
		if (errno != ENOENT)
			return negative_errno();
		*ret = (struct dump_list){};
		return 0;
	}
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return negative_errno();
	l.dumps = calloc(n ? n : 1, sizeof(*l.dumps));
	if (!l.dumps)
		r = -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (r >= 0) {
			r = read_one(top, dir, names[i]->d_name, &l.dumps[l.count]);
			if (r > 0)
				l.count++;
		}
		free(names[i]);
	}
	free(names);
	if (r < 0)
		return r;
	qsort(l.dumps, l.count, sizeof(*l.dumps), by_time);
	*ret = l;
	l = (struct dump_list){};
	return 0;
}

int dump_remove(const struct dump_info *d)
{
	_cleanup_close_ int dfd = -1;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dfd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return negative_errno();
	dir = fdopendir(dfd);
	if (!dir)
		return negative_errno();
	dfd = -1;
	/*
	 * The collector writes only files here: a directory holding anything
	 * else is left whole, not half removed.
	 */
	while ((de = readdir(dir))) {
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = negative_errno();
		else if (!S_ISREG(st.st_mode))
			r = -ENOTEMPTY;
		if (r < 0)
			break;
	}
	if (r >= 0) {
		rewinddir(dir);
		while ((de = readdir(dir))) {
			if (streq(de->d_name, ".") || streq(de->d_name, ".."))
				continue;
			if (unlinkat(dirfd(dir), de->d_name, 0) < 0 && r >= 0)
				r = negative_errno();
		}
	}
	closedir(dir);
	if (r < 0)
		return r;
	if (rmdir(d->path) < 0)
		return negative_errno();
	return 0;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else
			*w++ = *s;
	}
	*w = 0;
}

/* The kernel's name of the target's device ("vdb"), through root's /dev links. */
static int target_device_name(const char *root, const char *target, char **ret)
{
	_cleanup_free_ char *link = NULL, *path = NULL;
	char buf[4096], *base;
	ssize_t n;
	int r;

	if (startswith(target, "UUID="))
		r = asprintf(&link, "/dev/disk/by-uuid/%s", target + 5);
	else if (startswith(target, "LABEL="))
		r = asprintf(&link, "/dev/disk/by-label/%s", target + 6);
	else if (startswith(target, "/dev/"))
		r = asprintf(&link, "%s", target);
	else
		return -EINVAL;
	if (r < 0)
		return -ENOMEM;
	r = root_path(root, link, &path);
	if (r < 0)
		return r;
	/* A link names the device relative to /dev ("../../vdb"); never followed here. */
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n >= 0)
		buf[n] = 0;
	else if ((errno == EINVAL || errno == ENOENT) && startswith(target, "/dev/"))
		snprintf(buf, sizeof(buf), "%s", target);
	else
		return negative_errno();
	base = strrchr(buf, '/');
	*ret = strdup(base ? base + 1 : buf);
	return *ret ? 0 : -ENOMEM;
}

/* The mount point of the file system on /dev/<device>, mounted at its root. */
static int find_mount(const char *root, const char *device, char **ret)
{
	_cleanup_free_ char *text = NULL;
	char *line, *save = NULL;
	int r;

	r = root_read_file(root, "/proc/self/mountinfo", 8U << 20, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fsroot[4096], mnt[4096], source[4096];
		const char *sep = strstr(line, " - ");
		const char *base;

		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", fsroot, mnt) != 2 ||
		    sscanf(sep + 3, "%*s %4095s", source) != 1)
			continue;
		unescape(source);
		if (!startswith(source, "/dev/") || !streq(fsroot, "/"))
			continue;
		base = strrchr(source, '/') + 1;
		if (streq(base, device)) {
			unescape(mnt);
			*ret = strdup(mnt);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENODEV;
}

static int join_dumps_dir(const char *a, const char *b, char **ret)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	if (la == 1 && a[0] == '/')
		la = 0;
	size_t lb;

	while (*b == '/')
		b++;
	lb = strlen(b);
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return asprintf(ret, "%.*s/%.*s%scrashcap", (int)la, a, (int)lb, b, lb ? "/" : "") < 0 ?
		       -ENOMEM :
		       0;
}

int dumps_location(const char *root, const struct settings *s, char **ret_dir, char **error)
{
	_cleanup_free_ char *device = NULL, *mnt = NULL, *in_root = NULL;
	const char *path = s->path ? s->path : "/var/crash";
	int r;

	if (error)
		*error = NULL;
	if (!s->target || !*s->target) {
		r = join_dumps_dir("/", path, &in_root);
		if (r < 0)
			return r;
		return root_path(root, in_root, ret_dir);
	}
	r = target_device_name(root, s->target, &device);
	if (r >= 0)
		r = find_mount(root, device, &mnt);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		if (error && asprintf(error,
				      "the dump target %s is not mounted on this system: mount it, "
				      "or pass --dir DIR (the folder that holds the dump folders)",
				      s->target) < 0)
			*error = NULL;
		return -ENODEV;
	}
	r = join_dumps_dir(mnt, path, &in_root);
	if (r < 0)
		return r;
	return root_path(root, in_root, ret_dir);
}
