// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcap-collect: as a command, turns a saved vmcore into a
 * kdump-compressed dump, an ELF core or either as a flattened stream (or
 * prints its kernel log); as PID 1 of the crash initramfs it is /init
 * (collector/init.c).
 */
#include "cli-compat.h"
#include "collect.h"
#include "dmesg.h"
#include "dump.h"
#include "init.h"
#include "rebuild.h"
#include "log.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "version.h"

/* Set by SIGINT and SIGTERM: the dump stops and is finished as INCOMPLETE. */
static volatile sig_atomic_t interrupted;

/* Why a file is no vmcore we read, from its first bytes. */
static const char *elf_problem(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char h[EI_NIDENT + 16] = {};
	Elf64_Half type, machine;
	size_t got = 0;

	if (fd < 0 || pread_full(fd, h, sizeof(h), 0, &got) < 0 || got < SELFMAG ||
	    memcmp(h, ELFMAG, SELFMAG) != 0)
		return "no ELF header";
	if (got < sizeof(h))
		return "ELF header cut short";
	if (h[EI_CLASS] != ELFCLASS64)
		return "a 32-bit ELF file, expected ELF64";
	memcpy(&type, h + offsetof(Elf64_Ehdr, e_type), sizeof(type));
	memcpy(&machine, h + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
	if (h[EI_DATA] != ELFDATA2LSB || machine != EM_X86_64)
		snprintf(buf, len, "ELF machine %u, expected x86_64", machine);
	else if (type != ET_CORE)
		snprintf(buf, len, "ELF type %u, expected a core file", type);
	else
		snprintf(buf, len, "malformed ELF core headers");
	return buf;
}

static bool to_stdout(const struct collect_options *o)
{
	return o->flat && streq(o->output_path, "-");
}

static const char *output_name(const struct collect_options *o)
{
	return to_stdout(o) ? "standard output" : o->output_path;
}

/* makedumpfile style: an existing output is replaced only with -f (its open_dump_file, O_EXCL). */
static int check_overwrite(const struct cli_args *a, const char *path)
{
	if (!a->mdf_style || a->force || access(path, F_OK) < 0)
		return 0;
	return log_error_errno(EEXIST, "%s exists: remove it, or add -f to replace it.", path);
}

/* Errors that name the path they concern, before any work starts. */
static int check_paths(const struct collect_options *o)
{
	_cleanup_free_ char *copy = strdup(o->output_path);
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!copy)
		return log_error_errno(ENOMEM, "Out of memory.");
	fd = open(o->vmcore_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "Cannot open %s: %m", o->vmcore_path);
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode))
		return log_error_errno(EISDIR, "%s is a directory, not a vmcore.", o->vmcore_path);
	if (to_stdout(o)) {
		if (isatty(STDOUT_FILENO))
			return log_error_errno(
				ENOTTY, "-F writes a binary stream: redirect standard output "
					"to a file or a pipe.");
		return 0;
	}
	if (stat(dirname(copy), &st) < 0 || !S_ISDIR(st.st_mode)) {
		strcpy(copy, o->output_path);
		return log_error_errno(ENOENT, "Output directory %s does not exist.",
				       dirname(copy));
	}
	return 0;
}

static int input_error(const char *path, int r)
{
	char buf[96];

	if (r == -ENOEXEC)
		return log_error_errno(r, "%s: not an ELF vmcore (%s)", path,
				       elf_problem(path, buf, sizeof(buf)));
	if (r == -ENODATA)
		return log_error_errno(
			r, "%s: the vmcore describes no memory (no PT_LOAD segment).", path);
	return log_error_errno(r, "Cannot read %s: %m", path);
}

static int run_dump_dmesg(const struct collect_options *o)
{
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	bool to_stdout = streq(o->output_path, "-");
	int r;

	r = dump_open(o->vmcore_path, &d);
	if (r < 0)
		return input_error(o->vmcore_path, r);
	if (!to_stdout) {
		f = fopen(o->output_path, "we");
		if (!f)
			return log_error_errno(errno, "Cannot create %s: %m", o->output_path);
	}
	r = dmesg_write(d, to_stdout ? stdout : f);
	if (r == -EOPNOTSUPP)
		return log_error_errno(
			r, "%s: no kernel log found (VMCOREINFO lacks the printk symbols).",
			o->vmcore_path);
	if (r < 0)
		return log_error_errno(r, "Cannot write the kernel log of %s: %m", o->vmcore_path);
	if (to_stdout && fflush(stdout) != 0)
		return log_error_errno(EIO, "Cannot write the kernel log: %m");
	if (f && fclose(TAKE_PTR(f)) != 0)
		return log_error_errno(errno, "Cannot write %s: %m", o->output_path);
	return 0;
}

static void summary(const struct collect_options *o, const struct collect_result *res)
{
	char out[32], ram[32], rss[32];

	format_size(res->output_bytes, out, sizeof(out));
	format_size(res->ram_bytes, ram, sizeof(ram));
	format_size(res->peak_rss_bytes, rss, sizeof(rss));
	log_info("%s: %" PRIu64 " of %" PRIu64 " pages written, %" PRIu64 " zero pages, %" PRIu64
		 " excluded, %s, %.1f%% of %s RAM, dump level %d, %.1f s, %u thread%s, peak "
		 "memory %s",
		 output_name(o), res->pages_written, res->pages_total, res->pages_zero,
		 page_filter_counts_total(&res->excluded) + res->pages_nodata, out,
		 res->ram_bytes ? 100.0 * res->output_bytes / res->ram_bytes : 0.0, ram,
		 res->dump_level, res->seconds, res->threads, res->threads == 1 ? "" : "s", rss);
}

