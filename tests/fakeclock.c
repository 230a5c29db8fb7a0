/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test clock past 2038, preloaded (LD_PRELOAD) into the programs of
 * tests/e2e/y2038.sh.  libfaketime cannot serve there: on a 32-bit system
 * it fakes only the 32-bit time functions and clamps at January 2038,
 * while a program built with _TIME_BITS=64 calls __time64 and
 * __clock_gettime64.  With RK_FAKETIME=SECONDS the wall clock starts at
 * that many seconds since 1970 when the program starts, and runs; the
 * monotonic clocks are left alone.  Both generations of each function are
 * replaced, and the 32-bit ones (Debian's wolfSSL and OpenSSL on i386 call
 * them) behave as glibc's do past 2038: they fail with EOVERFLOW, time()
 * returning -1.  So a 32-bit device in 2039 is reproduced as it would be,
 * wrong verdicts of its 32-bit libraries included.  Without RK_FAKETIME
 * it changes nothing.  Test code only: never linked into a program.
 */
/* Its own time_t sizes, whatever the project builds with: the 32-bit
 * functions must keep their 32-bit types here. */
#undef _TIME_BITS
#undef _FILE_OFFSET_BITS

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* struct __timespec64 and __timeval64 of glibc, on every architecture. */
struct ts64 {
	int64_t sec;
#if UINTPTR_MAX == 0xffffffffu
	int32_t nsec;
	int32_t pad;
#else
	long nsec;
#endif
};

struct tv64 {
	int64_t sec;
	int64_t usec;
};

static int64_t offset; /* fake minus real seconds; 0: not faking */

static int
real_clock(clockid_t id, struct ts64 *ts)
{
#ifdef SYS_clock_gettime64
	return (int)syscall(SYS_clock_gettime64, id, ts);
#else
	return (int)syscall(SYS_clock_gettime, id, ts);
#endif
}

__attribute__((constructor)) static void
fakeclock_init(void)
{
	const char *s = getenv("RK_FAKETIME");
	struct ts64 now;
	char *end;
	long long want;

	if (s == NULL || *s == '\0')
		return;
	errno = 0;
	want = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || real_clock(CLOCK_REALTIME, &now))
		return;
	offset = (int64_t)want - now.sec;
}

static int
is_wall(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE;
}

static int
fake_clock(clockid_t id, struct ts64 *ts)
{
	if (real_clock(id, ts) != 0)
		return -1;
	if (is_wall(id))
		ts->sec += offset;
	return 0;
}

int __clock_gettime64(clockid_t id, struct ts64 *ts);
int __gettimeofday64(struct tv64 *tv, void *tz);
int64_t __time64(int64_t *t);

int
__clock_gettime64(clockid_t id, struct ts64 *ts)
{
	return fake_clock(id, ts);
}

int64_t
__time64(int64_t *t)
{
	struct ts64 ts;

	if (fake_clock(CLOCK_REALTIME, &ts) != 0)
		return -1;
	if (t != NULL)
		*t = ts.sec;
	return ts.sec;
}

int
__gettimeofday64(struct tv64 *tv, void *tz)
{
	struct ts64 ts;

	(void)tz;
	if (tv == NULL)
		return 0;
	if (fake_clock(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->sec = ts.sec;
	tv->usec = ts.nsec / 1000;
	return 0;
}

/* The time_t of the C library: 32 bits on i386 and armhf, else 64. */
static int
fits(int64_t sec)
{
	if ((time_t)sec == sec)
		return 1;
	errno = EOVERFLOW;
	return 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	struct ts64 t;

	if (fake_clock(id, &t) != 0 || !fits(t.sec))
		return -1;
	ts->tv_sec = (time_t)t.sec;
	ts->tv_nsec = t.nsec;
	return 0;
}

time_t
time(time_t *t)
{
	struct ts64 ts;

	if (fake_clock(CLOCK_REALTIME, &ts) != 0 || !fits(ts.sec))
		return (time_t)-1;
	if (t != NULL)
		*t = (time_t)ts.sec;
	return (time_t)ts.sec;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct ts64 ts;

	(void)tz;
	if (fake_clock(CLOCK_REALTIME, &ts) != 0 || !fits(ts.sec))
		return -1;
	tv->tv_sec = (time_t)ts.sec;
	tv->tv_usec = (suseconds_t)(ts.nsec / 1000);
	return 0;
}
