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
#include <inttypes.h>
#include <sys/stat.h>

#include "budget.h"
#include "ctl-flags.h"
#include "iomem.h"
#include "json.h"
#include "loadfile.h"
#include "log.h"
#include "rootfs.h"

#define MIB (1024ULL * 1024)
#define PAGE_4K 4096ULL
/* Boot parameters, purgatory and elfcorehdr together stay well below this. */
#define SMALL_SEGMENTS (1 * MIB)

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
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	uint64_t total, used = 0, v = 0;
	char a[32], b[32], c[32];
	int r;

	r = ctl_parse_flags(
		argc, argv,
		"Usage: crashcapctl showmem [--json]\n\n"
		"Shows the memory reserved for the crash kernel (crashkernel=), what the\n"
		"loaded crash image takes of it, and what is left.\n",
		flags, 0, NULL);
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

static void estimate_json(const struct budget *b)
{
	struct json j;
	char a[32];

	json_begin(&j, stdout, true);
	json_object_open(&j, NULL);
	json_array_open(&j, "parts");
	for (size_t i = 0; i < _BUDGET_PART_MAX; i++) {
		const struct budget_part *p = &b->parts[i];

		json_object_open(&j, NULL);
		json_string(&j, "name", p->name);
		json_u64(&j, "bytes", p->bytes);
		json_string(&j, "source", budget_source_to_string(p->source));
		json_string(&j, "from", p->source_text);
		json_string(&j, "why", p->why);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_string(&j, "kernel", b->kernel);
	json_u64(&j, "kernel_file_size", b->kernel_file_size);
	if (b->initrd)
		json_string(&j, "initrd", b->initrd);
	else
		json_null(&j, "initrd");
	json_u64(&j, "threads", b->threads);
	json_u64(&j, "ram", b->ram);
	json_u64(&j, "ram_end", b->ram_end);
	json_u64(&j, "sum", b->sum);
	json_u64(&j, "total", b->total);
	json_u64(&j, "proposal", b->proposal);
	snprintf(a, sizeof(a), "%lluM", (unsigned long long)(b->proposal / MIB));
	json_string(&j, "crashkernel", a);
	json_u64(&j, "reserved", b->reserved);
	json_object_close(&j);
	(void)json_end(&j);
}

int verb_estimate(int argc, char *argv[], const struct ctl_context *ctx)
{
	_cleanup_(budget_done) struct budget b = {};
	struct load_error err = {};
	struct settings s;
	bool json = false;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	char a[32], bb[32];
	int r;

	r = ctl_parse_flags(
		argc, argv,
		"Usage: crashcapctl estimate [--json]\n\n"
		"Proposes the crashkernel= size this machine needs: what the crash kernel\n"
		"needs to boot, the crash initramfs packed and unpacked, the collector's\n"
		"memory (measured in the last dump when there is one) and the kernel's own,\n"
		"rounded up to 16 MiB. Each row says where its figure comes from.\n",
		flags, 0, NULL);
	if (r <= 0)
		return r;
	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	r = budget_compute(ctx->root, &s, &b, &err);
	settings_done(&s);
	if (r < 0)
		return log_error_errno(r, "%s", err.message[0] ? err.message : "estimate: %m");
	if (json) {
		estimate_json(&b);
		return 0;
	}
	printf("%-14s %10s  %-24s %s\n", "PART", "SIZE", "SOURCE", "WHY");
	for (size_t i = 0; i < _BUDGET_PART_MAX; i++) {
		const struct budget_part *p = &b.parts[i];
		char src[200];

		if (p->source == BUDGET_SOURCE_FILE || p->source == BUDGET_SOURCE_LOADED)
			snprintf(src, sizeof(src), "%s %s", budget_source_to_string(p->source),
				 p->source_text);
		else
			snprintf(src, sizeof(src), "%s", p->source_text);
		printf("%-14s %10s  %-24s %s\n", p->name, mib(p->bytes, a, sizeof(a)), src, p->why);
	}
	printf("%-14s %10s  %-24s %s\n", "total", mib(b.total, a, sizeof(a)), "",
	       "the sum, + 1/63 for the crash kernel's own page structs");
	printf("\nProposed: crashkernel=%lluM (rounded up to 16 MiB)\n",
	       (unsigned long long)(b.proposal / MIB));
	if (b.reserved)
		printf("Reserved now: %s (%s %s than proposed)\n", mib(b.reserved, a, sizeof(a)),
		       mib(b.reserved > b.proposal ? b.reserved - b.proposal :
						     b.proposal - b.reserved,
			   bb, sizeof(bb)),
		       b.reserved >= b.proposal ? "more" : "LESS");
	else
		printf("Reserved now: nothing: add crashkernel=%lluM to the kernel command line and "
		       "reboot\n",
		       (unsigned long long)(b.proposal / MIB));
	return 0;
}
