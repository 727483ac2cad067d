// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A printk ring buffer built by hand, the way the kernel's writer lays it
 * out (kernel/printk/printk_ringbuffer.c: data_alloc, get_next_lpos), with
 * the structure layout of 6.1 on x86_64 announced through VMCOREINFO.
 */
#include "dmesg.h"
#include "vmcore-synth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define KMAP 0xffffffff80000000ULL
#define MEM_START 0x1000000ULL
#define MEM_SIZE 0x20000ULL
#define PRB_SYM (MEM_START + 0x0)
#define RB (MEM_START + 0x100)
#define DESCS (MEM_START + 0x1000)
#define INFOS (MEM_START + 0x2000)
#define TEXT (MEM_START + 0x4000)
#define COUNT_BITS 4
#define SIZE_BITS 9
#define RING (1ULL << SIZE_BITS)
#define ID_MASK (~(3ULL << 62))
#define DESC_SIZE 24
#define INFO_SIZE 88

enum { RESERVED, COMMITTED, FINALIZED, REUSABLE, STALE = 8, DATALESS = 16 };

static const char prb_vmcoreinfo[] = "OSRELEASE=6.1.0-test\n"
				     "NUMBER(phys_base)=0\n"
				     "SYMBOL(prb)=ffffffff81000000\n"
				     "SIZE(printk_ringbuffer)=88\n"
				     "OFFSET(printk_ringbuffer.desc_ring)=0\n"
				     "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
				     "OFFSET(printk_ringbuffer.fail)=80\n"
				     "SIZE(prb_desc_ring)=48\n"
				     "OFFSET(prb_desc_ring.count_bits)=0\n"
				     "OFFSET(prb_desc_ring.descs)=8\n"
				     "OFFSET(prb_desc_ring.infos)=16\n"
				     "OFFSET(prb_desc_ring.head_id)=24\n"
				     "OFFSET(prb_desc_ring.tail_id)=32\n"
				     "SIZE(prb_desc)=24\n"
				     "OFFSET(prb_desc.state_var)=0\n"
				     "OFFSET(prb_desc.text_blk_lpos)=8\n"
				     "SIZE(prb_data_blk_lpos)=16\n"
				     "OFFSET(prb_data_blk_lpos.begin)=0\n"
				     "OFFSET(prb_data_blk_lpos.next)=8\n"
				     "SIZE(printk_info)=88\n"
				     "OFFSET(printk_info.seq)=0\n"
				     "OFFSET(printk_info.ts_nsec)=8\n"
				     "OFFSET(printk_info.text_len)=16\n"
				     "OFFSET(printk_info.caller_id)=20\n"
				     "OFFSET(printk_info.dev_info)=24\n"
				     "SIZE(prb_data_ring)=32\n"
				     "OFFSET(prb_data_ring.size_bits)=0\n"
				     "OFFSET(prb_data_ring.data)=8\n"
				     "OFFSET(prb_data_ring.head_lpos)=16\n"
				     "OFFSET(prb_data_ring.tail_lpos)=24\n"
				     "OFFSET(atomic_long_t.counter)=0\n";

struct rec {
	const char *text;
	uint64_t ts_nsec;
	int state; /* RESERVED..REUSABLE, | STALE, | DATALESS */
	uint16_t text_len; /* 0: strlen(text) */
};

struct ring {
	uint8_t mem[MEM_SIZE];
	uint64_t lpos, id, tail_id;
	unsigned n;
};

static void put64(struct ring *g, uint64_t paddr, uint64_t v)
{
	memcpy(g->mem + (paddr - MEM_START), &v, 8);
}

static void put32(struct ring *g, uint64_t paddr, uint32_t v)
{
	memcpy(g->mem + (paddr - MEM_START), &v, 4);
}

static void ring_init(struct ring *g, uint64_t first_id)
{
	memset(g, 0, sizeof(*g));
	put64(g, PRB_SYM, RB + KMAP);
	put32(g, RB + 0, COUNT_BITS);
	put64(g, RB + 8, DESCS + KMAP);
	put64(g, RB + 16, INFOS + KMAP);
	put32(g, RB + 48, SIZE_BITS);
	put64(g, RB + 48 + 8, TEXT + KMAP);
	/* BLK0_LPOS: the logical positions overflow on the first wrap */
	g->lpos = -RING;
	g->id = first_id;
}

