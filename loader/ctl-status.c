// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl status [--json] */
#include "ctl.h"

#include <getopt.h>
#include <inttypes.h>

#include "json.h"
#include "loadfile.h"
#include "log.h"
#include "rootfs.h"

struct status {
	bool kexec_supported; /* /sys/kernel/kexec_crash_loaded exists */
	bool loaded;
	struct reservation res;
	bool has_image; /* loaded.json read */
	struct crash_image img;
	bool ready;
	char verdict[400];
};

static int status_read(const char *root, struct status *st)
{
	struct load_error err = {};
	uint64_t v;
	int r;

	r = root_read_u64(root, "/sys/kernel/kexec_crash_loaded", 10, &v);
	if (r >= 0) {
		st->kexec_supported = true;
		st->loaded = v != 0;
	} else if (r != -ENOENT)
		return log_error_errno(r, "cannot read /sys/kernel/kexec_crash_loaded: %m");

	r = reservation_read(root, &st->res, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);

	r = loaded_state_read(root, &st->img);
	if (r >= 0)
		st->has_image = true;
	else if (r != -ENOENT)
		log_warning_errno(r, "ignoring %s: %m", LOADED_STATE_PATH);

	st->ready = st->loaded;
	if (!st->kexec_supported)
		snprintf(st->verdict, sizeof(st->verdict),
			 "not ready: this kernel has no kexec support "
			 "(/sys/kernel/kexec_crash_loaded is missing)");
	else if (st->loaded)
		snprintf(st->verdict, sizeof(st->verdict), "ready: a crash kernel is loaded");
	else if (reservation_total(&st->res) == 0)
		snprintf(st->verdict, sizeof(st->verdict), "not ready: %s", NO_RESERVATION_MESSAGE);
	else
		snprintf(st->verdict, sizeof(st->verdict),
			 "not ready: no crash kernel is loaded: run crashcapctl load");
	return 0;
}

static void json_range(struct json *j, const char *key, bool has, uint64_t start, uint64_t end)
{
	if (!has) {
		json_null(j, key);
		return;
	}
	json_object_open(j, key);
	json_u64(j, "start", start);
	json_u64(j, "end", end);
	json_u64(j, "size", end - start + 1);
	json_object_close(j);
}

static int print_json(const struct status *st)
{
	const struct reservation *res = &st->res;
	struct json j;

	json_begin(&j, stdout, true);
	json_object_open(&j, NULL);
	json_bool(&j, "ready", st->ready);
	json_string(&j, "verdict", st->verdict);
	json_bool(&j, "kexec_supported", st->kexec_supported);
	json_bool(&j, "loaded", st->loaded);
	json_object_open(&j, "reservation");
	json_u64(&j, "size", reservation_total(res));
	if (res->has_crash_size)
		json_u64(&j, "kexec_crash_size", res->crash_size);
	else
		json_null(&j, "kexec_crash_size");
	json_bool(&j, "ranges_known", res->ranges_known);
	json_range(&j, "main", res->has_main, res->main_start, res->main_end);
	json_range(&j, "low", res->has_low, res->low_start, res->low_end);
	json_object_close(&j);
	if (st->has_image && st->loaded) {
		json_object_open(&j, "image");
		json_string(&j, "kernel", st->img.kernel);
		json_string(&j, "initrd", st->img.initrd);
		json_string(&j, "cmdline", st->img.cmdline);
		json_string(&j, "release", st->img.release);
		json_string(&j, "method", st->img.method);
		json_u64(&j, "initrd_size", st->img.initrd_size);
		json_i64(&j, "timestamp", (int64_t)st->img.time);
		json_object_close(&j);
	} else
		json_null(&j, "image");
	json_object_close(&j);
	return json_end(&j);
}

static void print_range(const char *label, uint64_t start, uint64_t end)
{
	char s[32];

	printf("%-14s%s at 0x%" PRIx64 "-0x%" PRIx64 "\n", label,
	       format_size(end - start + 1, s, sizeof(s)), start, end);
}

static void print_text(const struct status *st)
{
	const struct reservation *res = &st->res;
	char a[32], when[32];
	struct tm tm;

	printf("%-14s%s\n", "Crash kernel:",
	       !st->kexec_supported ? "unsupported" :
	       st->loaded	    ? "loaded" :
				      "not loaded");
	if (res->has_main) {
		print_range("Reserved:", res->main_start, res->main_end);
		if (res->has_low)
			print_range("Reserved low:", res->low_start, res->low_end);
	} else if (reservation_total(res) > 0)
		printf("%-14s%s%s\n", "Reserved:", format_size(res->crash_size, a, sizeof(a)),
		       res->ranges_known ? "" : " (addresses hidden: run as root to see them)");
	else
		printf("%-14snone\n", "Reserved:");
	if (st->loaded && st->has_image) {
		printf("%-14s%s\n", "Kernel:", st->img.kernel);
		if (st->img.initrd)
			printf("%-14s%s (%s)\n", "Initrd:", st->img.initrd,
			       format_size(st->img.initrd_size, a, sizeof(a)));
		else
			printf("%-14snone\n", "Initrd:");
		printf("%-14s%s\n", "Command line:", st->img.cmdline ? st->img.cmdline : "");
		printf("%-14s%s\n", "Method:", loadfile_method_name(&st->img));
		gmtime_r(&st->img.time, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("%-14s%s\n", "Loaded at:", when);
	} else if (st->loaded)
		printf("%-14sunknown (loaded by another tool, not crashcap)\n", "Kernel:");
	printf("%s\n", st->verdict);
}

int verb_status(int argc, char *argv[], const struct ctl_context *ctx)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{},
	};
	struct status st = {};
	bool json = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hj", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			printf("Usage: crashcapctl status [--json]\n\n"
			       "Shows whether a crash kernel is loaded and the memory reserved for it.\n"
			       "Exit status: 0 ready, 3 not ready, 1 error.\n");
			return 0;
		case 'j':
			json = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "status: unexpected argument '%s'", argv[optind]);

	r = status_read(ctx->root, &st);
	if (r >= 0) {
		if (json)
			r = print_json(&st);
		else
			print_text(&st);
		if (r < 0)
			log_error_errno(r, "cannot write the status: %m");
	}
	crash_image_done(&st.img);
	if (r < 0)
		return r;
	return st.ready ? 0 : CTL_EXIT_NOT_READY;
}
