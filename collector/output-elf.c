// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ELF output (-E): an ELF64 core like /proc/vmcore, pages left out. As
 * makedumpfile's write_elf_pages_cyclic() does it, each PT_LOAD of the
 * vmcore is split where at least PFN_EXCLUDED pages in a row are left out:
 * the piece before such a run ends with the run as p_memsz beyond p_filesz
 * (readers see zeros there), and shorter runs are written as they are. The
 * notes are copied verbatim.
 *
 * Which pages are left out must be known before the first byte of data
 * (the program headers come first), and zero pages are only known by
 * reading them: a first pass reads and classifies (on every worker thread)
 * into a bitmap of one window of pfns, counting the PT_LOADs to come; the
 * second walks the PT_LOADs, writes their headers and copies their bytes.
 * With more memory than one window covers, the second pass computes the
 * windows again: memory stays bounded.
 *
 * Layout: ELF header, program headers (PT_NOTE first), the section header
 * that holds the real count when there are PN_XNUM or more, the notes, then
 * the data from the next page boundary.
 */
#include "collect-internal.h"
#include "log.h"

#include <elf.h>
#include <inttypes.h>

/* Pfns one bitmap window covers: 2 MiB of bits, 64 GiB of memory. */
#define WINDOW_PFNS (16ULL << 20)
/* makedumpfile's PFN_EXCLUDED: shorter runs of left-out pages stay in the file. */
#define PFN_EXCLUDED 256
#define SEGMENT_FLAGS (PF_R | PF_W | PF_X)

struct eslot {
	uint64_t exclude[CHUNK_WORDS];
	struct page_filter_counts counts;
	uint32_t zero;
};

/* One PT_LOAD of the vmcore as the walk goes through it. */
struct seg_walk {
	uint64_t excluded_run;
	uint64_t loads; /* PT_LOADs it becomes (the counting pass) */
	/* the writing pass: the piece being built */
	uint64_t paddr, memsz, filesz;
};

struct elf_out {
	struct collect *c;
	struct sink *sink;
	/* pfns left out in [win_start, win_start + WINDOW_PFNS) */
	uint64_t *win;
	uint64_t win_start;
	bool win_valid;
	bool counting; /* the first pass: count what is left out */
	struct pfn_range *clip; /* the data ranges within the window */
	size_t n_clip;
	struct chunk_cursor cur;
	uint64_t zero;

	const struct dump_segment *seg;
	size_t n_seg;
	struct seg_walk *walk;
	uint64_t n_loads, loads_written;
	uint64_t phdr_offset, data_offset;
	struct page_reader *reader; /* this thread's */
	uint8_t *buf;
	uint64_t pages_written, unreadable;
	int error;
};

static bool next_chunk(void *user, uint64_t *ret_pfn, uint32_t *ret_n)
{
	struct elf_out *e = user;

	return chunk_cursor_next(&e->cur, ret_pfn, ret_n);
}

/* What the filter leaves out and, at dump level 1, the zero pages. */
static int map_work(void *user, void *worker, void *slot, uint64_t pfn, uint32_t n)
{
	struct elf_out *e = user;
	struct collect_worker *w = worker;
	struct eslot *s = slot;
	uint64_t want[CHUNK_WORDS], unreadable[CHUNK_WORDS], absent[CHUNK_WORDS];
	const uint8_t *base;
	bool any = false;
	int r;

	s->counts = (struct page_filter_counts){};
	s->zero = 0;
	r = collect_classify(e->c, w, pfn, n, s->exclude, &s->counts);
	if (r < 0 || !(e->c->level & PAGE_FILTER_ZERO))
		return r;
	for (uint32_t i = 0; i < PAGE_BITMAP_WORDS(n); i++) {
		want[i] = ~s->exclude[i];
		if (i == (n - 1) / 64 && n % 64)
			want[i] &= (1ULL << (n % 64)) - 1;
		any = any || want[i];
	}
	if (!any)
		return 0;
	r = page_reader_get(w->reader, pfn, n, want, unreadable, absent, &base);
	if (r < 0)
		return r;
	/* Pages that cannot be read stay: the copy writes zeros for them and counts them. */
	for (uint32_t i = 0; i < n; i++)
		if (pagebit_test(want, i) && !pagebit_test(unreadable, i) &&
		    !pagebit_test(absent, i) &&
		    kdump_page_is_zero(base + (size_t)i * DUMP_PAGE_SIZE)) {
			pagebit_set(s->exclude, i);
			s->zero++;
		}
	page_reader_release(w->reader);
	return 0;
}

