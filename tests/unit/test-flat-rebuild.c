// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcap-collect -R: a flattened stream read once, each record written where it belongs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "collector/rebuild.h"

struct stream {
	uint8_t buf[3 * 4096 + 1024];
	size_t len;
};

static void put_header(struct stream *s, int64_t type)
{
	uint64_t be = htobe64((uint64_t)type);

	memset(s->buf, 0, 4096);
	memcpy(s->buf, "makedumpfile", 12);
	memcpy(s->buf + 16, &be, 8);
	be = htobe64(1);
	memcpy(s->buf + 24, &be, 8);
	s->len = 4096;
}

static void put_record(struct stream *s, int64_t off, int64_t size, const void *data)
{
	uint64_t h[2] = { htobe64((uint64_t)off), htobe64((uint64_t)size) };

	memcpy(s->buf + s->len, h, sizeof(h));
	s->len += sizeof(h);
	if (data && size > 0) {
		memcpy(s->buf + s->len, data, (size_t)size);
		s->len += (size_t)size;
	}
}

/* Runs rebuild_flat() on the stream; returns its result, the output in out (up to 64 bytes). */
static int rebuild(const struct stream *s, struct rebuild_result *res, uint8_t *out,
		   size_t *out_len)
{
	char in_path[] = "/tmp/test-rebuild-in.XXXXXX", out_path[] = "/tmp/test-rebuild.XXXXXX";
	int in = mkstemp(in_path), fd = mkstemp(out_path), r;
	struct stat st;

	assert_true(in >= 0 && fd >= 0);
	assert_int_equal(write_full_fd(in, s->buf, s->len), 0);
	assert_int_equal(lseek(in, 0, SEEK_SET), 0);
	r = rebuild_flat(in, fd, res);
	assert_int_equal(fstat(fd, &st), 0);
	*out_len = (size_t)st.st_size;
	memset(out, 0, 64);
	assert_true(pread(fd, out, 64, 0) >= 0);
	close(in);
	close(fd);
	unlink(in_path);
	unlink(out_path);
	return r;
}

static void test_records(void **state)
{
	struct stream s;
	struct rebuild_result res;
	uint8_t out[64];
	size_t len;

	put_header(&s, 1);
	put_record(&s, 10, 5, "world");
	put_record(&s, 0, 6, "hello,");
	/* a later record wins where two overlap, as makedumpfile -R writes them in order */
	put_record(&s, 12, 2, "RL");
	put_record(&s, -1, -1, NULL);
	assert_int_equal(rebuild(&s, &res, out, &len), 0);
	assert_int_equal(res.records, 3);
	assert_int_equal(res.file_size, 15);
	assert_int_equal(len, 15);
	assert_memory_equal(out, "hello,\0\0\0\0woRLd", 15);
}

static void test_bad_streams(void **state)
{
	struct stream s;
	struct rebuild_result res;
	uint8_t out[64];
	size_t len;

	/* not flattened: wrong type, wrong signature, too short */
	put_header(&s, 2);
	put_record(&s, -1, -1, NULL);
	assert_int_equal(rebuild(&s, &res, out, &len), -EBADMSG);
	assert_int_equal(res.records, 0);
	put_header(&s, 1);
	s.buf[0] = 'M';
	assert_int_equal(rebuild(&s, &res, out, &len), -EBADMSG);
	put_header(&s, 1);
	s.len = 100;
	assert_int_equal(rebuild(&s, &res, out, &len), -EBADMSG);

	/* a negative offset that is no end marker, after one good record */
	put_header(&s, 1);
	put_record(&s, 0, 3, "abc");
	put_record(&s, -5, 3, "xyz");
	assert_int_equal(rebuild(&s, &res, out, &len), -EBADMSG);
	assert_int_equal(res.records, 1);
	assert_memory_equal(out, "abc", 3);

	/* cut inside a record's data, and before the end marker */
	put_header(&s, 1);
	put_record(&s, 0, 3, "abc");
	put_record(&s, 3, 8, "defghijk");
	s.len -= 4;
	assert_int_equal(rebuild(&s, &res, out, &len), -ENODATA);
	assert_int_equal(res.records, 1);
	put_header(&s, 1);
	put_record(&s, 0, 3, "abc");
	assert_int_equal(rebuild(&s, &res, out, &len), -ENODATA);
	assert_int_equal(res.records, 1);
	assert_int_equal(len, 3);

	/* no records at all is an empty file */
	put_header(&s, 1);
	put_record(&s, -1, -1, NULL);
	assert_int_equal(rebuild(&s, &res, out, &len), 0);
	assert_int_equal(res.records, 0);
	assert_int_equal(len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_bad_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
