// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl status [--json]: whether a crash kernel is loaded, and three
 * figures for the memory it has: the reservation in effect (the "Crash
 * kernel" ranges of /proc/iomem, high and low: kexec_crash_size counts the
 * high range only before 6.5), the one configured for the next boot (the
 * boot loader's crashkernel=, evaluated for this machine's RAM) and the
 * estimate (loader/budget.h), with which one is off and what to run.
 */
#include "ctl.h"

#include <inttypes.h>

#include "bootcfg.h"
#include "budget.h"
#include "crashkernel-arg.h"
#include "ctl-flags.h"
#include "iomem.h"
#include "json.h"
#include "loadfile.h"
#include "log.h"
#include "rootfs.h"

enum memory_verdict {
	MEMORY_OK,
	MEMORY_REBOOT, /* configured differs from what is in effect */
	MEMORY_RESERVE, /* in effect and configured below the estimate */
	MEMORY_UNCONFIGURED, /* in effect but nothing configured for the next boot */
	MEMORY_UNKNOWN,
	MEMORY_BOOT_FAILED, /* the running kernel had it and did not reserve it */
};

static const char *const memory_verdict_names[] = {
	[MEMORY_OK] = "ok",	      [MEMORY_REBOOT] = "reboot",
	[MEMORY_RESERVE] = "reserve", [MEMORY_UNCONFIGURED] = "unconfigured",
	[MEMORY_UNKNOWN] = "unknown", [MEMORY_BOOT_FAILED] = "boot_failed",
};

struct memory {
	uint64_t ram; /* System RAM in /proc/iomem; 0: unknown */
	uint64_t in_effect, in_effect_main, in_effect_low;
	bool ranges_known; /* false: only kexec_crash_size (high range only before 6.5) */
	struct bootcfg_configured cfg;
	bool has_configured;
	struct crashkernel_setting configured;
	struct crashkernel_setting running; /* from /proc/cmdline */
	char *configured_error; /* the deciding crashkernel= does not parse */
	bool has_estimate;
	uint64_t estimate;
	enum memory_verdict verdict;
	char message[400];
};

struct status {
	bool kexec_supported; /* /sys/kernel/kexec_crash_loaded exists */
	bool loaded;
	struct reservation res;
	bool has_image; /* loaded.json read */
	struct crash_image img;
	bool ready;
	char verdict[400];
	struct memory mem;
};

/*
 * What the kernel counts as RAM for crashkernel= ranges. Without a readable
 * /proc/iomem (not root), MemTotal plus the reservation (which MemTotal
 * leaves out) comes close: the kernel rounds up to 128 MiB anyway.
 */
static uint64_t system_ram(const char *root, uint64_t reserved)
{
	_cleanup_(iomem_done) struct iomem m = {};
	_cleanup_free_ char *text = NULL;
	unsigned long long kib;
	const char *p;

	if (iomem_read(root, &m, NULL) >= 0)
		return iomem_total(&m, "System RAM");
	if (root_read_file(root, "/proc/meminfo", 1 << 16, &text, NULL) < 0)
		return 0;
	p = strstr(text, "MemTotal:");
	if (!p || sscanf(p, "MemTotal: %llu kB", &kib) != 1)
		return 0;
	return kib * 1024 + reserved;
}

static void memory_estimate(const struct ctl_context *ctx, struct memory *m)
{
	_cleanup_(budget_done) struct budget b = {};
	struct settings s;

	/* Without a readable crash kernel there is no estimate; status still answers. */
	if (ctl_load_settings(ctx, &s) < 0)
		return;
	if (budget_compute(ctx->root, &s, &b, NULL) >= 0) {
		m->has_estimate = true;
		m->estimate = b.proposal;
	}
	settings_done(&s);
}

