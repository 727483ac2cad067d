// SPDX-License-Identifier: GPL-2.0-or-later
#include "settings.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>

#include "log.h"
#include "rootfs.h"

#define DEFAULT_PATH "/var/crash"
#define DEFAULT_HOTPLUG_QUIET_USEC (1 * USEC_PER_SEC)
#define DEFAULT_HOTPLUG_MAX_DELAY_USEC (10 * USEC_PER_SEC)
#define DEFAULT_TARGET_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define MAX_TIMESPAN_USEC (3600 * USEC_PER_SEC)

static const char *const compression_names[] = {
	[COMPRESSION_NONE] = "none", [COMPRESSION_ZSTD] = "zstd",     [COMPRESSION_ZLIB] = "zlib",
	[COMPRESSION_LZO] = "lzo",   [COMPRESSION_SNAPPY] = "snappy",
};

static const char *const action_names[] = {
	[ACTION_REBOOT] = "reboot",
	[ACTION_POWEROFF] = "poweroff",
	[ACTION_HALT] = "halt",
};

static const char *const load_method_names[] = {
	[LOAD_METHOD_AUTO] = "auto",
	[LOAD_METHOD_FILE] = "file",
	[LOAD_METHOD_SEGMENTS] = "segments",
};

static const char *const hotplug_reload_names[] = {
	[HOTPLUG_RELOAD_AUTO] = "auto",
	[HOTPLUG_RELOAD_ALWAYS] = "always",
	[HOTPLUG_RELOAD_NEVER] = "never",
};

const char *compression_to_string(enum compression c)
{
	return (size_t)c < ELEMENTSOF(compression_names) ? compression_names[c] : NULL;
}

const char *final_action_to_string(enum final_action a)
{
	return (size_t)a < ELEMENTSOF(action_names) ? action_names[a] : NULL;
}

const char *load_method_to_string(enum load_method m)
{
	return (size_t)m < ELEMENTSOF(load_method_names) ? load_method_names[m] : NULL;
}

const char *hotplug_reload_to_string(enum hotplug_reload h)
{
	return (size_t)h < ELEMENTSOF(hotplug_reload_names) ? hotplug_reload_names[h] : NULL;
}

int parse_timespan(const char *s, uint64_t *ret_usec)
{
	static const struct {
		const char *suffix;
		uint64_t usec;
	} units[] = {
		{ "", USEC_PER_SEC },
		{ "ms", USEC_PER_MSEC },
		{ "s", USEC_PER_SEC },
		{ "min", 60 * USEC_PER_SEC },
	};
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (streq(end, units[i].suffix)) {
			if (v > UINT64_MAX / units[i].usec)
				return -ERANGE;
			*ret_usec = v * units[i].usec;
			return 0;
		}
	return -EINVAL;
}

static int parse_bool(const char *s)
{
	if (streq(s, "yes") || streq(s, "true") || streq(s, "on") || streq(s, "1"))
		return 1;
	if (streq(s, "no") || streq(s, "false") || streq(s, "off") || streq(s, "0"))
		return 0;
	return -EINVAL;
}

static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && streq(names[i], s))
			return (int)i;
	return -EINVAL;
}

void settings_init(struct settings *s)
{
	*s = (struct settings){
		.path = strdup(DEFAULT_PATH), /* NULL on ENOMEM: settings_from_config fails then */
		.dump_level = 31,
		.compression = COMPRESSION_ZSTD,
		.zstd_level = 1,
		.threads = 0,
		.crash_cpus = 1,
		.load_method = LOAD_METHOD_AUTO,
		.final_action = ACTION_REBOOT,
		.failure_action = ACTION_REBOOT,
		.hotplug_reload = HOTPLUG_RELOAD_AUTO,
		.hotplug_quiet_usec = DEFAULT_HOTPLUG_QUIET_USEC,
		.hotplug_max_delay_usec = DEFAULT_HOTPLUG_MAX_DELAY_USEC,
		.target_timeout_usec = DEFAULT_TARGET_TIMEOUT_USEC,
	};
}