static int run_rebuild(const struct cli_args *a)
{
	_cleanup_close_ int fd = -1;
	struct rebuild_result res;
	int r;

	if (isatty(STDIN_FILENO))
		return log_error_errno(ENOTTY, "-R reads a flattened stream on standard input: "
					       "redirect it from a file or a pipe.");
	r = check_overwrite(a, a->rebuild_path);
	if (r < 0)
		return r;
	fd = open(a->rebuild_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(errno, "Cannot create %s: %m", a->rebuild_path);
	r = rebuild_flat(STDIN_FILENO, fd, &res);
	if (r == -EBADMSG && res.records == 0)
		return log_error_errno(r, "Standard input is not a flattened stream (makedumpfile "
					  "-F or crashcap-collect -F).");
	if (r == -EBADMSG)
		return log_error_errno(r,
				       "The stream is corrupt after %" PRIu64 " records: %s "
				       "holds what came before.",
				       res.records, a->rebuild_path);
	if (r == -ENODATA)
		return log_error_errno(r,
				       "The stream ended before its end marker: %s is an "
				       "INCOMPLETE dump of what arrived.",
				       a->rebuild_path);
	if (r < 0)
		return log_error_errno(r, "Cannot rebuild %s: %m", a->rebuild_path);
	if (fsync(fd) < 0 || close(TAKE_FD(fd)) < 0)
		return log_error_errno(errno, "Cannot write %s: %m", a->rebuild_path);
	log_info("%s: rebuilt from %" PRIu64 " records, %" PRIu64 " bytes.", a->rebuild_path,
		 res.records, res.file_size);
	return 0;
}

static int run_collect(const struct cli_args *a)
{
	const struct collect_options *o = &a->o;
	struct collect_result res;
	int r;

	r = check_paths(o);
	if (r < 0)
		return r;
	if (!to_stdout(o)) {
		r = check_overwrite(a, o->output_path);
		if (r < 0)
			return r;
	}
	r = collect_dump(o, &res);
	/* The paths were checked: what remains of the input's errors is its content. */
	if (r == -ENOEXEC || r == -ENODATA)
		return input_error(o->vmcore_path, r);
	if (r < 0)
		return log_error_errno(r, "Cannot write %s: %m", output_name(o));

	if (res.dump_level != o->dump_level)
		log_notice("Dump level %d asked, %d applied: %s.", o->dump_level, res.dump_level,
			   res.fallback[0] ? res.fallback : "the rest cannot be decided");
	summary(o, &res);
	if (res.write_error == -EINTR)
		return log_warning_errno(res.write_error,
					 "Interrupted: %s is an INCOMPLETE dump of the %" PRIu64
					 " pages written.",
					 output_name(o), res.pages_written + res.pages_zero);
	if (res.write_error < 0)
		return log_warning_errno(res.write_error,
					 "Writing %s stopped early: %m. It is an INCOMPLETE dump "
					 "of the %" PRIu64 " pages written.",
					 output_name(o), res.pages_written + res.pages_zero);
	if (res.incomplete) {
		log_warning("%s is truncated: %" PRIu64 " pages could not be read; %s is an "
			    "INCOMPLETE dump.",
			    o->vmcore_path, res.pages_unreadable, output_name(o));
		return -ENODATA;
	}
	return 0;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

static bool run_as_init(const char *argv0)
{
	_cleanup_free_ char *copy = argv0 ? strdup(argv0) : NULL;

	return getpid() == 1 || (copy && streq(basename(copy), "init"));
}

int main(int argc, char **argv)
{
	struct cli_args a;
	int r;

	if (run_as_init(argv[0]))
		collector_init_main(argc, argv);

	log_setup("crashcap-collect", LOG_TARGET_STDERR);
	/* A file size limit is a full disk to us: EFBIG and an INCOMPLETE dump, not death. */
	signal(SIGXFSZ, SIG_IGN);
	/* A reader that went away is a write error like any other: EPIPE, INCOMPLETE. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = cli_parse(argc, argv, &a);
	if (r < 0)
		return cli_usage_exit_status(&a);
	if (a.log_level >= 0)
		log_set_max_level(a.log_level);
	if (a.quiet)
		log_set_max_level(LOG_WARNING);
	a.o.cancel = &interrupted;

	switch (a.action) {
	case CLI_DONE:
	case CLI_CHECK_PARAMS:
		return EXIT_SUCCESS;
	case CLI_DUMP_DMESG:
		r = streq(a.o.output_path, "-") ? 0 : check_overwrite(&a, a.o.output_path);
		if (r >= 0)
			r = run_dump_dmesg(&a.o);
		break;
	case CLI_REBUILD:
		r = run_rebuild(&a);
		break;
	default:
		r = run_collect(&a);
	}
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
