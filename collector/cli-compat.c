// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option names, meanings and exit codes of makedumpfile from its
 * makedumpfile.c (longopts, the getopt string "b:cDd:eEFfg:hi:lL:pRvXx:z",
 * check_param_for_*) and print_info.c (message levels).
 */
#include "cli-compat.h"
#include "log.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

#include "version.h"

/* zstd's fast levels: each step down trades ratio for speed; -50 is already near memcpy. */
#define ZSTD_LEVEL_MIN (-50)

enum {
	ARG_COMPRESS = 0x100,
	ARG_NO_MMAP,
	ARG_ZSTD_LEVEL,
	ARG_PROGRESS,
	ARG_DUMP_DMESG,
	ARG_VERSION,
	/* makedumpfile's long options */
	ARG_MESSAGE_LEVEL,
	ARG_NUM_THREADS,
	ARG_CHECK_PARAMS,
	ARG_SHOW_STATS,
	ARG_TUNING, /* accepted with a note */
	ARG_UNSUPPORTED, /* an error naming the option */
};

/* Short options only makedumpfile has. */
#define MDF_SHORT "bcDefgiLlpRvXxz"

static const struct option long_options[] = {
	/* crashcap's */
	{ "dump-level", required_argument, NULL, 'd' },
	{ "elf", no_argument, NULL, 'E' },
	{ "flat", no_argument, NULL, 'F' },
	{ "no-mmap", no_argument, NULL, ARG_NO_MMAP },
	{ "compress", required_argument, NULL, ARG_COMPRESS },
	{ "zstd-level", required_argument, NULL, ARG_ZSTD_LEVEL },
	{ "threads", required_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, ARG_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, ARG_VERSION },
	/* both */
	{ "dump-dmesg", no_argument, NULL, ARG_DUMP_DMESG },
	/* makedumpfile's, from here on: see is_mdf_long() */
	{ "message-level", required_argument, NULL, ARG_MESSAGE_LEVEL },
	{ "num-threads", required_argument, NULL, ARG_NUM_THREADS },
	{ "non-mmap", no_argument, NULL, ARG_NO_MMAP },
	{ "check-params", no_argument, NULL, ARG_CHECK_PARAMS },
	{ "show-stats", no_argument, NULL, ARG_SHOW_STATS },
	{ "cyclic-buffer", required_argument, NULL, ARG_TUNING },
	{ "work-dir", required_argument, NULL, ARG_TUNING },
	{ "splitblock-size", required_argument, NULL, ARG_TUNING },
	{ "non-cyclic", no_argument, NULL, ARG_TUNING },
	{ "split", no_argument, NULL, ARG_UNSUPPORTED },
	{ "reassemble", no_argument, NULL, ARG_UNSUPPORTED },
	{ "config", required_argument, NULL, ARG_UNSUPPORTED },
	{ "eppic", required_argument, NULL, ARG_UNSUPPORTED },
	{ "partial-dmesg", no_argument, NULL, ARG_UNSUPPORTED },
	{ "mem-usage", no_argument, NULL, ARG_UNSUPPORTED },
	{ "dry-run", no_argument, NULL, ARG_UNSUPPORTED },
	{ "vtop", required_argument, NULL, ARG_UNSUPPORTED },
	{ "diskset", required_argument, NULL, ARG_UNSUPPORTED },
	{ "extension", required_argument, NULL, ARG_UNSUPPORTED },
	{ "xen-syms", required_argument, NULL, ARG_UNSUPPORTED },
	{ "xen-vmcoreinfo", required_argument, NULL, ARG_UNSUPPORTED },
	{ "xen_phys_start", required_argument, NULL, ARG_UNSUPPORTED },
	{},
};
#define FIRST_MDF_LONG 12

