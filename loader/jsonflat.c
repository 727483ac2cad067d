// SPDX-License-Identifier: GPL-2.0-or-later
#include "jsonflat.h"

#include <ctype.h>

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static void put_utf8(char **w, uint32_t cp)
{
	unsigned char *o = (unsigned char *)*w;

	if (cp < 0x80) {
		*o++ = cp;
	} else if (cp < 0x800) {
		*o++ = 0xc0 | cp >> 6;
		*o++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*o++ = 0xe0 | cp >> 12;
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	} else {
		*o++ = 0xf0 | cp >> 18;
		*o++ = 0x80 | ((cp >> 12) & 0x3f);
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	}
	*w = (char *)o;
}

static int hex4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EBADMSG;
		v = v << 4 | (isdigit((unsigned char)s[i]) ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

/* *p is on the opening quote; a \u escape never grows the text (6 bytes give at most 4). */
static int parse_string(const char **p, char **ret)
{
	const char *s = *p + 1;
	_cleanup_free_ char *out = malloc(strlen(s) + 1);
	char *w = out;
	uint32_t cp, lo;

	if (!out)
		return -ENOMEM;
	for (; *s != '"'; s++) {
		if (!*s || (unsigned char)*s < 0x20)
			return -EBADMSG;
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*w++ = *s;
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'u':
			if (hex4(s + 1, &cp) < 0 || cp == 0)
				return -EBADMSG;
			s += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -EBADMSG;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s[1] != '\\' || s[2] != 'u' || hex4(s + 3, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -EBADMSG;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			put_utf8(&w, cp);
			break;
		default:
			return -EBADMSG;
		}
	}
	*w = 0;
	*p = s + 1;
	*ret = TAKE_PTR(out);
	return 0;
}

/* The JSON number grammar, kept as text. */
static int parse_number(const char **p, char **ret)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (isdigit((unsigned char)*s))
		while (isdigit((unsigned char)*s))
			s++;
	else
		return -EBADMSG;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EBADMSG;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return -EBADMSG;
		while (isdigit((unsigned char)*s))
			s++;
	}
	*ret = strndup(*p, s - *p);
	if (!*ret)
		return -ENOMEM;
	*p = s;
	return 0;
}

static int parse_value(const char **p, struct jsonflat_field *f, unsigned depth);

/* An object or array at *p, checked and skipped. */
static int skip_nested(const char **p, unsigned depth)
{
	char close = **p == '{' ? '}' : ']';
	struct jsonflat_field tmp;
	int r;

	if (depth > 32)
		return -EBADMSG;
	(*p)++;
	skip_ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			_cleanup_free_ char *key = NULL;

			if (**p != '"')
				return -EBADMSG;
			r = parse_string(p, &key);
			if (r < 0)
				return r;
			skip_ws(p);
			if (*(*p)++ != ':')
				return -EBADMSG;
			skip_ws(p);
		}
		tmp = (struct jsonflat_field){};
		r = parse_value(p, &tmp, depth + 1);
		free(tmp.text);
		if (r < 0)
			return r;
		skip_ws(p);
		if (**p == close) {
			(*p)++;
			return 0;
		}
		if (*(*p)++ != ',')
			return -EBADMSG;
		skip_ws(p);
	}
}

static int parse_value(const char **p, struct jsonflat_field *f, unsigned depth)
{
	if (**p == '{' || **p == '[') {
		const char *start = *p;
		int r;

		f->type = JSONFLAT_NESTED;
		r = skip_nested(p, depth);
		/* Top-level values keep their text: jsonflat_nested() parses it on demand. */
		if (r < 0 || depth > 0)
			return r;
		f->text = strndup(start, *p - start);
		return f->text ? 0 : -ENOMEM;
	}
	if (**p == '"') {
		f->type = JSONFLAT_STRING;
		return parse_string(p, &f->text);
	}
	if (startswith(*p, "true") || startswith(*p, "false")) {
		f->type = JSONFLAT_BOOL;
		f->boolean = **p == 't';
		*p += f->boolean ? 4 : 5;
		return 0;
	}
	if (startswith(*p, "null")) {
		f->type = JSONFLAT_NULL;
		*p += 4;
		return 0;
	}
	f->type = JSONFLAT_NUMBER;
	return parse_number(p, &f->text);
}

