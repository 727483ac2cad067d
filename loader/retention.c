// SPDX-License-Identifier: GPL-2.0-or-later
#include "retention.h"

#include "log.h"

size_t retention_plan(const struct dump_list *l, unsigned keep, uint64_t max_bytes, bool *remove)
{
	size_t left = l->count, marked = 0, newest_complete = SIZE_MAX;
	uint64_t bytes = 0;

	for (size_t i = 0; i < l->count; i++) {
		remove[i] = false;
		bytes += l->dumps[i].bytes;
		if (l->dumps[i].state == DUMP_COMPLETE)
			newest_complete = i;
	}
	/* Oldest first; the list is sorted by crash time. */
	for (size_t i = 0; i < l->count; i++) {
		bool too_many = keep > 0 && left > keep;
		bool too_big = max_bytes > 0 && bytes > max_bytes;

		if (!too_many && !too_big)
			break;
		if (i == newest_complete)
			continue;
		remove[i] = true;
		marked++;
		left--;
		bytes -= l->dumps[i].bytes;
	}
	return marked;
}

int retention_apply(const char *dir, unsigned keep, uint64_t max_bytes,
		    struct retention_result *ret)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	_cleanup_free_ bool *remove = NULL;
	struct retention_result res = {};
	char a[32];
	int r;

	r = dumps_read(dir, &l);
	if (r < 0)
		return r;
	remove = calloc(l.count ? l.count : 1, sizeof(bool));
	if (!remove)
		return -ENOMEM;
	if (keep > 0 || max_bytes > 0)
		retention_plan(&l, keep, max_bytes, remove);
	for (size_t i = 0; i < l.count; i++) {
		const struct dump_info *d = &l.dumps[i];

		if (!remove[i]) {
			res.kept++;
			res.kept_bytes += d->bytes;
			continue;
		}
		r = dump_remove(d);
		if (r < 0) {
			log_warning_errno(r, "retention: cannot remove the dump %s: %m", d->path);
			res.failed++;
			res.kept++;
			res.kept_bytes += d->bytes;
			continue;
		}
		log_info("retention: removed the %s dump %s (%s)", dump_state_to_string(d->state),
			 d->path, format_size(d->bytes, a, sizeof(a)));
		res.removed++;
		res.freed += d->bytes;
	}
	if (ret)
		*ret = res;
	return 0;
}
