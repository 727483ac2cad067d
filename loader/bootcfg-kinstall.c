// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kernel-install and systemd-boot: /etc/kernel/cmdline as it is, with
 * crashcap's crashkernel= token at the end; reserve.json says which token
 * is crashcap's (a file of one line has no room for a marker). The rest of
 * the file stays byte for byte.
 */
#include "bootcfg-internal.h"

#include "crashkernel-arg.h"
#include "errmsg.h"
#include "jsonflat.h"
#include "rootfs.h"

/* crashcap's value in /etc/kernel/cmdline, from the state file; NULL: none. */
int bootcfg_state_value(const char *root, char **ret_text, char **ret_value)
{
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_free_ char *text = NULL;
	const char *file, *v;
	int r;

	*ret_value = NULL;
	r = bootcfg_read_opt(root, BOOTCFG_STATE, &text);
	if (r < 0 || !text) {
		*ret_text = NULL;
		return r;
	}
	if (jsonflat_parse(text, &j) >= 0) {
		file = jsonflat_string(&j, "file");
		v = jsonflat_string(&j, "crashkernel");
		if (file && v && streq(file, BOOTCFG_KERNEL_CMDLINE) && !(*ret_value = strdup(v)))
			return -ENOMEM;
	}
	*ret_text = TAKE_PTR(text);
	return 0;
}

/* The last "crashkernel=VALUE" token of text: its start and length, or NULL. */
static const char *find_token(const char *text, const char *value, size_t *ret_len)
{
	_cleanup_free_ char *tok = NULL;
	const char *p = text, *found = NULL;

	if (!text || !value || asprintf(&tok, "crashkernel=%s", value) < 0)
		return NULL;
	while (*p) {
		size_t n;

		p += strspn(p, " \t\n\r");
		n = strcspn(p, " \t\n\r");
		if (n == strlen(tok) && memcmp(p, tok, n) == 0)
			found = p;
		p += n;
	}
	*ret_len = strlen(tok);
	return found;
}

/* text without [at, at+len) and one space next to it. */
static char *cut_token(const char *text, const char *at, size_t len)
{
	size_t start = at - text, end = start + len;
	char *s;

	if (start > 0 && (text[start - 1] == ' ' || text[start - 1] == '\t'))
		start--;
	else if (text[end] == ' ' || text[end] == '\t')
		end++;
	if (asprintf(&s, "%.*s%s", (int)start, text, text + end) < 0)
		return NULL;
	return s;
}

/* text with " crashkernel=VALUE" after its last word (the trailing white space kept). */
static char *append_token(const char *text, const char *value)
{
	size_t end = strlen(text);
	char *s;

	while (end > 0 && strchr(" \t\n\r", text[end - 1]))
		end--;
	if (asprintf(&s, "%.*s%scrashkernel=%s%s", (int)end, text, end ? " " : "", value,
		     text + end) < 0)
		return NULL;
	return s;
}

