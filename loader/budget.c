// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The memory budget of a capture. The constants are what the crash kernel
 * was measured to need on QEMU guests (tests/qemu/find-min-crashkernel.py);
 * every figure that can be read on this machine (the kernel's init_size,
 * the initramfs, the collector's peak in an earlier dump) is read instead.
 */
#include "budget.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "cpio.h"
#include "dumps.h"
#include "iomem.h"
#include "jsonflat.h"
#include "log.h"
#include "rootfs.h"

#define MIB (1024ULL * 1024)
#define PAGE_4K 4096ULL
#define SUMMARY_MAX (1024 * 1024)
/*
 * Measured with tests/qemu/find-min-crashkernel.py (Debian 6.1, init_size
 * 63.6 MiB, crashcap's 5.5 MiB initramfs of 15 files, dump level 31, one
 * thread). The crash kernel's /init bounds the collector's chunks in flight
 * by MemAvailable/16 (1-8 MiB) and removes the loaded modules' files from
 * its tmpfs: 1 and 4 GiB guests then captured with crashkernel=96M
 * (collector peak 7.8 MiB, 1.4 MiB in flight, 23 MiB available when it
 * started); at 88M the crash kernel ran out of memory while it unpacked the
 * initramfs (24 MiB free at boot, 12 MiB of it slab, 8.3 MiB of that
 * tracefs' files for every trace event, and 4 MiB of memcg pointers for a
 * per-CPU chunk). With cgroup.memory=nokmem and
 * initcall_blacklist=tracer_init_tracefs, now on crashcap's crash kernel
 * command line (loader/load-prep.c), 1 and 4 GiB guests capture with 80M
 * and 72M does not boot.
 * Before, with 8 MiB in flight (peak 14.6 MiB), the limit was 104M, and
 * with 24 MiB (peak 31 MiB) 120M. In the sum below init_size already holds
 * more than the kernel keeps once booted (about 52 MiB), so the constants
 * for the kernel's own allocations are small; the proposal (112M) is
 * 32 MiB above the smallest size that captured: a margin for the devices
 * and drivers of real machines, which these guests do not have.
 */
/* What the crash kernel allocates once booted: slab, stacks, modules, watermarks. */
#define KERNEL_RUNTIME (16 * MIB)
/*
 * Each CPU beyond the first (crash_cpus): its slab (~0.6 MiB), per-CPU area
 * (0.25 MiB) and kernel stacks (~0.1 MiB). MemAvailable in the crash
 * kernel's /init fell 0.99-1.12 MiB per CPU from nr_cpus=1 to 4 and 8 (1 GiB
 * Debian 6.1 guests, tests/qemu/measure-crash-cpus.py); rounded up.
 */
#define KERNEL_PER_CPU (5 * MIB / 4)
#define KERNEL_PER_CPU_WHY                                                             \
	"MemAvailable fell 1.0-1.1 MiB per CPU up to nr_cpus=8 on Debian 6.1 guests, " \
	"tests/qemu/measure-crash-cpus.py"
/* Page cache the kernel needs to write the dump out while it is made. */
#define WRITEBACK (8 * MIB)
/*
 * The collector without its page bitmaps: binary, buffers, and the chunks
 * in flight (MemAvailable/16 in the crash kernel: 1.5-2.5 MiB at the sizes
 * proposed here). Its peak RSS with one thread was 7.8 MiB on 1 GiB guests
 * with crashkernel=96M.
 */
#define COLLECTOR_BASE (7 * MIB)
/* Each worker: a zstd context, its page reader's buffers. */
#define COLLECTOR_PER_THREAD (4 * MIB)
/* When no initramfs is built yet (what crashcap builds is usually 3-6 MiB). */
#define INITRD_GUESS (8 * MIB)
/* A compressed initramfs: its files are taken as this many times its size. */
#define UNPACK_RATIO 3
/* The collector never runs more workers than this (collector/collect.c). */
#define THREADS_MAX 64U

void budget_done(struct budget *b)
{
	if (!b)
		return;
	free(b->kernel);
	free(b->initrd);
	b->kernel = b->initrd = NULL;
}

const char *budget_source_to_string(enum budget_source s)
{
	static const char *const names[] = {
		[BUDGET_SOURCE_FILE] = "file",
		[BUDGET_SOURCE_LOADED] = "loaded",
		[BUDGET_SOURCE_MEASURED] = "measured",
		[BUDGET_SOURCE_MODEL] = "model",
	};

	return (size_t)s < ELEMENTSOF(names) ? names[s] : NULL;
}

static struct budget_part *set_part(struct budget *b, enum budget_part_id id, const char *name,
				    uint64_t bytes, enum budget_source source)
{
	struct budget_part *p = &b->parts[id];

	p->name = name;
	p->bytes = bytes;
	p->source = source;
	snprintf(p->source_text, sizeof(p->source_text), "%s", budget_source_to_string(source));
	return p;
}

static int probe_kernel(const char *path, struct kernel_probe *ret, uint64_t *ret_size)
{
	_cleanup_free_ uint8_t *buf = malloc(256 * 512);
	_cleanup_close_ int fd = -1;
	const char *why;
	struct stat st;
	size_t n = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	r = pread_full(fd, buf, 256 * 512, 0, &n);
	if (r < 0)
		return r;
	r = loadfile_probe_kernel(buf, n, ret, &why);
	if (r < 0)
		return r;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

static uint64_t hex8(const char *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					       -1;
		if (d < 0)
			return UINT64_MAX;
		v = v * 16 + (uint64_t)d;
	}
	return v;
}

/*
 * The bytes the files of a newc archive take once unpacked into tmpfs
 * (page-rounded), over every archive concatenated in the file. -EMEDIUMTYPE
 * when the file (or a later part) is not plain newc, e.g. compressed.
 */
static int initrd_unpacked(const char *path, uint64_t *ret_bytes, uint64_t *ret_files)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	uint64_t bytes = 0, files = 0;
	char h[CPIO_NEWC_HEADER_SIZE];
	int c;

	if (!f)
		return negative_errno();
	for (;;) {
		uint64_t mode, size, namesize;
		off_t skip;

		/* Archives are padded to 4 bytes, and concatenated ones often with zeros. */
		while ((c = fgetc(f)) == 0)
			;
		if (c == EOF)
			break;
		h[0] = (char)c;
		if (fread(h + 1, 1, sizeof(h) - 1, f) != sizeof(h) - 1 ||
		    memcmp(h, CPIO_NEWC_MAGIC, 6) != 0)
			return -EMEDIUMTYPE;
		mode = hex8(h + 14);
		size = hex8(h + 54);
		namesize = hex8(h + 94);
		if (mode == UINT64_MAX || size == UINT64_MAX || namesize == UINT64_MAX ||
		    namesize == 0 || namesize > 4096)
			return -EBADMSG;
		if ((mode & 0170000) == 0100000) {
			bytes += ALIGN_UP(size, PAGE_4K);
			files++;
		}
		skip = (off_t)(ALIGN_UP(CPIO_NEWC_HEADER_SIZE + namesize, 4) -
			       CPIO_NEWC_HEADER_SIZE + ALIGN_UP(size, 4));
		if (fseeko(f, skip, SEEK_CUR) < 0)
			return negative_errno();
	}
	*ret_bytes = bytes;
	*ret_files = files;
	return 0;
}

