// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Format facts from makedumpfile's makedumpfile.h (makedumpfile_header,
 * makedumpfile_data_header) and its rearrange_dumpdata(): a 4096-byte header
 * whose first 16 bytes are "makedumpfile" NUL-padded, then big-endian type
 * (1) and version; records of big-endian { i64 offset; i64 size } and size
 * bytes; the end marker { -1, -1 }.
 */
#include "rebuild.h"
#include "log.h"

#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#define FLAT_HEADER_SIZE 4096
#define FLAT_SIGNATURE "makedumpfile"
#define COPY_BUF_SIZE (1U << 20)

/* Exactly len bytes; -ENODATA at the end of the stream before them. */
static int read_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int check_header(int fd)
{
	uint8_t h[FLAT_HEADER_SIZE];
	int64_t type;
	int r;

	r = read_exact(fd, h, sizeof(h));
	if (r == -ENODATA)
		return -EBADMSG;
	if (r < 0)
		return r;
	memcpy(&type, h + 16, sizeof(type));
	if (memcmp(h, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) != 0 || be64toh(type) != 1)
		return -EBADMSG;
	return 0;
}

static int copy_record(int in_fd, int out_fd, uint64_t off, uint64_t size, uint8_t *buf,
		       struct rebuild_result *res)
{
	while (size > 0) {
		size_t n = (size_t)MIN(size, (uint64_t)COPY_BUF_SIZE);
		int r;

		r = read_exact(in_fd, buf, n);
		if (r < 0)
			return r;
		r = pwrite_full(out_fd, buf, n, (off_t)off);
		if (r < 0)
			return r;
		off += n;
		size -= n;
		res->file_size = MAX(res->file_size, off);
	}
	return 0;
}

int rebuild_flat(int in_fd, int out_fd, struct rebuild_result *ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	*ret = (struct rebuild_result){};
	r = check_header(in_fd);
	if (r < 0)
		return log_debug_errno(r, "rebuild: no flattened header: %m");
	buf = malloc(COPY_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		int64_t rec[2], off, size;

		r = read_exact(in_fd, rec, sizeof(rec));
		if (r < 0)
			return log_debug_errno(r,
					       "rebuild: no record header after %" PRIu64
					       " records: %m",
					       ret->records);
		off = (int64_t)be64toh((uint64_t)rec[0]);
		size = (int64_t)be64toh((uint64_t)rec[1]);
		if (off == -1 && size == -1)
			return 0;
		/* An offset past 2^62 is no dump file: a stream out of step. */
		if (off < 0 || size < 0 || off > (INT64_C(1) << 62) || size > (INT64_C(1) << 40))
			return log_debug_errno(-EBADMSG, "rebuild: bad record %" PRIi64 "+%" PRIi64,
					       off, size);
		r = copy_record(in_fd, out_fd, (uint64_t)off, (uint64_t)size, buf, ret);
		if (r < 0)
			return r;
		ret->records++;
	}
}