/* The kernel's get_next_lpos(): a block that would cross the end starts at 0. */
static uint64_t next_lpos(uint64_t lpos, uint64_t size)
{
	uint64_t next = lpos + size;

	if (lpos >> SIZE_BITS == next >> SIZE_BITS)
		return next;
	return (next & ~(RING - 1)) + size;
}

static void ring_add(struct ring *g, const struct rec *r)
{
	uint64_t id = g->id, slot = id & ((1 << COUNT_BITS) - 1);
	uint64_t desc = DESCS + slot * DESC_SIZE, info = INFOS + slot * INFO_SIZE;
	uint64_t begin = 1, next = 1, sv_id = r->state & STALE ? (id - 16) & ID_MASK : id;
	size_t len = strlen(r->text);

	if (!(r->state & DATALESS)) {
		uint64_t size = ALIGN_UP(8 + len, 8), at;

		begin = g->lpos;
		next = next_lpos(begin, size);
		at = (begin >> SIZE_BITS) == (next >> SIZE_BITS) ? begin % RING : 0;
		put64(g, TEXT + at, id);
		memcpy(g->mem + (TEXT - MEM_START) + at + 8, r->text, len);
		g->lpos = next;
	}
	put64(g, desc, sv_id | ((uint64_t)(r->state & 3) << 62));
	put64(g, desc + 8, begin);
	put64(g, desc + 16, next);
	put64(g, info + 8, r->ts_nsec);
	memcpy(g->mem + (info + 16 - MEM_START), &(uint16_t){ r->text_len ? r->text_len : len }, 2);
	put64(g, RB + 24, id); /* head_id */
	g->id = (id + 1) & ID_MASK;
}

static struct dump *ring_open(struct ring *g, uint64_t tail_id, const char *vmcoreinfo)
{
	const struct synth_segment seg = { .phys_start = MEM_START,
					   .mem_size = MEM_SIZE,
					   .data = g->mem };
	struct synth_vmcore spec = {
		.vmcoreinfo = vmcoreinfo, .nr_cpus = 1, .segments = &seg, .n_segments = 1
	};
	_cleanup_free_ char *path = NULL;
	struct dump *d = NULL;

	put64(g, RB + 32, tail_id);
	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	return d;
}

static char *capture(struct dump *d, unsigned flags, int *ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	*ret = dmesg_write_full(d, f, flags);
	fclose(f);
	return buf;
}

/* Ids start just below the 2^62 wrap of descriptor ids. */
#define FIRST_ID (ID_MASK - 5)

static const struct rec crash_log[] = {
	{ "an old record whose text the ring has overwritten, long enough to make the ring "
	  "wrap later on: ................................................................"
	  "..............................................................................."
	  "...................................................................",
	  1, FINALIZED },
	{ "reusable", 2, REUSABLE },
	{ "Linux version 6.1.0-test", 0, FINALIZED },
	{ "", 5, FINALIZED | DATALESS },
	{ "line one\nline two\nline three", 1500000000, FINALIZED },
	{ "being written", 1600000000, RESERVED },
	{ "BUG: kernel NULL pointer dereference, address: 0000000000000000", 2000000000,
	  FINALIZED },
	{ "Oops: 0002 [#1] PREEMPT SMP NOPTI", 2000100000, FINALIZED },
	{ "ctrl\x01 and \xc3\xa9", 3000000000, FINALIZED },
	{ "Kernel panic - not syncing: first panic", 4000000000, FINALIZED },
	{ "stale descriptor", 4100000000, FINALIZED | STALE },
	{ "Kernel panic - not syncing: sysrq triggered crash", 42000001000, FINALIZED },
	{ "---[ end Kernel panic - not syncing: sysrq triggered crash ]---", 12345678901234,
	  COMMITTED },
	{ "truncated! this part is beyond text_len", 99999999999999, COMMITTED, 10 },
};

static const char crash_log_text[] =
	"[    0.000000] Linux version 6.1.0-test\n"
	"[    1.500000] line one\n"
	"               line two\n"
	"               line three\n"
	"[    2.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
	"[    2.000100] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
	"[    3.000000] ctrl\\x01 and \\xc3\\xa9\n"
	"[    4.000000] Kernel panic - not syncing: first panic\n"
	"[   42.000001] Kernel panic - not syncing: sysrq triggered crash\n"
	"[12345.678901] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n"
	"[99999.999999] truncated!\n";

