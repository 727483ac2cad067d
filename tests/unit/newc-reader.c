// SPDX-License-Identifier: GPL-2.0-or-later
#include "newc-reader.h"

#include "cpio.h"

static int hex_field(const char *p, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -EBADMSG;
		v = v << 4 | d;
	}
	*ret = v;
	return 0;
}

int newc_parse(const void *buf, size_t size, struct newc_archive *ret)
{
	const char *base = buf;
	struct newc_archive a = {};
	size_t off = 0;
	bool trailer = false;

	while (off + CPIO_NEWC_HEADER_SIZE <= size) {
		uint32_t f[13];
		struct newc_entry e = {};
		struct newc_entry *grown;
		size_t name_off, data_off;

		if (memcmp(base + off, CPIO_NEWC_MAGIC, 6) != 0)
			goto bad;
		for (int i = 0; i < 13; i++)
			if (hex_field(base + off + 6 + 8 * i, &f[i]) < 0)
				goto bad;
		/* f: ino mode uid gid nlink mtime filesize maj min rmaj rmin namesize check */
		name_off = off + CPIO_NEWC_HEADER_SIZE;
		if (f[11] == 0 || name_off + f[11] > size || base[name_off + f[11] - 1] != 0 ||
		    strlen(base + name_off) != f[11] - 1)
			goto bad;
		data_off = ALIGN_UP(name_off + f[11], 4);
		if (data_off + f[6] > size || f[12] != 0)
			goto bad;
		if (streq(base + name_off, CPIO_TRAILER_NAME)) {
			off = ALIGN_UP(data_off + f[6], 4);
			trailer = true;
			break;
		}
		e.name = strdup(base + name_off);
		e.data = malloc(f[6] + 1);
		if (!e.name || !e.data) {
			free(e.name);
			free(e.data);
			goto bad;
		}
		memcpy(e.data, base + data_off, f[6]);
		e.data[f[6]] = 0;
		e.ino = f[0];
		e.mode = f[1];
		e.uid = f[2];
		e.gid = f[3];
		e.nlink = f[4];
		e.mtime = f[5];
		e.size = f[6];
		e.rdev_major = f[9];
		e.rdev_minor = f[10];
		grown = realloc(a.entries, (a.count + 1) * sizeof(*grown));
		if (!grown) {
			free(e.name);
			free(e.data);
			goto bad;
		}
		a.entries = grown;
		a.entries[a.count++] = e;
		off = ALIGN_UP(data_off + f[6], 4);
	}
	if (!trailer || off > size)
		goto bad;
	for (; off < size; off++)
		if (base[off] != 0)
			goto bad;
	*ret = a;
	return 0;
bad:
	newc_archive_done(&a);
	return -EBADMSG;
}

int newc_parse_file(const char *path, struct newc_archive *ret)
{
	_cleanup_free_ char *data = NULL;
	size_t size;
	int r;

	r = read_full_file(path, 512 << 20, &data, &size);
	if (r < 0)
		return r;
	return newc_parse(data, size, ret);
}

void newc_archive_done(struct newc_archive *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->entries[i].name);
		free(a->entries[i].data);
	}
	free(a->entries);
	a->entries = NULL;
	a->count = 0;
}

const struct newc_entry *newc_find(const struct newc_archive *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++)
		if (streq(a->entries[i].name, name))
			return &a->entries[i];
	return NULL;
}