static void win_assign(struct elf_out *e, uint64_t pfn, uint32_t n, const uint64_t *exclude)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t bit = pfn + i - e->win_start;

		if (pagebit_test(exclude, i))
			e->win[bit / 64] |= 1ULL << (bit % 64);
		else
			e->win[bit / 64] &= ~(1ULL << (bit % 64));
	}
}

static int map_consume(void *user, void *slot, uint64_t pfn, uint32_t n)
{
	struct elf_out *e = user;
	struct eslot *s = slot;
	struct collect_result *res = e->c->res;

	win_assign(e, pfn, n, s->exclude);
	if (e->counting) {
		for (unsigned i = 0; i < _PAGE_CLASS_MAX; i++)
			res->excluded.pages[i] += s->counts.pages[i];
		res->excluded.unreadable += s->counts.unreadable;
		e->zero += s->zero;
	}
	return 0;
}

static const struct pipeline_ops map_ops = {
	.next = next_chunk,
	.work = map_work,
	.consume = map_consume,
};

static void set_range(uint64_t *map, uint64_t start, uint64_t end)
{
	for (; start < end && start % 64; start++)
		map[start / 64] |= 1ULL << (start % 64);
	for (; start + 64 <= end; start += 64)
		map[start / 64] = UINT64_MAX;
	for (; start < end; start++)
		map[start / 64] |= 1ULL << (start % 64);
}

/* The window holding pfn: every RAM pfn left out, then the data pfns decided. */
static int window_load(struct elf_out *e, uint64_t pfn)
{
	struct collect *c = e->c;
	uint64_t start = pfn - pfn % WINDOW_PFNS, end = start + WINDOW_PFNS;
	_cleanup_free_ void **slots = NULL;
	_cleanup_free_ struct eslot *mem = NULL;
	int r;

	if (e->win_valid && e->win_start == start)
		return 0;
	e->win_valid = false;
	e->win_start = start;
	memset(e->win, 0, WINDOW_PFNS / 8);
	for (size_t i = 0; i < c->n_ram; i++)
		if (c->ram[i].end > start && c->ram[i].start < end)
			set_range(e->win, MAX(c->ram[i].start, start) - start,
				  MIN(c->ram[i].end, end) - start);
	e->n_clip = 0;
	for (size_t i = 0; i < c->n_data; i++)
		if (c->data[i].end > start && c->data[i].start < end)
			e->clip[e->n_clip++] = (struct pfn_range){ MAX(c->data[i].start, start),
								   MIN(c->data[i].end, end) };
	if (e->n_clip == 0) {
		e->win_valid = true;
		return 0;
	}
	slots = calloc(c->n_slots, sizeof(*slots));
	mem = calloc(c->n_slots, sizeof(*mem));
	if (!slots || !mem)
		return -ENOMEM;
	for (unsigned i = 0; i < c->n_slots; i++)
		slots[i] = &mem[i];
	chunk_cursor_init(&e->cur, e->clip, e->n_clip, c->chunk_pages);
	r = collect_run(c, &map_ops, e, slots);
	if (r < 0)
		return r;
	e->win_valid = true;
	return 0;
}

/*
 * The run of pfns from pfn (up to end) that are all left out, or all kept:
 * its state and length. Whole words at a time: a 256 GiB machine is 64M
 * pfns, walked twice.
 */
