// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The flattened output (-F): the sink's bytes as makedumpfile's format says
 * them, and whole dumps that, replayed the way `makedumpfile -R` replays
 * them, equal the regular file byte for byte (kdump-compressed and ELF).
 */
#include "collector/collect.h"
#include "dump.h"
#include "kdump-read.h"
#include "sink.h"
#include "vmcore-synth.h"

#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <cmocka.h>

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-flat\nPAGESIZE=4096\nCRASHTIME=1700000001\n";

struct fixture {
	char *vmcore;
	char regular[64], flat[64], rebuilt[64];
};

static uint64_t be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

/*
 * Replays a flattened file into a regular one, as makedumpfile's
 * rearrange_dumpdata() does; returns the number of records, or -1 when the
 * stream is malformed or has no end marker.
 */
static int rebuild(const char *flat, const char *out)
{
	_cleanup_free_ char *data = NULL;
	_cleanup_close_ int fd = -1;
	size_t size, off = 4096;
	int records = 0;

	if (read_full_file(flat, 1ULL << 32, &data, &size) < 0 || size < 4096)
		return -1;
	if (memcmp(data, "makedumpfile\0\0\0\0", 16) != 0 || be64((uint8_t *)data + 16) != 1 ||
	    be64((uint8_t *)data + 24) != 1)
		return -1;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	while (off + 16 <= size) {
		int64_t o = (int64_t)be64((uint8_t *)data + off);
		int64_t n = (int64_t)be64((uint8_t *)data + off + 8);

		off += 16;
		if (o == -1 && n == -1)
			return off == size ? records : -1;
		if (o < 0 || n <= 0 || (uint64_t)n > size - off)
			return -1;
		if (pwrite_full(fd, data + off, n, o) < 0)
			return -1;
		off += n;
		records++;
	}
	return -1;
}

static bool files_equal(const char *a, const char *b)
{
	_cleanup_free_ char *x = NULL, *y = NULL;
	size_t xs, ys;

	assert_int_equal(read_full_file(a, 1ULL << 32, &x, &xs), 0);
	assert_int_equal(read_full_file(b, 1ULL << 32, &y, &ys), 0);
	return xs == ys && memcmp(x, y, xs) == 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	static const struct synth_segment segs[] = {
		{ .phys_start = 0x100000, .mem_size = 3000 * 4096 },
		{ .phys_start = 0x1000000, .mem_size = 700 * 4096, .zero = true },
		{ .phys_start = 0x2000000, .mem_size = 64 * 4096, .file_size = SYNTH_NO_FILE_DATA },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo_text,
		.nr_cpus = 2,
		.segments = segs,
		.n_segments = ELEMENTSOF(segs),
	};

	assert_non_null(f);
	assert_int_equal(synth_vmcore_tmpfile(&spec, &f->vmcore), 0);
	snprintf(f->regular, sizeof(f->regular), "/tmp/test-flat-regular.%d", getpid());
	snprintf(f->flat, sizeof(f->flat), "/tmp/test-flat-stream.%d", getpid());
	snprintf(f->rebuilt, sizeof(f->rebuilt), "/tmp/test-flat-rebuilt.%d", getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->vmcore);
	free(f->vmcore);
	unlink(f->regular);
	unlink(f->flat);
	unlink(f->rebuilt);
	free(f);
	return 0;
}

/* The stream's header, records and end marker, byte for byte. */
static void test_sink_bytes(void **state)
{
	struct fixture *f = *state;
	_cleanup_sink_ struct sink *s = NULL;
	_cleanup_free_ char *data = NULL;
	uint8_t want[4096] = "makedumpfile";
	size_t size;
	int fd;

	fd = open(f->flat, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sink_new_flat(fd, &s), 0);
	assert_true(sink_is_stream(s));
	assert_true(sink_reads_zeros(s));
	assert_int_equal(sink_write(s, "abc", 3, 0x123456789), 0);
	assert_int_equal(sink_write(s, "xyz", 0, 7),
			 0); /* nothing: an empty record ends a stream */
	assert_int_equal(sink_reserve(s, 1 << 20), 0); /* nothing for streams */
	assert_int_equal(sink_write(s, "Q", 1, 0), 0);
	assert_int_equal(sink_write(s, "Q", 1, (uint64_t)INT64_MAX), -EFBIG);
	assert_int_equal(sink_finish(s), 0);
	assert_int_equal(sink_bytes(s), 4096 + 16 + 3 + 16 + 1 + 16);
	close(fd);

	assert_int_equal(read_full_file(f->flat, 1 << 20, &data, &size), 0);
	assert_int_equal(size, 4096 + 16 + 3 + 16 + 1 + 16);
	want[23] = 1; /* type 1, big-endian */
	want[31] = 1; /* version 1 */
	assert_memory_equal(data, want, 4096);
	assert_int_equal(be64((uint8_t *)data + 4096), 0x123456789);
	assert_int_equal(be64((uint8_t *)data + 4104), 3);
	assert_memory_equal(data + 4112, "abc", 3);
	assert_int_equal(be64((uint8_t *)data + 4115), 0);
	assert_int_equal(be64((uint8_t *)data + 4123), 1);
	assert_int_equal(be64((uint8_t *)data + 4132), UINT64_MAX);
	assert_int_equal(be64((uint8_t *)data + 4140), UINT64_MAX);
}