/* The initramfs rows, for the archive at path (size 0: not built yet). */
static int initrd_parts(struct budget *b, const char *path, uint64_t size, bool loaded)
{
	enum budget_source src = loaded ? BUDGET_SOURCE_LOADED : BUDGET_SOURCE_FILE;
	uint64_t unpacked = 0, files = 0;
	struct budget_part *p;
	int r;

	if (!size) {
		p = set_part(b, BUDGET_INITRD, "initramfs", INITRD_GUESS, BUDGET_SOURCE_MODEL);
		snprintf(p->why, sizeof(p->why),
			 "not built yet: assumed %llu MiB (run crashcapctl rebuild for a measured "
			 "size)",
			 INITRD_GUESS / MIB);
		p = set_part(b, BUDGET_INITRD_UNPACKED, "unpacked", INITRD_GUESS,
			     BUDGET_SOURCE_MODEL);
		snprintf(p->why, sizeof(p->why), "its files in tmpfs, as large as the archive");
		return 0;
	}
	b->initrd = strdup(path);
	if (!b->initrd)
		return -ENOMEM;
	p = set_part(b, BUDGET_INITRD, "initramfs", ALIGN_UP(size, PAGE_4K), src);
	snprintf(p->source_text, sizeof(p->source_text), "%s", path);
	snprintf(p->why, sizeof(p->why), "the archive, kept until it is unpacked%s",
		 loaded ? " (loaded now)" : "");
	r = initrd_unpacked(path, &unpacked, &files);
	if (r == -ENOMEM)
		return r;
	if (r >= 0) {
		b->initrd_files = files;
		p = set_part(b, BUDGET_INITRD_UNPACKED, "unpacked", unpacked, src);
		snprintf(p->source_text, sizeof(p->source_text), "%s", path);
		snprintf(p->why, sizeof(p->why), "its %" PRIu64 " files in tmpfs, page-rounded",
			 files);
		return 0;
	}
	log_debug_errno(r, "%s: cannot list its files (%m); taking %dx its size", path,
			UNPACK_RATIO);
	p = set_part(b, BUDGET_INITRD_UNPACKED, "unpacked", UNPACK_RATIO * size,
		     BUDGET_SOURCE_MODEL);
	snprintf(p->why, sizeof(p->why), "compressed or not newc: taken as %dx the archive",
		 UNPACK_RATIO);
	return 0;
}

