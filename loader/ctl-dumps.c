// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl list [--json] [--dir DIR] | dmesg DUMP */
#include "ctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>

#include "dmesg.h"
#include "dump.h"
#include "dumps.h"
#include "json.h"
#include "jsonflat.h"
#include "log.h"

/* analysis.json holds every task's stack: far more than this would be no report of ours. */
#define ANALYSIS_MAX (64U << 20)

/* What analysis.json (crashcapd, analyze --all) says about the panic. */
struct panic_info {
	char *message;
	int64_t pid; /* -1: unknown */
	char *comm;
	bool analyzed; /* analysis.json is there and is a report */
	char *error; /* analysis.json holds only this error */
};

static void panic_info_done(struct panic_info *p)
{
	free(p->message);
	free(p->comm);
	free(p->error);
}

static int dup_string(const struct jsonflat *j, const char *key, char **ret)
{
	const char *v = jsonflat_string(j, key);

	if (!v)
		return 0;
	*ret = strdup(v);
	return *ret ? 0 : -ENOMEM;
}

/* A missing or unreadable analysis.json leaves *ret as it is (pid -1): list shows summary.json's line. */
static int read_analysis(const struct dump_info *d, struct panic_info *ret)
{
	_cleanup_(jsonflat_done) struct jsonflat top = {}, panic = {};
	_cleanup_free_ char *path = NULL, *text = NULL;
	const char *nested;
	int r;

	if (asprintf(&path, "%s/%s", d->path, "analysis.json") < 0)
		return -ENOMEM;
	r = read_full_file(path, ANALYSIS_MAX, &text, NULL);
	if (r < 0 || jsonflat_parse(text, &top) < 0) {
		if (r != -ENOENT)
			log_debug("%s cannot be read as JSON: ignored", path);
		return 0;
	}
	nested = jsonflat_nested(&top, "panic");
	if (!nested || jsonflat_parse(nested, &panic) < 0)
		return dup_string(&top, "error", &ret->error);
	ret->analyzed = true;
	if (jsonflat_i64(&panic, "pid", &ret->pid) < 0)
		ret->pid = -1;
	r = dup_string(&panic, "message", &ret->message);
	if (r >= 0)
		r = dup_string(&panic, "comm", &ret->comm);
	return r;
}

static int read_analyses(const struct dump_list *l, struct panic_info **ret)
{
	struct panic_info *p = calloc(l->count ?: 1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++) {
		p[i].pid = -1;
		r = read_analysis(&l->dumps[i], &p[i]);
		if (r < 0) {
			for (size_t k = 0; k <= i; k++)
				panic_info_done(&p[k]);
			free(p);
			return r;
		}
	}
	*ret = p;
	return 0;
}

static void time_string(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "?");
}

static int print_json(const char *dir, const struct dump_list *l, const struct panic_info *p)
{
	struct json j;

	json_begin(&j, stdout, true);
	json_object_open(&j, NULL);
	json_string(&j, "directory", dir);
	json_array_open(&j, "dumps");
	for (size_t i = 0; i < l->count; i++) {
		const struct dump_info *d = &l->dumps[i];
		char when[32];

		time_string(d->time, when, sizeof(when));
		json_object_open(&j, NULL);
		json_string(&j, "name", d->name);
		json_string(&j, "path", d->path);
		json_string(&j, "time", when);
		json_i64(&j, "timestamp", d->time);
		json_string(&j, "kernel_release", d->kernel_release);
		json_string(&j, "hostname", d->hostname);
		json_string(&j, "state", dump_state_to_string(d->state));
		json_bool(&j, "complete", d->state == DUMP_COMPLETE);
		json_string(&j, "dump_file", d->dump_file);
		json_u64(&j, "dump_bytes", d->dump_bytes);
		json_u64(&j, "bytes", d->bytes);
		json_string(&j, "panic_message", p[i].message ?: d->panic_message);
		if (p[i].pid >= 0)
			json_i64(&j, "panic_pid", p[i].pid);
		else
			json_null(&j, "panic_pid");
		json_string(&j, "panic_comm", p[i].comm);
		json_bool(&j, "analyzed", p[i].analyzed);
		json_string(&j, "analysis_error", p[i].error);
		json_object_close(&j);
	}
	json_array_close(&j);
	json_object_close(&j);
	return json_end(&j);
}

static void print_text(const char *dir, const struct dump_list *l, const struct panic_info *p)
{
	uint64_t total = 0;
	char size[32];

	if (l->count == 0) {
		printf("no dumps in %s\n", dir);
		return;
	}
	printf("%-19s  %-22s  %9s  %-10s  %s\n", "TIME (UTC)", "KERNEL", "SIZE", "STATE", "PANIC");
	for (size_t i = 0; i < l->count; i++) {
		const struct dump_info *d = &l->dumps[i];
		char when[32];

		const char *msg = p[i].message ?: d->panic_message;
		char task[64] = "";

		time_string(d->time, when, sizeof(when));
		if (p[i].pid >= 0)
			snprintf(task, sizeof(task), " (pid %" PRIi64 " %s)", p[i].pid,
				 p[i].comm ?: "?");
		printf("%-19s  %-22s  %9s  %-10s  %s%s\n", when,
		       d->kernel_release ? d->kernel_release : "?",
		       format_size(d->bytes, size, sizeof(size)), dump_state_to_string(d->state),
		       msg ? msg : "-", task);
		total += d->bytes;
	}
	printf("\n%zu dump%s, %s, in %s\n", l->count, l->count == 1 ? "" : "s",
	       format_size(total, size, sizeof(size)), dir);
}

