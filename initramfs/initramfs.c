// SPDX-License-Identifier: GPL-2.0-or-later
#include "initramfs.h"

#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "cpio.h"
#include "errmsg.h"
#include "log.h"
#include "modules.h"
#include "rootfs.h"
#include "settings.h"
#include "target.h"

/* Directories /init expects to exist (mount points and scratch space). */
static const struct {
	const char *name;
	mode_t mode;
} empty_dirs[] = {
	{ "dev", 0755 },    { "proc", 0555 }, { "sys", 0555 },
	{ "target", 0755 }, { "tmp", 01777 }, { "etc/crashcap", 0755 },
};

/*
 * /init runs with no dynamic loader or libraries in the crash initramfs: a
 * dynamically linked collector would die at once. -ENOEXEC for one.
 */
static int check_static(const char *path, char **error)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	size_t got;
	int r;

	if (fd < 0) {
		r = negative_errno();
		return errmsg_set(error, r, "cannot read the collector %s: %s", path, strerror(-r));
	}
	r = pread_full(fd, &eh, sizeof(eh), 0, &got);
	if (r < 0)
		return errmsg_set(error, r, "cannot read the collector %s: %s", path, strerror(-r));
	if (got < sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		return 0; /* not ELF64: nothing to check here */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread_full(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * eh.e_phentsize, &got) <
			    0 ||
		    got < sizeof(ph))
			return errmsg_set(error, -ENOEXEC,
					  "the collector %s is a damaged ELF file (its program "
					  "headers are cut short): rebuild it with make",
					  path);
		if (ph.p_type == PT_INTERP)
			return errmsg_set(
				error, -ENOEXEC,
				"the collector %s is dynamically linked: crashcap needs the "
				"static crashcap-collect (make builds build/crashcap-collect)",
				path);
	}
	return 0;
}

/*
 * The collector's /etc/crashcap.conf: the user's file as it is, plus the
 * target and path this system resolved when the target was unset (later
 * lines override earlier ones).
 */
static int make_config(const char *config_path, const char *original_path,
		       const struct target_info *t, char **ret, size_t *ret_size, char **error)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0, size = 0;
	int r;

	if (config_path) {
		r = read_full_file(config_path, 1 << 20, &text, &len);
		if (r < 0)
			return errmsg_set(error, r, "cannot read %s: %s", config_path,
					  strerror(-r));
	}
	f = open_memstream(&out, &size);
	if (!f)
		return -ENOMEM;
	if (config_path)
		fprintf(f, "%s%s", text, len > 0 && text[len - 1] != '\n' ? "\n" : "");
	else
		fputs("# crashcap: built without a configuration file; defaults apply\n", f);
	if (t->resolved) {
		fprintf(f,
			"\n# Added by crashcap: the file system that holds %s when the "
			"initramfs was built\n",
			original_path);
		config_write_value(f, "target", t->spec);
		config_write_value(f, "path", t->path);
	}
	if (fclose(f) != 0) {
		f = NULL;
		return -ENOMEM;
	}
	f = NULL;
	*ret = TAKE_PTR(out);
	*ret_size = size;
	return 0;
}

/*
 * A module the target needs on this system: the other kernel may have it
 * built in, so one that is not found is left out, and its message dropped.
 */
static int add_if_found(struct module_set *set, const char *name, bool filesystem, char **error)
{
	_cleanup_free_ char *why = NULL;
	int r;

	r = filesystem ? module_set_add_filesystem(set, name, &why) :
			 module_set_add(set, name, &why);
	if (r == -ENOENT) {
		log_debug("initramfs: no module %s here: left out (built in, perhaps)", name);
		return 0;
	}
	if (r < 0 && error && why) {
		free(*error);
		*error = TAKE_PTR(why);
	}
	return r;
}

/*
 * The target's drivers and file system when this system shows them (best
 * effort: the other kernel may have them built in), then the modules asked
 * for by name, which must exist.
 */
static int gather_modules(const struct initramfs_options *o, const struct target_info *t,
			  struct module_set *set, char **error)
{
	int r;