/* The crash kernel and initramfs: those loaded now, else those a load would use. */
static int kernel_part(struct budget *b, const char *kernel, struct kernel_probe *bz,
		       struct load_error *err)
{
	struct budget_part *p;
	int r;

	r = probe_kernel(kernel, bz, &b->kernel_file_size);
	if (r < 0)
		return load_error_set(err, r,
				      "cannot read the crash kernel %s: %s: set kernel= in "
				      "crashcap.conf",
				      kernel, strerror(-r));
	p = set_part(b, BUDGET_KERNEL, "crash kernel",
		     ALIGN_UP(MAX((uint64_t)bz->init_size, b->kernel_file_size), PAGE_4K),
		     BUDGET_SOURCE_FILE);
	snprintf(p->source_text, sizeof(p->source_text), "%s", kernel);
	snprintf(p->why, sizeof(p->why), "init_size, what it needs to boot (the file is %.1f MiB)",
		 b->kernel_file_size / (double)MIB);
	b->kernel = strdup(kernel);
	return b->kernel ? 0 : -ENOMEM;
}

static uint64_t regular_size(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

/* The image about to be loaded. */
static int given_parts(struct budget *b, const char *kernel, const char *initrd,
		       struct load_error *err)
{
	struct kernel_probe bz = {};
	struct budget_part *p;
	int r;

	r = kernel_part(b, kernel, &bz, err);
	if (r < 0)
		return r;
	if (initrd)
		return initrd_parts(b, initrd, regular_size(initrd), false);
	p = set_part(b, BUDGET_INITRD, "initramfs", 0, BUDGET_SOURCE_FILE);
	snprintf(p->why, sizeof(p->why), "none is loaded");
	p = set_part(b, BUDGET_INITRD_UNPACKED, "unpacked", 0, BUDGET_SOURCE_FILE);
	snprintf(p->why, sizeof(p->why), "none is loaded");
	return 0;
}

static int image_parts(const char *root, const struct settings *s, struct budget *b,
		       struct load_error *err)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = NULL, *initrd = NULL, *running = NULL, *rel = NULL;
	struct kernel_probe bz = {};
	struct budget_part *p;
	const char *release;
	int r;

	if (loaded_state_read(root, &img) >= 0 && !img.reboot && img.kernel_init_size) {
		b->kernel = strdup(img.kernel);
		if (!b->kernel)
			return -ENOMEM;
		b->kernel_file_size = img.kernel_size;
		p = set_part(b, BUDGET_KERNEL, "crash kernel",
			     ALIGN_UP(MAX(img.kernel_init_size, img.kernel_size), PAGE_4K),
			     BUDGET_SOURCE_LOADED);
		snprintf(p->source_text, sizeof(p->source_text), "%s", img.kernel);
		snprintf(p->why, sizeof(p->why),
			 "init_size, what it needs to boot (the file is %.1f MiB; loaded now)",
			 img.kernel_size / (double)MIB);
		return initrd_parts(b, img.initrd, img.initrd ? img.initrd_size : 0, true);
	}
	r = loadfile_release(root, &running);
	if (r < 0)
		return load_error_set(err, r, "cannot find the running kernel's release: %s",
				      strerror(-r));
	if (!s->kernel && asprintf(&rel, "/boot/vmlinuz-%s", running) < 0)
		return -ENOMEM;
	r = root_path(root, s->kernel ? s->kernel : rel, &kernel);
	if (r < 0)
		return r;
	r = kernel_part(b, kernel, &bz, err);
	if (r < 0)
		return r;
	release = bz.release[0] ? bz.release : running;
	free(rel);
	rel = NULL;
	if (s->initrd)
		r = root_path(root, s->initrd, &initrd);
	else if (asprintf(&rel, CRASHCAP_STATE_DIR "/initrd-%s.img", release) >= 0)
		r = root_path(root, rel, &initrd);
	else
		r = -ENOMEM;
	if (r < 0)
		return r;
	return initrd_parts(b, initrd, regular_size(initrd), false);
}

