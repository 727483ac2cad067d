// SPDX-License-Identifier: GPL-2.0-or-later
#include "manifest.h"

#include <fcntl.h>

#include "atomic-file.h"
#include "initramfs/target.h"
#include "log.h"
#include "rootfs.h"
#include "sha256.h"
#include "version.h"

#define MANIFEST_MAX_SIZE 4096

static const char *const input_names[_MANIFEST_MAX] = {
	[MANIFEST_KERNEL] = "kernel",	  [MANIFEST_COLLECTOR] = "collector",
	[MANIFEST_SETTINGS] = "settings", [MANIFEST_MODULES] = "modules",
	[MANIFEST_VERSION] = "version",
};

const char *manifest_input_to_string(enum manifest_input i)
{
	return (size_t)i < ELEMENTSOF(input_names) ? input_names[i] : NULL;
}

/* Feeds a whole file; a missing one feeds its absence, so that appearing counts as a change. */
static int hash_file(struct sha256_ctx *ctx, const char *path)
{
	_cleanup_close_ int fd = -1;
	uint8_t buf[64 * 1024];
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			return negative_errno();
		sha256_update(ctx, "missing", 8);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		sha256_update(ctx, buf, (size_t)n);
	}
	return 0;
}

static void finish(struct sha256_ctx *ctx, char out[65])
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_final(ctx, d);
	sha256_hex(d, out);
}

static int one_file(const char *path, char out[65])
{
	struct sha256_ctx ctx;
	int r;

	sha256_init(&ctx);
	r = hash_file(&ctx, path);
	if (r < 0)
		return r;
	finish(&ctx, out);
	return 0;
}

static int hash_settings(const struct settings *s, char out[65])
{
	_cleanup_free_ char *text = NULL;
	struct sha256_ctx ctx;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	r = settings_write(s, f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	sha256_init(&ctx);
	sha256_update(&ctx, text, len);
	finish(&ctx, out);
	return 0;
}

/*
 * The modules the initramfs may take: the release's module index (a
 * changed or added module changes modules.dep) and where the dump target
 * is (another disk may need other drivers).
 */
static int hash_modules(const struct manifest_inputs *in, char out[65])
{
	static const char *const files[] = { "modules.dep", "modules.builtin", "modules.alias" };
	_cleanup_free_ char *dir = NULL, *rel = NULL, *error = NULL;
	struct target_info t = {};
	struct sha256_ctx ctx;
	int r;

	if (in->modules_dir)
		dir = strdup(in->modules_dir);
	else if (asprintf(&rel, "/lib/modules/%s", in->release) >= 0)
		r = root_path(in->root, rel, &dir);
	if (!dir)
		return -ENOMEM;
	sha256_init(&ctx);
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s/%s", dir, files[i]) < 0)
			return -ENOMEM;
		sha256_update(&ctx, files[i], strlen(files[i]) + 1);
		r = hash_file(&ctx, p);
		if (r < 0)
			return r;
	}
	r = target_resolve(in->root, in->settings->target, in->settings->path, &t, &error);
	if (r >= 0) {
		const char *parts[] = { t.spec, t.path, t.device, t.fstype };

		for (size_t i = 0; i < ELEMENTSOF(parts); i++)
			sha256_update(&ctx, parts[i] ? parts[i] : "-",
				      strlen(parts[i] ? parts[i] : "-") + 1);
	} else
		/* The build will say what is wrong with the target; here it is one more input. */
		sha256_update(&ctx, "unresolved", 11);
	target_info_done(&t);
	finish(&ctx, out);
	return 0;
}

int manifest_compute(const struct manifest_inputs *in, struct manifest *ret)
{
	struct manifest m = {};
	struct sha256_ctx ctx;
	int r;

	r = one_file(in->kernel, m.hash[MANIFEST_KERNEL]);
	if (r >= 0)
		r = one_file(in->collector, m.hash[MANIFEST_COLLECTOR]);
	if (r >= 0)
		r = hash_settings(in->settings, m.hash[MANIFEST_SETTINGS]);
	if (r >= 0)
		r = hash_modules(in, m.hash[MANIFEST_MODULES]);
	if (r < 0)
		return r;
	sha256_init(&ctx);
	sha256_update(&ctx, CRASHCAP_VERSION, strlen(CRASHCAP_VERSION));
	finish(&ctx, m.hash[MANIFEST_VERSION]);
	*ret = m;
	return 0;
}

int manifest_read(const char *path, struct manifest *ret)
{
	_cleanup_free_ char *text = NULL;
	struct manifest m = {};
	char *line, *save = NULL;
	int r;

	r = read_full_file(path, MANIFEST_MAX_SIZE, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32], hash[80];
		int i;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%31s %79s", name, hash) != 2 || strlen(hash) != 64)
			return -EBADMSG;
		for (i = 0; i < _MANIFEST_MAX; i++)
			if (streq(name, input_names[i]))
				break;
		if (i == _MANIFEST_MAX)
			return -EBADMSG;
		memcpy(m.hash[i], hash, 65);
	}
	*ret = m;
	return 0;
}

int manifest_write(const char *path, const struct manifest *m)
{
	struct atomic_file af;
	int r;

	r = atomic_file_open(path, 0644, &af);
	if (r < 0)
		return r;
	fprintf(af.f, "# what this crash initramfs was built from (crashcapd compares it)\n");
	for (int i = 0; i < _MANIFEST_MAX; i++)
		fprintf(af.f, "%s %s\n", input_names[i], m->hash[i]);
	return atomic_file_commit(&af, 0);
}

int manifest_diff(const struct manifest *a, const struct manifest *b)
{
	for (int i = 0; i < _MANIFEST_MAX; i++)
		if (!a->hash[i][0] || !streq(a->hash[i], b->hash[i]))
			return i;
	return -1;
}
