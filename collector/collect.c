// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A vmcore in, a dump out: what every output format shares. The RAM of the
 * vmcore (its PT_LOADs, merged) is walked in chunks of pfns; the pfns whose
 * bytes are not in the file (p_filesz < p_memsz) are left out without
 * being looked at, as makedumpfile does. Each worker thread gets its own
 * handle of the vmcore, reader and compressor.
 */
#include "collect-internal.h"
#include "log.h"
#include "page-source-kdump.h"
#include "utsname.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define DUMP_LEVEL_ZERO 1
/* More threads than this would only add memory (chunks in flight) for no speed. */
#define THREADS_MAX 64U
/*
 * Chunk results in flight, all together (collect_options.inflight_bytes,
 * default COLLECT_INFLIGHT_DEFAULT): the memory the pipeline may hold.
 * Every page of it is faulted in once per dump, and faults are dear on a
 * VM: 8 MiB against 24 took ~0.1 s of CPU off a 0.6 s dump (6.1 bench, -d 31).
 */
#define CHUNK_PAGES_MIN 64U
#define SLOTS_PER_THREAD 8U

static int range_cmp(const void *a, const void *b)
{
	const struct pfn_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static size_t ranges_merge(struct pfn_range *r, size_t n)
{
	size_t out = 0;

	if (n > 1)
		qsort(r, n, sizeof(*r), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (r[i].start >= r[i].end)
			continue;
		if (out > 0 && r[i].start <= r[out - 1].end)
			r[out - 1].end = MAX(r[out - 1].end, r[i].end);
		else
			r[out++] = r[i];
	}
	return out;
}

/*
 * RAM pfns, and the pfns among them with bytes in the file. As makedumpfile:
 * a partial page at either end of a PT_LOAD counts only at the start, and a
 * page is data when p_filesz reaches into it.
 */
static int build_ranges(struct collect *c)
{
	size_t n_seg;
	const struct dump_segment *seg = dump_segments(c->dump, &n_seg);

	c->ram = calloc(MAX(n_seg, 1U), sizeof(*c->ram));
	c->data = calloc(MAX(n_seg, 1U), sizeof(*c->data));
	if (!c->ram || !c->data)
		return -ENOMEM;
	for (size_t i = 0; i < n_seg; i++) {
		uint64_t start = seg[i].phys_start / DUMP_PAGE_SIZE;
		uint64_t end = (seg[i].phys_start + seg[i].mem_size) / DUMP_PAGE_SIZE;
		uint64_t data_end =
			DIV_ROUND_UP(seg[i].phys_start + seg[i].file_size, DUMP_PAGE_SIZE);

		c->ram[i] = (struct pfn_range){ start, end };
		c->data[i] = (struct pfn_range){ start, MIN(end, data_end) };
	}
	c->n_ram = ranges_merge(c->ram, n_seg);
	c->n_data = ranges_merge(c->data, n_seg);
	for (size_t i = 0; i < c->n_data; i++)
		c->data_pages += c->data[i].end - c->data[i].start;
	return 0;
}

void chunk_cursor_init(struct chunk_cursor *c, const struct pfn_range *r, size_t n, uint32_t chunk)
{
	*c = (struct chunk_cursor){ .r = r, .n = n, .pfn = n ? r[0].start : 0, .chunk = chunk };
}

bool chunk_cursor_next(struct chunk_cursor *c, uint64_t *ret_pfn, uint32_t *ret_n)
{
	uint64_t end;

	while (c->i < c->n && c->pfn >= c->r[c->i].end)
		if (++c->i < c->n)
			c->pfn = c->r[c->i].start;
	if (c->i >= c->n)
		return false;
	/* Aligned chunks: a chunk's bitmaps start on a word, and mmap offsets stay aligned. */
	end = MIN(c->r[c->i].end, (c->pfn / c->chunk + 1) * c->chunk);
	*ret_pfn = c->pfn;
	*ret_n = (uint32_t)(end - c->pfn);
	c->pfn = end;
	return true;
}

int collect_classify(struct collect *c, struct collect_worker *w, uint64_t pfn, uint32_t n,
		     uint64_t *exclude, struct page_filter_counts *counts)
{
	memset(exclude, 0, PAGE_BITMAP_WORDS(n) * sizeof(uint64_t));
	if (!c->filter || !w->filter)
		return 0;
	return page_filter_classify(w->filter, pfn, n, exclude, counts);
}

uint32_t collect_count_kept(const uint64_t *exclude, uint32_t n)
{
	uint32_t out = 0;

	for (uint32_t i = 0; i < PAGE_BITMAP_WORDS(n); i++)
		out += __builtin_popcountll(exclude[i]);
	return n - out;
}

void collect_bits_or(uint64_t *dst, uint64_t pos, const uint64_t *src, uint32_t n)
{
	unsigned shift = pos % 64;
	uint64_t *d = dst + pos / 64;

	for (uint32_t i = 0; i < PAGE_BITMAP_WORDS(n); i++) {
		uint64_t w = src[i];

		if (i == (n - 1) / 64 && n % 64)
			w &= (1ULL << (n % 64)) - 1;
		if (!w)
			continue;
		__atomic_fetch_or(&d[i], w << shift, __ATOMIC_RELAXED);
		if (shift && (w >> (64 - shift)))
			__atomic_fetch_or(&d[i + 1], w >> (64 - shift), __ATOMIC_RELAXED);
	}
}

bool collect_bits_get(const uint64_t *src, uint64_t pos, uint32_t n, uint64_t *ret)
{
	const uint64_t *v = src + pos / 64;
	unsigned shift = pos % 64;
	bool all = true;

	for (uint32_t i = 0; i < PAGE_BITMAP_WORDS(n); i++) {
		bool last = i == (n - 1) / 64 && n % 64;
		uint64_t w = v[i] >> shift;

		/* Word i + 1 is read only when it holds some of the n bits. */
		if (shift && (uint64_t)(i + 1) * 64 - shift < n)
			w |= v[i + 1] << (64 - shift);
		if (last)
			w &= (1ULL << (n % 64)) - 1;
		ret[i] = w;
		all = all && w == (last ? (1ULL << (n % 64)) - 1 : ~0ULL);
	}
	return all;
}

int collect_run(struct collect *c, const struct pipeline_ops *ops, void *user, void **slots)
{
	struct pipeline_params p = {
		.ops = ops,
		.user = user,
		.workers = (void **)c->workers,
		.n_workers = c->threads,
		.slots = slots,
		.n_slots = c->n_slots,
		.cancel = c->o->cancel,
	};

	return pipeline_run(&p);
}

static void set_field(char *dst, const char *src)
{
	snprintf(dst, KDUMP_UTS_LEN, "%s", src);
}

/* Nodename, version and domainname live only in the dumped kernel's memory. */
static void read_utsname(struct dump *d, struct kdump_utsname *u)
{
	struct kdump_utsname mem;
	int r;

	r = dump_read_utsname(d, &mem);
	if (r < 0) {
		log_debug_errno(r, "No utsname from the dumped kernel's memory: %m");
		return;
	}
	memcpy(u->nodename, mem.nodename, KDUMP_UTS_LEN);
	memcpy(u->version, mem.version, KDUMP_UTS_LEN);
	memcpy(u->domainname, mem.domainname, KDUMP_UTS_LEN);
	if (!u->release[0])
		memcpy(u->release, mem.release, KDUMP_UTS_LEN);
}

void collect_writer_params(struct collect *c, struct kdump_writer_params *p)
{
	const struct vmcoreinfo *vi = dump_vmcoreinfo(c->dump);
	const char *s;
	int64_t v;
	size_t off, size;

	*p = (struct kdump_writer_params){
		.nr_cpus = dump_nr_cpus(c->dump),
		.dump_level = c->level,
		.compression = c->o->compression,
		.max_mapnr = dump_max_pfn(c->dump),
	};
	p->notes = dump_notes(c->dump, &p->notes_size);
	if (dump_vmcoreinfo_note_offset(c->dump, &off, &size) >= 0) {
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
	read_utsname(c->dump, &p->utsname);
}

static int check_options(const struct collect_options *o)
{
	if (!o->vmcore_path || !o->output_path || o->dump_level < 0 || o->dump_level > 31)
		return -EINVAL;
	if (o->format != COLLECT_FORMAT_KDUMP && o->format != COLLECT_FORMAT_ELF)
		return -EINVAL;
	if (o->format == COLLECT_FORMAT_KDUMP && o->compression > COMPRESSION_SNAPPY)
		return -EOPNOTSUPP;
	return 0;
}

static unsigned pick_threads(unsigned asked)
{
	long cpus;

	if (asked > 0)
		return MIN(asked, THREADS_MAX);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 0 ? MIN((unsigned)cpus, THREADS_MAX) : 1;
}

/*
 * Dump level bits above 1 need the page filter; when it cannot work on
 * this dump, the dump is still written, at the level that needs nothing
 * from struct page, and fallback says why.
 */
static int setup_filter(struct collect *c)
{
	const char *why = NULL;
	int r;

	c->level = c->o->dump_level;
	if (!(c->level & ~DUMP_LEVEL_ZERO))
		return 0;
	r = page_filter_new(c->dump, c->level, &c->filter, &why);
	if (r < 0)
		return r;
	c->level = page_filter_level(c->filter);
	/* why lives as long as the filter. */
	if (why)
		snprintf(c->res->fallback, sizeof(c->res->fallback), "%s", why);
	if (!page_filter_active(c->filter))
		c->filter = page_filter_free(c->filter);
	return 0;
}

static struct collect_worker *worker_free(struct collect_worker *w)
{
	if (!w)
		return NULL;
	page_filter_ctx_free(w->filter);
	kdump_compressor_free(w->compressor);
	page_reader_free(w->reader);
	dump_free(w->dump);
	free(w);
	return NULL;
}

static int worker_new(struct collect *c, struct collect_worker **ret)
{
	struct collect_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	/* A struct dump serves one thread at a time: each worker opens its own. */
	r = dump_open(c->o->vmcore_path, &w->dump);
	if (r >= 0)
		r = page_reader_new(c->src, w->dump, &w->reader);
	if (r >= 0 && c->o->format == COLLECT_FORMAT_KDUMP)
		r = kdump_compressor_new(c->o->compression, c->o->zstd_level, &w->compressor);
	if (r >= 0 && c->filter)
		r = page_filter_ctx_new(c->filter, w->dump, &w->filter);
	if (r < 0) {
		worker_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

static void collect_done(struct collect *c)
{
	for (unsigned i = 0; c->workers && i < c->threads; i++)
		worker_free(c->workers[i]);
	free(c->workers);
	page_filter_free(c->filter);
	page_source_free(c->src);
	free(c->ram);
	free(c->data);
}

static int collect_setup(struct collect *c)
{
	uint64_t per_slot, inflight;
	int r;

	r = build_ranges(c);
	if (r < 0)
		return r;
	if (c->n_ram == 0)
		return log_debug_errno(-ENODATA, "%s describes no memory.", c->o->vmcore_path);
	r = setup_filter(c);
	if (r < 0)
		return r;
	/* A kdump-compressed input lacks what its own level left out: the header says so. */
	c->level = refilter_level(c->o->vmcore_path, c->level, c->res->fallback,
				  sizeof(c->res->fallback));
	r = page_source_new(c->dump, c->o->no_mmap, &c->src);
	if (r < 0)
		return r;
	page_source_map_files(c->src, c->o->map_files);

	c->threads = pick_threads(c->o->threads);
	inflight = c->o->inflight_bytes ?: COLLECT_INFLIGHT_DEFAULT;
	inflight = MAX(inflight, (uint64_t)COLLECT_INFLIGHT_MIN);
	/*
	 * Chunks are consumed in order, so one slow chunk (dense in pages kept,
	 * or in pages that compress badly) holds every slot after it: with
	 * two slots a thread, the other threads sat waiting for a slot for
	 * half the time on the 6.1 bench vmcore. Eight smaller chunks a
	 * thread spread a dense region over all of them.
	 */
	c->n_slots = MAX(2 * c->threads, MIN(SLOTS_PER_THREAD * c->threads,
					     inflight / (CHUNK_PAGES_MIN * DUMP_PAGE_SIZE)));
	per_slot = inflight / c->n_slots / DUMP_PAGE_SIZE;
	/* A multiple of 64: chunk bitmaps are whole words. */
	c->chunk_pages = (uint32_t)MIN(MAX(per_slot / 64 * 64, (uint64_t)CHUNK_PAGES_MIN),
				       (uint64_t)PAGE_SOURCE_MAX_PAGES);
	c->workers = calloc(c->threads, sizeof(*c->workers));
	if (!c->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < c->threads; i++) {
		r = worker_new(c, &c->workers[i]);
		if (r < 0)
			return r;
	}
	c->res->threads = c->threads;
	c->res->inflight_bytes = (uint64_t)c->n_slots * c->chunk_pages * DUMP_PAGE_SIZE;
	c->res->dump_level = c->level;
	return 0;
}

static uint64_t peak_rss_bytes(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024;
}

static int collect_into(const struct collect_options *o, struct dump *d, int fd,
			struct collect_result *res)
{
	_cleanup_sink_ struct sink *s = NULL;
	struct collect c = { .o = o, .res = res, .dump = d };
	int r;

	r = collect_setup(&c);
	if (r >= 0)
		r = o->flat ? sink_new_flat(fd, &s) : sink_new_file(fd, &s);
	if (r >= 0) {
		progress_init(&c.progress, o->progress ? stderr : NULL, c.data_pages);
		r = o->format == COLLECT_FORMAT_ELF ? output_elf(&c, s) : output_kdump(&c, s);
		progress_end(&c.progress);
	}
	collect_done(&c);
	return r;
}

static bool to_stdout(const struct collect_options *o)
{
	return o->flat && streq(o->output_path, "-");
}

int collect_dump(const struct collect_options *o, struct collect_result *ret)
{
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_close_ int fd = -1;
	struct collect_result res = {};
	double start = progress_now();
	int r;

	r = check_options(o);
	if (r < 0)
		return r;
	/* The input first: a bad vmcore must not cost an existing output file. */
	r = dump_open(o->vmcore_path, &d);
	if (r < 0)
		return r;
	if (to_stdout(o))
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		/* Memory of the dead kernel: readable by root only. */
		fd = open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_debug_errno(negative_errno(), "Cannot create %s: %m", o->output_path);

	r = collect_into(o, d, fd, &res);
	if (r < 0) {
		struct stat st;

		/* Nothing a reader could use: do not leave it behind (a file, not a pipe). */
		if (!to_stdout(o) && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode))
			(void)unlink(o->output_path);
		return r;
	}
	res.seconds = progress_now() - start;
	res.peak_rss_bytes = peak_rss_bytes();
	*ret = res;
	return 0;
}