/*
 * The dumps in the folder given with --dir, or else in the one the settings
 * name (the target, where it is mounted); logs what went wrong.
 */
int ctl_read_dumps(const struct ctl_context *ctx, const char *given, char **ret_dir,
		   struct dump_list *ret)
{
	_cleanup_free_ char *dir = NULL, *error = NULL;
	struct settings s;
	int r;

	if (given)
		dir = strdup(given);
	else {
		r = ctl_load_settings(ctx, &s);
		if (r < 0)
			return r;
		r = dumps_location(ctx->root, &s, &dir, &error);
		settings_done(&s);
		if (r < 0)
			return log_error_errno(r, "%s",
					       error ? error : "cannot find the dumps: %m");
	}
	if (!dir)
		return log_error_errno(-ENOMEM, "out of memory");
	r = dumps_read(dir, ret);
	if (r < 0)
		return log_error_errno(r, "cannot read %s: %m", dir);
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

int verb_list(int argc, char *argv[], const struct ctl_context *ctx)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' },
		{},
	};
	_cleanup_(dump_list_done) struct dump_list l = {};
	_cleanup_free_ char *dir = NULL;
	struct panic_info *p = NULL;
	const char *given = NULL;
	bool json = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hjd:", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			printf("Usage: crashcapctl list [--json] [--dir DIR]\n\n"
			       "Lists the dumps on the dump target, oldest first: time, kernel, size,\n"
			       "state (complete, incomplete, failed, unfinished), the panic line and,\n"
			       "once the dump is analyzed (analysis.json), the panicking task.\n"
			       "--dir: the folder that holds the dump folders (default: from the\n"
			       "settings' target and path).\n");
			return 0;
		case 'j':
			json = true;
			break;
		case 'd':
			given = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "list: unexpected argument '%s'", argv[optind]);
	r = ctl_read_dumps(ctx, given, &dir, &l);
	if (r < 0)
		return r;
	r = read_analyses(&l, &p);
	if (r < 0)
		return log_error_errno(r, "cannot read the dumps' analysis.json: %m");
	if (json)
		r = print_json(dir, &l, p);
	else
		print_text(dir, &l, p);
	for (size_t i = 0; i < l.count; i++)
		panic_info_done(&p[i]);
	free(p);
	return r;
}

/* DUMP may be a dump's folder (as list shows it): its vmcore, else vmcore.incomplete. */
static int dump_file_of(const char *arg, char **ret)
{
	static const char *const names[] = { "vmcore", "vmcore.incomplete" };
	struct stat st;

	if (stat(arg, &st) < 0)
		return log_error_errno(negative_errno(), "%s: %m", arg);
	if (!S_ISDIR(st.st_mode)) {
		*ret = strdup(arg);
		return *ret ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		if (asprintf(ret, "%s/%s", arg, names[i]) < 0)
			return -ENOMEM;
		if (access(*ret, R_OK) == 0)
			return 0;
		free(*ret);
		*ret = NULL;
	}
	return log_error_errno(-ENOENT, "%s holds no vmcore: is it a dump folder?", arg);
}

int verb_dmesg(int argc, char *argv[], const struct ctl_context *ctx)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	int r;

	if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
		printf("Usage: crashcapctl dmesg DUMP\n\n"
		       "Prints the kernel log of the crashed kernel from a dump file (or a dump\n"
		       "folder), like makedumpfile --dump-dmesg.\n");
		return 0;
	}
	if (argc != 2)
		return log_error_errno(-EINVAL, "dmesg: give one dump file or folder (see "
						"crashcapctl list)");
	r = dump_file_of(argv[1], &path);
	if (r < 0)
		return r;
	r = dump_open(path, &d);
	if (r == -ENOEXEC)
		return log_error_errno(r,
				       "%s is not a dump crashcap can read (ELF vmcore or "
				       "kdump-compressed)",
				       path);
	if (r < 0)
		return log_error_errno(r, "cannot open %s: %m", path);
	if (dump_is_incomplete(d) || dump_is_truncated(d))
		log_warning("%s is incomplete: the log may miss lines", path);
	r = dmesg_write(d, stdout);
	if (r == -EOPNOTSUPP)
		return log_error_errno(r,
				       "%s holds no kernel log crashcap can read (no VMCOREINFO "
				       "for the printk buffer)",
				       path);
	if (r < 0)
		return log_error_errno(r, "cannot read the kernel log from %s: %m", path);
	if (fflush(stdout) != 0)
		return log_error_errno(negative_errno(), "cannot write the log: %m");
	return 0;
}
