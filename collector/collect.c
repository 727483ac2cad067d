// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A vmcore in, a kdump-compressed file out: the RAM pfns of the vmcore are
 * read in large windows, in pfn order, and each page is stored, stored as
 * a reference to the shared zero page (dump level bit 1), or compressed.
 *
 * Dump levels above 1 need page classification from struct page (a later
 * step); until then only bit 1 is applied and result->dump_level says so.
 * One thread does the work; o->threads is accepted for when the writer is
 * fed by several compressing threads.
 */
#include "collect.h"
#include "dump.h"
#include "kdump_writer.h"
#include "log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

/* /proc/vmcore serves large reads much faster than page-sized ones. */
#define WINDOW_PAGES 1024U
#define DUMP_LEVEL_ZERO 1
#define DUMP_LEVELS_APPLIED DUMP_LEVEL_ZERO
/* Before 5.11 struct uts_namespace began with a 4-byte kref; newer kernels say OFFSET(). */
#define UTS_NAME_OFFSET_OLD 4

struct pfn_range {
	uint64_t start, end;
};

struct progress {
	bool enabled;
	double start, last;
	uint64_t total;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress_update(struct progress *p, uint64_t done)
{
	double now, elapsed, rate;

	if (!p->enabled || p->total == 0)
		return;
	now = now_seconds();
	if (now - p->last < 1.0)
		return;
	p->last = now;
	elapsed = now - p->start;
	rate = elapsed > 0 ? done * (double)DUMP_PAGE_SIZE / elapsed : 0;
	fprintf(stderr, "crashcap-collect: %" PRIu64 "%% %.0f MiB/s ETA %.0fs\n",
		done * 100 / p->total, rate / (1 << 20),
		rate > 0 ? (p->total - done) * (double)DUMP_PAGE_SIZE / rate : 0.0);
}

/* The pfn ranges of the segments, sorted and merged: overlapping PT_LOADs are read once. */
static int ram_ranges(struct dump *d, struct pfn_range **ret, size_t *ret_count)
{
	size_t n_seg, n = 0;
	const struct dump_segment *seg = dump_segments(d, &n_seg);
	_cleanup_free_ struct pfn_range *r = calloc(MAX(n_seg, 1U), sizeof(*r));

	if (!r)
		return -ENOMEM;
	/* Segments come sorted by phys_start. */
	for (size_t i = 0; i < n_seg; i++) {
		/* As makedumpfile: a partial page at either end counts only at the start. */
		uint64_t start = seg[i].phys_start / DUMP_PAGE_SIZE;
		uint64_t end = (seg[i].phys_start + seg[i].mem_size) / DUMP_PAGE_SIZE;

		if (start >= end)
			continue;
		if (n > 0 && start <= r[n - 1].end)
			r[n - 1].end = MAX(r[n - 1].end, end);
		else
			r[n++] = (struct pfn_range){ start, end };
	}
	*ret = TAKE_PTR(r);
	*ret_count = n;
	return 0;
}

static void set_field(char *dst, const char *src)
{
	snprintf(dst, KDUMP_UTS_LEN, "%s", src);
}

/*
 * Nodename, version and domainname live only in the dumped kernel's memory:
 * init_uts_ns.name, found the way makedumpfile finds it.
 */
static void read_utsname(struct dump *d, const struct vmcoreinfo *vi, struct kdump_utsname *u)
{
	struct kdump_utsname mem;
	uint64_t addr, off;
	int r;

	if (!vi)
		return;
	if (vmcoreinfo_symbol(vi, "system_utsname", &addr) < 0) {
		if (vmcoreinfo_symbol(vi, "init_uts_ns", &addr) < 0)
			return;
		if (vmcoreinfo_offset(vi, "uts_namespace.name", &off) < 0)
			off = UTS_NAME_OFFSET_OLD;
		addr += off;
	}
	r = dump_read_virt(d, addr, &mem, sizeof(mem));
	if (r < 0) {
		log_debug_errno(r, "Cannot read the kernel's utsname at 0x%" PRIx64 ": %m", addr);
		return;
	}
	mem.sysname[KDUMP_UTS_LEN - 1] = mem.release[KDUMP_UTS_LEN - 1] = 0;
	if (!streq(mem.sysname, "Linux") || (u->release[0] && !streq(mem.release, u->release))) {
		log_debug("The kernel's utsname does not match VMCOREINFO, not using it.");
		return;
	}
	memcpy(u->nodename, mem.nodename, KDUMP_UTS_LEN);
	memcpy(u->version, mem.version, KDUMP_UTS_LEN);
	memcpy(u->domainname, mem.domainname, KDUMP_UTS_LEN);
	if (!u->release[0])
		memcpy(u->release, mem.release, KDUMP_UTS_LEN);
}

static void writer_params(struct dump *d, const struct collect_options *o, int level,
			  struct kdump_writer_params *p)
{
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	const char *s;
	int64_t v;
	size_t off, size;

