// SPDX-License-Identifier: GPL-2.0-or-later
#include "modules.h"

#include <dirent.h>
#include <libkmod.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "log.h"
#include "rootfs.h"

/* Deeper than any real dependency chain; stops a corrupt index from recursing forever. */
#define MAX_DEPTH 64

struct seen_module {
	char *name;
	bool done; /* false while its dependencies are being visited: a cycle */
};

struct module_set {
	struct kmod_ctx *ctx;
	char *dir; /* as the caller spelled it, for messages */
	struct module_file *files;
	size_t nr_files, files_cap;
	struct seen_module *seen;
	size_t nr_seen, seen_cap;
};

static void kmod_log_debug(void *data, int priority, const char *file, int line, const char *fn,
			   const char *format, va_list args)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = 0;
	log_debug("libkmod: %s", msg);
}

/*
 * depmod -b BASE RELEASE indexes BASE/lib/modules/RELEASE: the command that
 * makes modules_dir's index, when modules_dir has that shape.
 */
static int no_index(const char *modules_dir, char **error)
{
	static const char marker[] = "/lib/modules/";
	_cleanup_free_ char *dir = strdup(modules_dir);
	char *release, *at = NULL;
	size_t n;

	if (!dir)
		return -ENOPKG;
	for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = 0;
	for (char *p = strstr(dir, marker); p; p = strstr(p + 1, marker))
		at = p;
	release = at ? at + strlen(marker) : NULL;
	if (!release || !*release || strchr(release, '/'))
		return errmsg_set(
			error, -ENOPKG,
			"no modules.dep.bin in %s: run depmod for the kernel whose modules "
			"these are",
			modules_dir);
	*at = 0;
	if (!*dir)
		return errmsg_set(error, -ENOPKG, "no modules.dep.bin in %s: run depmod %s",
				  modules_dir, release);
	return errmsg_set(error, -ENOPKG, "no modules.dep.bin in %s: run depmod -b %s %s",
			  modules_dir, dir, release);
}