/* Without /etc/kernel/cmdline, kernel-install uses the running kernel's line. */
static int seed_cmdline(const char *root, char **ret)
{
	_cleanup_free_ char *line = NULL;
	FILE *out;
	char *buf = NULL, *p, *save = NULL;
	size_t size = 0;
	bool first = true;
	int r;

	r = root_read_line(root, "/proc/cmdline", &line);
	if (r < 0)
		return r;
	out = open_memstream(&buf, &size);
	if (!out)
		return -ENOMEM;
	for (p = strtok_r(line, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		/* Boot loader additions, not kernel options. */
		if (startswith(p, "BOOT_IMAGE=") || startswith(p, "initrd="))
			continue;
		fprintf(out, "%s%s", first ? "" : " ", p);
		first = false;
	}
	fputc('\n', out);
	if (fclose(out) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int bootcfg_plan_kernel_install(const char *root, const char *value, struct bootcfg_plan *p,
				char **error)
{
	_cleanup_free_ char *old = NULL, *base = NULL, *new = NULL, *state_old = NULL,
			    *state_new = NULL, *ours = NULL;
	const char *at = NULL, *last;
	size_t len = 0, last_len = 0;
	int r;

	r = bootcfg_read_opt(root, BOOTCFG_KERNEL_CMDLINE, &old);
	if (r < 0)
		return errmsg_set(error, r, "cannot read %s: %s", BOOTCFG_KERNEL_CMDLINE,
				  strerror(-r));
	r = bootcfg_state_value(root, &state_old, &ours);
	if (r < 0)
		return errmsg_set(error, r, "cannot read %s: %s", BOOTCFG_STATE, strerror(-r));
	if (!old && value) {
		r = seed_cmdline(root, &base);
		if (r < 0)
			return errmsg_set(
				error, r,
				"%s is missing and /proc/cmdline cannot be read: write the "
				"kernel's options to %s first",
				BOOTCFG_KERNEL_CMDLINE, BOOTCFG_KERNEL_CMDLINE);
	} else if (old && !(base = strdup(old)))
		return -ENOMEM;

	if (ours) {
		at = find_token(base, ours, &len);
		if (at && !(p->previous = strdup(ours)))
			return -ENOMEM;
		if (!at)
			bootcfg_add_note(
				p,
				"the crashkernel=%s crashcap wrote is no longer in %s: someone "
				"changed it; it is left alone",
				ours, BOOTCFG_KERNEL_CMDLINE);
	}
	last = crashkernel_cmdline_find(base, CRASHKERNEL_PLAIN, &last_len);
	if (value && at && last == at + strlen("crashkernel="))
		/* Ours, and still the last: its value changes in place. */
		r = asprintf(&new, "%.*scrashkernel=%s%s", (int)(at - base), base, value,
			     at + len) < 0 ?
			    -ENOMEM :
			    0;
	else if (value) {
		_cleanup_free_ char *cut = at ? cut_token(base, at, len) : NULL;

		if (at && !cut)
			return -ENOMEM;
		new = append_token(cut ? cut : base, value);
		r = new ? 0 : -ENOMEM;
	} else if (at) {
		new = cut_token(base, at, len);
		r = new ? 0 : -ENOMEM;
	} else if (base && !(new = strdup(base)))
		r = -ENOMEM;
	if (r < 0)
		return r;

	/*
	 * Other tools' crashkernel= tokens: ours (when set) is last and wins,
	 * except that any plain one wins over a ",high" one.
	 */
	for (const char *s = base ? strstr(base, "crashkernel=") : NULL; s;
	     s = strstr(s + 1, "crashkernel=")) {
		size_t n = strcspn(s, " \t\n\r");
		bool plain =
			!memchr(s, ',', n) || n < 5 ||
			(memcmp(s + n - 5, ",high", 5) != 0 && memcmp(s + n - 4, ",low", 4) != 0 &&
			 memcmp(s + n - 4, ",cma", 4) != 0);

		if ((s != base && !strchr(" \t\n\r", s[-1])) || s == at)
			continue;
		if (value && plain && strstr(value, ",high")) {
			bootcfg_add_note(
				p,
				"%s also has %.*s, not written by crashcap: a plain crashkernel= "
				"wins over crashcap's ,high one at boot; remove it there for "
				"crashcap's to apply",
				BOOTCFG_KERNEL_CMDLINE, (int)n, s);
			if (!p->overridden_by &&
			    !(p->overridden_by = strdup(BOOTCFG_KERNEL_CMDLINE)))
				return -ENOMEM;
		} else if (value)
			bootcfg_add_note(
				p,
				"%s also has %.*s, not written by crashcap: crashcap's comes later "
				"on the line and wins (the kernel takes the last one)",
				BOOTCFG_KERNEL_CMDLINE, (int)n, s);
		else
			bootcfg_add_note(p, "%s has %.*s (not crashcap's: left as it is)",
					 BOOTCFG_KERNEL_CMDLINE, (int)n, s);
	}

	if (value && asprintf(&state_new, "{\n\t\"file\": \"%s\",\n\t\"crashkernel\": \"%s\"\n}\n",
			      BOOTCFG_KERNEL_CMDLINE, value) < 0)
		return -ENOMEM;
	if (!value && !at && state_old && !ours)
		state_new = strdup(state_old); /* not about kernel-install: keep */
	r = bootcfg_add_change(p, BOOTCFG_KERNEL_CMDLINE, TAKE_PTR(old), TAKE_PTR(new));
	if (r >= 0)
		r = bootcfg_add_change(p, BOOTCFG_STATE, TAKE_PTR(state_old), TAKE_PTR(state_new));
	return r;
}