static int run_at(struct elf_out *e, uint64_t pfn, uint64_t end, bool *ret_out, uint64_t *ret_len)
{
	uint64_t bit, stop, i;
	bool out;
	int r;

	r = window_load(e, pfn);
	if (r < 0)
		return r;
	bit = pfn - e->win_start;
	stop = MIN(end, e->win_start + WINDOW_PFNS) - e->win_start;
	out = e->win[bit / 64] & (1ULL << (bit % 64));
	for (i = bit; i < stop;) {
		uint64_t w = e->win[i / 64], n;

		/* ones where the bit equals the run's state, from bit i on */
		w = (out ? w : ~w) >> (i % 64);
		n = ~w ? (uint64_t)__builtin_ctzll(~w) : 64;
		if (n < 64 - i % 64) {
			i += n;
			break;
		}
		i += 64 - i % 64;
	}
	*ret_out = out;
	*ret_len = MIN(i, stop) - bit;
	return 0;
}

/* The first pass: the windows in order, and each PT_LOAD's pieces counted. */
static int count_loads(struct elf_out *e)
{
	uint64_t max_pfn = dump_max_pfn(e->c->dump);
	int r;

	e->counting = true;
	for (size_t k = 0; k < e->n_seg; k++)
		e->walk[k] = (struct seg_walk){ .loads = 1 };
	for (uint64_t w = 0; w < max_pfn; w += WINDOW_PFNS) {
		for (size_t k = 0; k < e->n_seg; k++) {
			const struct dump_segment *g = &e->seg[k];
			uint64_t first = g->phys_start / DUMP_PAGE_SIZE;
			uint64_t last = DIV_ROUND_UP(g->phys_start + g->mem_size, DUMP_PAGE_SIZE);

			uint64_t end = MIN(last, w + WINDOW_PFNS), len;

			for (uint64_t pfn = MAX(first, w); pfn < end; pfn += len) {
				bool out;

				r = run_at(e, pfn, end, &out, &len);
				if (r < 0)
					return r;
				if (out) {
					e->walk[k].excluded_run += len;
					continue;
				}
				if (e->walk[k].excluded_run >= PFN_EXCLUDED)
					e->walk[k].loads++;
				e->walk[k].excluded_run = 0;
			}
		}
	}
	e->counting = false;
	for (size_t k = 0; k < e->n_seg; k++)
		e->n_loads += e->walk[k].loads;
	return 0;
}

/* Copies [paddr, paddr + len) of the dumped memory to the output at e->data_offset. */
static int copy_bytes(struct elf_out *e, uint64_t paddr, uint64_t len)
{
	while (len > 0) {
		uint64_t pfn = paddr / DUMP_PAGE_SIZE, in_page = paddr % DUMP_PAGE_SIZE;
		uint32_t n = (uint32_t)MIN(DIV_ROUND_UP(in_page + len, DUMP_PAGE_SIZE),
					   (uint64_t)PAGE_SOURCE_MAX_PAGES -
						   pfn % PAGE_SOURCE_MAX_PAGES);
		uint64_t bytes = MIN(len, n * DUMP_PAGE_SIZE - in_page);
		uint64_t unreadable[CHUNK_WORDS], absent[CHUNK_WORDS];
		const uint8_t *base;
		bool clean = true;
		int r;

		r = page_reader_get(e->reader, pfn, n, NULL, unreadable, absent, &base);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < n; i++)
			if (pagebit_test(unreadable, i) || pagebit_test(absent, i)) {
				e->unreadable++;
				clean = false;
			}
		if (!clean) {
			/* Pages that cannot be read are written as zeros. */
			memcpy(e->buf, base, (size_t)n * DUMP_PAGE_SIZE);
			for (uint32_t i = 0; i < n; i++)
				if (pagebit_test(unreadable, i) || pagebit_test(absent, i))
					memset(e->buf + (size_t)i * DUMP_PAGE_SIZE, 0,
					       DUMP_PAGE_SIZE);
			base = e->buf;
		}
		r = sink_write(e->sink, base + in_page, bytes, e->data_offset);
		page_reader_release(e->reader);
		if (r < 0)
			return r;
		e->data_offset += bytes;
		e->pages_written += n;
		progress_add(&e->c->progress, n);
		paddr += bytes;
		len -= bytes;
	}
	return 0;
}

