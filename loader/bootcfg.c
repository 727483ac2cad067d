// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Which crashkernel= the kernel gets at the next boot, and crashcap's own
 * in the boot loader's configuration. The kernel takes the LAST
 * crashkernel= token of its command line (get_last_crashkernel() in
 * kernel/crash_core.c, 6.1, and kernel/crash_reserve.c, 6.12; a plain one
 * wins over ",high"), so "who wins" is "who comes last":
 *  - GRUB builds a normal entry's line as "$GRUB_CMDLINE_LINUX
 *    $GRUB_CMDLINE_LINUX_DEFAULT" (10_linux) after sourcing
 *    /etc/default/grub and then /etc/default/grub.d/\*.cfg in name order;
 *    crashcap's drop-in appends to GRUB_CMDLINE_LINUX_DEFAULT, so it beats
 *    /etc/default/grub, and loses to a drop-in sorting after "crashcap.cfg"
 *    that appends too (kdump-tools.cfg).
 *  - kernel-install takes /etc/kernel/cmdline as it is: crashcap's token
 *    goes at the end.
 */
#include "bootcfg-internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "crashkernel-arg.h"
#include "errmsg.h"
#include "log.h"
#include "rootfs.h"

#define MAX_FILE (1024 * 1024)
#define MAX_GRUB_FILES 64

static const char *const systemd_boot_dirs[] = {
	"/etc/kernel/install.conf",
	"/boot/loader/entries",
	"/efi/loader/entries",
	"/boot/efi/loader/entries",
	NULL,
};

void bootcfg_plan_done(struct bootcfg_plan *p)
{
	for (size_t i = 0; i < p->n_changes; i++) {
		free(p->changes[i].path);
		free(p->changes[i].old_text);
		free(p->changes[i].new_text);
	}
	for (size_t i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->previous);
	free(p->overridden_by);
	*p = (struct bootcfg_plan){};
}

void bootcfg_configured_done(struct bootcfg_configured *c)
{
	free(c->cmdline);
	free(c->source);
	*c = (struct bootcfg_configured){};
}

const char *bootcfg_kind_to_string(enum bootcfg_kind k)
{
	switch (k) {
	case BOOTCFG_GRUB:
		return "grub";
	case BOOTCFG_KERNEL_INSTALL:
		return "kernel-install";
	default:
		return "none";
	}
}

void bootcfg_add_note(struct bootcfg_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (p->n_notes >= BOOTCFG_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		p->notes[p->n_notes++] = s;
	va_end(ap);
}

/* The file's text, or NULL when it does not exist. */
int bootcfg_read_opt(const char *root, const char *path, char **ret)
{
	char *data = NULL;
	int r;

	r = root_read_file(root, path, MAX_FILE, &data, NULL);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = data;
	return 0;
}

int bootcfg_add_change(struct bootcfg_plan *p, const char *path, char *old_text, char *new_text)
{
	struct bootcfg_change *c;

	if ((!old_text && !new_text) || (old_text && new_text && streq(old_text, new_text))) {
		free(old_text);
		free(new_text);
		return 0;
	}
	c = &p->changes[p->n_changes];
	c->path = strdup(path);
	if (!c->path) {
		free(old_text);
		free(new_text);
		return -ENOMEM;
	}
	c->old_text = old_text;
	c->new_text = new_text;
	p->n_changes++;
	return 0;
}

int bootcfg_detect(const char *root, enum bootcfg_kind *ret)
{
	if (root_exists(root, BOOTCFG_GRUB_DEFAULT)) {
		*ret = BOOTCFG_GRUB;
		return 0;
	}
	if (root_exists(root, BOOTCFG_KERNEL_CMDLINE)) {
		*ret = BOOTCFG_KERNEL_INSTALL;
		return 0;
	}
	for (size_t i = 0; systemd_boot_dirs[i]; i++)
		if (root_exists(root, systemd_boot_dirs[i])) {
			*ret = BOOTCFG_KERNEL_INSTALL;
			return 0;
		}
	*ret = BOOTCFG_NONE;
	return 0;
}

/* The crashkernel= that decides on a command line (plain, else ,high), "" when none. */
void bootcfg_deciding_token(const char *cmdline, char *buf, size_t len)
{
	const char *v;
	size_t n = 0;

	v = crashkernel_cmdline_find(cmdline, CRASHKERNEL_PLAIN, &n);
	if (!v)
		v = crashkernel_cmdline_find(cmdline, CRASHKERNEL_HIGH, &n);
	snprintf(buf, len, "%.*s", v ? (int)n : 0, v ? v : "");
}

/* --- GRUB --------------------------------------------------------------------- */

struct grub_file {
	char *path;
	char *text;
};

struct grub_files {
	struct grub_file f[MAX_GRUB_FILES];
	size_t n;
};

static void grub_files_done(struct grub_files *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->f[i].path);
		free(g->f[i].text);
	}
	g->n = 0;
}