static void memory_verdict(struct memory *m)
{
	const struct crashkernel_setting *c = &m->configured;
	char a[64], b[32], e[32];

	crashkernel_format_size(m->in_effect, a, sizeof(a));
	crashkernel_format_size(c->size, b, sizeof(b));
	if (m->in_effect_low) {
		char main_[32], low[32];

		snprintf(a, sizeof(a), "%s + %s low",
			 crashkernel_format_size(m->in_effect_main, main_, sizeof(main_)),
			 crashkernel_format_size(m->in_effect_low, low, sizeof(low)));
	}
	crashkernel_format_size(m->estimate, e, sizeof(e));
	if (m->configured_error) {
		m->verdict = MEMORY_RESERVE;
		snprintf(m->message, sizeof(m->message),
			 "the configured crashkernel= is not valid (%s): run `crashcapctl reserve` "
			 "and reboot",
			 m->configured_error);
	} else if (m->has_configured && c->present &&
		   (c->size != m->in_effect_main || (c->high && c->low_size != m->in_effect_low)) &&
		   m->running.present && streq(m->running.value, c->value)) {
		/* Rebooting again would not help: the kernel had it and could not place it. */
		m->verdict = MEMORY_BOOT_FAILED;
		snprintf(m->message, sizeof(m->message),
			 "the running kernel was booted with crashkernel=%s but %s in effect: it "
			 "could not reserve it (see dmesg | grep -i crashkernel); try a smaller "
			 "size or one without @OFFSET",
			 c->value, m->in_effect ? a : "nothing is");
	} else if (m->has_configured && c->present &&
		   (c->size != m->in_effect_main || (c->high && c->low_size != m->in_effect_low))) {
		m->verdict = MEMORY_REBOOT;
		if (m->in_effect)
			snprintf(m->message, sizeof(m->message),
				 "configured %s%s but %s in effect: reboot to apply", b,
				 c->high ? ",high" : "", a);
		else
			snprintf(m->message, sizeof(m->message),
				 "configured %s%s but nothing is reserved now: reboot to apply", b,
				 c->high ? ",high" : "");
		if (m->has_estimate && c->size + c->low_size < m->estimate)
			snprintf(m->message + strlen(m->message),
				 sizeof(m->message) - strlen(m->message),
				 "; the configured size is less than the estimate (%s): run "
				 "`crashcapctl reserve` first",
				 e);
	} else if (m->has_estimate && m->in_effect < m->estimate) {
		m->verdict = MEMORY_RESERVE;
		if (m->in_effect)
			snprintf(
				m->message, sizeof(m->message),
				"the reservation in effect (%s) is less than the estimate (%s): run "
				"`crashcapctl reserve` and reboot",
				a, e);
		else
			snprintf(m->message, sizeof(m->message),
				 "nothing is reserved and the estimate is %s: run `crashcapctl "
				 "reserve` and reboot",
				 e);
	} else if (m->has_configured && !c->present && m->in_effect) {
		m->verdict = MEMORY_UNCONFIGURED;
		snprintf(m->message, sizeof(m->message),
			 "%s is reserved now but the boot loader sets no crashkernel= for the next "
			 "boot: run `crashcapctl reserve`",
			 a);
	} else if (!m->has_estimate) {
		m->verdict = MEMORY_UNKNOWN;
		snprintf(m->message, sizeof(m->message),
			 "%s in effect; no estimate (see crashcapctl estimate)",
			 m->in_effect ? a : "nothing");
	} else {
		m->verdict = MEMORY_OK;
		snprintf(m->message, sizeof(m->message), "%s in effect%s covers the estimate (%s)",
			 a, m->has_configured && c->present ? ", as configured," : "", e);
	}
}

static int memory_read(const struct ctl_context *ctx, const struct reservation *res,
		       struct memory *m)
{
	_cleanup_free_ char *running = NULL;
	int r;

	m->in_effect = reservation_total(res);
	m->ram = system_ram(ctx->root, m->in_effect);
	m->ranges_known = res->ranges_known || !res->has_crash_size;
	m->in_effect_main = reservation_main_size(res);
	m->in_effect_low = m->in_effect - m->in_effect_main;
	r = bootcfg_read_configured(ctx->root, &m->cfg);
	if (r < 0)
		log_warning_errno(r, "cannot read the boot loader configuration: %m");
	else if (m->cfg.cmdline) {
		m->has_configured = true;
		r = crashkernel_cmdline_eval(m->cfg.cmdline, m->ram, &m->configured,
					     &m->configured_error);
		if (r < 0 && !m->configured_error)
			return r;
	}
	if (root_read_line(ctx->root, "/proc/cmdline", &running) >= 0 &&
	    crashkernel_cmdline_eval(running, m->ram, &m->running, NULL) < 0)
		m->running.present = false;
	memory_estimate(ctx, m);
	memory_verdict(m);
	return 0;
}

static void memory_done(struct memory *m)
{
	bootcfg_configured_done(&m->cfg);
	free(m->configured_error);
}