void settings_done(struct settings *s)
{
	if (!s)
		return;
	free(s->target);
	free(s->path);
	free(s->kernel);
	free(s->initrd);
	free(s->crash_args);
	s->target = s->path = s->kernel = s->initrd = s->crash_args = NULL;
}

static int dup_or_null(const char *src, char **dst)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int settings_copy(struct settings *dst, const struct settings *src)
{
	*dst = *src;
	dst->target = dst->path = dst->kernel = dst->initrd = dst->crash_args = NULL;
	if (dup_or_null(src->target, &dst->target) < 0 || dup_or_null(src->path, &dst->path) < 0 ||
	    dup_or_null(src->kernel, &dst->kernel) < 0 ||
	    dup_or_null(src->initrd, &dst->initrd) < 0 ||
	    dup_or_null(src->crash_args, &dst->crash_args) < 0) {
		settings_done(dst);
		return -ENOMEM;
	}
	return 0;
}

static int entry_error(struct config_error *err, const struct config_entry *e, const char *fmt, ...)
	_printf_(3, 4);

static int entry_error(struct config_error *err, const struct config_entry *e, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -EINVAL;
	snprintf(err->file, sizeof(err->file), "%s", e->file);
	err->line = e->line;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_int_range(const char *v, long min, long max, long *ret)
{
	uint64_t u;

	if (parse_u64(v, 10, &u) < 0 || u < (uint64_t)min || u > (uint64_t)max)
		return -EINVAL;
	*ret = (long)u;
	return 0;
}

/* An empty value resets a string setting to its default (NULL). */
static int set_string(char **field, const char *v)
{
	char *n = NULL;

	if (*v) {
		n = strdup(v);
		if (!n)
			return -ENOMEM;
	}
	free(*field);
	*field = n;
	return 0;
}

static int set_path(char **field, const struct config_entry *e, bool allow_empty,
		    struct config_error *err)
{
	if (!*e->value && allow_empty)
		return set_string(field, e->value);
	if (e->value[0] != '/')
		return entry_error(err, e, "%s must be an absolute path, got '%s'", e->key,
				   e->value);
	return set_string(field, e->value);
}

static int set_timespan(uint64_t *field, const struct config_entry *e, uint64_t min,
			struct config_error *err)
{
	uint64_t v;

	if (parse_timespan(e->value, &v) < 0 || v < min || v > MAX_TIMESPAN_USEC)
		return entry_error(err, e,
				   "%s must be a time from %s to 1h such as 500ms, 2s or 1min, "
				   "got '%s'",
				   e->key, min ? "1ms" : "0", e->value);
	*field = v;
	return 0;
}

/* The keys only crashcapd reads (and target_timeout, the collector's). */
static int apply_daemon_entry(struct settings *s, const struct config_entry *e,
			      struct config_error *err)
{
	const char *k = e->key, *v = e->value;
	uint64_t u;
	int i;

	if (streq(k, "keep_dumps")) {
		if (parse_u64(v, 10, &u) < 0 || u > 100000)
			return entry_error(
				err, e, "keep_dumps must be 0..100000 (0: no limit), got '%s'", v);
		s->keep_dumps = (unsigned)u;
		return 0;
	}
	if (streq(k, "max_dumps_size")) {
		if (parse_size(v, &u) < 0)
			return entry_error(
				err, e,
				"max_dumps_size must be a size such as 20G or 500M (0: no limit), "
				"got '%s'",
				v);
		s->max_dumps_size = u;
		return 0;
	}
	if (streq(k, "hotplug_reload")) {
		i = lookup(hotplug_reload_names, ELEMENTSOF(hotplug_reload_names), v);
		if (i < 0)
			return entry_error(err, e,
					   "hotplug_reload must be auto, always or never, got '%s'",
					   v);
		s->hotplug_reload = i;
		return 0;
	}
	if (streq(k, "hotplug_quiet"))
		return set_timespan(&s->hotplug_quiet_usec, e, 0, err);
	if (streq(k, "hotplug_max_delay"))
		return set_timespan(&s->hotplug_max_delay_usec, e, 0, err);
	if (streq(k, "target_timeout"))
		return set_timespan(&s->target_timeout_usec, e, USEC_PER_MSEC, err);
	if (streq(k, "keep_loaded_on_stop")) {
		i = parse_bool(v);
		if (i < 0)
			return entry_error(err, e,
					   "keep_loaded_on_stop must be yes or no, got '%s'", v);
		s->keep_loaded_on_stop = i;
		return 0;
	}
	if (streq(k, "reservation_shrink")) {
		i = parse_bool(v);
		if (i < 0)
			return entry_error(err, e, "reservation_shrink must be yes or no, got '%s'",
					   v);
		s->reservation_shrink = i;
		return 0;
	}
	if (streq(k, "max_memory")) {
		if (parse_size(v, &u) < 0)
			return entry_error(
				err, e,
				"max_memory must be a size such as 64G (0: the RAM there "
				"is now), got '%s'",
				v);
		s->max_memory = u;
		return 0;
	}
	return entry_error(err, e, "unknown key '%s'", k);
}

static int apply_entry(struct settings *s, const struct config_entry *e, struct config_error *err)
{
	const char *k = e->key, *v = e->value;
	long n;
	int i;

	if (streq(k, "target"))
		return set_string(&s->target, v);
	if (streq(k, "path"))
		return set_path(&s->path, e, false, err);
	if (streq(k, "kernel"))
		return set_path(&s->kernel, e, true, err);
	if (streq(k, "initrd"))
		return set_path(&s->initrd, e, true, err);
	if (streq(k, "crash_args"))
		return set_string(&s->crash_args, v);
	if (streq(k, "dump_level")) {
		if (parse_int_range(v, 0, 31, &n) < 0)
			return entry_error(err, e, "dump_level must be 0..31, got '%s'", v);
		s->dump_level = (int)n;
		return 0;
	}
	if (streq(k, "zstd_level")) {
		if (parse_int_range(v, 1, 19, &n) < 0)
			return entry_error(err, e, "zstd_level must be 1..19, got '%s'", v);
		s->zstd_level = (int)n;
		return 0;
	}
	if (streq(k, "threads")) {
		if (parse_int_range(v, 0, 4096, &n) < 0)
			return entry_error(err, e,
					   "threads must be 0..4096 (0: all CPUs), got '%s'", v);
		s->threads = (unsigned)n;
		return 0;
	}
	if (streq(k, "crash_cpus")) {
		if (parse_int_range(v, 1, CRASH_CPUS_MAX, &n) < 0)
			return entry_error(err, e,
					   "crash_cpus must be 1..%u (CPUs the crash kernel "
					   "brings up), got '%s'",
					   CRASH_CPUS_MAX, v);
		s->crash_cpus = (unsigned)n;
		return 0;
	}
	if (streq(k, "compression")) {
		i = lookup(compression_names, ELEMENTSOF(compression_names), v);
		if (i < 0)
			return entry_error(
				err, e,
				"compression must be zstd, none, zlib, lzo or snappy, got '%s'", v);
		s->compression = i;
		return 0;
	}
	if (streq(k, "load_method")) {
		i = lookup(load_method_names, ELEMENTSOF(load_method_names), v);
		if (i < 0)
			return entry_error(
				err, e, "load_method must be auto, file or segments, got '%s'", v);
		s->load_method = i;
		return 0;
	}
	if (streq(k, "final_action") || streq(k, "failure_action")) {
		i = lookup(action_names, ELEMENTSOF(action_names), v);
		if (i < 0)
			return entry_error(err, e, "%s must be reboot, poweroff or halt, got '%s'",
					   k, v);
		if (streq(k, "final_action"))
			s->final_action = i;
		else
			s->failure_action = i;
		return 0;
	}
	return apply_daemon_entry(s, e, err);
}

int settings_from_config(struct settings *s, const struct config *c, struct config_error *err)
{
	struct settings t;
	int r;

	if (!s->path)
		return -ENOMEM; /* settings_init could not allocate the default */
	r = settings_copy(&t, s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->count; i++) {
		r = apply_entry(&t, &c->entries[i], err);
		if (r < 0) {
			settings_done(&t);
			return r;
		}
	}
	settings_done(s);
	*s = t;
	return 0;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".conf");
}