static int cfg_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && streq(d->d_name + n - 4, ".cfg");
}

/*
 * /etc/default/grub, then the drop-ins in the order sh's glob gives them
 * (byte order in the C locale), with crashcap's drop-in text replaced by
 * dropin_text (NULL: as if absent).
 */
static int grub_files_read(const char *root, bool replace, const char *dropin_text,
			   struct grub_files *ret)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent **names = NULL;
	bool ours_listed = false;
	int n, r = 0;

	*ret = (struct grub_files){};
	ret->f[0].path = strdup(BOOTCFG_GRUB_DEFAULT);
	if (!ret->f[0].path)
		return -ENOMEM;
	ret->n = 1;
	r = bootcfg_read_opt(root, BOOTCFG_GRUB_DEFAULT, &ret->f[0].text);
	if (r < 0)
		return r;

	r = root_path(root, BOOTCFG_GRUB_DROPIN_DIR, &dir);
	if (r < 0)
		return r;
	n = scandir(dir, &names, cfg_filter, alphasort);
	if (n < 0)
		n = 0;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		struct grub_file *f = &ret->f[ret->n];
		bool ours;

		if (r >= 0 && asprintf(&path, BOOTCFG_GRUB_DROPIN_DIR "/%s", names[i]->d_name) < 0)
			r = -ENOMEM;
		if (r < 0 || ret->n >= MAX_GRUB_FILES) {
			free(names[i]);
			continue;
		}
		ours = streq(path, BOOTCFG_GRUB_DROPIN);
		ours_listed = ours_listed || ours;
		if (ours && replace) {
			if (dropin_text && !(f->text = strdup(dropin_text)))
				r = -ENOMEM;
		} else
			r = bootcfg_read_opt(root, path, &f->text);
		if (r >= 0 && f->text) {
			f->path = TAKE_PTR(path);
			ret->n++;
		} else {
			free(f->text);
			f->text = NULL;
		}
		free(names[i]);
	}
	free(names);
	if (r < 0)
		return r;
	if (replace && dropin_text && !ours_listed && ret->n < MAX_GRUB_FILES) {
		/* Not there yet: it goes where the glob would put "crashcap.cfg". */
		size_t at = 1;

		while (at < ret->n && strcmp(ret->f[at].path, BOOTCFG_GRUB_DROPIN) < 0)
			at++;
		memmove(&ret->f[at + 1], &ret->f[at], (ret->n - at) * sizeof(ret->f[0]));
		ret->f[at].path = strdup(BOOTCFG_GRUB_DROPIN);
		ret->f[at].text = strdup(dropin_text);
		ret->n++;
		if (!ret->f[at].path || !ret->f[at].text)
			return -ENOMEM;
	}
	return 0;
}