/* Why an option makedumpfile has is not taken; by its name as the user spells it. */
static const struct {
	const char *name;
	const char *why;
} unsupported[] = {
	{ "--split", "crashcap-collect writes one file, with one thread per CPU (-j N)" },
	{ "--reassemble", "crashcap-collect never writes split dumps" },
	{ "--config", "filtering by symbols needs -x, which is not supported either" },
	{ "--eppic", "eppic filter scripts are not supported" },
	{ "--partial-dmesg", "--dump-dmesg writes the whole log" },
	{ "--mem-usage", "use `crashcapctl showmem`" },
	{ "--dry-run", "it would write nothing" },
	{ "--vtop", "use `crashcapctl analyze`" },
	{ "--diskset", "sadump disks are not supported" },
	{ "--extension", "makedumpfile extensions are not supported" },
	{ "--xen-syms", "Xen dumps are not supported" },
	{ "--xen-vmcoreinfo", "Xen dumps are not supported" },
	{ "--xen_phys_start", "Xen dumps are not supported" },
	{ "-x", "the page filter reads the kernel's layout from VMCOREINFO, not from vmlinux" },
	{ "-i", "VMCOREINFO is read from the vmcore itself" },
	{ "-g", "VMCOREINFO is read from the vmcore itself" },
	{ "-e", "unused vmemmap pages are not excluded" },
	{ "-L", "there is no size limit; dump level 31 keeps the file small" },
	{ "-X", "Xen dumps are not supported" },
};

static void help(void)
{
	printf("Usage: crashcap-collect [OPTIONS] VMCORE OUTPUT\n"
	       "       crashcap-collect -F [OPTIONS] VMCORE > STREAM\n"
	       "       crashcap-collect -R OUTPUT < STREAM\n"
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
	       "                         for pipes and the network; -R rebuilds the dump\n"
	       "      --compress zstd|zlib|lzo|snappy|none  page compression (default zstd)\n"
	       "      --zstd-level N     -50..-1 or 1..19 (default 1)\n"
	       "  -j, --threads N        threads that read, filter and compress, 0 for one per\n"
	       "                         CPU (default 0)\n"
	       "  -q, --quiet            no summary line and no notes\n"
	       "      --progress         a progress line on stderr every second\n"
	       "      --no-mmap          read the vmcore with pread() instead of mapping it\n"
	       "      --dump-dmesg       write the crashed kernel's log to FILE (- for stdout)\n"
	       "  -h, --help             this text\n"
	       "  -v, --version          the version\n"
	       "\n"
	       "makedumpfile's options, for kdump tools that run it:\n"
	       "  -c, -l, -p, -z         zlib, lzo, snappy, zstd (level 1), as makedumpfile\n"
	       "  -R OUTPUT              rebuild a dump from a flattened stream on stdin\n"
	       "  -f                     replace an existing OUTPUT\n"
	       "  -D                     debug messages\n"
	       "      --message-level N  0..31: 1 progress, 2 messages, 4 errors, 8 debug\n"
	       "      --num-threads N    as -j N (0: one thread)\n"
	       "      --non-mmap         as --no-mmap\n"
	       "      --check-params     check the arguments only\n"
	       "  -b N, --cyclic-buffer N, --work-dir DIR, --splitblock-size N, --non-cyclic,\n"
	       "      --show-stats       accepted, with a note (crashcap needs no tuning)\n"
	       "  Other makedumpfile options are refused with an error naming them.\n"
	       "\n"
	       "Exit status: 0 the dump is complete; 1 failure, or the dump is INCOMPLETE\n"
	       "(the vmcore is truncated, the output disk filled up, or SIGINT/SIGTERM\n"
	       "arrived: the file is kept, and readers accept the pages it holds);\n"
	       "2 usage error (1 when makedumpfile's options are used, as makedumpfile).\n"
	       "With makedumpfile's options, an existing OUTPUT is replaced only with -f.\n");
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

int cli_message_level(const char *s, int *ret_log_level, bool *ret_progress)
{
	int v;

	if (parse_int(s, 0, 31, &v) < 0)
		return -EINVAL;
	/* 2 is makedumpfile's "common messages": our notes and summary line. */
	if (v & 8)
		*ret_log_level = LOG_DEBUG;
	else if (v & 2)
		*ret_log_level = LOG_INFO;
	else if (v & 4)
		*ret_log_level = LOG_WARNING;
	else
		*ret_log_level = LOG_CRIT;
	*ret_progress = v & 1;
	return 0;
}

static bool is_mdf_long(const char *arg)
{
	size_t len = strcspn(arg, "=");

	for (size_t i = FIRST_MDF_LONG; long_options[i].name; i++)
		if (strlen(long_options[i].name) == len &&
		    strncmp(arg, long_options[i].name, len) == 0)
			return true;
	return false;
}

/* Whether argv holds an option only makedumpfile has (or is named so), before parsing. */
static bool mdf_style(int argc, char **argv)
{
	/* Run through a link named makedumpfile: the kdump tools think it is. */
	if (argc > 0 && argv[0]) {
		const char *slash = strrchr(argv[0], '/');

		if (streq(slash ? slash + 1 : argv[0], "makedumpfile"))
			return true;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (streq(a, "--"))
			break;
		if (startswith(a, "--")) {
			if (is_mdf_long(a + 2))
				return true;
			continue;
		}
		if (a[0] != '-')
			continue;
		for (const char *p = a + 1; *p; p++) {
			if (strchr(MDF_SHORT, *p))
				return true;
			/* the rest of the word is this option's value */
			if (strchr("dj", *p))
				break;
		}
	}
	return false;
}

static int refuse(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(unsupported); i++)
		if (streq(unsupported[i].name, name)) {
			log_error("makedumpfile's %s is not supported by crashcap-collect: %s.",
				  name, unsupported[i].why);
			return -EOPNOTSUPP;
		}
	log_error("makedumpfile's %s is not supported by crashcap-collect.", name);
	return -EOPNOTSUPP;
}

