/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfaketime for programs with a 64-bit time_t on a 32-bit system, for
 * the suites that move the clock with libfaketime (tests/e2e/common.sh's
 * ft, tests/tls/run.sh).  Debian 12's libfaketime replaces only the
 * 32-bit time functions, while a program built with _TIME_BITS=64 (this
 * project on i386 or armhf, and coreutils' date) calls __clock_gettime64,
 * __time64, __nanosleep64...: preloaded before libfaketime, this library
 * answers those by calling the 32-bit functions that libfaketime fakes
 * (dlsym RTLD_NEXT), and widens the result.  Exact up to January 2038,
 * which is as far as libfaketime goes on such a system anyway (later dates
 * are tests/fakeclock.c's).  Built on 32-bit systems only; test code only.
 */
/* The 32-bit functions must keep their 32-bit types here. */
#undef _TIME_BITS
#undef _FILE_OFFSET_BITS

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* glibc's struct __timespec64 and __timeval64 on a 32-bit system. */
struct ts64 {
	int64_t sec;
	int32_t nsec;
	int32_t pad;
};

struct tv64 {
	int64_t sec;
	int64_t usec;
};

int __clock_gettime64(clockid_t id, struct ts64 *ts);
int64_t __time64(int64_t *t);
int __gettimeofday64(struct tv64 *tv, void *tz);
int __nanosleep64(const struct ts64 *req, struct ts64 *rem);
int __clock_nanosleep_time64(
    clockid_t id, int flags, const struct ts64 *req, struct ts64 *rem);

/*
 * fp = the next definition of name: libfaketime's, else the C library's.
 * Copied, not cast: ISO C has no conversion from void * to a function.
 */
static void
next(void *fp, size_t size, const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL || size != sizeof(f))
		abort(); /* a test helper without its target: stop loudly */
	memcpy(fp, &f, size);
}

#define NEXT(fp, name) next(&(fp), sizeof(fp), name)

static int
narrow(const struct ts64 *in, struct timespec *out)
{
	if ((time_t)in->sec != in->sec) {
		errno = EOVERFLOW;
		return -1;
	}
	out->tv_sec = (time_t)in->sec;
	out->tv_nsec = in->nsec;
	return 0;
}

static void
widen(const struct timespec *in, struct ts64 *out)
{
	out->sec = in->tv_sec;
	out->nsec = (int32_t)in->tv_nsec;
	out->pad = 0;
}

int
__clock_gettime64(clockid_t id, struct ts64 *ts)
{
	int (*f)(clockid_t, struct timespec *);
	struct timespec t;

	NEXT(f, "clock_gettime");
	if (f(id, &t) != 0)
		return -1;
	widen(&t, ts);
	return 0;
}

int64_t
__time64(int64_t *t)
{
	time_t (*f)(time_t *), v;

	NEXT(f, "time");
	v = f(NULL);
	if (t != NULL)
		*t = v;
	return v;
}

int
__gettimeofday64(struct tv64 *tv, void *tz)
{
	int (*f)(struct timeval *, void *);
	struct timeval t;

	NEXT(f, "gettimeofday");
	if (f(&t, tz) != 0)
		return -1;
	if (tv != NULL) {
		tv->sec = t.tv_sec;
		tv->usec = t.tv_usec;
	}
	return 0;
}

int
__nanosleep64(const struct ts64 *req, struct ts64 *rem)
{
	int (*f)(const struct timespec *, struct timespec *);
	struct timespec r, left = {0, 0};
	int rc;

	NEXT(f, "nanosleep");
	if (narrow(req, &r) != 0)
		return -1;
	rc = f(&r, &left);
	if (rem != NULL)
		widen(&left, rem);
	return rc;
}

int
__clock_nanosleep_time64(
    clockid_t id, int flags, const struct ts64 *req, struct ts64 *rem)
{
	int (*f)(clockid_t, int, const struct timespec *, struct timespec *);
	struct timespec r, left = {0, 0};
	int rc;

	NEXT(f, "clock_nanosleep");
	if (narrow(req, &r) != 0)
		return EOVERFLOW;
	rc = f(id, flags, &r, &left);
	if (rem != NULL)
		widen(&left, rem);
	return rc;
}