/* Evaluates the files in order: the command line and the file its crashkernel= comes from. */
static int grub_evaluate(const struct grub_files *files, char **ret_cmdline,
			 const char **ret_source)
{
	_cleanup_(grub_cmdline_done) struct grub_cmdline g = {};
	const char *source = NULL;
	char before[128] = "", after[128];
	int r;

	for (size_t i = 0; i < files->n; i++) {
		_cleanup_free_ char *line = NULL;

		if (!files->f[i].text)
			continue;
		r = grub_cmdline_eval(files->f[i].text, &g);
		if (r < 0)
			return r;
		r = grub_cmdline_join(&g, &line);
		if (r < 0)
			return r;
		bootcfg_deciding_token(line, after, sizeof(after));
		if (!streq(before, after))
			source = after[0] ? files->f[i].path : NULL;
		memcpy(before, after, sizeof(before));
	}
	r = grub_cmdline_join(&g, ret_cmdline);
	if (r < 0)
		return r;
	*ret_source = source;
	return 0;
}

/* The crashkernel= another file sets, evaluated alone; "" when none. */
static int grub_file_token(const struct grub_file *f, char *buf, size_t len, bool *ret_in_linux)
{
	_cleanup_(grub_cmdline_done) struct grub_cmdline g = {};
	_cleanup_free_ char *line = NULL;
	char in_default[128];
	int r;

	r = grub_cmdline_eval(f->text, &g);
	if (r < 0)
		return r;
	r = grub_cmdline_join(&g, &line);
	if (r < 0)
		return r;
	bootcfg_deciding_token(line, buf, len);
	bootcfg_deciding_token(g.linux_default, in_default, sizeof(in_default));
	*ret_in_linux = buf[0] && !in_default[0];
	return 0;
}

static int grub_dropin_text(const char *value, char **ret)
{
	return asprintf(ret,
			BOOTCFG_MARK
			": memory for the crash kernel (kdump).\n"
			"# \"crashcapctl unreserve\" removes this file; run update-grub "
			"after editing it.\n"
			"GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT "
			"crashkernel=%s\"\n",
			value) < 0 ?
		       -ENOMEM :
		       0;
}

static int plan_grub(const char *root, const char *value, struct bootcfg_plan *p, char **error)
{
	_cleanup_free_ char *old = NULL, *new = NULL, *cmdline = NULL;
	struct grub_files files = {};
	const char *source = NULL;
	char tok[128];
	int r;

	r = bootcfg_read_opt(root, BOOTCFG_GRUB_DROPIN, &old);
	if (r < 0)
		return errmsg_set(error, r, "cannot read %s: %s", BOOTCFG_GRUB_DROPIN,
				  strerror(-r));
	if (old && !startswith(old, BOOTCFG_MARK))
		return errmsg_set(
			error, -EEXIST,
			"%s was not written by crashcapctl (its first line is not \"%s\"): "
			"move it away, then run crashcapctl again",
			BOOTCFG_GRUB_DROPIN, BOOTCFG_MARK);
	if (old) {
		bool in_linux;

		r = grub_file_token(&(struct grub_file){ .text = old }, tok, sizeof(tok),
				    &in_linux);
		if (r < 0)
			return r;
		if (tok[0] && !(p->previous = strdup(tok)))
			return -ENOMEM;
	}
	if (value) {
		r = grub_dropin_text(value, &new);
		if (r < 0)
			return r;
	}

	r = grub_files_read(root, true, new, &files);
	if (r >= 0)
		r = grub_evaluate(&files, &cmdline, &source);
	for (size_t i = 0; r >= 0 && i < files.n; i++) {
		const struct grub_file *f = &files.f[i];
		bool in_linux;

		if (streq(f->path, BOOTCFG_GRUB_DROPIN))
			continue;
		r = grub_file_token(f, tok, sizeof(tok), &in_linux);
		if (r < 0 || !tok[0])
			continue;
		if (!value)
			bootcfg_add_note(p,
					 "%s sets crashkernel=%s (not crashcap's: left as it is)",
					 f->path, tok);
		else if (source && streq(source, f->path) && strstr(value, ",high"))
			bootcfg_add_note(
				p,
				"%s sets crashkernel=%s: a plain crashkernel= wins over crashcap's "
				",high one at boot; remove it there for crashcap's to apply",
				f->path, tok);
		else if (source && streq(source, f->path))
			bootcfg_add_note(
				p,
				"%s sets crashkernel=%s and comes after crashcap's on the kernel "
				"command line: the kernel takes the last one, so %s wins at boot; "
				"remove it there for crashcap's to apply",
				f->path, tok, tok);
		else
			bootcfg_add_note(
				p,
				"%s also sets crashkernel=%s: crashcap's comes later on the kernel "
				"command line and wins (the kernel takes the last one)%s",
				f->path, tok,
				in_linux ? "; recovery entries (GRUB_CMDLINE_LINUX only) still get "
					   "the other" :
					   "");
	}
	if (r >= 0 && value && source && !streq(source, BOOTCFG_GRUB_DROPIN) &&
	    !(p->overridden_by = strdup(source)))
		r = -ENOMEM;
	grub_files_done(&files);
	if (r < 0)
		return r;
	p->update_grub = !(old && new &&streq(old, new)) && (old || new);
	return bootcfg_add_change(p, BOOTCFG_GRUB_DROPIN, TAKE_PTR(old), TAKE_PTR(new));
}