static int parse_dropins(struct config *c, const char *root, struct config_error *err)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent **list = NULL;
	int n, r = 0;

	r = root_path(root, CRASHCAP_SYSCONFDIR "/crashcap.conf.d", &dir);
	if (r < 0)
		return r;
	n = scandir(dir, &list, conf_filter, alphasort);
	if (n < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		if (r >= 0 && asprintf(&p, "%s/%s", dir, list[i]->d_name) < 0)
			r = -ENOMEM;
		if (r >= 0)
			r = config_parse_file(c, p, err);
		free(list[i]);
	}
	free(list);
	return r;
}

int settings_load(struct settings *s, const char *root, const char *path, struct config_error *err)
{
	_cleanup_(config_done) struct config c = {};
	_cleanup_free_ char *main_path = NULL;
	int r;

	if (path) {
		r = config_parse_file(&c, path, err);
		if (r < 0)
			return r;
	} else {
		r = root_path(root, CRASHCAP_SYSCONFDIR "/crashcap.conf", &main_path);
		if (r < 0)
			return r;
		r = config_parse_file(&c, main_path, err);
		if (r < 0 && r != -ENOENT)
			return r;
		r = parse_dropins(&c, root, err);
		if (r < 0)
			return r;
	}
	return settings_from_config(s, &c, err);
}