	*p = (struct kdump_writer_params){
		.nr_cpus = dump_nr_cpus(d),
		.dump_level = level,
		.compression = o->compression,
		.max_mapnr = dump_max_pfn(d),
	};
	p->notes = dump_notes(d, &p->notes_size);
	if (dump_vmcoreinfo_note_offset(d, &off, &size) >= 0) {
		p->vmcoreinfo_offset = off;
		p->vmcoreinfo_size = size;
	}
	set_field(p->utsname.sysname, "Linux");
	set_field(p->utsname.machine, "x86_64");
	if (vi) {
		s = vmcoreinfo_osrelease(vi);
		if (s)
			set_field(p->utsname.release, s);
		s = vmcoreinfo_get(vi, "CRASHTIME");
		if (s)
			p->timestamp_sec = strtoll(s, NULL, 10);
		if (vmcoreinfo_number(vi, "phys_base", &v) >= 0)
			p->phys_base = (uint64_t)v;
	}
	read_utsname(d, vi, &p->utsname);
}

struct collect_state {
	struct dump *dump;
	struct kdump_writer *writer;
	struct kdump_compressor *compressor;
	int level;
	uint8_t *window;
	uint8_t cbuf[KDUMP_BLOCK_SIZE];
	uint64_t done, unreadable;
};

static int store_page(struct collect_state *s, uint64_t pfn, const uint8_t *page)
{
	struct kdump_page p;

	if ((s->level & DUMP_LEVEL_ZERO) && kdump_page_is_zero(page))
		return kdump_writer_add_zero_page(s->writer, pfn);
	kdump_compress_page(s->compressor, page, s->cbuf, &p);
	return kdump_writer_add_page(s->writer, pfn, &p);
}

/*
 * One window of pages. When the window cannot be read as a whole (the cut
 * of a truncated file, a bad page), each page is tried alone and the ones
 * that fail are left out of the dump.
 */
static int collect_window(struct collect_state *s, uint64_t pfn, size_t n)
{
	bool whole;
	int r;

	r = dump_read_phys(s->dump, pfn * DUMP_PAGE_SIZE, s->window, n * DUMP_PAGE_SIZE);
	whole = r >= 0;
	if (!whole)
		log_debug_errno(r, "Reading pfns 0x%" PRIx64 "+%zu failed, trying page by page: %m",
				pfn, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *page = s->window + i * DUMP_PAGE_SIZE;

		if (!whole) {
			/* The reader tries every PT_LOAD that holds the page. */
			r = dump_read_phys(s->dump, (pfn + i) * DUMP_PAGE_SIZE, page,
					   DUMP_PAGE_SIZE);
			if (r < 0) {
				s->unreadable++;
				continue;
			}
		}
		r = store_page(s, pfn + i, page);
		if (r < 0)
			return r;
	}
	s->done += n;
	return 0;
}

static int collect_pages(struct collect_state *s, const struct pfn_range *ranges, size_t n,
			 struct progress *pr)
{
	int r;

