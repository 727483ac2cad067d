// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ROOT/run/crashcap/loaded.json: what the loaded crash kernel is, for
 * status. The kernel only says whether something is loaded, not what.
 * The reader takes the flat object the writer makes, nothing more.
 */
#include "loadfile.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "json.h"
#include "log.h"
#include "rootfs.h"

int loaded_state_write(const char *root, const struct crash_image *img)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	char when[32];
	struct json j;
	struct tm tm;
	FILE *f;
	int r;

	r = root_path(root, LOADED_STATE_PATH, &path);
	if (r < 0)
		return r;
	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "we");
	if (!f)
		return negative_errno();
	gmtime_r(&img->time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	json_begin(&j, f, true);
	json_object_open(&j, NULL);
	json_string(&j, "kernel", img->kernel);
	json_string(&j, "initrd", img->initrd);
	json_string(&j, "cmdline", img->cmdline);
	json_string(&j, "release", img->release);
	json_string(&j, "method", img->method ? img->method : "file");
	json_u64(&j, "flags", img->flags);
	json_u64(&j, "kernel_size", img->kernel_size);
	json_u64(&j, "kernel_init_size", img->kernel_init_size);
	json_u64(&j, "initrd_size", img->initrd_size);
	json_string(&j, "time", when);
	json_i64(&j, "timestamp", (int64_t)img->time);
	json_object_close(&j);
	r = json_end(&j);
	if (fclose(f) != 0 && r >= 0)
		r = negative_errno();
	/* Renamed into place: status never reads half a file. */
	if (r >= 0 && rename(tmp, path) < 0)
		r = negative_errno();
	if (r < 0)
		unlink(tmp);
	return r;
}

int loaded_state_remove(const char *root)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = root_path(root, LOADED_STATE_PATH, &path);
	if (r < 0)
		return r;
	if (unlink(path) < 0 && errno != ENOENT)
		return negative_errno();
	return 0;
}

static void skip_ws(const char **p)
{
	while (isspace((unsigned char)**p))
		(*p)++;
}

static void put_utf8(char **w, unsigned cp)
{
	char *o = *w;

	if (cp < 0x80) {
		*o++ = cp;
	} else if (cp < 0x800) {
		*o++ = 0xc0 | cp >> 6;
		*o++ = 0x80 | (cp & 0x3f);
	} else {
		*o++ = 0xe0 | cp >> 12;
		*o++ = 0x80 | ((cp >> 6) & 0x3f);
		*o++ = 0x80 | (cp & 0x3f);
	}
	*w = o;
}

/* A JSON string at *p (on the opening quote); escapes decoded, \u within the BMP only. */
static int parse_string(const char **p, char **ret)
{
	const char *s = *p + 1;
	_cleanup_free_ char *out = malloc(strlen(s) + 1);
	char *w = out;

	if (!out)
		return -ENOMEM;
	for (; *s != '"'; s++) {
		if (!*s || (unsigned char)*s < 0x20)
			return -EBADMSG;
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		switch (*++s) {
		case '"':
		case '\\':
		case '/':
			*w++ = *s;
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'u': {
			char hex[5] = {};
			uint64_t cp;

			if (strnlen(s + 1, 4) != 4)
				return -EBADMSG;
			memcpy(hex, s + 1, 4);
			if (parse_u64(hex, 16, &cp) < 0 || cp == 0 ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return -EBADMSG;
			put_utf8(&w, (unsigned)cp);
			s += 4;
			break;
		}
		default:
			return -EBADMSG;
		}
	}
	*w = 0;
	*p = s + 1;
	*ret = TAKE_PTR(out);
	return 0;
}

static int parse_number(const char **p, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno || end == *p)
		return -EBADMSG;
	*p = end;
	*ret = v;
	return 0;
}

static int set_field(struct crash_image *img, const char *key, char *str, int64_t num)
{
	char **s = NULL;

	if (streq(key, "kernel"))
		s = &img->kernel;
	else if (streq(key, "initrd"))
		s = &img->initrd;
	else if (streq(key, "cmdline"))
		s = &img->cmdline;
	else if (streq(key, "release"))
		s = &img->release;
	else if (streq(key, "method"))
		s = &img->method;
	else if (streq(key, "flags"))
		img->flags = num;
	else if (streq(key, "kernel_size"))
		img->kernel_size = num;
	else if (streq(key, "kernel_init_size"))
		img->kernel_init_size = num;
	else if (streq(key, "initrd_size"))
		img->initrd_size = num;
	else if (streq(key, "timestamp"))
		img->time = num;
	if (s) {
		free(*s);
		*s = str;
		return 1; /* took str */
	}
	return 0;
}

static int parse_object(const char *text, struct crash_image *img)
{
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
			_cleanup_free_ char *key = NULL, *str = NULL;
			int64_t num = 0;

			if (*p != '"' || parse_string(&p, &key) < 0)
				return -EBADMSG;
			skip_ws(&p);
			if (*p++ != ':')
				return -EBADMSG;
			skip_ws(&p);
			if (*p == '"')
				r = parse_string(&p, &str);
			else if (startswith(p, "null")) {
				p += 4;
				r = 0;
			} else
				r = parse_number(&p, &num);
			if (r < 0)
				return r;
			if (set_field(img, key, str, num) > 0)
				str = NULL;
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
	return *p ? -EBADMSG : 0;
}

int loaded_state_read(const char *root, struct crash_image *ret)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *text = NULL;
	int r;

	r = root_read_file(root, LOADED_STATE_PATH, 1 << 20, &text, NULL);
	if (r < 0)
		return r;
	r = parse_object(text, &img);
	if (r < 0)
		return log_debug_errno(r, "%s is not what crashcap writes", LOADED_STATE_PATH);
	if (!img.kernel)
		return log_debug_errno(-EBADMSG, "%s names no kernel", LOADED_STATE_PATH);
	*ret = img;
	img = (struct crash_image){};
	return 0;
}
