// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

/* Process-wide by nature: one program, one log destination. */
static const char *log_progname = "crashcap";
static enum log_target log_target_now = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;

void log_setup(const char *progname, enum log_target target)
{
	log_progname = progname;
	log_target_now = target;
}

void log_setup_auto(const char *progname)
{
	const char *js = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long dev, ino;

	/* journald sets JOURNAL_STREAM=dev:ino of the stream it gave us. */
	if (js && sscanf(js, "%lu:%lu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	    st.st_dev == dev && st.st_ino == ino) {
		log_setup(progname, LOG_TARGET_JOURNAL);
		return;
	}
	log_setup(progname, LOG_TARGET_STDERR);
}

void log_set_max_level(int level)
{
	log_max_level = level;
}

int log_get_max_level(void)
{
	return log_max_level;
}

static void log_to_kmsg(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	char line[1100];
	int n;

	if (fd < 0)
		return;
	/*
	 * user.debug: kept in the kernel log for whoever reads it later, but
	 * below the console log level, so the serial console does not show
	 * every line twice.
	 */
	n = snprintf(line, sizeof(line), "<%d>%s: %s\n", LOG_USER | LOG_DEBUG, log_progname, msg);
	if (n > 0)
		(void)!write(fd, line, MIN((size_t)n, sizeof(line) - 1));
	close(fd);
}

int log_internal(int level, int error, const char *fmt, ...)
{
	int saved = errno;
	char msg[1024];
	va_list ap;

	if (error < 0)
		error = -error;
	if (level > log_max_level)
		return -error;

	errno = error;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	switch (log_target_now) {
	case LOG_TARGET_JOURNAL:
		fprintf(stderr, "<%d>%s\n", level, msg);
		break;
	case LOG_TARGET_CONSOLE:
		fprintf(stderr, "%s: %s\n", log_progname, msg);
		log_to_kmsg(msg);
		break;
	case LOG_TARGET_STDERR:
	default:
		fprintf(stderr, "%s: %s\n", log_progname, msg);
		break;
	}
	errno = saved;
	return -error;
}