int module_set_new(const char *modules_dir, const char *config_root, struct module_set **ret,
		   char **error)
{
	static const char *const config_dirs[] = { "/etc/modprobe.d", "/run/modprobe.d",
						   "/usr/local/lib/modprobe.d", "/lib/modprobe.d" };
	_cleanup_free_ char *depbin = NULL;
	char *paths[ELEMENTSOF(config_dirs) + 1] = {};
	struct module_set *s;
	struct stat st;
	int r = 0;

	if (stat(modules_dir, &st) < 0) {
		r = negative_errno();
		if (r == -ENOENT)
			return errmsg_set(error, r,
					  "kernel modules directory %s does not exist: check the "
					  "path, or install the kernel's modules",
					  modules_dir);
		return errmsg_set(error, r, "cannot read the kernel modules directory %s: %s",
				  modules_dir, strerror(-r));
	}
	if (!S_ISDIR(st.st_mode))
		return errmsg_set(error, -ENOTDIR, "kernel modules directory %s is not a directory",
				  modules_dir);
	if (asprintf(&depbin, "%s/modules.dep.bin", modules_dir) < 0)
		return -ENOMEM;
	if (access(depbin, F_OK) < 0)
		return no_index(modules_dir, error);

	if (config_root)
		for (size_t i = 0; i < ELEMENTSOF(config_dirs) && r >= 0; i++)
			r = root_path(config_root, config_dirs[i], &paths[i]);
	s = calloc(1, sizeof(*s));
	if (s)
		s->dir = strdup(modules_dir);
	if (r >= 0 && s && s->dir) {
		/* An empty list, not NULL: NULL would mean the running system's directories. */
		s->ctx = kmod_new(modules_dir, (const char *const *)paths);
		if (s->ctx) {
			kmod_set_log_fn(s->ctx, kmod_log_debug, NULL);
			kmod_set_log_priority(s->ctx, LOG_DEBUG);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(paths); i++)
		free(paths[i]);
	if (r < 0 || !s || !s->ctx) {
		module_set_free(s);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = s;
	return 0;
}

struct module_set *module_set_free(struct module_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->nr_files; i++) {
		free(s->files[i].name);
		free(s->files[i].path);
		free(s->files[i].relpath);
	}
	free(s->files);
	for (size_t i = 0; i < s->nr_seen; i++)
		free(s->seen[i].name);
	free(s->seen);
	kmod_unref(s->ctx);
	free(s->dir);
	free(s);
	return NULL;
}

const struct module_file *module_set_files(const struct module_set *s, size_t *ret_count)
{
	*ret_count = s->nr_files;
	return s->files;
}

static struct seen_module *seen_find(struct module_set *s, const char *name)
{
	for (size_t i = 0; i < s->nr_seen; i++)
		if (streq(s->seen[i].name, name))
			return &s->seen[i];
	return NULL;
}

static int seen_add(struct module_set *s, const char *name, size_t *ret_index)
{
	if (s->nr_seen == s->seen_cap) {
		size_t cap = s->seen_cap ? s->seen_cap * 2 : 32;
		struct seen_module *grown = realloc(s->seen, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->seen = grown;
		s->seen_cap = cap;
	}
	s->seen[s->nr_seen].name = strdup(name);
	if (!s->seen[s->nr_seen].name)
		return -ENOMEM;
	s->seen[s->nr_seen].done = false;
	*ret_index = s->nr_seen++;
	return 0;
}

static int files_add(struct module_set *s, const char *name, const char *path)
{
	const char *dir = kmod_get_dirname(s->ctx);
	size_t dirlen = strlen(dir);
	struct module_file f = {};

	if (s->nr_files == s->files_cap) {
		size_t cap = s->files_cap ? s->files_cap * 2 : 16;
		struct module_file *grown = realloc(s->files, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->files = grown;
		s->files_cap = cap;
	}
	f.name = strdup(name);
	f.path = strdup(path);
	/* modules.dep names files below the directory; keep that layout in the archive. */
	if (strncmp(path, dir, dirlen) == 0 && path[dirlen] == '/')
		f.relpath = strdup(path + dirlen + 1);
	else
		f.relpath = strdup(strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if (!f.name || !f.path || !f.relpath) {
		free(f.name);
		free(f.path);
		free(f.relpath);
		return -ENOMEM;
	}
	s->files[s->nr_files++] = f;
	return 0;
}

static int visit(struct module_set *s, struct kmod_module *mod, unsigned depth);

/* Visits every module of a list; returns the files added, or an error. */
static int visit_list(struct module_set *s, struct kmod_list *list, unsigned depth)
{
	struct kmod_list *l;
	int added = 0;

	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);
		int r = visit(s, m, depth);

		kmod_module_unref(m);
		if (r < 0)
			return r;
		added += r;
	}
	return added;
}

static int visit(struct module_set *s, struct kmod_module *mod, unsigned depth)
{
	const char *name = kmod_module_get_name(mod);
	struct kmod_list *pre = NULL, *post = NULL, *deps;
	const char *path;
	size_t index;
	int r, added = 0;

	if (depth > MAX_DEPTH)
		return log_debug_errno(-ELOOP, "modules: dependencies of %s nest too deep", name);
	if (seen_find(s, name))
		return 0; /* done, or a softdep cycle that is being walked */
	r = seen_add(s, name, &index);
	if (r < 0)
		return r;

	/* modprobe's order: pre softdeps, dependencies, the module, post softdeps. */
	if (kmod_module_get_softdeps(mod, &pre, &post) < 0)
		pre = post = NULL;
	r = visit_list(s, pre, depth + 1);
	kmod_module_unref_list(pre);
	if (r >= 0) {
		added += r;
		deps = kmod_module_get_dependencies(mod);
		r = visit_list(s, deps, depth + 1);
		kmod_module_unref_list(deps);
	}
	if (r >= 0) {
		added += r;
		/* Built-in modules have no file: nothing to load. */
		path = kmod_module_get_path(mod);
		if (path) {
			r = files_add(s, name, path);
			if (r >= 0)
				added++;
		} else
			log_debug("modules: %s is built in", name);
	}
	s->seen[index].done = true;
	if (r >= 0) {
		r = visit_list(s, post, depth + 1);
		if (r >= 0)
			added += r;
	}
	kmod_module_unref_list(post);
	return r < 0 ? r : added;
}

int module_set_add(struct module_set *s, const char *name, char **error)
{
	struct kmod_list *list = NULL;
	int r;

	if (!name || !*name)
		return errmsg_set(error, -EINVAL, "empty kernel module name");
	r = kmod_module_new_from_lookup(s->ctx, name, &list);
	if (r < 0)
		return errmsg_set(error, r, "cannot look up kernel module '%s' in %s: %s", name,
				  s->dir, strerror(-r));
	if (!list) {
		log_debug("modules: no module or alias %s", name);
		return errmsg_set(error, -ENOENT,
				  "kernel module '%s' not found in %s (check the name, or run "
				  "depmod)",
				  name, s->dir);
	}
	r = visit_list(s, list, 0);
	kmod_module_unref_list(list);
	if (r == -ELOOP)
		return errmsg_set(error, r,
				  "the dependencies of kernel module '%s' in %s nest more than %d "
				  "deep: run depmod to rebuild the damaged index",
				  name, s->dir, MAX_DEPTH);
	return r;
}

int module_set_add_filesystem(struct module_set *s, const char *fstype, char **error)
{
	_cleanup_free_ char *alias = NULL;
	int r;

	if (!fstype || !*fstype || strchr(fstype, '/'))
		return errmsg_set(error, -EINVAL, "invalid file system type '%s'",
				  fstype ? fstype : "");
	if (asprintf(&alias, "fs-%s", fstype) < 0)
		return -ENOMEM;
	r = module_set_add(s, alias, error);
	if (r == -ENOENT)
		r = module_set_add(s, fstype, error);
	if (r == -ENOENT)
		return errmsg_set(
			error, r,
			"no kernel module for file system type '%s' in %s (neither %s nor "
			"%s; check the type, or run depmod)",
			fstype, s->dir, alias, fstype);
	return r;
}

/* --- the drivers behind a block device, from sysfs ----------------------- */

char **module_names_free(char **names)
{
	if (!names)
		return NULL;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
	return NULL;
}

struct name_list {
	char **names;
	size_t count;
};

static int name_list_add(struct name_list *l, const char *name, size_t at)
{
	char **grown;
	char *copy;

	for (size_t i = 0; i < l->count; i++)
		if (streq(l->names[i], name))
			return 0;
	copy = strdup(name);
	grown = realloc(l->names, (l->count + 2) * sizeof(*grown));
	if (!copy || !grown) {
		free(copy);
		if (grown)
			l->names = grown;
		return -ENOMEM;
	}
	l->names = grown;
	memmove(l->names + at + 1, l->names + at, (l->count - at) * sizeof(char *));
	l->names[at] = copy;
	l->count++;
	l->names[l->count] = NULL;
	return 0;
}

/* realpath() that must stay inside root_real: fixture trees use relative links. */
static int real_inside(const char *root_real, const char *path, char **ret)
{
	char *real = realpath(path, NULL);
	size_t n = strlen(root_real);

	if (!real)
		return negative_errno();
	if (!streq(root_real, "/") && (strncmp(real, root_real, n) != 0 || real[n] != '/')) {
		free(real);
		return -EXDEV;
	}
	*ret = real;
	return 0;
}

/* The module a device's driver lives in: basename of DIR/driver/module's link. */
static int driver_module(const char *dir, char **ret)
{
	_cleanup_free_ char *link = NULL;
	char target[PATH_MAX];
	ssize_t n;

	if (asprintf(&link, "%s/driver/module", dir) < 0)
		return -ENOMEM;
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return negative_errno();
	target[n] = 0;
	*ret = strdup(strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	return *ret ? 0 : -ENOMEM;
}

static int walk_block(const char *root_real, const char *sys_devices, const char *block_real,
		      struct name_list *out, unsigned depth)
{
	_cleanup_free_ char *disk = strdup(block_real), *slaves = NULL, *device = NULL;
	_cleanup_free_ char *dev_real = NULL, *probe = NULL;
	size_t insert_at;
	struct dirent **list = NULL;
	int n, r = 0;

	if (!disk)
		return -ENOMEM;
	if (depth > 8)
		return -ELOOP;
	/* A partition's drivers are its disk's: the directory above. */
	if (asprintf(&probe, "%s/partition", disk) < 0)
		return -ENOMEM;
	if (access(probe, F_OK) == 0)
		*strrchr(disk, '/') = 0;

	/* Stacked devices (device-mapper, md): the drivers of what they sit on. */
	if (asprintf(&slaves, "%s/slaves", disk) < 0)
		return -ENOMEM;
	n = scandir(slaves, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL, *real = NULL;

		if (r >= 0 && list[i]->d_name[0] != '.') {
			if (asprintf(&p, "%s/%s", slaves, list[i]->d_name) < 0)
				r = -ENOMEM;
			else if (real_inside(root_real, p, &real) >= 0)
				r = walk_block(root_real, sys_devices, real, out, depth + 1);
		}
		free(list[i]);
	}
	free(list);
	if (r < 0)
		return r;

	if (asprintf(&device, "%s/device", disk) < 0)
		return -ENOMEM;
	if (real_inside(root_real, device, &dev_real) < 0)
		dev_real = TAKE_PTR(disk); /* virtual devices have no device link */
	insert_at = out->count;
	/* Up the parents: each one's module goes before its children's. */
	for (char *p = dev_real; startswith(p, sys_devices) && strlen(p) > strlen(sys_devices);) {
		_cleanup_free_ char *mod = NULL;
		char *slash;

		if (driver_module(p, &mod) >= 0) {
			r = name_list_add(out, mod, insert_at);
			if (r < 0)
				return r;
		}
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	return 0;
}

int block_device_modules(const char *root, const char *devname, char ***ret_names)
{
	_cleanup_free_ char *root_real = NULL, *class_name = NULL, *class_path = NULL;
	_cleanup_free_ char *block_real = NULL, *sys_devices = NULL;
	struct name_list out = {};
	int r;

	if (!devname || !*devname || strchr(devname, '/') || streq(devname, "..") ||
	    streq(devname, "."))
		return -EINVAL;
	root_real = realpath(root ? root : "/", NULL);
	if (!root_real)
		return negative_errno();
	if (asprintf(&class_name, "/sys/class/block/%s", devname) < 0)
		return -ENOMEM;
	r = root_path(root_real, class_name, &class_path);
	if (r < 0)
		return r;
	r = real_inside(root_real, class_path, &block_real);
	if (r < 0)
		return log_debug_errno(r, "modules: %s: %m", class_path);
	r = root_path(root_real, "/sys/devices", &sys_devices);
	if (r < 0)
		return r;

	out.names = calloc(1, sizeof(char *));
	if (!out.names)
		return -ENOMEM;
	r = walk_block(root_real, sys_devices, block_real, &out, 0);
	if (r < 0) {
		module_names_free(out.names);
		return r;
	}
	*ret_names = out.names;
	return 0;
}
