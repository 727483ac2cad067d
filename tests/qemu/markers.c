// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Marker tasks for the analyze QEMU test (runs only inside the guest, as a
 * static binary): processes and threads with known names in known states,
 * whose pids go to /tmp/markers.pids for the guest script to print with
 * their /proc/PID/stat, so the host can compare crashcapctl analyze's view
 * of the dump with the guest's own.
 *
 *	mk-main          S  the parent of all below; sleeps
 *	mk-sleeper       S  holds 64 MiB of anonymous memory (RSS)
 *	mk-vfork         D  blocked in vfork() ...
 *	mk-vchild        S  ... because its child sleeps and never execs
 *	mk-zparent       S  with a zombie child it never reaps:
 *	mk-zombie        Z
 *	mk-stopped       T  stopped by SIGSTOP
 *	mk-threads       S  and its two threads mk-thread-a, mk-thread-b
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report_fd;

static void name(const char *n)
{
	prctl(PR_SET_NAME, n, 0, 0, 0);
}

static void report(pid_t pid)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);

	if (write(report_fd, buf, n) != n)
		_exit(1);
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void *thread_main(void *arg)
{
	name(arg);
	report(syscall(SYS_gettid));
	sleep_forever();
	return NULL;
}

static pid_t child(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		fn();
		_exit(0);
	}
	return pid;
}

static void sleeper(void)
{
	size_t size = 64 << 20;
	char *p = malloc(size);

	name("mk-sleeper");
	if (!p)
		_exit(1);
	/* Every page written (volatile: a memset of memory never read may be dropped). */
	for (size_t i = 0; i < size; i += 4096)
		((volatile char *)p)[i] = 0x5a;
	report(getpid());
	sleep_forever();
}

static void vforker(void)
{
	pid_t pid;

	name("mk-vfork");
	report(getpid());
	pid = vfork();
	if (pid == 0) {
		/* Only system calls here: the parent's memory is borrowed until exec or exit. */
		char buf[16];
		long me = syscall(SYS_getpid);
		int n = 0;

		prctl(PR_SET_NAME, "mk-vchild", 0, 0, 0);
		for (long v = me; v; v /= 10)
			n++;
		buf[n] = '\n';
		for (int i = n - 1; i >= 0; i--, me /= 10)
			buf[i] = '0' + me % 10;
		syscall(SYS_write, report_fd, buf, n + 1);
		for (;;)
			syscall(SYS_pause);
	}
	sleep_forever();
}

static void zombie(void)
{
	name("mk-zombie");
	report(getpid());
}

static void zparent(void)
{
	name("mk-zparent");
	report(getpid());
	child(zombie);
	sleep_forever();
}

static void stopped(void)
{
	name("mk-stopped");
	report(getpid());
	raise(SIGSTOP);
	sleep_forever();
}

static void threads(void)
{
	pthread_t a, b;

	name("mk-threads");
	report(getpid());
	pthread_create(&a, NULL, thread_main, "mk-thread-a");
	pthread_create(&b, NULL, thread_main, "mk-thread-b");
	sleep_forever();
}

int main(void)
{
	int fds[2];
	FILE *in, *out;
	char line[32];
	int expected = 9, n = 0, status;
	pid_t stopped_pid;

	if (pipe(fds) < 0)
		return 1;
	report_fd = fds[1];
	name("mk-main");
	child(sleeper);
	child(vforker);
	child(zparent);
	stopped_pid = child(stopped);
	child(threads);
	close(fds[1]);

	in = fdopen(fds[0], "r");
	out = fopen("/tmp/markers.pids", "w");
	if (!in || !out)
		return 1;
	fprintf(out, "%d\n", (int)getpid());
	while (n < expected && fgets(line, sizeof(line), in)) {
		fputs(line, out);
		n++;
	}
	fclose(out);
	waitpid(stopped_pid, &status, WUNTRACED);
	out = fopen("/tmp/markers.done", "w");
	if (out)
		fclose(out);
	sleep_forever();
}