void jsonflat_done(struct jsonflat *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->count; i++) {
		free(j->fields[i].key);
		free(j->fields[i].text);
	}
	free(j->fields);
	*j = (struct jsonflat){};
}

int jsonflat_parse(const char *text, struct jsonflat *ret)
{
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	const char *p = text;
	int r;

	skip_ws(&p);
	if (*p++ != '{')
		return -EBADMSG;
	skip_ws(&p);
	if (*p == '}')
		p++;
	else
		for (;;) {
			struct jsonflat_field *f, *n;

			n = reallocarray(j.fields, j.count + 1, sizeof(*n));
			if (!n)
				return -ENOMEM;
			j.fields = n;
			f = &j.fields[j.count++];
			*f = (struct jsonflat_field){};
			if (*p != '"')
				return -EBADMSG;
			r = parse_string(&p, &f->key);
			if (r < 0)
				return r;
			skip_ws(&p);
			if (*p++ != ':')
				return -EBADMSG;
			skip_ws(&p);
			r = parse_value(&p, f, 0);
			if (r < 0)
				return r;
			skip_ws(&p);
			if (*p == '}') {
				p++;
				break;
			}
			if (*p++ != ',')
				return -EBADMSG;
			skip_ws(&p);
		}
	skip_ws(&p);
	if (*p)
		return -EBADMSG;
	*ret = j;
	j = (struct jsonflat){};
	return 0;
}

static const struct jsonflat_field *find(const struct jsonflat *j, const char *key)
{
	for (size_t i = j->count; i > 0; i--)
		if (streq(j->fields[i - 1].key, key))
			return &j->fields[i - 1];
	return NULL;
}

const char *jsonflat_string(const struct jsonflat *j, const char *key)
{
	const struct jsonflat_field *f = find(j, key);

	return f && f->type == JSONFLAT_STRING ? f->text : NULL;
}

const char *jsonflat_nested(const struct jsonflat *j, const char *key)
{
	const struct jsonflat_field *f = find(j, key);

	return f && f->type == JSONFLAT_NESTED ? f->text : NULL;
}

static int number_of(const struct jsonflat *j, const char *key, const char **ret)
{
	const struct jsonflat_field *f = find(j, key);

	if (!f || f->type == JSONFLAT_NULL)
		return -ENOENT;
	if (f->type != JSONFLAT_NUMBER)
		return -EINVAL;
	*ret = f->text;
	return 0;
}

int jsonflat_i64(const struct jsonflat *j, const char *key, int64_t *ret)
{
	const char *t;
	char *end;
	long long v;
	int r;

	r = number_of(j, key, &t);
	if (r < 0)
		return r;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int jsonflat_u64(const struct jsonflat *j, const char *key, uint64_t *ret)
{
	const char *t;
	int r;

	r = number_of(j, key, &t);
	if (r < 0)
		return r;
	return parse_u64(t, 10, ret) < 0 ? -EINVAL : 0;
}

int jsonflat_double(const struct jsonflat *j, const char *key, double *ret)
{
	const char *t;
	int r;

	r = number_of(j, key, &t);
	if (r < 0)
		return r;
	*ret = strtod(t, NULL);
	return 0;
}

int jsonflat_bool(const struct jsonflat *j, const char *key, bool *ret)
{
	const struct jsonflat_field *f = find(j, key);

	if (!f || f->type == JSONFLAT_NULL)
		return -ENOENT;
	if (f->type != JSONFLAT_BOOL)
		return -EINVAL;
	*ret = f->boolean;
	return 0;
}