int settings_write(const struct settings *s, FILE *f)
{
	fputs("# crashcap settings in effect (written by crashcap; edit crashcap.conf instead)\n",
	      f);
	if (s->target)
		config_write_value(f, "target", s->target);
	config_write_value(f, "path", s->path ? s->path : DEFAULT_PATH);
	fprintf(f, "dump_level = %d\n", s->dump_level);
	fprintf(f, "compression = %s\n", compression_to_string(s->compression));
	fprintf(f, "zstd_level = %d\n", s->zstd_level);
	fprintf(f, "threads = %u\n", s->threads);
	fprintf(f, "crash_cpus = %u\n", s->crash_cpus);
	fprintf(f, "load_method = %s\n", load_method_to_string(s->load_method));
	if (s->kernel)
		config_write_value(f, "kernel", s->kernel);
	if (s->initrd)
		config_write_value(f, "initrd", s->initrd);
	if (s->crash_args)
		config_write_value(f, "crash_args", s->crash_args);
	fprintf(f, "final_action = %s\n", final_action_to_string(s->final_action));
	fprintf(f, "failure_action = %s\n", final_action_to_string(s->failure_action));
	fprintf(f, "keep_dumps = %u\n", s->keep_dumps);
	fprintf(f, "max_dumps_size = %" PRIu64 "\n", s->max_dumps_size);
	fprintf(f, "hotplug_reload = %s\n", hotplug_reload_to_string(s->hotplug_reload));
	fprintf(f, "hotplug_quiet = %" PRIu64 "ms\n", s->hotplug_quiet_usec / USEC_PER_MSEC);
	fprintf(f, "hotplug_max_delay = %" PRIu64 "ms\n",
		s->hotplug_max_delay_usec / USEC_PER_MSEC);
	fprintf(f, "keep_loaded_on_stop = %s\n", s->keep_loaded_on_stop ? "yes" : "no");
	fprintf(f, "target_timeout = %" PRIu64 "ms\n", s->target_timeout_usec / USEC_PER_MSEC);
	fprintf(f, "reservation_shrink = %s\n", s->reservation_shrink ? "yes" : "no");
	fprintf(f, "max_memory = %" PRIu64 "\n", s->max_memory);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
