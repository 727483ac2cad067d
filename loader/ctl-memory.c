// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl showmem: the reservation, what the loaded image takes of it,
 * what is left. crashcapctl estimate: the crashkernel= this machine needs,
 * from what was measured here (the crash kernel's boot size, the crash
 * initramfs, the collector's peak memory in the last dump), with the
 * reasoning printed.
 */
#include "ctl.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "dumps.h"
#include "iomem.h"
#include "json.h"
#include "loadfile.h"
#include "log.h"
#include "rootfs.h"

#define MIB (1024ULL * 1024)
#define PAGE_4K 4096ULL
/* Boot parameters, purgatory and elfcorehdr together stay well below this. */
#define SMALL_SEGMENTS (1 * MIB)
/*
 * What the crash kernel allocates once booted besides its image: slab,
 * page tables, per-CPU data with nr_cpus=1, device set-up. Measured on
 * these guests: 96 MiB was the smallest reservation that booted a Debian
 * 6.1 kernel (63 MiB init_size) with a 3.4 MB initramfs and makedumpfile,
 * which leaves about 22 MiB for this; 32 MiB keeps a margin.
 */
#define KERNEL_RUNTIME (32 * MIB)
/* Page cache the kernel needs to write the dump out while it is made. */
#define WRITEBACK (16 * MIB)
/* The collector without its page bitmaps: binary, read buffers, one zstd context. */
#define COLLECTOR_BASE (16 * MIB)
/* When no initramfs is built yet (what crashcap builds is usually 3-6 MiB). */
#define INITRD_GUESS (8 * MIB)
#define ROUND (16 * MIB)

static int json_mode(int argc, char *argv[], const char *verb, const char *help, bool *json)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hj", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			printf("Usage: crashcapctl %s [--json]\n\n%s", verb, help);
			return 0;
		case 'j':
			*json = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "%s: unexpected argument '%s'", verb, argv[optind]);
	return 1;
}

static const char *mib(uint64_t bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB", bytes / (double)MIB);
	return buf;
}

/* What a loaded image takes of the reservation when it is loaded. */
static uint64_t image_footprint(const struct crash_image *img)
{
	return ALIGN_UP(MAX(img->kernel_init_size, img->kernel_size), PAGE_4K) +
	       ALIGN_UP(img->initrd_size, PAGE_4K) + SMALL_SEGMENTS;
}

int verb_showmem(int argc, char *argv[], const struct ctl_context *ctx)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct reservation res = {};
	struct load_error err = {};
	bool json = false, loaded, known;
	uint64_t total, used = 0, v = 0;
	char a[32], b[32], c[32];
	int r;

	r = json_mode(argc, argv, "showmem",
		      "Shows the memory reserved for the crash kernel (crashkernel=), what the\n"
		      "loaded crash image takes of it, and what is left.\n",
		      &json);
	if (r <= 0)
		return r;
	r = reservation_read(ctx->root, &res, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);
	total = reservation_total(&res);
	loaded = root_read_u64(ctx->root, "/sys/kernel/kexec_crash_loaded", 10, &v) >= 0 && v;
	known = loaded && loaded_state_read(ctx->root, &img) >= 0 && !img.reboot;
	if (known)
		used = MIN(image_footprint(&img), reservation_main_size(&res));

	if (json) {
		struct json j;

		json_begin(&j, stdout, true);
		json_object_open(&j, NULL);
		json_u64(&j, "reserved", total);
		json_u64(&j, "reserved_main", reservation_main_size(&res));
		json_u64(&j, "reserved_low", total - reservation_main_size(&res));
		json_bool(&j, "loaded", loaded);
		if (known) {
			json_object_open(&j, "image");
			json_string(&j, "kernel", img.kernel);
			json_u64(&j, "kernel_size", img.kernel_size);
			json_u64(&j, "kernel_init_size", img.kernel_init_size);
			json_string(&j, "initrd", img.initrd);
			json_u64(&j, "initrd_size", img.initrd_size);
			json_object_close(&j);
			json_u64(&j, "used", used);
			json_u64(&j, "free", total - used);
		} else {
			json_null(&j, "image");
			json_null(&j, "used");
			json_null(&j, "free");
		}
		json_object_close(&j);
		return json_end(&j);
	}
	if (total == 0) {
		printf("Reserved:     none: %s\n", NO_RESERVATION_MESSAGE);
		return 0;
	}
	printf("Reserved:     %s", mib(total, a, sizeof(a)));
	if (res.has_main)
		printf(" (0x%" PRIx64 "-0x%" PRIx64 "%s)", res.main_start, res.main_end,
		       res.has_low ? " and a low part" : "");
	printf("\n");
	if (!loaded) {
		printf("Loaded:       nothing; all of it is free\n");
		return 0;
	}
	if (!known) {
		printf("Loaded:       a crash kernel crashcap did not load: its size is unknown\n");
		return 0;
	}
	printf("Kernel:       %s: %s file, %s to boot (init_size)\n", img.kernel,
	       mib(img.kernel_size, a, sizeof(a)), mib(img.kernel_init_size, b, sizeof(b)));
	printf("Initrd:       %s: %s\n", img.initrd ? img.initrd : "none",
	       mib(img.initrd_size, c, sizeof(c)));
	printf("Used:         %s at load time (kernel, initrd, boot data)\n",
	       mib(used, a, sizeof(a)));
	printf("Free:         %s for the crash kernel to run in (see crashcapctl estimate)\n",
	       mib(total - used, b, sizeof(b)));
	return 0;
}