static int write_piece(struct elf_out *e, const struct dump_segment *g, struct seg_walk *sw)
{
	Elf64_Phdr ph = {
		.p_type = PT_LOAD,
		.p_flags = SEGMENT_FLAGS,
		/*
		 * Even a piece with no bytes gets the offset where its bytes
		 * would start: crash takes the first PT_LOAD's p_offset for the
		 * size of the headers, and 0 there makes it refuse the file.
		 */
		.p_offset = e->data_offset,
		.p_vaddr = g->virt_start,
		.p_paddr = sw->paddr,
		.p_filesz = sw->filesz,
		.p_memsz = sw->memsz,
	};
	int r;

	if (e->loads_written >= e->n_loads)
		return log_debug_errno(-EIO,
				       "ELF output: more PT_LOADs than the first pass counted");
	/* Addresses of the direct map and of the kernel image move with the piece. */
	if (g->virt_start && g->virt_start != UINT64_MAX)
		ph.p_vaddr = g->virt_start + (sw->paddr - g->phys_start);
	r = sink_write(e->sink, &ph, sizeof(ph),
		       e->phdr_offset + (1 + e->loads_written) * sizeof(Elf64_Phdr));
	if (r < 0)
		return r;
	e->loads_written++;
	return copy_bytes(e, sw->paddr, sw->filesz);
}

/* The second pass: one PT_LOAD of the vmcore, piece by piece. */
static int write_segment(struct elf_out *e, const struct dump_segment *g)
{
	uint64_t end = g->phys_start + g->mem_size;
	uint64_t first = g->phys_start / DUMP_PAGE_SIZE, last = DIV_ROUND_UP(end, DUMP_PAGE_SIZE);
	struct seg_walk sw = { .paddr = g->phys_start };
	uint64_t len;
	int r;

	for (uint64_t pfn = first; pfn < last; pfn += len) {
		uint64_t bytes;
		bool out;

		r = run_at(e, pfn, last, &out, &len);
		if (r < 0)
			return r;
		bytes = MIN(end, (pfn + len) * DUMP_PAGE_SIZE) -
			MAX(g->phys_start, pfn * DUMP_PAGE_SIZE);
		if (out) {
			sw.excluded_run += len;
			sw.memsz += bytes;
			continue;
		}
		if (sw.excluded_run >= PFN_EXCLUDED) {
			/* The piece so far ends with the run; a new one starts here. */
			r = write_piece(e, g, &sw);
			if (r < 0)
				return r;
			sw = (struct seg_walk){ .paddr = pfn * DUMP_PAGE_SIZE };
		}
		/* A shorter run stays in the file, bytes and all. */
		sw.excluded_run = 0;
		sw.memsz += bytes;
		sw.filesz = sw.memsz;
	}
	return write_piece(e, g, &sw);
}

