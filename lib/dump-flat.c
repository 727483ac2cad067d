// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The flattened format (makedumpfile -F, for pipes and ssh): a 4096-byte
 * header, then big-endian { i64 offset; i64 size } records, each followed by
 * size bytes that belong at that offset of the regular file, and an end
 * marker { -1, -1 }. makedumpfile rewrites some ranges (the sub-header after
 * the eraseinfo), so a later record wins where records overlap. On open the
 * records become a sorted list of disjoint pieces; reads look them up.
 * Facts from makedumpfile's makedumpfile.h (makedumpfile_header,
 * makedumpfile_data_header) and write_buffer().
 */
#include "dump-internal.h"
#include "log.h"

#include <endian.h>
#include <inttypes.h>

#define FLAT_HEADER_SIZE 4096
#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_TYPE 1
#define SCAN_BUF_SIZE (256U << 10)

struct flat_piece {
	uint64_t start, end; /* range of the regular file */
	uint64_t file_offset; /* where start's byte is in the flattened file */
};

struct dump_flat {
	struct flat_piece *pieces; /* sorted, disjoint */
	size_t n, cap;
	uint64_t size; /* of the regular file */
	bool truncated;
	size_t hint;
};

struct dump_flat *dump_flat_free(struct dump_flat *f)
{
	if (!f)
		return NULL;
	free(f->pieces);
	free(f);
	return NULL;
}

static void dump_flat_freep(struct dump_flat **f)
{
	dump_flat_free(*f);
}