/* --- estimate --------------------------------------------------------------- */

struct part {
	const char *name;
	uint64_t bytes;
	char why[300];
};

struct estimate {
	struct part parts[6];
	size_t n;
	uint64_t sum, total, proposal;
	uint64_t reserved;
};

static struct part *add_part(struct estimate *e, const char *name, uint64_t bytes)
{
	struct part *p = &e->parts[e->n++];

	p->name = name;
	p->bytes = bytes;
	e->sum += bytes;
	return p;
}

/* init_size of a kernel file, and its release. */
static int probe_kernel(const char *path, struct kernel_probe *ret)
{
	_cleanup_free_ uint8_t *buf = malloc(256 * 512);
	_cleanup_close_ int fd = -1;
	const char *why;
	size_t n = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	r = pread_full(fd, buf, 256 * 512, 0, &n);
	if (r < 0)
		return r;
	return loadfile_probe_kernel(buf, n, ret, &why);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The crash kernel and initramfs: those loaded now, else those a load would use. */
static int image_parts(const struct ctl_context *ctx, const struct settings *s, struct estimate *e)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = NULL, *initrd = NULL, *running = NULL, *rel = NULL;
	struct kernel_probe bz = {};
	const char *release;
	struct part *p;
	uint64_t size;
	int r;

	if (loaded_state_read(ctx->root, &img) >= 0 && !img.reboot && img.kernel_init_size) {
		p = add_part(e, "crash kernel", img.kernel_init_size);
		snprintf(p->why, sizeof(p->why), "%s needs this much to boot (init_size; loaded)",
			 img.kernel);
		if (img.initrd) {
			p = add_part(e, "initramfs", 2 * img.initrd_size);
			snprintf(p->why, sizeof(p->why),
				 "%s is %.1f MiB, held twice while it unpacks (loaded)", img.initrd,
				 img.initrd_size / (double)MIB);
		}
		return 0;
	}
	r = loadfile_release(ctx->root, &running);
	if (r < 0)
		return log_error_errno(r, "cannot find the running kernel's release: %m");
	if (!s->kernel && asprintf(&rel, "/boot/vmlinuz-%s", running) < 0)
		return -ENOMEM;
	r = root_path(ctx->root, s->kernel ? s->kernel : rel, &kernel);
	if (r < 0)
		return r;
	r = probe_kernel(kernel, &bz);
	if (r < 0)
		return log_error_errno(r,
				       "cannot read the crash kernel %s: %m: set kernel= in "
				       "crashcap.conf",
				       kernel);
	p = add_part(e, "crash kernel", bz.init_size);
	snprintf(p->why, sizeof(p->why), "%s needs this much to boot (init_size)", kernel);
	release = bz.release[0] ? bz.release : running;
	free(rel);
	rel = NULL;
	if (s->initrd)
		r = root_path(ctx->root, s->initrd, &initrd);
	else if (asprintf(&rel, CRASHCAP_STATE_DIR "/initrd-%s.img", release) >= 0)
		r = root_path(ctx->root, rel, &initrd);
	else
		r = -ENOMEM;
	if (r < 0)
		return r;
	size = file_size(initrd);
	if (size) {
		p = add_part(e, "initramfs", 2 * size);
		snprintf(p->why, sizeof(p->why), "%s is %.1f MiB, held twice while it unpacks",
			 initrd, size / (double)MIB);
	} else {
		p = add_part(e, "initramfs", 2 * INITRD_GUESS);
		snprintf(p->why, sizeof(p->why),
			 "not built yet: assumed %llu MiB, held twice while it unpacks (run "
			 "crashcapctl rebuild for a measured size)",
			 INITRD_GUESS / MIB);
	}
	return 0;
}

/* Highest RAM address + 1: the collector keeps two bits per page up to it. */
static uint64_t ram_end(const char *root, uint64_t *ret_ram)
{
	_cleanup_(iomem_done) struct iomem m = {};
	const struct iomem_range *r;
	uint64_t end = 0;

	*ret_ram = 0;
	if (iomem_read(root, &m, NULL) < 0)
		return 0;
	iomem_foreach(r, &m)
		if (r->depth == 0 && streq(r->name, "System RAM")) {
			end = MAX(end, r->end + 1);
			*ret_ram += iomem_range_size(r);
		}
	return end;
}