static int write_headers(struct elf_out *e, uint64_t *ret_data_start)
{
	size_t notes_size;
	const void *notes = dump_notes(e->c->dump, &notes_size);
	uint64_t phnum = 1 + e->n_loads, notes_offset;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT },
		.e_type = ET_CORE,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = phnum >= PN_XNUM ? PN_XNUM : (Elf64_Half)phnum,
	};
	Elf64_Phdr note = { .p_type = PT_NOTE };
	int r;

	e->phdr_offset = eh.e_phoff;
	notes_offset = eh.e_phoff + phnum * sizeof(Elf64_Phdr);
	/* Extended numbering (elf(5)): the count goes into section header 0. */
	if (phnum >= PN_XNUM) {
		Elf64_Shdr sh = { .sh_type = SHT_NULL, .sh_size = 1, .sh_info = (Elf64_Word)phnum };

		if (phnum > UINT32_MAX)
			return -E2BIG;
		eh.e_shoff = notes_offset;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
		r = sink_write(e->sink, &sh, sizeof(sh), eh.e_shoff);
		if (r < 0)
			return r;
		notes_offset += sizeof(sh);
	}
	note.p_offset = notes_offset;
	note.p_filesz = note.p_memsz = notes_size;
	r = sink_write(e->sink, &eh, sizeof(eh), 0);
	if (r >= 0)
		r = sink_write(e->sink, &note, sizeof(note), e->phdr_offset);
	if (r >= 0)
		r = sink_write(e->sink, notes, notes_size, notes_offset);
	if (r < 0)
		return r;
	/* Page-aligned data: readers (and crashcap's own) can map it. */
	*ret_data_start = ALIGN_UP(notes_offset + notes_size, DUMP_PAGE_SIZE);
	return 0;
}

static void elf_out_done(struct elf_out *e)
{
	free(e->win);
	free(e->clip);
	free(e->walk);
	free(e->buf);
	page_reader_free(e->reader);
}

static int elf_write(struct elf_out *e)
{
	struct collect_result *res = e->c->res;
	uint64_t data_start;
	int r;

	r = count_loads(e);
	if (r < 0)
		return r;
	res->pages_zero = e->zero;
	r = write_headers(e, &data_start);
	if (r < 0)
		return r;
	e->data_offset = data_start;
	for (size_t k = 0; k < e->n_seg; k++) {
		r = write_segment(e, &e->seg[k]);
		if (r < 0)
			return r;
		if (e->c->o->cancel && *e->c->o->cancel)
			return -EINTR;
	}
	if (e->loads_written != e->n_loads)
		return log_debug_errno(-EIO,
				       "ELF output: %" PRIu64 " PT_LOADs counted, %" PRIu64
				       " written",
				       e->n_loads, e->loads_written);
	return 0;
}

int output_elf(struct collect *c, struct sink *sink)
{
	struct collect_result *res = c->res;
	struct elf_out e = { .c = c, .sink = sink };
	int r, w;

	if (dump_vmcoreinfo(c->dump) && vmcoreinfo_osrelease(dump_vmcoreinfo(c->dump)))
		snprintf(res->release, sizeof(res->release), "%s",
			 vmcoreinfo_osrelease(dump_vmcoreinfo(c->dump)));
	e.seg = dump_segments(c->dump, &e.n_seg);
	e.win = malloc(WINDOW_PFNS / 8);
	e.clip = calloc(MAX(c->n_data, 1U), sizeof(*e.clip));
	e.walk = calloc(MAX(e.n_seg, 1U), sizeof(*e.walk));
	e.buf = malloc(PAGE_SOURCE_MAX_PAGES * DUMP_PAGE_SIZE);
	r = e.win && e.clip && e.walk && e.buf ? 0 : -ENOMEM;
	if (r >= 0)
		r = page_reader_new(c->src, NULL, &e.reader);
	if (r < 0) {
		elf_out_done(&e);
		return r;
	}
	for (size_t i = 0; i < c->n_ram; i++)
		res->pages_total += c->ram[i].end - c->ram[i].start;
	res->ram_bytes = res->pages_total * DUMP_PAGE_SIZE;
	res->pages_nodata = res->pages_total - c->data_pages;

	/* As for the kdump format: a write error leaves what was written, marked incomplete. */
	w = elf_write(&e);
	if (w < 0)
		res->write_error = w;
	r = sink_finish(sink);
	if (r < 0 && !res->write_error)
		res->write_error = r;
	res->pages_written = e.pages_written;
	res->pages_unreadable = e.unreadable;
	res->incomplete = dump_is_truncated(c->dump) || dump_is_incomplete(c->dump) ||
			  e.unreadable > 0 || res->write_error < 0;
	res->output_bytes = sink_bytes(sink);
	elf_out_done(&e);
	return 0;
}
