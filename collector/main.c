// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcap-collect: as a command, turns a saved vmcore into a
 * kdump-compressed dump, an ELF core or either as a flattened stream (or
 * prints its kernel log); as PID 1 of the crash initramfs it is /init
 * (collector/init.c).
 */
#include "collect.h"
#include "dmesg.h"
#include "dump.h"
#include "init.h"
#include "log.h"

#include <elf.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "version.h"

#define EXIT_USAGE 2
/* zstd's fast levels: each step down trades ratio for speed; -50 is already near memcpy. */
#define ZSTD_LEVEL_MIN (-50)

enum {
	ARG_COMPRESS = 0x100,
	ARG_NO_MMAP,
	ARG_ZSTD_LEVEL,
	ARG_PROGRESS,
	ARG_DUMP_DMESG,
	ARG_VERSION,
};

struct args {
	struct collect_options o;
	bool quiet;
	bool dump_dmesg;
};

/* Set by SIGINT and SIGTERM: the dump stops and is finished as INCOMPLETE. */
static volatile sig_atomic_t interrupted;

static void help(void)
{
	printf("Usage: crashcap-collect [OPTIONS] VMCORE OUTPUT\n"
	       "       crashcap-collect -F [OPTIONS] VMCORE > STREAM\n"
	       "       crashcap-collect --dump-dmesg VMCORE FILE\n"
	       "\n"
	       "Saves the memory of a crashed kernel, an ELF vmcore such as /proc/vmcore\n"
	       "or a copy of it, as a kdump-compressed dump that crash, makedumpfile and\n"
	       "libkdumpfile read. Run as PID 1, or under the name \"init\", it is the\n"
	       "/init of crashcap's crash initramfs.\n"
	       "\n"
	       "  -d, --dump-level N     pages to leave out, a bitmask 0..31 as in makedumpfile:\n"
	       "                         1 zero, 2 cache, 4 cache with private data, 8 user,\n"
	       "                         16 free (default 31). When the dumped kernel's page\n"
	       "                         descriptions cannot be used, only 1 is applied, and\n"
	       "                         a note says why.\n"
	       "  -E, --elf              an ELF core like /proc/vmcore, excluded pages left out\n"
	       "                         (pages are not compressed)\n"
	       "  -F, --flat             makedumpfile's flattened format to standard output,\n"
	       "                         for pipes and the network; `makedumpfile -R FILE`\n"
	       "                         rebuilds the dump from it\n"
	       "      --compress zstd|zlib|lzo|snappy|none  page compression (default zstd)\n"
	       "      --zstd-level N     1..19 (default 3)\n"
	       "  -j, --threads N        threads that read, filter and compress, 0 for one per\n"
	       "                         CPU (default 0)\n"
	       "  -q, --quiet            no summary line and no notes\n"
	       "      --progress         a progress line on stderr every second\n"
	       "      --no-mmap          read the vmcore with pread() instead of mapping it\n"
	       "      --dump-dmesg       write the crashed kernel's log to FILE (- for stdout)\n"
	       "  -h, --help             this text\n"
	       "      --version          the version\n"
	       "\n"
	       "Exit status: 0 the dump is complete; 1 failure, or the dump is INCOMPLETE\n"
	       "(the vmcore is truncated, the output disk filled up, or SIGINT/SIGTERM\n"
	       "arrived: the file is kept, and readers accept the pages it holds);\n"
	       "2 usage error.\n");
}

static int parse_int(const char *s, int min, int max, int *ret)
{
	bool negative = s[0] == '-';
	uint64_t v;

	if (parse_u64(s + negative, 10, &v) < 0 || v > (uint64_t)INT_MAX)
		return -ERANGE;
	if ((negative ? -(int64_t)v : (int64_t)v) < min ||
	    (negative ? -(int64_t)v : (int64_t)v) > max)
		return -ERANGE;
	*ret = negative ? -(int)v : (int)v;
	return 0;
}