static void test_sink_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_sink_ struct sink *s = NULL;
	_cleanup_free_ char *data = NULL;
	size_t size;
	int fd;

	fd = open(f->regular, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sink_new_file(fd, &s), 0);
	assert_false(sink_is_stream(s));
	assert_true(sink_reads_zeros(s));
	assert_int_equal(sink_reserve(s, 10000), 0);
	assert_int_equal(sink_write(s, "abc", 3, 9000), 0);
	assert_int_equal(sink_write(s, "de", 2, 12000), 0);
	assert_int_equal(sink_bytes(s), 12002);
	assert_int_equal(sink_finish(s), 0);
	close(fd);
	assert_int_equal(read_full_file(f->regular, 1 << 20, &data, &size), 0);
	assert_int_equal(size, 12002);
	assert_memory_equal(data + 9000, "abc", 3);
	assert_int_equal(data[100], 0);

	assert_int_equal(sink_new_file(-1, &s), -EINVAL);
	s = sink_free(s);
	fd = open("/dev/null", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(sink_new_file(fd, &s), 0);
	/* a device: what was there before is not zeros */
	assert_false(sink_reads_zeros(s));
	assert_int_equal(sink_reserve(s, 1 << 30), 0);
	close(fd);
}

static struct collect_options options(struct fixture *f, const char *out, bool flat)
{
	return (struct collect_options){
		.vmcore_path = f->vmcore,
		.output_path = out,
		.flat = flat,
		.dump_level = 1,
		.compression = COMPRESSION_ZSTD,
		.zstd_level = 3,
		.threads = 2,
	};
}

/* -F: replayed, the stream is the very file the regular output is. */
static void test_kdump_flat(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res, flat;
	struct kd_file k;
	struct stat st;

	o = options(f, f->regular, false);
	assert_int_equal(collect_dump(&o, &res), 0);
	o = options(f, f->flat, true);
	assert_int_equal(collect_dump(&o, &flat), 0);
	assert_false(flat.incomplete);
	assert_int_equal(flat.pages_written, res.pages_written);
	assert_int_equal(flat.pages_zero, res.pages_zero);
	assert_int_equal(stat(f->flat, &st), 0);
	/* for a stream, the bytes that went down the pipe */
	assert_int_equal(flat.output_bytes, st.st_size);
	assert_true(rebuild(f->flat, f->rebuilt) > 3);
	assert_true(files_equal(f->regular, f->rebuilt));

	assert_int_equal(kd_open(f->rebuilt, &k), 0);
	assert_int_equal(k.status, 0x20);
	assert_int_equal(kd_count_dumped(&k), 3700);
	kd_close(&k);
}

/* -E -F: the ELF output through the stream. */
static void test_elf_flat(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t page[4096], want[4096];

	o = options(f, f->regular, false);
	o.format = COLLECT_FORMAT_ELF;
	assert_int_equal(collect_dump(&o, &res), 0);
	o = options(f, f->flat, true);
	o.format = COLLECT_FORMAT_ELF;
	assert_int_equal(collect_dump(&o, &res), 0);
	assert_true(rebuild(f->flat, f->rebuilt) > 3);
	assert_true(files_equal(f->regular, f->rebuilt));
	assert_int_equal(dump_open(f->rebuilt, &d), 0);
	assert_int_equal(dump_read_phys(d, 0x100000 + 2999 * 4096, page, 4096), 0);
	synth_pattern_fill(0x100000 + 2999 * 4096, want, 4096);
	assert_memory_equal(page, want, 4096);
}

/* The dump reader takes the stream as it is. */
static void test_read_stream(void **state)
{
	struct fixture *f = *state;
	struct collect_options o = options(f, f->flat, true);
	struct collect_result res;
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t page[4096], want[4096];

	assert_int_equal(collect_dump(&o, &res), 0);
	assert_int_equal(dump_open(f->flat, &d), 0);
	assert_int_equal(dump_get_format(d), DUMP_FORMAT_KDUMP);
	assert_false(dump_is_incomplete(d));
	assert_int_equal(dump_read_phys(d, 0x100000 + 1234 * 4096, page, 4096), 0);
	synth_pattern_fill(0x100000 + 1234 * 4096, want, 4096);
	assert_memory_equal(page, want, 4096);
	/* pages without file data are not in the dump */
	assert_int_equal(dump_read_phys(d, 0x2000000, page, 4096), -ENOENT);
}

struct reader_arg {
	int fd;
	size_t stop_after;
};

static void *read_then_close(void *p)
{
	struct reader_arg *a = p;
	char buf[4096];
	size_t got = 0;
	ssize_t n;

	while (got < a->stop_after && (n = read(a->fd, buf, sizeof(buf))) > 0)
		got += n;
	close(a->fd);
	return NULL;
}

/* The reader of the pipe goes away: EPIPE ends the dump, as a full disk does. */
static void test_broken_pipe(void **state)
{
	struct fixture *f = *state;
	struct collect_options o;
	struct collect_result res;
	struct reader_arg a = { .stop_after = 64 << 10 };
	char path[64];
	pthread_t t;
	int p[2];

	assert_int_equal(pipe(p), 0);
	a.fd = p[0];
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pthread_create(&t, NULL, read_then_close, &a), 0);
	snprintf(path, sizeof(path), "/dev/fd/%d", p[1]);
	o = options(f, path, true);
	o.compression = COMPRESSION_NONE;
	assert_int_equal(collect_dump(&o, &res), 0);
	pthread_join(t, NULL);
	close(p[1]);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(res.write_error, -EPIPE);
	assert_true(res.incomplete);
	assert_true(res.pages_written < 3700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sink_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kdump_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_flat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_pipe, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