int bootcfg_plan(const char *root, const char *value, struct bootcfg_plan *ret, char **error)
{
	struct bootcfg_plan p = {};
	int r;

	r = bootcfg_detect(root, &p.kind);
	if (r < 0)
		return r;
	if (p.kind == BOOTCFG_GRUB)
		r = plan_grub(root, value, &p, error);
	else if (p.kind == BOOTCFG_KERNEL_INSTALL)
		r = bootcfg_plan_kernel_install(root, value, &p, error);
	if (r < 0) {
		bootcfg_plan_done(&p);
		return r;
	}
	*ret = p;
	return 0;
}

static int write_atomic(const char *path, const char *text)
{
	int r;

	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	return atomic_file_write(path, 0644, text, strlen(text));
}

int bootcfg_apply(const char *root, const struct bootcfg_plan *p, char **error)
{
	for (size_t i = 0; i < p->n_changes; i++) {
		const struct bootcfg_change *c = &p->changes[i];
		_cleanup_free_ char *path = NULL;
		int r;

		r = root_path(root, c->path, &path);
		if (r < 0)
			return r;
		if (c->new_text)
			r = write_atomic(path, c->new_text);
		else if (unlink(path) < 0 && errno != ENOENT)
			r = negative_errno();
		if (r < 0)
			return errmsg_set(error, r, "cannot %s %s: %s%s",
					  c->new_text ? "write" : "remove", path, strerror(-r),
					  r == -EACCES || r == -EPERM || r == -EROFS ?
						  " (run as root, on a writable /etc)" :
						  "");
		log_debug("%s %s", c->new_text ? "wrote" : "removed", path);
	}
	return 0;
}

int bootcfg_read_configured(const char *root, struct bootcfg_configured *ret)
{
	struct bootcfg_configured c = {};
	const char *source = NULL;
	int r;

	r = bootcfg_detect(root, &c.kind);
	if (r < 0)
		return r;
	if (c.kind == BOOTCFG_GRUB) {
		struct grub_files files = {};

		r = grub_files_read(root, false, NULL, &files);
		if (r >= 0)
			r = grub_evaluate(&files, &c.cmdline, &source);
		if (r >= 0 && source && !(c.source = strdup(source)))
			r = -ENOMEM;
		grub_files_done(&files);
		c.ours = c.source && streq(c.source, BOOTCFG_GRUB_DROPIN);
	} else if (c.kind == BOOTCFG_KERNEL_INSTALL) {
		_cleanup_free_ char *state = NULL, *ours = NULL;
		char tok[128];

		r = bootcfg_read_opt(root, BOOTCFG_KERNEL_CMDLINE, &c.cmdline);
		if (r >= 0)
			r = bootcfg_state_value(root, &state, &ours);
		if (r >= 0 && c.cmdline) {
			bootcfg_deciding_token(c.cmdline, tok, sizeof(tok));
			if (tok[0] && !(c.source = strdup(BOOTCFG_KERNEL_CMDLINE)))
				r = -ENOMEM;
			c.ours = tok[0] && ours && streq(tok, ours);
		}
	}
	if (r < 0) {
		bootcfg_configured_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}