static int collector_part(const struct ctl_context *ctx, const struct settings *s,
			  struct estimate *e)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	_cleanup_free_ char *dir = NULL, *error = NULL;
	const struct dump_info *measured = NULL;
	uint64_t ram, end = ram_end(ctx->root, &ram), bitmaps, estimated;
	struct part *p;
	char m[32];

	/* Two bitmaps (RAM, and pages kept) of one bit per 4 KiB page. */
	bitmaps = ALIGN_UP(DIV_ROUND_UP(end, PAGE_4K * 8) * 2, PAGE_4K);
	estimated = COLLECTOR_BASE + bitmaps;
	if (dumps_location(ctx->root, s, &dir, &error) >= 0 && dumps_read(dir, &l) >= 0)
		for (size_t i = l.count; i > 0 && !measured; i--)
			if (l.dumps[i - 1].peak_rss_bytes)
				measured = &l.dumps[i - 1];
	if (measured && measured->peak_rss_bytes >= estimated) {
		p = add_part(e, "collector", measured->peak_rss_bytes);
		snprintf(p->why, sizeof(p->why), "its peak, measured in the crash kernel for %s",
			 measured->name);
	} else {
		p = add_part(e, "collector", estimated);
		snprintf(p->why, sizeof(p->why),
			 "%llu MiB of buffers and compression, + %.1f MiB of page bitmaps for "
			 "%.1f GiB of RAM%s%s%s",
			 COLLECTOR_BASE / MIB, bitmaps / (double)MIB, ram / (double)(1024 * MIB),
			 measured ? " (more than the last dump measured, " : "",
			 measured ? mib(measured->peak_rss_bytes, m, sizeof(m)) : "",
			 measured ? ")" : "");
	}
	return 0;
}

static int estimate_compute(const struct ctl_context *ctx, struct estimate *e)
{
	struct settings s;
	struct reservation res = {};
	struct part *p;
	int r;

	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	r = image_parts(ctx, &s, e);
	if (r >= 0)
		r = collector_part(ctx, &s, e);
	settings_done(&s);
	if (r < 0)
		return r;
	p = add_part(e, "kernel at run", KERNEL_RUNTIME);
	snprintf(p->why, sizeof(p->why),
		 "slab, page tables, per-CPU data (nr_cpus=1), devices: measured on Debian 6.1 "
		 "guests, with a margin");
	p = add_part(e, "writeback", WRITEBACK);
	snprintf(p->why, sizeof(p->why), "page cache to write the dump out");
	/* The crash kernel's own page structs: 64 bytes per 4 KiB page of what it gets. */
	e->total = DIV_ROUND_UP(e->sum * 64, 63);
	e->proposal = ALIGN_UP(e->total, ROUND);
	if (reservation_read(ctx->root, &res, NULL) >= 0)
		e->reserved = reservation_total(&res);
	return 0;
}

int verb_estimate(int argc, char *argv[], const struct ctl_context *ctx)
{
	struct estimate e = {};
	bool json = false;
	char a[32], b[32];
	int r;

	r = json_mode(argc, argv, "estimate",
		      "Proposes the crashkernel= size this machine needs: what the crash kernel\n"
		      "needs to boot, the crash initramfs, the collector's memory (measured in\n"
		      "the last dump when there is one) and the kernel's own, rounded up to\n"
		      "16 MiB. The reasoning is printed with it.\n",
		      &json);
	if (r <= 0)
		return r;
	r = estimate_compute(ctx, &e);
	if (r < 0)
		return r;
	if (json) {
		struct json j;

		json_begin(&j, stdout, true);
		json_object_open(&j, NULL);
		json_array_open(&j, "parts");
		for (size_t i = 0; i < e.n; i++) {
			json_object_open(&j, NULL);
			json_string(&j, "name", e.parts[i].name);
			json_u64(&j, "bytes", e.parts[i].bytes);
			json_string(&j, "why", e.parts[i].why);
			json_object_close(&j);
		}
		json_array_close(&j);
		json_u64(&j, "sum", e.sum);
		json_u64(&j, "total", e.total);
		json_u64(&j, "proposal", e.proposal);
		snprintf(a, sizeof(a), "%lluM", (unsigned long long)(e.proposal / MIB));
		json_string(&j, "crashkernel", a);
		json_u64(&j, "reserved", e.reserved);
		json_object_close(&j);
		return json_end(&j);
	}
	for (size_t i = 0; i < e.n; i++)
		printf("%-14s %10s  %s\n", e.parts[i].name, mib(e.parts[i].bytes, a, sizeof(a)),
		       e.parts[i].why);
	printf("%-14s %10s  the sum, + 1/63 for the crash kernel's own page structs\n", "total",
	       mib(e.total, a, sizeof(a)));
	printf("\nProposed: crashkernel=%lluM (rounded up to 16 MiB)\n",
	       (unsigned long long)(e.proposal / MIB));
	if (e.reserved)
		printf("Reserved now: %s (%s %s than proposed)\n", mib(e.reserved, a, sizeof(a)),
		       mib(e.reserved > e.proposal ? e.reserved - e.proposal :
						     e.proposal - e.reserved,
			   b, sizeof(b)),
		       e.reserved >= e.proposal ? "more" : "LESS");
	else
		printf("Reserved now: nothing: add crashkernel=%lluM to the kernel command line and "
		       "reboot\n",
		       (unsigned long long)(e.proposal / MIB));
	return 0;
}