static void tuning_note(const char *name)
{
	log_notice("Note: %s is makedumpfile tuning that crashcap-collect does not need; "
		   "ignored.",
		   name);
}

static int parse_compress(const char *s, struct cli_args *a)
{
	for (int v = COMPRESSION_SNAPPY; v >= 0; v--)
		if (streq(s, compression_to_string(v))) {
			a->o.compression = v;
			return 0;
		}
	return usage_error("--compress must be zstd, zlib, lzo, snappy or none, not", s);
}

/* What the options said that matters once they are all read. */
struct parse_state {
	bool letter; /* -c, -l, -p or -z */
	bool zstd_letter; /* -z */
	bool zstd_level; /* --zstd-level */
	bool check_params;
};

static int set_mdf_compression(struct cli_args *a, enum compression c, struct parse_state *st)
{
	a->o.compression = c;
	st->letter = true;
	st->zstd_letter = c == COMPRESSION_ZSTD;
	return 0;
}

/* The positional arguments, once every option is known. */
static int check_positionals(int argc, char **argv, struct cli_args *a,
			     const struct parse_state *st)
{
	int left = argc - optind;

	if (a->action == CLI_REBUILD) {
		if (st->letter || a->o.flat || a->o.format == COLLECT_FORMAT_ELF) {
			log_error("-R rebuilds a stream as it is: drop -c/-l/-p/-z, -E and -F. "
				  "Try --help.");
			return -EINVAL;
		}
		if (left != 1) {
			log_error("With -R, expected OUTPUT only (the stream comes on standard "
				  "input), got %d arguments. Try --help.",
				  left);
			return -EINVAL;
		}
		a->rebuild_path = argv[optind];
		return 0;
	}
	if (st->letter && a->o.format == COLLECT_FORMAT_ELF) {
		log_error("-E writes an ELF core, whose pages are not compressed: drop "
			  "-c/-l/-p/-z. Try --help.");
		return -EINVAL;
	}
	/* -F writes to standard output, as makedumpfile -F does. */
	int want = a->o.flat && a->action != CLI_DUMP_DMESG ? 1 : 2;

	if (left != want) {
		if (want == 1)
			log_error("With -F, expected VMCORE only (the stream goes to standard "
				  "output), got %d arguments. Try --help.",
				  left);
		else
			log_error("Expected VMCORE and %s, got %d argument%s. Try --help.",
				  a->action == CLI_DUMP_DMESG ? "FILE" : "OUTPUT", left,
				  left == 1 ? "" : "s");
		return -EINVAL;
	}
	a->o.vmcore_path = argv[optind];
	a->o.output_path = want == 1 ? "-" : argv[optind + 1];
	return 0;
}