static int reserve(struct dump_flat *f, size_t more)
{
	struct flat_piece *grown;
	size_t cap;

	if (f->n + more <= f->cap)
		return 0;
	cap = MAX(f->cap * 2, f->n + more + 64);
	grown = realloc(f->pieces, cap * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	f->pieces = grown;
	f->cap = cap;
	return 0;
}

/* The first piece whose end is above off (n if none). */
static size_t first_ending_after(const struct dump_flat *f, uint64_t off)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->pieces[mid].end <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds [start, start + size) at file_offset; it replaces what earlier records said. */
static int add_piece(struct dump_flat *f, uint64_t start, uint64_t size, uint64_t file_offset)
{
	struct flat_piece p = { start, start + size, file_offset }, repl[3];
	size_t i, j, k = 0;
	int r;

	if (size == 0)
		return 0;
	r = reserve(f, 3);
	if (r < 0)
		return r;
	/* Records come in increasing order but for a few rewrites: append fast. */
	if (f->n == 0 || f->pieces[f->n - 1].end <= p.start) {
		f->pieces[f->n++] = p;
		return 0;
	}
	i = first_ending_after(f, p.start);
	for (j = i; j < f->n && f->pieces[j].start < p.end; j++)
		;
	if (i < j && f->pieces[i].start < p.start) {
		repl[k] = f->pieces[i];
		repl[k++].end = p.start;
	}
	repl[k++] = p;
	if (i < j && f->pieces[j - 1].end > p.end) {
		struct flat_piece right = f->pieces[j - 1];

		right.file_offset += p.end - right.start;
		right.start = p.end;
		repl[k++] = right;
	}
	memmove(f->pieces + i + k, f->pieces + j, (f->n - j) * sizeof(*f->pieces));
	memcpy(f->pieces + i, repl, k * sizeof(*repl));
	f->n = f->n - (j - i) + k;
	return 0;
}

/* Buffered reads of the record headers, which come one after another. */
struct scanner {
	int fd;
	uint8_t *buf;
	uint64_t buf_start;
	size_t buf_len;
};

static int scan_read(struct scanner *s, uint64_t off, void *out, size_t len, size_t *ret_got)
{
	int r;

	if (off < s->buf_start || off + len > s->buf_start + s->buf_len) {
		r = pread_full(s->fd, s->buf, SCAN_BUF_SIZE, off, &s->buf_len);
		if (r < 0)
			return r;
		s->buf_start = off;
	}
	*ret_got = MIN(len, s->buf_len - (off - s->buf_start));
	memcpy(out, s->buf + (off - s->buf_start), *ret_got);
	return 0;
}

int dump_flat_open(int fd, uint64_t file_size, struct dump_flat **ret)
{
	_cleanup_(dump_flat_freep) struct dump_flat *f = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct scanner s = { .fd = fd };
	uint8_t hdr[32];
	uint64_t pos = FLAT_HEADER_SIZE;
	int64_t type;
	size_t got;
	int r;

	r = pread_full(fd, hdr, sizeof(hdr), 0, &got);
	if (r < 0)
		return r;
	if (got < sizeof(hdr) || memcmp(hdr, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) != 0)
		return -ENOEXEC;
	memcpy(&type, hdr + 16, 8);
	if (be64toh(type) != FLAT_TYPE)
		return log_debug_errno(-ENOEXEC, "Flattened file of unknown type %" PRId64,
				       (int64_t)be64toh(type));

	f = calloc(1, sizeof(*f));
	buf = malloc(SCAN_BUF_SIZE);
	if (!f || !buf)
		return -ENOMEM;
	s.buf = buf;
	for (;;) {
		int64_t rec[2];
		uint64_t off, size, avail;

		r = scan_read(&s, pos, rec, sizeof(rec), &got);
		if (r < 0)
			return r;
		if (got < sizeof(rec)) {
			/* A stream cut short: keep what arrived. */
			f->truncated = true;
			break;
		}
		if ((int64_t)be64toh(rec[0]) == -1 && (int64_t)be64toh(rec[1]) == -1)
			break;
		if ((int64_t)be64toh(rec[0]) < 0 || (int64_t)be64toh(rec[1]) < 0)
			return log_debug_errno(
				-EBADMSG, "Flattened record at byte %" PRIu64 " is corrupt", pos);
		off = be64toh(rec[0]);
		size = be64toh(rec[1]);
		pos += sizeof(rec);
		avail = pos >= file_size ? 0 : MIN(size, file_size - pos);
		if (off + avail < off)
			return -EBADMSG;
		r = add_piece(f, off, avail, pos);
		if (r < 0)
			return r;
		if (off + avail > f->size)
			f->size = off + avail;
		if (avail < size) {
			f->truncated = true;
			break;
		}
		pos += size;
	}
	log_debug("Flattened file: %zu pieces, %" PRIu64 " bytes%s", f->n, f->size,
		  f->truncated ? ", cut short" : "");
	*ret = TAKE_PTR(f);
	return 0;
}

uint64_t dump_flat_size(const struct dump_flat *f)
{
	return f->size;
}

bool dump_flat_truncated(const struct dump_flat *f)
{
	return f->truncated;
}

int dump_flat_pread(struct dump_flat *f, int fd, void *buf, size_t len, uint64_t off,
		    size_t *ret_read)
{
	uint8_t *out = buf;
	size_t done = 0;
	int r;

	while (done < len && off < f->size) {
		const struct flat_piece *p;
		size_t i, n, got;

		if (f->hint < f->n && f->pieces[f->hint].start <= off &&
		    off < f->pieces[f->hint].end)
			i = f->hint;
		else
			i = first_ending_after(f, off);
		if (i >= f->n)
			break;
		p = &f->pieces[i];
		if (off < p->start) {
			/* A range no record wrote: a hole of the regular file. */
			n = MIN(len - done, p->start - off);
			memset(out + done, 0, n);
		} else {
			n = MIN(len - done, p->end - off);
			r = pread_full(fd, out + done, n, p->file_offset + (off - p->start), &got);
			if (r < 0)
				return r;
			if (got < n)
				return -EIO;
			f->hint = i;
		}
		done += n;
		off += n;
	}
	*ret_read = done;
	return 0;
}
