// SPDX-License-Identifier: GPL-2.0-or-later
#include "summary.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "atomic-file.h"
#include "json.h"

const char *summary_result_to_string(enum summary_result r)
{
	switch (r) {
	case SUMMARY_OK:
		return "ok";
	case SUMMARY_INCOMPLETE:
		return "incomplete";
	case SUMMARY_FAILED:
	default:
		return "failed";
	}
}

uint64_t summary_peak_rss_bytes(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_maxrss * 1024; /* Linux counts KiB */
}

/*
 * Log text from a dead kernel may hold any bytes; JSON readers reject
 * invalid UTF-8, so such bytes become '?'.
 */
static char *utf8_sanitized(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = s ? strdup(s) : NULL;

	if (!out)
		return NULL;
	for (size_t i = 0; p[i];) {
		size_t n = p[i] < 0x80		 ? 1 :
			   (p[i] & 0xe0) == 0xc0 ? 2 :
			   (p[i] & 0xf0) == 0xe0 ? 3 :
			   (p[i] & 0xf8) == 0xf0 ? 4 :
						   0;
		bool ok = n > 0 && !(n == 2 && p[i] < 0xc2) && !(n == 4 && p[i] > 0xf4);

		for (size_t k = 1; ok && k < n; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (!ok) {
			out[i++] = '?';
			continue;
		}
		i += n;
	}
	return out;
}

static void json_string_clean(struct json *j, const char *key, const char *value)
{
	_cleanup_free_ char *clean = utf8_sanitized(value);

	json_string(j, key, clean);
}

static void write_time(struct json *j, const struct summary *s)
{
	char buf[32];
	struct tm tm;
	time_t t = (time_t)s->crash_time;

	if (s->crash_time < 0 || !gmtime_r(&t, &tm) ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		json_null(j, "crash_time");
		json_null(j, "crash_time_unix");
		json_null(j, "crash_time_source");
		return;
	}
	json_string(j, "crash_time", buf);
	json_i64(j, "crash_time_unix", s->crash_time);
	json_string(j, "crash_time_source", s->crash_time_from_dump ? "vmcoreinfo" : "clock");
}

int summary_write(const struct summary *s, FILE *out)
{
	struct json j;

	json_begin(&j, out, true);
	json_object_open(&j, NULL);
	json_string(&j, "crashcap_version", CRASHCAP_VERSION);
	json_string(&j, "result", summary_result_to_string(s->result));
	json_string_clean(&j, "error", s->error);
	json_string_clean(&j, "kernel_release", s->kernel_release);
	json_string_clean(&j, "hostname", s->hostname);
	write_time(&j, s);
	json_string_clean(&j, "panic_message", s->panic_message);
	json_i64(&j, "dump_level_asked", s->dump_level_asked);
	if (s->dump_level_applied >= 0)
		json_i64(&j, "dump_level_applied", s->dump_level_applied);
	else
		json_null(&j, "dump_level_applied");
	json_string_clean(&j, "dump_level_fallback", s->level_fallback);
	json_string(&j, "compression", compression_to_string(s->compression));
	json_string(&j, "dump_file", s->dump_file);
	json_bool(&j, "incomplete", s->incomplete);
	json_u64(&j, "ram_bytes", s->ram_bytes);
	json_u64(&j, "pages_total", s->pages_total);
	json_u64(&j, "pages_written", s->pages_written);
	json_u64(&j, "pages_zero", s->pages_zero);
	json_u64(&j, "pages_unreadable", s->pages_unreadable);
	json_u64(&j, "pages_nodata", s->pages_nodata);
	json_object_open(&j, "pages_excluded");
	for (int c = 0; s->excluded && c < _PAGE_CLASS_MAX; c++)
		json_u64(&j, page_filter_class_to_string(c), s->excluded->pages[c]);
	if (s->excluded && s->excluded->unreadable)
		json_u64(&j, "struct_page_unreadable", s->excluded->unreadable);
	json_object_close(&j);
	json_u64(&j, "output_bytes", s->output_bytes);
	json_double(&j, "dump_seconds", s->dump_seconds);
	json_double(&j, "total_seconds", s->total_seconds);
	json_u64(&j, "threads", s->threads);
	json_u64(&j, "peak_rss_bytes", s->peak_rss_bytes);
	json_object_close(&j);
	return json_end(&j);
}

int summary_write_file(const struct summary *s, const char *path)
{
	struct atomic_file af;
	int r;

	r = atomic_file_open(path, 0644, &af);
	if (r < 0)
		return r;
	return atomic_file_commit(&af, summary_write(s, af.f));
}
