/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio against real files in a temp folder: fileio_read refuses what is
 * not a regular file at once (a FIFO with no writer would block open()
 * for good: this suite would then hang until CTest's timeout), the atomic
 * writer names its temp file after its pid (one killed mid-write leaves
 * it), and fileio_clean_temps removes the temps of writers that are gone
 * (and old unnamed ones), never a live writer's or another file's.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"

struct fx {
	char dir[64];
	char path[128]; /* dir/trust.pem */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rk-test-fileio-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/trust.pem", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	/* Each case removes what it made: a leftover fails rmdir, not us. */
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Creates dir/name (empty); mtime age seconds ago. */
static void
touch(const struct fx *f, const char *name, long age)
{
	struct timeval tv[2];
	char p[256];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fclose(fp);
	if (age > 0) {
		gettimeofday(&tv[0], NULL);
		tv[0].tv_sec -= age;
		tv[1] = tv[0];
		assert_int_equal(utimes(p, tv), 0);
	}
}

static int
exists(const struct fx *f, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return stat(p, &st) == 0;
}

static void
rm(const struct fx *f, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	(void)unlink(p);
}

/* A pid no process has now: a child that has been reaped. */
static long
dead_pid(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	assert_int_equal(waitpid(p, NULL, 0), p);
	return (long)p;
}

static void
test_read_refuses_non_regular(void **state)
{
	struct fx *f = *state;
	char fifo[160];
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* A guard, not a timing: a blocked open() ends the suite (failed). */
	alarm(60);
	assert_int_equal(fileio_read(fifo, 1024, &buf, &len), RK_EINVAL);
	alarm(0);
	assert_null(buf);
	assert_non_null(
	    strstr(fileio_read_error(RK_EINVAL), "not a regular file"));
	assert_int_equal(fileio_read(f->dir, 1024, &buf, &len), RK_EINVAL);
	assert_int_equal(fileio_read("/dev/null", 1024, &buf, &len), RK_EINVAL);
	unlink(fifo);

	/* A regular file still reads, and a missing one is RK_ENOENT. */
	assert_int_equal(fileio_write_atomic(f->path, "abc", 3, 0644), RK_OK);
	assert_int_equal(fileio_read(f->path, 1024, &buf, &len), RK_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "abc", 3);
	free(buf);
	assert_int_equal(fileio_read(fifo, 1024, &buf, &len), RK_ENOENT);
	unlink(f->path);
}

/*
 * The operator's reader takes a pipe (`--certs <(...)`): a FIFO with a
 * writer is read to its end, still capped; a folder is still refused.
 */
static void
test_read_stream_takes_a_pipe(void **state)
{
	struct fx *f = *state;
	char fifo[160];
	uint8_t *buf = NULL;
	size_t len = 0;
	pid_t pid;
	int st;

	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (int round = 0; round < 2; round++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			FILE *w = fopen(fifo, "w");

			if (w == NULL)
				_exit(1);
			fputs("0123456789", w);
			_exit(fclose(w) == 0 ? 0 : 1);
		}
		alarm(60); /* a guard, not a timing */
		if (round == 0) {
			assert_int_equal(
			    fileio_read_stream(fifo, 1024, &buf, &len), RK_OK);
			assert_int_equal(len, 10);
			assert_memory_equal(buf, "0123456789", 10);
			free(buf);
			buf = NULL;
		} else {
			assert_int_equal(
			    fileio_read_stream(fifo, 4, &buf, &len), RK_ELIMIT);
			assert_null(buf);
		}
		alarm(0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
	}
	unlink(fifo);
	assert_int_equal(
	    fileio_read_stream(f->dir, 1024, &buf, &len), RK_EINVAL);
}

static void
test_clean_temps(void **state)
{
	struct fx *f = *state;
	char dead[64], live[64], mine[64];
	size_t n = 99;

	snprintf(dead, sizeof(dead), "trust.pem.tmp.%ld.AbC123", dead_pid());
	/* pid 1 is always there (EPERM or not, it is alive). */
	snprintf(live, sizeof(live), "trust.pem.tmp.1.LiVe12");
	snprintf(
	    mine, sizeof(mine), "trust.pem.tmp.%ld.MiNe12", (long)getpid());
	touch(f, dead, 0);
	touch(f, live, 0);
	touch(f, mine, 0);
	touch(f, "trust.pem.tmp.OLD123", 2 * 3600); /* an older version's */
	touch(f, "trust.pem.tmp.NEW123", 0);	    /* maybe still writing */
	touch(f, "trust.pem.tmp.1.short", 0);	    /* not mkstemp's */
	touch(f, "other.pem.tmp.999999.AbC123", 0); /* another file's */
	touch(f, "trust.pem", 0);

	assert_int_equal(fileio_count_stale_temps(f->path), 3);
	assert_int_equal(fileio_clean_temps(f->path, &n), RK_OK);
	assert_int_equal(n, 3);
	assert_false(exists(f, dead));
	assert_false(exists(f, mine));
	assert_false(exists(f, "trust.pem.tmp.OLD123"));
	assert_true(exists(f, live));
	assert_true(exists(f, "trust.pem.tmp.NEW123"));
	assert_true(exists(f, "trust.pem.tmp.1.short"));
	assert_true(exists(f, "other.pem.tmp.999999.AbC123"));
	assert_true(exists(f, "trust.pem"));
	assert_int_equal(fileio_count_stale_temps(f->path), 0);
	rm(f, live);
	rm(f, "trust.pem.tmp.NEW123");
	rm(f, "trust.pem.tmp.1.short");
	rm(f, "other.pem.tmp.999999.AbC123");
	rm(f, "trust.pem");
	assert_int_equal(fileio_clean_temps("/nonexistent/x.pem", &n), RK_EIO);
}

/*
 * A writer killed between mkstemp and rename leaves PATH.tmp.PID.XXXXXX,
 * PID its own: here SIGXFSZ kills it in its first write (a file size
 * limit of one byte), deterministically.
 */
static void
test_killed_writer(void **state)
{
	struct fx *f = *state;
	struct dirent *e;
	char left[256] = "", prefix[64];
	size_t n = 0, found = 0;
	DIR *d;
	pid_t p;
	int st;

	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		struct rlimit one = {1, 1}, none = {0, 0};
		static const char data[4096];

		if (setrlimit(RLIMIT_CORE, &none) != 0 ||
		    setrlimit(RLIMIT_FSIZE, &one) != 0)
			_exit(2);
		/* Not killed: the premise failed. */
		_exit(fileio_write_atomic(f->path, data, sizeof(data), 0644) ==
			      RK_OK
			  ? 3
			  : 4);
	}
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ);
	snprintf(prefix, sizeof(prefix), "trust.pem.tmp.%ld.", (long)p);
	assert_non_null(d = opendir(f->dir));
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
		    strlen(e->d_name) == strlen(prefix) + 6) {
			snprintf(left, sizeof(left), "%s", e->d_name);
			found++;
		}
	closedir(d);
	assert_int_equal(found, 1);
	assert_int_equal(fileio_count_stale_temps(f->path), 1);
	assert_int_equal(fileio_clean_temps(f->path, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_false(exists(f, left));
}

/* How many entries dir has besides . and .. */
static size_t
entries(const struct fx *f)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(f->dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * The replacement written in parts: pieces smaller and larger than its
 * buffer come out in order, with the mode asked for; an aborted one
 * leaves the old file and no temp.  fileio_open() reads it back.
 */
static void
test_atomic_in_parts(void **state)
{
	struct fx *f = *state;
	struct fileio_atomic *w;
	static uint8_t big[40000], back[sizeof(big) + 10];
	struct stat sb;
	size_t i, got;
	int fd;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(fileio_write_atomic(f->path, "old", 3, 0600), RK_OK);
	assert_int_equal(fileio_atomic_open(f->path, 0644, &w), RK_OK);
	assert_int_equal(entries(f), 2); /* the file and the temp */
	assert_int_equal(fileio_atomic_write(w, big, 5), RK_OK);
	assert_int_equal(fileio_atomic_write(w, big + 5, 30000), RK_OK);
	assert_int_equal(fileio_atomic_write(w, big + 30005, 4), RK_OK);
	assert_int_equal(
	    fileio_atomic_write(w, big + 30009, sizeof(big) - 30009), RK_OK);
	/* Not in place before the commit. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, 3);
	assert_int_equal(fileio_atomic_commit(w, f->path), RK_OK);
	assert_int_equal(entries(f), 1);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);

	assert_int_equal(fileio_open(f->path, &fd), RK_OK);
	assert_int_equal(fileio_read_full(fd, back, sizeof(back), &got), RK_OK);
	close(fd);
	assert_int_equal(got, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));

	assert_int_equal(fileio_atomic_open(f->path, 0644, &w), RK_OK);
	assert_int_equal(fileio_atomic_write(w, "new", 3), RK_OK);
	fileio_atomic_abort(w);
	assert_int_equal(entries(f), 1);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(big));

	/* A folder is no regular file; a missing file is RK_ENOENT. */
	assert_int_equal(fileio_open(f->dir, &fd), RK_EINVAL);
	rm(f, "trust.pem");
	assert_int_equal(fileio_open(f->path, &fd), RK_ENOENT);
	assert_int_equal(
	    fileio_atomic_open("/nonexistent/x.pem", 0644, &w), RK_EIO);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_read_refuses_non_regular),
	    T(test_read_stream_takes_a_pipe),
	    T(test_clean_temps),
	    T(test_killed_writer),
	    T(test_atomic_in_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