static int parse_one(int c, const char *name, struct cli_args *a, struct parse_state *st)
{
	int v;

	switch (c) {
	case 'E':
		a->o.format = COLLECT_FORMAT_ELF;
		return 0;
	case 'F':
		a->o.flat = true;
		return 0;
	case ARG_NO_MMAP:
		a->o.no_mmap = true;
		return 0;
	case 'd':
		if (parse_int(optarg, 0, 31, &a->o.dump_level) < 0)
			return usage_error("--dump-level must be 0..31, not", optarg);
		return 0;
	case ARG_COMPRESS:
		return parse_compress(optarg, a);
	case 'c':
		return set_mdf_compression(a, COMPRESSION_ZLIB, st);
	case 'l':
		return set_mdf_compression(a, COMPRESSION_LZO, st);
	case 'p':
		return set_mdf_compression(a, COMPRESSION_SNAPPY, st);
	case 'z':
		return set_mdf_compression(a, COMPRESSION_ZSTD, st);
	case ARG_ZSTD_LEVEL:
		if (parse_int(optarg, ZSTD_LEVEL_MIN, 19, &a->o.zstd_level) < 0 ||
		    a->o.zstd_level == 0)
			return usage_error("--zstd-level must be -50..-1 or 1..19, not", optarg);
		st->zstd_level = true;
		return 0;
	case 'j':
		if (parse_int(optarg, 0, 1024, &v) < 0)
			return usage_error("--threads must be 0..1024, not", optarg);
		a->o.threads = (unsigned)v;
		return 0;
	case ARG_NUM_THREADS:
		if (parse_int(optarg, 0, 1024, &v) < 0)
			return usage_error("--num-threads must be 0..1024, not", optarg);
		/* makedumpfile's 0 is "no extra threads"; our -j 0 is one per CPU */
		a->o.threads = v ? (unsigned)v : 1;
		return 0;
	case ARG_MESSAGE_LEVEL:
		if (cli_message_level(optarg, &a->log_level, &a->o.progress) < 0)
			return usage_error("--message-level must be 0..31, not", optarg);
		return 0;
	case 'D':
		a->log_level = LOG_DEBUG;
		return 0;
	case 'f':
		a->force = true;
		return 0;
	case 'R':
		a->action = CLI_REBUILD;
		return 0;
	case 'q':
		a->quiet = true;
		return 0;
	case ARG_PROGRESS:
		a->o.progress = true;
		return 0;
	case ARG_DUMP_DMESG:
		a->action = CLI_DUMP_DMESG;
		return 0;
	case ARG_CHECK_PARAMS:
		st->check_params = true;
		return 0;
	case ARG_SHOW_STATS:
		log_notice("Note: --show-stats: the summary line shows the page counts.");
		return 0;
	case 'b':
		tuning_note("-b");
		return 0;
	case ARG_TUNING:
		tuning_note(name);
		return 0;
	case ARG_UNSUPPORTED:
		return refuse(name);
	case 'x':
	case 'i':
	case 'g':
	case 'e':
	case 'L':
	case 'X':
		return refuse((char[]){ '-', (char)c, 0 });
	}
	return -EINVAL;
}

int cli_parse(int argc, char **argv, struct cli_args *ret)
{
	struct cli_args *a = ret;
	struct parse_state st = {};
	char name[64];
	int c, idx, r;

	*a = (struct cli_args){
		.o = { .dump_level = 31, .compression = COMPRESSION_ZSTD, .zstd_level = 1 },
		.log_level = -1,
		.mdf_style = mdf_style(argc, argv),
	};
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:j:qhEFclpzfDRvb:x:i:g:eL:X", long_options, &idx)) >=
	       0) {
		switch (c) {
		case 'h':
			help();
			a->action = CLI_DONE;
			return 0;
		case 'v':
		case ARG_VERSION:
			printf("crashcap-collect %s\n", CRASHCAP_VERSION);
			a->action = CLI_DONE;
			return 0;
		case ':':
			return usage_error("Missing value for option", argv[optind - 1]);
		case '?':
			return usage_error("Unknown option", argv[optind - 1]);
		}
		if (c >= ARG_COMPRESS)
			snprintf(name, sizeof(name), "--%s", long_options[idx].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		r = parse_one(c, name, a, &st);
		if (r < 0)
			return r;
	}
	r = check_positionals(argc, argv, a, &st);
	if (r < 0)
		return r;
	/* makedumpfile -z compresses at zstd level 1; --zstd-level still says otherwise */
	if (st.zstd_letter && !st.zstd_level)
		a->o.zstd_level = 1;
	if (st.check_params)
		a->action = CLI_CHECK_PARAMS;
	return 0;
}

int cli_usage_exit_status(const struct cli_args *a)
{
	return a->mdf_style ? CLI_EXIT_FAILURE_MDF : CLI_EXIT_USAGE;
}