static int status_read(const struct ctl_context *ctx, struct status *st)
{
	const char *root = ctx->root;
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

	r = memory_read(ctx, &st->res, &st->mem);
	if (r < 0)
		return log_error_errno(r, "cannot compare the reservation: %m");

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

static void json_size(struct json *j, const char *key, bool has, uint64_t v)
{
	if (has)
		json_u64(j, key, v);
	else
		json_null(j, key);
}

static void json_memory(struct json *j, const struct memory *m)
{
	const struct crashkernel_setting *c = &m->configured;
	bool has = m->has_configured && c->present;

	json_object_open(j, "memory");
	json_size(j, "ram", m->ram, m->ram);
	json_u64(j, "in_effect", m->in_effect);
	json_u64(j, "in_effect_main", m->in_effect_main);
	json_u64(j, "in_effect_low", m->in_effect_low);
	json_string(j, "boot_loader", bootcfg_kind_to_string(m->cfg.kind));
	json_size(j, "configured", has, c->size + c->low_size);
	json_size(j, "configured_main", has, c->size);
	json_size(j, "configured_low", has, c->low_size);
	json_string(j, "configured_value", has ? c->value : NULL);
	json_string(j, "configured_source", has ? m->cfg.source : NULL);
	json_bool(j, "configured_by_crashcap", has && m->cfg.ours);
	json_string(j, "configured_error", m->configured_error);
	json_size(j, "estimate", m->has_estimate, m->estimate);
	json_string(j, "verdict", memory_verdict_names[m->verdict]);
	json_string(j, "message", m->message);
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
	json_memory(&j, &st->mem);
	json_object_close(&j);
	return json_end(&j);
}

static void print_range(const char *label, uint64_t start, uint64_t end)
{
	char s[32];

	printf("%-14s%s at 0x%" PRIx64 "-0x%" PRIx64 "\n", label,
	       format_size(end - start + 1, s, sizeof(s)), start, end);
}

static void print_memory(const struct memory *m)
{
	const struct crashkernel_setting *c = &m->configured;
	char a[32], b[32];

	if (!m->has_configured)
		printf("%-14sunknown (no boot loader configuration found)\n", "Configured:");
	else if (m->configured_error)
		printf("%-14sinvalid: %s\n", "Configured:", m->configured_error);
	else if (!c->present)
		printf("%-14snone (%s)\n", "Configured:", bootcfg_kind_to_string(m->cfg.kind));
	else {
		printf("%-14s%s", "Configured:", crashkernel_format_size(c->size, a, sizeof(a)));
		if (c->high)
			printf(" high + %s low",
			       crashkernel_format_size(c->low_size, b, sizeof(b)));
		printf(" (crashkernel=%s in %s%s)\n", c->value, m->cfg.source ? m->cfg.source : "?",
		       m->cfg.ours ? ", by crashcapctl reserve" : "");
	}
	if (m->has_estimate)
		printf("%-14s%s\n",
		       "Estimate:", crashkernel_format_size(m->estimate, a, sizeof(a)));
	else
		printf("%-14sunknown\n", "Estimate:");
	printf("%-14s%s\n", "Memory:", m->message);
	if (!m->ranges_known)
		printf("%-14sin effect from kexec_crash_size, which counts the high range only "
		       "before Linux 6.5: run as root to read both from /proc/iomem\n",
		       "");
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
	print_memory(&st->mem);
	printf("%s\n", st->verdict);
}

int verb_status(int argc, char *argv[], const struct ctl_context *ctx)
{
	struct status st = {};
	bool json = false;
	const struct ctl_flag flags[] = { { "json", 'j', &json }, {} };
	int r;

	r = ctl_parse_flags(
		argc, argv,
		"Usage: crashcapctl status [--json]\n\n"
		"Shows whether a crash kernel is loaded, and compares the memory reserved\n"
		"for it now, the crashkernel= configured for the next boot and the\n"
		"estimate, saying which is off and what to run.\n"
		"Exit status: 0 ready, 3 not ready, 1 error.\n",
		flags, 0, NULL);
	if (r <= 0)
		return r;

	r = status_read(ctx, &st);
	if (r >= 0) {
		if (json)
			r = print_json(&st);
		else
			print_text(&st);
		if (r < 0)
			log_error_errno(r, "cannot write the status: %m");
	}
	crash_image_done(&st.img);
	memory_done(&st.mem);
	if (r < 0)
		return r;
	return st.ready ? 0 : CTL_EXIT_NOT_READY;
}
