// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unified diffs for --dry-run. The files crashcap changes are a few lines
 * and each change touches one place, so one hunk (the lines between the
 * common head and the common tail, with three lines of context) is exact
 * and what patch(1) and diff -u readers expect.
 */
#include "bootcfg.h"

#define CONTEXT 3

struct line {
	const char *s;
	size_t len; /* without the newline */
	bool newline; /* false only for a last line without one */
};

struct lines {
	struct line *v;
	size_t n;
};

static int split(const char *text, struct lines *ret)
{
	size_t cap = 0;

	*ret = (struct lines){};
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		struct line l = { p, nl ? (size_t)(nl - p) : strlen(p), nl != NULL };

		if (ret->n == cap) {
			struct line *v = reallocarray(ret->v, cap ? cap * 2 : 16, sizeof(*v));

			if (!v) {
				free(ret->v);
				return -ENOMEM;
			}
			ret->v = v;
			cap = cap ? cap * 2 : 16;
		}
		ret->v[ret->n++] = l;
		p = nl ? nl + 1 : p + l.len;
	}
	return 0;
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->len == b->len && a->newline == b->newline && memcmp(a->s, b->s, a->len) == 0;
}

static void put_line(FILE *out, char mark, const struct line *l)
{
	fputc(mark, out);
	fwrite(l->s, 1, l->len, out);
	fputs(l->newline ? "\n" : "\n\\ No newline at end of file\n", out);
}

static void put_range(FILE *out, char sign, size_t start, size_t count)
{
	/* GNU diff: a 1-based start; for an empty range, the line before it. */
	if (count == 1)
		fprintf(out, "%c%zu", sign, start + 1);
	else
		fprintf(out, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

int bootcfg_diff(FILE *out, const struct bootcfg_change *c)
{
	struct lines a, b;
	size_t head = 0, tail = 0, from, a_end, b_end;
	int r;

	if ((!c->old_text && !c->new_text) ||
	    (c->old_text && c->new_text && streq(c->old_text, c->new_text)))
		return 0;
	r = split(c->old_text, &a);
	if (r < 0)
		return r;
	r = split(c->new_text, &b);
	if (r < 0) {
		free(a.v);
		return r;
	}
	while (head < a.n && head < b.n && line_eq(&a.v[head], &b.v[head]))
		head++;
	while (tail < a.n - head && tail < b.n - head &&
	       line_eq(&a.v[a.n - 1 - tail], &b.v[b.n - 1 - tail]))
		tail++;
	from = head > CONTEXT ? head - CONTEXT : 0;
	a_end = MIN(a.n, a.n - tail + CONTEXT);
	b_end = MIN(b.n, b.n - tail + CONTEXT);

	fprintf(out, "--- %s%s\n", c->old_text ? "a" : "", c->old_text ? c->path : "/dev/null");
	fprintf(out, "+++ %s%s\n", c->new_text ? "b" : "", c->new_text ? c->path : "/dev/null");
	fputs("@@ ", out);
	put_range(out, '-', from, a_end - from);
	fputc(' ', out);
	put_range(out, '+', from, b_end - from);
	fputs(" @@\n", out);
	for (size_t i = from; i < head; i++)
		put_line(out, ' ', &a.v[i]);
	for (size_t i = head; i < a.n - tail; i++)
		put_line(out, '-', &a.v[i]);
	for (size_t i = head; i < b.n - tail; i++)
		put_line(out, '+', &b.v[i]);
	for (size_t i = a.n - tail; i < a_end; i++)
		put_line(out, ' ', &a.v[i]);
	free(a.v);
	free(b.v);
	return ferror(out) ? -EIO : 0;
}
