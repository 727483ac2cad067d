// SPDX-License-Identifier: GPL-2.0-or-later
#include "target.h"

#include <blkid/blkid.h>
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "errmsg.h"
#include "log.h"
#include "rootfs.h"

#define CONFIG_FILE CRASHCAP_SYSCONFDIR "/crashcap.conf"

struct mount_entry {
	unsigned major, minor;
	char *fs_root; /* the directory of the file system mounted here */
	char *mount_point;
	char *fstype;
	char *source;
};

static void mount_entry_done(struct mount_entry *m)
{
	free(m->fs_root);
	free(m->mount_point);
	free(m->fstype);
	free(m->source);
	*m = (struct mount_entry){};
}

void target_info_done(struct target_info *t)
{
	if (!t)
		return;
	free(t->spec);
	free(t->path);
	free(t->device);
	free(t->fstype);
	*t = (struct target_info){};
}

static bool is_live_root(const char *root)
{
	return !root || !*root || streq(root, "/");
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape_octal(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = 0;
	return out;
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" (proc(5)). */
static int parse_mountinfo_line(char *line, struct mount_entry *ret)
{
	char *fields[6], *save = NULL, *sep, *tok, *fstype, *source;
	struct mount_entry m = {};
	int n = 0;

	sep = strstr(line, " - ");
	if (!sep)
		return -EBADMSG;
	*sep = 0;
	for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	if (n < 5 || sscanf(fields[2], "%u:%u", &m.major, &m.minor) != 2)
		return -EBADMSG;
	fstype = strtok_r(sep + 3, " ", &save);
	source = fstype ? strtok_r(NULL, " ", &save) : NULL;
	if (!fstype)
		return -EBADMSG;
	m.fs_root = unescape_octal(fields[3]);
	m.mount_point = unescape_octal(fields[4]);
	m.fstype = strdup(fstype);
	m.source = source ? unescape_octal(source) : strdup("");
	if (!m.fs_root || !m.mount_point || !m.fstype || !m.source) {
		mount_entry_done(&m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

/* Length of mount point mp when it holds path, else 0 ("/" holds everything: 1). */
static size_t mount_holds(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (streq(mp, "/"))
		return 1;
	if (strncmp(path, mp, n) == 0 && (path[n] == 0 || path[n] == '/'))
		return n;
	return 0;
}

/*
 * The mount that holds path (the longest mount point; of equal ones the
 * last, which is on top), or with path NULL the first mount of dev.
 */
static int find_mount(const char *root, const char *path, dev_t dev, struct mount_entry *ret,
		      char **error)
{
	_cleanup_free_ char *data = NULL;
	struct mount_entry best = {};
	size_t best_len = 0;
	char *line, *save = NULL;
	int r;

	r = root_read_file(root, "/proc/self/mountinfo", 16 << 20, &data, NULL);
	if (r < 0)
		return errmsg_set(error, r, "cannot read %s/proc/self/mountinfo: %s",
				  is_live_root(root) ? "" : root, strerror(-r));
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mount_entry m;
		size_t len;

		if (parse_mountinfo_line(line, &m) < 0)
			continue;
		if (path)
			len = mount_holds(m.mount_point, path);
		else
			len = makedev(m.major, m.minor) == dev && best_len == 0 ? 1 : 0;
		if (len > 0 && len >= best_len) {
			mount_entry_done(&best);
			best = m;
			best_len = len;
		} else
			mount_entry_done(&m);
	}
	if (best_len == 0)
		return errmsg_set(error, -ENOENT,
				  "no file system in %s/proc/self/mountinfo holds %s",
				  is_live_root(root) ? "" : root, path ? path : "the target");
	*ret = best;
	return 0;
}

/* Basename of a symlink's target, e.g. /dev/disk/by-uuid/X -> "vda1". */
static int link_basename(const char *root, const char *path, char **ret)
{
	_cleanup_free_ char *p = NULL;
	char target[PATH_MAX];
	const char *slash;
	ssize_t n;
	int r;

	r = root_path(root, path, &p);
	if (r < 0)
		return r;
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return negative_errno();
	target[n] = 0;
	slash = strrchr(target, '/');
	*ret = strdup(slash ? slash + 1 : target);
	return *ret ? 0 : -ENOMEM;
}

static int sysfs_dev_of(const char *root, const char *device, dev_t *ret)
{
	_cleanup_free_ char *p = NULL, *line = NULL;
	unsigned maj, min;

	if (asprintf(&p, "/sys/class/block/%s/dev", device) < 0)
		return -ENOMEM;
	if (root_read_line(root, p, &line) < 0 || sscanf(line, "%u:%u", &maj, &min) != 2)
		return -ENOENT;
	*ret = makedev(maj, min);
	return 0;
}

/* One value (UUID, TYPE) of a device on the running system, from its superblock. */
static int blkid_value(const char *device, const char *name, char **ret)
{
	_cleanup_free_ char *node = NULL;
	blkid_probe pr;
	const char *v = NULL;
	int r = -ENOENT;

	if (asprintf(&node, "/dev/%s", device) < 0)
		return -ENOMEM;
	pr = blkid_new_probe_from_filename(node);
	if (!pr)
		return log_debug_errno(negative_errno(), "target: probing %s: %m", node);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v) {
		*ret = strdup(v);
		r = *ret ? 0 : -ENOMEM;
	}
	blkid_free_probe(pr);
	return r;
}

/* The UUID of a device: udev's /dev/disk/by-uuid links, else its superblock. */
static int device_uuid(const char *root, const char *device, char **ret)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent **list = NULL;
	char *found = NULL;
	int n, r = 0;

	r = root_path(root, "/dev/disk/by-uuid", &dir);
	if (r < 0)
		return r;
	n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *link = NULL, *dev = NULL;

		if (!found && r >= 0 && list[i]->d_name[0] != '.') {
			if (asprintf(&link, "/dev/disk/by-uuid/%s", list[i]->d_name) < 0)
				r = -ENOMEM;
			else if (link_basename(root, link, &dev) >= 0 && streq(dev, device)) {
				found = strdup(list[i]->d_name);
				if (!found)
					r = -ENOMEM;
			}
		}
		free(list[i]);
	}
	free(list);
	if (r < 0)
		return r;
	if (found) {
		*ret = found;
		return 0;
	}
	if (is_live_root(root))
		return blkid_value(device, "UUID", ret);
	return -ENOENT;
}

static char *path_join(const char *a, const char *b)
{
	char *s;

	/* b is empty or starts with '/'; a "/" root adds nothing of its own. */
	if (asprintf(&s, "%s%s", streq(a, "/") ? "" : a, b) < 0)
		return NULL;
	if (!*s) {
		free(s);
		s = strdup("/");
	}
	return s;
}

/* Collapses "//" and drops a trailing '/': mount points never have them. */
static char *path_clean(const char *path)
{
	char *out = malloc(strlen(path) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = path; *p; p++)
		if (!(*p == '/' && (o > out && o[-1] == '/')))
			*o++ = *p;
	if (o > out + 1 && o[-1] == '/')
		o--;
	*o = 0;
	return out;
}

static int resolve_unset(const char *root, const char *path, struct target_info *t, char **error)
{
	_cleanup_free_ char *clean = NULL, *uuid = NULL, *sys = NULL;
	struct mount_entry m = {};
	const char *rest;
	int r;

	/* On the running system symlinks in path count; a fixture root has no such links. */
	clean = is_live_root(root) ? realpath(path, NULL) : NULL;
	if (!clean)
		clean = path_clean(path);
	if (!clean)
		return -ENOMEM;
	r = find_mount(root, clean, 0, &m, error);
	if (r < 0)
		return r;
	if (asprintf(&sys, "/sys/dev/block/%u:%u", m.major, m.minor) < 0) {
		mount_entry_done(&m);
		return -ENOMEM;
	}
	r = link_basename(root, sys, &t->device);
	if (r < 0) {
		log_debug("target: %s is on %s (%s), not a block device", clean, m.mount_point,
			  m.fstype);
		r = errmsg_set(error, -ENOTBLK,
			       "target is unset and %s lies on %s, not on a disk: set target = "
			       "UUID=... in " CONFIG_FILE,
			       path, m.fstype);
		mount_entry_done(&m);
		return r;
	}
	t->fstype = TAKE_PTR(m.fstype);
	rest = streq(m.mount_point, "/") ? clean : clean + strlen(m.mount_point);
	t->path = path_join(m.fs_root, streq(rest, "/") ? "" : rest);

	if (device_uuid(root, t->device, &uuid) >= 0)
		r = asprintf(&t->spec, "UUID=%s", uuid);
	else if (startswith(m.source, "/dev/"))
		/* No UUID to go by: the name it is mounted from is the next best. */
		r = asprintf(&t->spec, "%s", m.source);
	else
		r = asprintf(&t->spec, "/dev/%s", t->device);
	mount_entry_done(&m);
	if (r < 0 || !t->path)
		return -ENOMEM;
	t->resolved = true;
	return 0;
}

static int find_device(const char *root, const char *target, char **ret)
{
	static const struct {
		const char *tag, *dir;
	} tags[] = {
		{ "UUID=", "by-uuid" },
		{ "LABEL=", "by-label" },
		{ "PARTUUID=", "by-partuuid" },
		{ "PARTLABEL=", "by-partlabel" },
	};
	_cleanup_free_ char *evaluated = NULL;
	struct stat st;

	for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
		_cleanup_free_ char *link = NULL, *tag = NULL;
		const char *value = target + strlen(tags[i].tag);

		if (!startswith(target, tags[i].tag))
			continue;
		if (!*value)
			return -EINVAL;
		if (!strchr(value, '/')) {
			if (asprintf(&link, "/dev/disk/%s/%s", tags[i].dir, value) < 0)
				return -ENOMEM;
			if (link_basename(root, link, ret) >= 0)
				return 0;
		}
		if (!is_live_root(root))
			return -ENOENT;
		tag = strndup(tags[i].tag, strlen(tags[i].tag) - 1);
		if (!tag)
			return -ENOMEM;
		evaluated = blkid_evaluate_tag(tag, value, NULL);
		if (!evaluated)
			return -ENOENT;
		target = evaluated;
		break;
	}
	if (target[0] != '/')
		return -EINVAL;
	/* A device path: its kernel name, through symlinks such as /dev/mapper/x. */
	if (is_live_root(root) && stat(target, &st) == 0 && S_ISBLK(st.st_mode)) {
		_cleanup_free_ char *sys = NULL;

		if (asprintf(&sys, "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev)) <
		    0)
			return -ENOMEM;
		return link_basename(root, sys, ret);
	}
	if (link_basename(root, target, ret) >= 0)
		return 0;
	*ret = strdup(strrchr(target, '/') + 1);
	return *ret ? 0 : -ENOMEM;
}

int target_resolve(const char *root, const char *target, const char *path, struct target_info *ret,
		   char **error)
{
	struct target_info t = {};
	_cleanup_free_ char *dev_owned = NULL;
	struct mount_entry m = {};
	dev_t dev;
	int r;

	if (!path || path[0] != '/')
		return errmsg_set(error, -EINVAL,
				  "the dump path '%s' is not absolute: set path = /var/crash or "
				  "another absolute directory in " CONFIG_FILE,
				  path ? path : "(unset)");
	if (!target || !*target) {
		r = resolve_unset(root, path, &t, error);
		if (r < 0) {
			target_info_done(&t);
			return r;
		}
		*ret = t;
		return 0;
	}

	t.spec = strdup(target);
	t.path = strdup(path);
	if (!t.spec || !t.path) {
		target_info_done(&t);
		return -ENOMEM;
	}
	r = find_device(root, target, &dev_owned);
	if (r == -EINVAL) {
		target_info_done(&t);
		return errmsg_set(
			error, r,
			"cannot parse target = %s: use UUID=..., LABEL=..., PARTUUID=..., "
			"PARTLABEL=... or a /dev path",
			target);
	}
	/* Not attached now: the collector still looks for it, with the modules it was given. */
	if (r >= 0 && sysfs_dev_of(root, dev_owned, &dev) >= 0) {
		t.device = TAKE_PTR(dev_owned);
		if (find_mount(root, NULL, dev, &m, NULL) >= 0) {
			t.fstype = TAKE_PTR(m.fstype);
			mount_entry_done(&m);
		} else if (is_live_root(root))
			(void)blkid_value(t.device, "TYPE", &t.fstype);
	}
	*ret = t;
	return 0;
}