	for (size_t i = 0; i < n; i++)
		for (uint64_t pfn = ranges[i].start; pfn < ranges[i].end; pfn += WINDOW_PAGES) {
			r = collect_window(s, pfn, MIN(WINDOW_PAGES, ranges[i].end - pfn));
			if (r < 0)
				return r;
			progress_update(pr, s->done);
		}
	return 0;
}

static int check_options(const struct collect_options *o)
{
	if (!o->vmcore_path || !o->output_path || o->dump_level < 0 || o->dump_level > 31)
		return -EINVAL;
	if (o->compression != COMPRESSION_NONE && o->compression != COMPRESSION_ZSTD)
		return -EOPNOTSUPP;
	return 0;
}

static int collect_into(const struct collect_options *o, struct dump *d, int fd,
			struct collect_result *res)
{
	_cleanup_kdump_writer_ struct kdump_writer *w = NULL;
	_cleanup_kdump_compressor_ struct kdump_compressor *c = NULL;
	_cleanup_free_ struct pfn_range *ranges = NULL;
	_cleanup_free_ uint8_t *window = NULL;
	_cleanup_free_ struct collect_state *s = NULL;
	struct kdump_writer_params p;
	struct kdump_writer_stats st;
	struct progress pr = { .enabled = o->progress };
	size_t n_ranges;
	int r, wr;

	r = ram_ranges(d, &ranges, &n_ranges);
	if (r < 0)
		return r;
	if (n_ranges == 0)
		return log_debug_errno(-ENODATA, "%s describes no memory.", o->vmcore_path);
	r = kdump_compressor_new(o->compression, o->zstd_level, &c);
	if (r < 0)
		return r;

	res->dump_level = o->dump_level & DUMP_LEVELS_APPLIED;
	writer_params(d, o, res->dump_level, &p);
	set_field(res->release, p.utsname.release);
	r = kdump_writer_new(fd, &p, &w);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_ranges; i++) {
		r = kdump_writer_set_ram(w, ranges[i].start, ranges[i].end);
		if (r < 0)
			return r;
	}
	res->pages_total = kdump_writer_ram_pages(w);
	res->ram_bytes = res->pages_total * DUMP_PAGE_SIZE;
	r = kdump_writer_reserve(w, res->pages_total, res->dump_level & DUMP_LEVEL_ZERO);
	if (r < 0)
		return r;

	window = malloc(WINDOW_PAGES * DUMP_PAGE_SIZE);
	s = calloc(1, sizeof(*s));
	if (!window || !s)
		return -ENOMEM;
	*s = (struct collect_state){
		.dump = d, .writer = w, .compressor = c, .level = res->dump_level, .window = window
	};
	pr.total = res->pages_total;
	pr.start = pr.last = now_seconds();

	/* A write error ends the copy but not the file: finish makes it an INCOMPLETE dump. */
	wr = collect_pages(s, ranges, n_ranges, &pr);
	if (wr < 0)
		res->write_error = wr;
	res->pages_unreadable = s->unreadable;
	res->incomplete = dump_is_truncated(d) || s->unreadable > 0 || wr < 0;
	r = kdump_writer_finish(w, res->incomplete);
	if (r < 0) {
		res->incomplete = true;
		if (!res->write_error)
			res->write_error = r;
	}
	kdump_writer_get_stats(w, &st);
	res->pages_written = st.pages_data;
	res->pages_zero = st.pages_zero;
	res->output_bytes = st.file_size;
	return 0;
}

int collect_dump(const struct collect_options *o, struct collect_result *ret)
{
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_close_ int fd = -1;
	struct collect_result res = {};
	double start = now_seconds();
	int r;

	r = check_options(o);
	if (r < 0)
		return r;
	/* The input first: a bad vmcore must not cost an existing output file. */
	r = dump_open(o->vmcore_path, &d);
	if (r < 0)
		return r;
	/* Memory of the dead kernel: readable by root only. */
	fd = open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_debug_errno(negative_errno(), "Cannot create %s: %m", o->output_path);

	r = collect_into(o, d, fd, &res);
	if (r < 0) {
		/* Nothing a reader could use: do not leave it behind. */
		(void)unlink(o->output_path);
		return r;
	}
	res.seconds = now_seconds() - start;
	*ret = res;
	return 0;
}
