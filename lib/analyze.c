// SPDX-License-Identifier: GPL-2.0-or-later
/* The analysis as a whole: symbols and types first, then each section on its own. */
#include "analyze-internal.h"
#include "dmesg.h"
#include "log.h"

#include <inttypes.h>

static void stack_free(struct analyze_stack *s)
{
	for (size_t i = 0; i < s->n_frames; i++)
		free(s->frames[i].symbol);
	free(s->frames);
	free(s->error);
}

struct analyze_report *analyze_report_free(struct analyze_report *r)
{
	if (!r)
		return NULL;
	free(r->release);
	free(r->version);
	free(r->hostname);
	free(r->machine);
	free(r->meminfo);
	free(r->system_error);
	free(r->memory_error);
	free(r->panic_message);
	stack_free(&r->backtrace);
	free(r->panic_error);
	for (size_t i = 0; i < r->n_tasks; i++)
		stack_free(&r->tasks[i].stack);
	free(r->tasks);
	free(r->tasks_error);
	for (size_t i = 0; i < r->n_modules; i++) {
		free(r->modules[i].name);
		free(r->modules[i].state);
	}
	free(r->modules);
	free(r->taint);
	for (size_t i = 0; r->taint_words && r->taint_words[i]; i++)
		free(r->taint_words[i]);
	free(r->taint_words);
	free(r->modules_error);
	for (size_t i = 0; i < r->n_log; i++)
		free(r->log[i]);
	free(r->log);
	free(r->log_error);
	free(r->symbols_error);
	free(r->types_error);
	free(r);
	return NULL;
}

/* The last ANALYZE_LOG_LINES lines of the log as dmesg prints it. */
int analyze_log(struct actx *c)
{
	struct analyze_report *r = c->r;
	_cleanup_free_ char *text = NULL;
	char *line, *next;
	size_t size = 0, n = 0;
	FILE *f;
	int e;

	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	e = dmesg_write(c->d, f);
	if (fclose(f) != 0 && e >= 0)
		e = -ENOMEM;
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		return ax_error(&r->log_error, "the kernel log is %s",
				e == -EOPNOTSUPP ? "not described by VMCOREINFO" : ax_strerror(e));
	for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n++;
	r->log = calloc(MIN(n, (size_t)ANALYZE_LOG_LINES) + 1, sizeof(char *));
	if (!r->log)
		return -ENOMEM;
	line = text;
	for (size_t i = 0; line && *line; i++, line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (i + ANALYZE_LOG_LINES < n)
			continue;
		r->log[r->n_log] = strdup(line);
		if (!r->log[r->n_log])
			return -ENOMEM;
		r->n_log++;
	}
	return 0;
}

static void load_symbols(struct actx *c)
{
	struct analyze_report *r = c->r;
	const char *missing = kallsyms_missing(dump_vmcoreinfo(c->d));
	uint64_t v;
	int e;

	if (missing) {
		(void)ax_error(&r->symbols_error, "no kernel symbols: VMCOREINFO lacks %s%s%s",
			       streq(missing, "VMCOREINFO") ? "" : "SYMBOL(", missing,
			       streq(missing, "VMCOREINFO") ? "" : ") (a kernel before 6.0?)");
		return;
	}
	e = kallsyms_load(c->d, &c->ks);
	if (e < 0) {
		(void)ax_error(&r->symbols_error,
			       "no kernel symbols: the kallsyms tables VMCOREINFO names are %s",
			       ax_strerror(e));
		return;
	}
	if (ax_sym(c, "_stext", &c->text_start) < 0 || ax_sym(c, "_etext", &c->text_end) < 0)
		c->text_start = c->text_end = 0;

	e = kbtf_load(c->d, c->ks, &c->btf);
	if (e == -ENOENT && ax_sym(c, "__start_BTF", &v) < 0) {
		(void)ax_error(
			&r->types_error,
			"no kernel types: kallsyms has no __start_BTF (a kernel without BTF)");
		return;
	}
	if (e == -EBADMSG || e == -ENODATA) {
		(void)ax_error(&r->types_error, "no kernel types: the BTF between __start_BTF and "
						"__stop_BTF is truncated or corrupt");
		return;
	}
	if (e < 0) {
		(void)ax_error(&r->types_error,
			       "no kernel types: the BTF between __start_BTF and __stop_BTF is %s",
			       ax_strerror(e));
		return;
	}
	if (kbtf_type_size(c->btf, "thread_union", &c->thread_size) < 0)
		c->thread_size = 0;
}

int analyze_dump(struct dump *d, struct analyze_report **ret)
{
	struct analyze_report *r = calloc(1, sizeof(*r));
	struct actx c = { .d = d, .r = r };
	int e;

	if (!r)
		return -ENOMEM;
	r->panic_cpu = -1;
	r->panic_pid = -1;
	load_symbols(&c);
	analyze_system(&c);
	if ((e = analyze_modsyms_load(&c)) < 0 || (e = analyze_memory(&c)) < 0 ||
	    (e = analyze_tasks(&c)) < 0 || (e = analyze_panic(&c)) < 0 ||
	    (e = analyze_modules(&c)) < 0 || (e = analyze_log(&c)) < 0) {
		analyze_report_free(r);
		r = NULL;
	}
	analyze_modsyms_free(&c);
	analyze_orc_free(c.orc);
	kbtf_free(c.btf);
	kallsyms_free(c.ks);
	if (!r)
		return e;
	*ret = r;
	return 0;
}
