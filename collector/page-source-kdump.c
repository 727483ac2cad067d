// SPDX-License-Identifier: GPL-2.0-or-later
#include "page-source-kdump.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "dump-internal.h"
#include "log.h"

/* struct disk_dump_header: block_size; struct kdump_sub_header (one block in): dump_level. */
#define KDUMP_BLOCK_SIZE_OFFSET 428
#define KDUMP_SUB_LEVEL_OFFSET 8

static int read_at(struct dump_flat *flat, int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	int r;

	r = flat ? dump_flat_pread(flat, fd, buf, len, off, &got) :
		   pread_full(fd, buf, len, (off_t)off, &got);
	if (r < 0)
		return r;
	return got == len ? 0 : -EBADMSG;
}

int kdump_input_level(const char *path, int *ret_level)
{
	struct dump_flat *flat = NULL;
	_cleanup_close_ int fd = -1;
	char sig[8];
	uint32_t block_size;
	int32_t level;
	struct stat st;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	r = dump_flat_open(fd, (uint64_t)st.st_size, &flat);
	if (r < 0 && r != -ENOEXEC)
		return r;
	r = read_at(flat, fd, sig, sizeof(sig), 0);
	if (r >= 0 && memcmp(sig, "KDUMP   ", sizeof(sig)) != 0)
		r = -ENOEXEC;
	if (r >= 0)
		r = read_at(flat, fd, &block_size, sizeof(block_size), KDUMP_BLOCK_SIZE_OFFSET);
	if (r >= 0)
		r = read_at(flat, fd, &level, sizeof(level),
			    (uint64_t)block_size + KDUMP_SUB_LEVEL_OFFSET);
	dump_flat_free(flat);
	if (r == -EBADMSG || r == -ENOEXEC)
		return r;
	if (r < 0)
		return log_debug_errno(r, "Cannot read the kdump header of %s: %m", path);
	if (level < 0 || level > 31)
		return log_debug_errno(-EBADMSG, "%s: dump level %d in its header", path, level);
	*ret_level = level;
	return 0;
}

int refilter_level(const char *input_path, int asked, char *why, size_t why_size)
{
	const char *base = strrchr(input_path, '/');
	size_t n = strlen(why);
	int in;

	if (kdump_input_level(input_path, &in) < 0 || !(in & ~asked))
		return asked;
	snprintf(why + n, why_size - n,
		 "%s%s was written at dump level %d, and the pages it left out cannot come back",
		 n ? "; " : "", base ? base + 1 : input_path, in);
	return asked | in;
}
