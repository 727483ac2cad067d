// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <ctype.h>
#include <stdarg.h>

#include "log.h"

/* A config file is a few hundred bytes; anything near this is not one. */
#define CONFIG_MAX_SIZE (4U << 20)

static void entry_free(struct config_entry *e)
{
	free(e->key);
	free(e->value);
	free(e->file);
}

void config_done(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++)
		entry_free(&c->entries[i]);
	free(c->entries);
	c->entries = NULL;
	c->count = 0;
}

static int set_error(struct config_error *err, const char *file, unsigned line, const char *fmt,
		     ...) _printf_(4, 5);

static int set_error(struct config_error *err, const char *file, unsigned line, const char *fmt,
		     ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool key_char_ok(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.';
}

/*
 * Unquotes a value in place: "..." with \" and \\ as the only escapes, then
 * nothing but white space or a '#' comment. Returns a message on error.
 */
static const char *unquote(char *v)
{
	char *r = v + 1, *w = v;

	for (;; r++) {
		if (!*r)
			return "unterminated quoted value";
		if (*r == '"')
			break;
		if (*r == '\\') {
			if (r[1] != '"' && r[1] != '\\')
				return "unknown escape in quoted value (only \\\" and \\\\ are allowed)";
			r++;
		}
		*w++ = *r;
	}
	*w = 0;
	r++;
	while (isspace((unsigned char)*r))
		r++;
	if (*r && *r != '#')
		return "unexpected text after the closing quote";
	return NULL;
}

static int append_entry(struct config *c, const char *key, const char *value, const char *name,
			unsigned line)
{
	struct config_entry *grown, *e;

	grown = realloc(c->entries, (c->count + 1) * sizeof(*c->entries));
	if (!grown)
		return -ENOMEM;
	c->entries = grown;
	e = &c->entries[c->count];
	*e = (struct config_entry){ .line = line };
	e->key = strdup(key);
	e->value = strdup(value);
	e->file = strdup(name);
	if (!e->key || !e->value || !e->file) {
		entry_free(e);
		return -ENOMEM;
	}
	c->count++;
	return 0;
}

/* Drops the entries appended since old_count: a file that fails adds nothing. */
static void truncate_entries(struct config *c, size_t old_count)
{
	while (c->count > old_count)
		entry_free(&c->entries[--c->count]);
}

static int parse_line(struct config *c, char *l, const char *name, unsigned line,
		      struct config_error *err)
{
	char *eq, *key, *value;
	const char *msg;

	l = strstrip(l);
	if (!*l || *l == '#')
		return 0;

	eq = strchr(l, '=');
	if (!eq)
		return set_error(err, name, line, "missing '=' (lines are \"key = value\")");
	*eq = 0;
	key = strstrip(l);
	value = strstrip(eq + 1);
	if (!*key)
		return set_error(err, name, line, "empty key before '='");
	for (const char *k = key; *k; k++)
		if (!key_char_ok(*k))
			return set_error(err, name, line, "invalid key '%s'", key);
	if (*value == '"') {
		msg = unquote(value);
		if (msg)
			return set_error(err, name, line, "%s", msg);
	}
	return append_entry(c, key, value, name, line);
}

int config_parse_string(struct config *c, const char *text, const char *name,
			struct config_error *err)
{
	_cleanup_free_ char *copy = strdup(text);
	size_t old_count = c->count;
	unsigned line = 0;
	char *p, *nl;
	int r;

	if (!copy)
		return -ENOMEM;
	for (p = copy; p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = 0;
		if (!nl && !*p)
			break;
		line++;
		r = parse_line(c, p, name, line, err);
		if (r < 0) {
			truncate_entries(c, old_count);
			if (r == -ENOMEM)
				set_error(err, name, line, "out of memory");
			return r;
		}
	}
	log_debug("%s: %zu entries", name, c->count - old_count);
	return 0;
}

int config_parse_file(struct config *c, const char *path, struct config_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	r = read_full_file(path, CONFIG_MAX_SIZE, &text, &size);
	if (r < 0) {
		set_error(err, path, 0, "%s", strerror(-r));
		return r;
	}
	if (memchr(text, 0, size))
		return set_error(err, path, 0, "not a text file (contains a NUL byte)");
	return config_parse_string(c, text, path, err);
}

const struct config_entry *config_get(const struct config *c, const char *key)
{
	for (size_t i = c->count; i > 0; i--)
		if (streq(c->entries[i - 1].key, key))
			return &c->entries[i - 1];
	return NULL;
}

const char *config_error_format(const struct config_error *err, char *buf, size_t len)
{
	if (err->line > 0)
		snprintf(buf, len, "%s:%u: %s", err->file, err->line, err->message);
	else if (err->file[0])
		snprintf(buf, len, "%s: %s", err->file, err->message);
	else
		snprintf(buf, len, "%s", err->message);
	return buf;
}

void config_write_value(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s = \"", key);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs("\"\n", f);
}