	if (t->device) {
		_cleanup_module_names_ char **names = NULL;

		r = block_device_modules(o->root, t->device, &names);
		if (r < 0 && r != -ENOENT)
			return errmsg_set(error, r,
					  "cannot find the drivers of /dev/%s in sysfs: %s",
					  t->device, strerror(-r));
		for (char **n = names; n && *n; n++) {
			r = add_if_found(set, *n, false, error);
			if (r < 0)
				return r;
		}
	}
	if (t->fstype) {
		r = add_if_found(set, t->fstype, true, error);
		if (r < 0)
			return r;
	}
	for (char **n = o->extra_modules; n && *n; n++) {
		r = module_set_add(set, *n, error);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_archive(int fd, const struct initramfs_options *o, const char *config,
			 size_t config_size, const struct module_set *set, char **error)
{
	_cleanup_cpio_writer_ struct cpio_writer *w = NULL;
	_cleanup_free_ char *list = NULL;
	_cleanup_fclose_ FILE *lf = NULL;
	const struct module_file *files;
	size_t nr_files, list_size = 0;
	int r;

	r = cpio_writer_new(fd, &w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(empty_dirs); i++) {
		r = cpio_add_directory(w, empty_dirs[i].name, empty_dirs[i].mode);
		if (r < 0)
			return r;
	}
	/* Without /dev/console the kernel starts /init with no stdin/stdout/stderr. */
	r = cpio_add_char_device(w, "dev/console", 0600, 5, 1);
	if (r >= 0)
		r = cpio_add_char_device(w, "dev/null", 0666, 1, 3);
	if (r < 0)
		return r;
	r = cpio_add_file(w, "init", 0755, o->collector_path);
	if (r < 0)
		return errmsg_set(error, r, "cannot add the collector %s to %s: %s",
				  o->collector_path, o->output_path, strerror(-r));
	r = cpio_add_data(w, "etc/crashcap.conf", 0644, config, config_size);
	if (r < 0)
		return r;

	lf = open_memstream(&list, &list_size);
	if (!lf)
		return -ENOMEM;
	files = module_set_files(set, &nr_files);
	for (size_t i = 0; i < nr_files; i++) {
		_cleanup_free_ char *name = NULL;

		if (asprintf(&name, "/lib/modules/%s/%s", o->kernel_release, files[i].relpath) < 0)
			return -ENOMEM;
		r = cpio_add_file(w, name, 0644, files[i].path);
		if (r < 0)
			return errmsg_set(error, r, "cannot add kernel module %s to %s: %s",
					  files[i].path, o->output_path, strerror(-r));
		fprintf(lf, "%s\n", name);
	}
	if (fclose(lf) != 0) {
		lf = NULL;
		return -ENOMEM;
	}
	lf = NULL;
	r = cpio_add_data(w, "etc/crashcap/modules", 0644, list, list_size);
	if (r < 0)
		return r;
	return cpio_writer_finish(w);
}

/* Replaces path with what was written to fd (its temporary twin) in one step. */
static int commit_output(int fd, const char *tmp, const char *path)
{
	_cleanup_free_ char *dir_copy = strdup(path);
	_cleanup_close_ int dfd = -1;

	if (!dir_copy)
		return -ENOMEM;
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		return negative_errno();
	if (rename(tmp, path) < 0)
		return negative_errno();
	dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

/* The modules of o->kernel_release: where they are, and libkmod's view of them. */
static int open_modules(const struct initramfs_options *o, struct module_set **ret, char **error)
{
	_cleanup_free_ char *dir = NULL;
	int r;

	if (o->modules_dir)
		/* Given: the root's modprobe.d belongs to another system's modules. */
		return module_set_new(o->modules_dir, NULL, ret, error);
	if (asprintf(&dir, "%s/lib/modules/%s", o->root && !streq(o->root, "/") ? o->root : "",
		     o->kernel_release) < 0)
		return -ENOMEM;
	r = module_set_new(dir, o->root ? o->root : "/", ret, error);
	if (r == -ENOENT)
		return errmsg_set(error, r,
				  "no kernel modules for release %s in %s: install the kernel's "
				  "modules or pass --modules-dir",
				  o->kernel_release, dir);
	return r;
}

static int build(const struct initramfs_options *o, struct initramfs_result *ret, char **error)
{
	_cleanup_(settings_done) struct settings s = {};
	_cleanup_(target_info_done) struct target_info t = {};
	_cleanup_module_set_ struct module_set *set = NULL;
	_cleanup_free_ char *config = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	struct config_error err = {};
	size_t config_size = 0, nr_files;
	struct stat st;
	int r;

	if (!o->output_path || !o->collector_path || !o->kernel_release)
		return errmsg_set(error, -EINVAL,
				  "the crash initramfs needs an output file, a collector and a "
				  "kernel release");
	if (!*o->kernel_release || strchr(o->kernel_release, '/'))
		return errmsg_set(error, -EINVAL, "invalid kernel release '%s'", o->kernel_release);
	r = check_static(o->collector_path, error);
	if (r < 0)
		return r;

	settings_init(&s);
	if (o->config_path) {
		r = settings_load(&s, NULL, o->config_path, &err);
		if (r < 0) {
			char buf[600];

			config_error_format(&err, buf, sizeof(buf));
			if (!*buf)
				return r;
			return errmsg_set(error, r, "%s", buf);
		}
	}
	r = target_resolve(o->root, s.target, s.path, &t, error);
	if (r < 0)
		return r;
	r = make_config(o->config_path, s.path, &t, &config, &config_size, error);
	if (r < 0)
		return r;

	r = open_modules(o, &set, error);
	if (r < 0)
		return r;
	r = gather_modules(o, &t, set, error);
	if (r < 0)
		return r;

	if (asprintf(&tmp, "%s.tmpXXXXXX", o->output_path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		log_debug_errno(r, "initramfs: creating %s: %m", tmp);
		return errmsg_set(error, r, "cannot create %s: %s", o->output_path, strerror(-r));
	}
	r = write_archive(fd, o, config, config_size, set, error);
	if (r >= 0)
		r = commit_output(fd, tmp, o->output_path);
	if (r < 0) {
		(void)unlink(tmp);
		if (error && !*error)
			return errmsg_set(error, r, "cannot write %s: %s", o->output_path,
					  strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0)
		return negative_errno();
	module_set_files(set, &nr_files);
	ret->size = st.st_size;
	ret->nr_modules = nr_files;
	return 0;
}

int initramfs_build(const struct initramfs_options *o, struct initramfs_result *ret, char **error)
{
	int r;

	if (!o || !ret)
		return -EINVAL;
	r = build(o, ret, error);
	/* Whatever gave no reason of its own (out of memory, mostly) still says what failed. */
	if (r < 0 && error && !*error)
		errmsg_set(error, r, "cannot build the crash initramfs %s: %s",
			   o->output_path ? o->output_path : "", strerror(-r));
	return r;
}