/* Highest RAM address + 1 (the collector keeps bitmaps up to it), and RAM in all. */
static void ram_read(const char *root, uint64_t *ret_end, uint64_t *ret_ram)
{
	_cleanup_(iomem_done) struct iomem m = {};
	const struct iomem_range *r;

	*ret_end = *ret_ram = 0;
	if (iomem_read(root, &m, NULL) < 0)
		return;
	iomem_foreach(r, &m)
		if (r->depth == 0 && streq(r->name, "System RAM")) {
			*ret_end = MAX(*ret_end, r->end + 1);
			*ret_ram += iomem_range_size(r);
		}
}

/* Two bitmaps (RAM, and pages kept) of one bit per 4 KiB page below end. */
static uint64_t bitmaps_for(uint64_t end)
{
	return ALIGN_UP(DIV_ROUND_UP(end, PAGE_4K * 8) * 2, PAGE_4K);
}

/* The newest dump whose summary records the collector's peak, with its threads and RAM. */
static int last_measurement(const char *root, const struct settings *s, char **ret_name,
			    uint64_t *ret_peak, uint64_t *ret_threads, uint64_t *ret_ram)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	_cleanup_free_ char *dir = NULL, *error = NULL;

	if (dumps_location(root, s, &dir, &error) < 0 || dumps_read(dir, &l) < 0)
		return -ENOENT;
	for (size_t i = l.count; i > 0; i--) {
		const struct dump_info *d = &l.dumps[i - 1];
		_cleanup_(jsonflat_done) struct jsonflat j = {};
		_cleanup_free_ char *path = NULL, *text = NULL;

		if (!d->peak_rss_bytes)
			continue;
		if (asprintf(&path, "%s/summary.json", d->path) < 0)
			return -ENOMEM;
		if (read_full_file(path, SUMMARY_MAX, &text, NULL) < 0 ||
		    jsonflat_parse(text, &j) < 0)
			continue;
		if (jsonflat_u64(&j, "threads", ret_threads) < 0 || *ret_threads == 0)
			*ret_threads = 1;
		if (jsonflat_u64(&j, "ram_bytes", ret_ram) < 0)
			*ret_ram = 0;
		*ret_name = strdup(d->name);
		if (!*ret_name)
			return -ENOMEM;
		*ret_peak = d->peak_rss_bytes;
		return 0;
	}
	return -ENOENT;
}

static int collector_part(const char *root, const struct settings *s, struct budget *b)
{
	_cleanup_free_ char *name = NULL;
	uint64_t peak = 0, threads = 1, dump_ram = 0, bitmaps, model, bytes;
	struct budget_part *p;
	int r;

	bitmaps = bitmaps_for(b->ram_end);
	model = COLLECTOR_BASE + b->threads * COLLECTOR_PER_THREAD + bitmaps;
	r = last_measurement(root, s, &name, &peak, &threads, &dump_ram);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		p = set_part(b, BUDGET_COLLECTOR, "collector", model, BUDGET_SOURCE_MODEL);
		snprintf(p->why, sizeof(p->why),
			 "%llu MiB + %llu MiB per thread (%u) + %.1f MiB of page bitmaps for "
			 "%.1f GiB of address space",
			 COLLECTOR_BASE / MIB, COLLECTOR_PER_THREAD / MIB, b->threads,
			 bitmaps / (double)MIB, b->ram_end / (double)(1024 * MIB));
		return 0;
	}
	/* The measured peak, corrected for other threads and more RAM than it had then. */
	bytes = peak;
	if (b->threads > threads)
		bytes += (b->threads - threads) * COLLECTOR_PER_THREAD;
	else
		bytes -= MIN((threads - b->threads) * COLLECTOR_PER_THREAD, bytes / 2);
	if (dump_ram && b->ram_end > dump_ram)
		bytes += bitmaps - MIN(bitmaps, bitmaps_for(dump_ram));
	p = set_part(b, BUDGET_COLLECTOR, "collector", ALIGN_UP(bytes, PAGE_4K),
		     BUDGET_SOURCE_MEASURED);
	snprintf(p->source_text, sizeof(p->source_text), "measured in dump %s", name);
	snprintf(p->why, sizeof(p->why),
		 "its peak, measured in the crash kernel for %s: %.1f MiB with %" PRIu64
		 " thread%s; %u configured%s",
		 name, peak / (double)MIB, threads, threads == 1 ? "" : "s", b->threads,
		 dump_ram && b->ram_end > dump_ram ? ", bitmaps for more RAM added" : "");
	return 0;
}

