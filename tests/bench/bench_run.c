/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs one command for scripts/bench.sh and appends what it cost to a
 * file, one line: "WALL_US CPU_US MAXRSS_KIB PRIVATE_DIRTY_KIB", the wall
 * time from fork to reaping, the user plus system CPU time and the peak
 * RSS that wait4() reports for the command alone (microseconds, where
 * /usr/bin/time prints hundredths of a second), and, with -m, the largest
 * Private_Dirty of the command's /proc/PID/smaps_rollup seen while it ran
 * (read every 200 us: a sample, so a peak shorter than that can be missed;
 * the heap rarely shrinks, so the last samples are near the peak), else
 * -1.  Sampling costs CPU, so bench.sh times the runs without -m.  The
 * command's output goes to /dev/null; bench_run exits with its status (128
 * + the signal when one killed it).  It judges nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Private_Dirty of pid in KiB, or -1 when it cannot be read. */
static long
private_dirty(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nPrivate_Dirty:")) == NULL)
		return -1;
	return strtol(p + sizeof("\nPrivate_Dirty:") - 1, NULL, 10);
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	struct timespec nap = {0, 200000};
	long long t0, t1;
	long pd = -1, v;
	int sample = 0, status = 0, devnull, arg = 1;
	pid_t pid, r;
	FILE *out;

	if (argc > arg && strcmp(argv[arg], "-m") == 0) {
		sample = 1;
		arg++;
	}
	if (argc - arg < 2) {
		fprintf(stderr, "usage: bench_run [-m] OUTFILE CMD [ARG...]\n");
		return 2;
	}
	if ((devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
		perror("bench_run: /dev/null");
		return 1;
	}
	t0 = now_us();
	if ((pid = fork()) < 0) {
		perror("bench_run: fork");
		return 1;
	}
	if (pid == 0) {
		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(argv[arg + 1], argv + arg + 1);
		_exit(127);
	}
	for (;;) {
		r = wait4(pid, &status, sample ? WNOHANG : 0, &ru);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			perror("bench_run: wait4");
			return 1;
		}
		if (sample) {
			if ((v = private_dirty(pid)) > pd)
				pd = v;
			nanosleep(&nap, NULL);
		}
	}
	t1 = now_us();
	if ((out = fopen(argv[arg], "a")) == NULL) {
		perror(argv[arg]);
		return 1;
	}
	fprintf(out, "%lld %lld %ld %ld\n", t1 - t0,
	    (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	    ru.ru_maxrss, pd);
	if (fclose(out) != 0) {
		perror(argv[arg]);
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
