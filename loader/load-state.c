// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ROOT/run/crashcap/loaded.json: what the loaded crash kernel is, for
 * status. The kernel only says whether something is loaded, not what.
 * The reader takes the flat object the writer makes, nothing more.
 */
#include "loadfile.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "json.h"
#include "jsonflat.h"
#include "log.h"
#include "rootfs.h"

int loaded_state_write(const char *root, const struct crash_image *img)
{
	_cleanup_free_ char *path = NULL;
	struct atomic_file af;
	char when[32];
	struct json j;
	struct tm tm;
	int r;

	r = root_path(root, LOADED_STATE_PATH, &path);
	if (r < 0)
		return r;
	r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;
	/* Renamed into place: status never reads half a file. */
	r = atomic_file_open(path, 0644, &af);
	if (r < 0)
		return r;
	gmtime_r(&img->time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	json_begin(&j, af.f, true);
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
	return atomic_file_commit(&af, json_end(&j));
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

/* Only what loaded_state_write() makes: strings, integers, null; no nesting. */
static int image_from_json(const struct jsonflat *j, struct crash_image *img)
{
	static const struct {
		const char *key;
		size_t offset;
	} strings[] = {
		{ "kernel", offsetof(struct crash_image, kernel) },
		{ "initrd", offsetof(struct crash_image, initrd) },
		{ "cmdline", offsetof(struct crash_image, cmdline) },
		{ "release", offsetof(struct crash_image, release) },
		{ "method", offsetof(struct crash_image, method) },
	};
	int64_t num;

	for (size_t i = 0; i < j->count; i++) {
		const struct jsonflat_field *f = &j->fields[i];

		if (f->type == JSONFLAT_BOOL || f->type == JSONFLAT_NESTED)
			return -EBADMSG;
		if (f->type == JSONFLAT_NUMBER && jsonflat_i64(j, f->key, &num) < 0)
			return -EBADMSG;
	}
	for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
		const char *v = jsonflat_string(j, strings[i].key);
		char **field = (char **)((char *)img + strings[i].offset);

		if (v && !(*field = strdup(v)))
			return -ENOMEM;
	}
	if (jsonflat_i64(j, "flags", &num) >= 0)
		img->flags = num;
	if (jsonflat_i64(j, "kernel_size", &num) >= 0)
		img->kernel_size = num;
	if (jsonflat_i64(j, "kernel_init_size", &num) >= 0)
		img->kernel_init_size = num;
	if (jsonflat_i64(j, "initrd_size", &num) >= 0)
		img->initrd_size = num;
	if (jsonflat_i64(j, "timestamp", &num) >= 0)
		img->time = num;
	return 0;
}

int loaded_state_read(const char *root, struct crash_image *ret)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_free_ char *text = NULL;
	int r;

	r = root_read_file(root, LOADED_STATE_PATH, 1 << 20, &text, NULL);
	if (r < 0)
		return r;
	r = jsonflat_parse(text, &j);
	if (r >= 0)
		r = image_from_json(&j, &img);
	if (r < 0)
		return log_debug_errno(r, "%s is not what crashcap writes", LOADED_STATE_PATH);
	if (!img.kernel)
		return log_debug_errno(-EBADMSG, "%s names no kernel", LOADED_STATE_PATH);
	*ret = img;
	img = (struct crash_image){};
	return 0;
}