static struct dump *open_crash_log(struct ring *g)
{
	ring_init(g, FIRST_ID);
	for (size_t i = 0; i < ELEMENTSOF(crash_log); i++)
		ring_add(g, &crash_log[i]);
	/* the first record is gone: the tail is the second */
	return ring_open(g, (FIRST_ID + 1) & ID_MASK, prb_vmcoreinfo);
}

static void test_prb(void **state)
{
	static struct ring g;
	struct dump *d = open_crash_log(&g);
	_cleanup_free_ char *out = NULL;
	int r;

	/* the Oops record is the one that wraps: its text is at the ring's start */
	assert_memory_equal(g.mem + (TEXT - MEM_START) + 8, "Oops: ", 6);
	out = capture(d, 0, &r);
	assert_int_equal(r, 0);
	assert_string_equal(out, crash_log_text);
	dump_free(d);
}

static void test_prefix_each_line(void **state)
{
	static struct ring g;
	struct dump *d = open_crash_log(&g);
	_cleanup_free_ char *out = NULL;
	int r;

	out = capture(d, DMESG_PREFIX_EACH_LINE, &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(out, "[    1.500000] line one\n"
				    "[    1.500000] line two\n"
				    "[    1.500000] line three\n"
				    "[    2.000000] BUG"));
	dump_free(d);
}

static int count_cb(uint64_t ts, const char *text, size_t len, void *userdata)
{
	int *n = userdata;

	return ++*n == 3 ? 77 : 0;
}

static void test_foreach_stop(void **state)
{
	static struct ring g;
	struct dump *d = open_crash_log(&g);
	int n = 0;

	assert_int_equal(dmesg_foreach(d, count_cb, &n), 77);
	assert_int_equal(n, 3);
	dump_free(d);
}

static void test_find_panic(void **state)
{
	static struct ring g;
	struct dump *d = open_crash_log(&g);
	_cleanup_free_ char *line = NULL;

	/* the last panic line wins over the first, and over the oops */
	assert_int_equal(dmesg_find_panic(d, &line), 0);
	assert_string_equal(line, "sysrq triggered crash");
	dump_free(d);
}

static void test_find_oops(void **state)
{
	static struct ring g;
	_cleanup_free_ char *line = NULL;
	struct dump *d;

	ring_init(&g, 0);
	ring_add(&g, &(struct rec){ "hello", 1, FINALIZED });
	ring_add(&g, &(struct rec){ "CPU: 0 PID: 1\nOops: 0002 [#1] SMP\nRIP: x", 2, FINALIZED });
	ring_add(&g, &(struct rec){ "BUG: later", 3, FINALIZED });
	d = ring_open(&g, 0, prb_vmcoreinfo);
	assert_int_equal(dmesg_find_panic(d, &line), 0);
	assert_string_equal(line, "Oops: 0002 [#1] SMP");
	dump_free(d);
}

static void test_no_panic(void **state)
{
	static struct ring g;
	char *line = NULL;
	struct dump *d;
	_cleanup_free_ char *out = NULL;
	int r;

	ring_init(&g, 0);
	ring_add(&g, &(struct rec){ "all is well", 1, FINALIZED });
	ring_add(&g, &(struct rec){ "---[ end Kernel panic - not syncing: x ]---", 1, FINALIZED });
	d = ring_open(&g, 0, prb_vmcoreinfo);
	assert_int_equal(dmesg_find_panic(d, &line), -ENOENT);
	assert_null(line);
	out = capture(d, 0, &r);
	assert_int_equal(r, 0);
	assert_string_equal(out, "[    0.000000] all is well\n"
				 "[    0.000000] ---[ end Kernel panic - not syncing: x ]---\n");
	dump_free(d);
}

static void test_missing_layout(void **state)
{
	static struct ring g;
	struct dump *d;
	char *line = NULL;
	int r;

	ring_init(&g, 0);
	ring_add(&g, &(struct rec){ "x", 1, FINALIZED });
	/* no printk description at all */
	d = ring_open(&g, 0, "OSRELEASE=6.1.0\n");
	free(capture(d, 0, &r));
	assert_int_equal(r, -EOPNOTSUPP);
	assert_int_equal(dmesg_find_panic(d, &line), -EOPNOTSUPP);
	dump_free(d);
	/* SYMBOL(prb) without the offsets */
	d = ring_open(&g, 0, "SYMBOL(prb)=ffffffff81000000\nNUMBER(phys_base)=0\n");
	free(capture(d, 0, &r));
	assert_int_equal(r, -ENOENT);
	dump_free(d);
	/* no VMCOREINFO */
	d = ring_open(&g, 0, NULL);
	free(capture(d, 0, &r));
	assert_int_equal(r, -EOPNOTSUPP);
	dump_free(d);
}