static void kernel_runtime_part(struct budget *b)
{
	struct budget_part *p;

	p = set_part(b, BUDGET_KERNEL_RUNTIME, "kernel at run",
		     KERNEL_RUNTIME + (b->cpus - 1) * KERNEL_PER_CPU, BUDGET_SOURCE_MODEL);
	if (b->cpus == 1) {
		snprintf(p->why, sizeof(p->why),
			 "slab, stacks, modules, free-memory watermarks (nr_cpus=1): measured on "
			 "Debian 6.1 guests");
		return;
	}
	snprintf(p->why, sizeof(p->why),
		 "slab, stacks, modules, watermarks: %llu MiB with nr_cpus=1, + %.2f MiB for each "
		 "of %u more CPUs (crash_cpus = %u; %s)",
		 KERNEL_RUNTIME / MIB, KERNEL_PER_CPU / (double)MIB, b->cpus - 1, b->cpus,
		 KERNEL_PER_CPU_WHY);
}

static int compute(const char *root, const struct settings *settings, const char *kernel,
		   const char *initrd, struct budget *ret, struct load_error *err)
{
	_cleanup_(budget_done) struct budget b = {};
	struct settings defaults;
	const struct settings *s = settings;
	struct reservation res = {};
	struct budget_part *p;
	int r;

	if (!s) {
		settings_init(&defaults);
		s = &defaults;
	}
	/* The crash kernel boots with nr_cpus=crash_cpus: "all CPUs" is that many there. */
	b.cpus = MIN(MAX(s->crash_cpus, 1U), THREADS_MAX);
	b.threads = s->threads ? MIN(s->threads, THREADS_MAX) : b.cpus;
	ram_read(root, &b.ram_end, &b.ram);
	if (s->max_memory > b.ram) {
		/* Hot-added RAM lands above what is there now. */
		b.ram_end += s->max_memory - b.ram;
		b.ram_end_from_setting = true;
	}
	r = kernel ? given_parts(&b, kernel, initrd, err) : image_parts(root, s, &b, err);
	if (r >= 0)
		r = collector_part(root, s, &b);
	if (!settings)
		settings_done(&defaults);
	if (r < 0)
		return r;
	kernel_runtime_part(&b);
	p = set_part(&b, BUDGET_WRITEBACK, "writeback", WRITEBACK, BUDGET_SOURCE_MODEL);
	snprintf(p->why, sizeof(p->why), "page cache to write the dump out");
	for (size_t i = 0; i < _BUDGET_PART_MAX; i++)
		b.sum += b.parts[i].bytes;
	/* The crash kernel's own page structs: 64 bytes per 4 KiB page of what it gets. */
	b.total = DIV_ROUND_UP(b.sum * 64, 63);
	b.proposal = ALIGN_UP(b.total, BUDGET_ROUND);
	if (reservation_read(root, &res, NULL) >= 0)
		b.reserved = reservation_total(&res);
	*ret = b;
	b = (struct budget){};
	return 0;
}

int budget_compute(const char *root, const struct settings *s, struct budget *ret,
		   struct load_error *err)
{
	return compute(root, s, NULL, NULL, ret, err);
}

int budget_compute_image(const char *root, const struct settings *s, const char *kernel,
			 const char *initrd, struct budget *ret, struct load_error *err)
{
	if (!kernel)
		return -EINVAL;
	return compute(root, s, kernel, initrd, ret, err);
}
