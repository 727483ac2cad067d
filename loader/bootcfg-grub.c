// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * GRUB's /etc/default/grub and /etc/default/grub.d/\*.cfg are shell files
 * that grub-mkconfig sources, in that order (the drop-ins sorted by name).
 * Running them through sh here would run whatever they hold, so the two
 * variables that make the kernel command line are evaluated by hand: the
 * quoting ('...', "...", backslashes) and the $VAR / ${VAR} expansions
 * such files use. Anything more (commands, other variables) counts as
 * empty: such a file gets a warning from the caller, not a guess.
 */
#include "bootcfg.h"

#include <ctype.h>

#define LINUX "GRUB_CMDLINE_LINUX"
#define LINUX_DEFAULT "GRUB_CMDLINE_LINUX_DEFAULT"

void grub_cmdline_done(struct grub_cmdline *g)
{
	free(g->linux_);
	free(g->linux_default);
	g->linux_ = g->linux_default = NULL;
}

static bool name_char(char c, bool first)
{
	return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

static const char *lookup(const struct grub_cmdline *g, const char *name, size_t len)
{
	const char *v = NULL;

	if (len == strlen(LINUX) && memcmp(name, LINUX, len) == 0)
		v = g->linux_;
	else if (len == strlen(LINUX_DEFAULT) && memcmp(name, LINUX_DEFAULT, len) == 0)
		v = g->linux_default;
	return v ? v : "";
}

/* After a '$': appends the expansion, returns the character after it. */
static const char *expand(const char *p, const struct grub_cmdline *g, FILE *out)
{
	const char *name = p;
	size_t len = 0;

	if (*p == '{') {
		const char *close = strchr(p, '}');

		if (!close) {
			fputc('$', out);
			return p;
		}
		name = p + 1;
		while (name + len < close && name_char(name[len], len == 0))
			len++;
		/* ${VAR:-word} and the like: the variable's value, the operator ignored. */
		fputs(lookup(g, name, len), out);
		return close + 1;
	}
	while (name_char(p[len], len == 0))
		len++;
	if (len == 0) {
		fputc('$', out);
		return p;
	}
	fputs(lookup(g, name, len), out);
	return p + len;
}

/* One shell word from *pp; stops at unquoted blanks, newlines and ';'. */
static int parse_word(const char **pp, const struct grub_cmdline *g, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	const char *p = *pp;
	size_t size = 0;
	FILE *out;

	out = open_memstream(&buf, &size);
	if (!out)
		return -ENOMEM;
	while (*p && !strchr(" \t\n;", *p)) {
		if (*p == '\\') {
			if (p[1] && p[1] != '\n')
				fputc(p[1], out);
			p += p[1] ? 2 : 1;
		} else if (*p == '\'') {
			const char *close = strchr(p + 1, '\'');

			if (!close)
				close = p + strlen(p);
			fwrite(p + 1, 1, close - p - 1, out);
			p = *close ? close + 1 : close;
		} else if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
					if (p[1] != '\n')
						fputc(p[1], out);
					p += 2;
				} else if (*p == '$')
					p = expand(p + 1, g, out);
				else
					fputc(*p++, out);
			}
			if (*p == '"')
				p++;
		} else if (*p == '$')
			p = expand(p + 1, g, out);
		else
			fputc(*p++, out);
	}
	if (fclose(out) != 0)
		return -ENOMEM;
	*pp = p;
	*ret = TAKE_PTR(buf);
	return 0;
}

int grub_cmdline_eval(const char *text, struct grub_cmdline *g)
{
	const char *p = text;
	int r;

	while (*p) {
		char **target = NULL;
		size_t len = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == ';') {
			p++;
			continue;
		}
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (startswith(p, "export ") || startswith(p, "export\t")) {
			p += strlen("export");
			continue;
		}
		while (name_char(p[len], len == 0))
			len++;
		if (len && p[len] == '=') {
			if (len == strlen(LINUX) && memcmp(p, LINUX, len) == 0)
				target = &g->linux_;
			else if (len == strlen(LINUX_DEFAULT) && memcmp(p, LINUX_DEFAULT, len) == 0)
				target = &g->linux_default;
			p += len + 1;
		}
		if (target) {
			_cleanup_free_ char *word = NULL;

			r = parse_word(&p, g, &word);
			if (r < 0)
				return r;
			free(*target);
			*target = TAKE_PTR(word);
		}
		/* The rest of the command, word by word (quotes may span lines). */
		while (*p && *p != '\n' && *p != ';') {
			_cleanup_free_ char *word = NULL;

			if (*p == ' ' || *p == '\t') {
				p++;
				continue;
			}
			if (*p == '#') {
				p += strcspn(p, "\n");
				break;
			}
			r = parse_word(&p, g, &word);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int grub_cmdline_join(const struct grub_cmdline *g, char **ret)
{
	char *s;

	if (asprintf(&s, "%s %s", g->linux_ ? g->linux_ : "",
		     g->linux_default ? g->linux_default : "") < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}