static void test_bad_pointers(void **state)
{
	static struct ring g;
	struct dump *d;
	int r;

	ring_init(&g, 0);
	ring_add(&g, &(struct rec){ "x", 1, FINALIZED });
	/* the text ring points outside the dump */
	put64(&g, RB + 48 + 8, KMAP + 0x2000000);
	d = ring_open(&g, 0, prb_vmcoreinfo);
	free(capture(d, 0, &r));
	assert_int_equal(r, -ENOENT);
	dump_free(d);
	/* an absurd ring size */
	ring_init(&g, 0);
	put32(&g, RB + 48, 60);
	d = ring_open(&g, 0, prb_vmcoreinfo);
	free(capture(d, 0, &r));
	assert_int_equal(r, -EBADMSG);
	dump_free(d);
}

/* The 3.5 .. 5.9 layout: struct printk_log (16 bytes) followed by its text. */
static const char log_vmcoreinfo[] = "OSRELEASE=5.4.0\n"
				     "NUMBER(phys_base)=0\n"
				     "SYMBOL(log_buf)=ffffffff81000000\n"
				     "SYMBOL(log_buf_len)=ffffffff81000008\n"
				     "SYMBOL(log_first_idx)=ffffffff81000010\n"
				     "SYMBOL(log_next_idx)=ffffffff81000014\n"
				     "SIZE(printk_log)=16\n"
				     "OFFSET(printk_log.ts_nsec)=0\n"
				     "OFFSET(printk_log.len)=8\n"
				     "OFFSET(printk_log.text_len)=10\n"
				     "OFFSET(printk_log.dict_len)=12\n";

static uint32_t put_log(struct ring *g, uint32_t idx, uint64_t ts, const char *text)
{
	uint16_t tlen = strlen(text), len = ALIGN_UP(16 + tlen, 8);
	uint8_t *p = g->mem + (TEXT - MEM_START) + idx;

	memcpy(p, &ts, 8);
	memcpy(p + 8, &len, 2);
	memcpy(p + 10, &tlen, 2);
	memcpy(p + 16, text, tlen);
	return idx + len;
}

static void test_printk_log(void **state)
{
	static struct ring g;
	_cleanup_free_ char *out = NULL, *line = NULL;
	uint32_t idx;
	struct dump *d;
	int r;

	memset(&g, 0, sizeof(g));
	put64(&g, MEM_START, TEXT + KMAP);
	put32(&g, MEM_START + 8, 256);
	/* oldest at 200; the end-of-buffer marker (len 0) at 240 sends the reader to 0 */
	put32(&g, MEM_START + 0x10, 200);
	put_log(&g, 200, 1000, "oldest");
	idx = put_log(&g, 0, 2000000, "Kernel panic - not syncing: old style\nsecond");
	idx = put_log(&g, idx, 3000000000, "newest");
	put32(&g, MEM_START + 0x14, idx);
	d = ring_open(&g, 0, log_vmcoreinfo);
	out = capture(d, 0, &r);
	assert_int_equal(r, 0);
	assert_string_equal(out, "[    0.000001] oldest\n"
				 "[    0.002000] Kernel panic - not syncing: old style\n"
				 "               second\n"
				 "[    3.000000] newest\n");
	assert_int_equal(dmesg_find_panic(d, &line), 0);
	assert_string_equal(line, "old style");
	dump_free(d);

	/* a loop in the records is caught */
	put_log(&g, 0, 1, "x");
	memcpy(g.mem + (TEXT - MEM_START) + 8, &(uint16_t){ 200 }, 2);
	put32(&g, MEM_START + 0x14, 8);
	d = ring_open(&g, 0, log_vmcoreinfo);
	free(capture(d, 0, &r));
	assert_int_equal(r, -EBADMSG);
	dump_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prb),
		cmocka_unit_test(test_prefix_each_line),
		cmocka_unit_test(test_foreach_stop),
		cmocka_unit_test(test_find_panic),
		cmocka_unit_test(test_find_oops),
		cmocka_unit_test(test_no_panic),
		cmocka_unit_test(test_missing_layout),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_printk_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