static int usage_error(const char *msg, const char *value)
{
	log_error("%s '%s'. Try --help.", msg, value);
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "dump-level", required_argument, NULL, 'd' },
		{ "elf", no_argument, NULL, 'E' },
		{ "flat", no_argument, NULL, 'F' },
		{ "no-mmap", no_argument, NULL, ARG_NO_MMAP },
		{ "compress", required_argument, NULL, ARG_COMPRESS },
		{ "zstd-level", required_argument, NULL, ARG_ZSTD_LEVEL },
		{ "threads", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "progress", no_argument, NULL, ARG_PROGRESS },
		{ "dump-dmesg", no_argument, NULL, ARG_DUMP_DMESG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{},
	};
	int c, v, want;

	*a = (struct args){
		.o = { .dump_level = 31, .compression = COMPRESSION_ZSTD, .zstd_level = 3 }
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:j:qhEF", opts, NULL)) >= 0) {
		switch (c) {
		case 'E':
			a->o.format = COLLECT_FORMAT_ELF;
			break;
		case 'F':
			a->o.flat = true;
			break;
		case ARG_NO_MMAP:
			a->o.no_mmap = true;
			break;
		case 'd':
			if (parse_int(optarg, 0, 31, &a->o.dump_level) < 0)
				return usage_error("--dump-level must be 0..31, not", optarg);
			break;
		case ARG_COMPRESS:
			for (v = COMPRESSION_SNAPPY; v >= 0; v--)
				if (streq(optarg, compression_to_string(v)))
					break;
			if (v < 0)
				return usage_error(
					"--compress must be zstd, zlib, lzo, snappy or none, not",
					optarg);
			a->o.compression = v;
			break;
		case ARG_ZSTD_LEVEL:
			if (parse_int(optarg, ZSTD_LEVEL_MIN, 19, &a->o.zstd_level) < 0 ||
			    a->o.zstd_level == 0)
				return usage_error("--zstd-level must be -50..-1 or 1..19, not",
						   optarg);
			break;
		case 'j':
			if (parse_int(optarg, 0, 1024, &v) < 0)
				return usage_error("--threads must be 0..1024, not", optarg);
			a->o.threads = (unsigned)v;
			break;
		case 'q':
			a->quiet = true;
			break;
		case ARG_PROGRESS:
			a->o.progress = true;
			break;
		case ARG_DUMP_DMESG:
			a->dump_dmesg = true;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("crashcap-collect %s\n", CRASHCAP_VERSION);
			return 0;
		case ':':
			return usage_error("Missing value for option", argv[optind - 1]);
		default:
			return usage_error("Unknown option", argv[optind - 1]);
		}
	}
	/* -F writes to standard output, as makedumpfile -F does. */
	want = a->o.flat && !a->dump_dmesg ? 1 : 2;
	if (argc - optind != want) {
		if (want == 1)
			log_error("With -F, expected VMCORE only (the stream goes to standard "
				  "output), got %d arguments. Try --help.",
				  argc - optind);
		else
			log_error("Expected VMCORE and %s, got %d argument%s. Try --help.",
				  a->dump_dmesg ? "FILE" : "OUTPUT", argc - optind,
				  argc - optind == 1 ? "" : "s");
		return -EINVAL;
	}
	a->o.vmcore_path = argv[optind];
	a->o.output_path = want == 1 ? "-" : argv[optind + 1];
	return 1;
}

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

static int run_collect(const struct collect_options *o)
{
	struct collect_result res;
	int r;

	r = check_paths(o);
	if (r < 0)
		return r;
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
	struct args a;
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
	r = parse_args(argc, argv, &a);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	if (a.quiet)
		log_set_max_level(LOG_WARNING);
	a.o.cancel = &interrupted;

	r = a.dump_dmesg ? run_dump_dmesg(&a.o) : run_collect(&a.o);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
