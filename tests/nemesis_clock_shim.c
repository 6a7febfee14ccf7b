/* A wall clock NEMESIS_SKEW_S seconds off, for one process (LD_PRELOAD): what libfaketime with
 * FAKETIME_DONT_FAKE_MONOTONIC=1 does, for the daemons libfaketime cannot load into. libfaketime
 * hangs at start in a process linked with jemalloc (paxcron's normal build): jemalloc reads the
 * clock while libfaketime resolves the real clock_gettime with dlsym, which allocates
 * (wolfcw/libfaketime#130). This shim resolves nothing: it asks the kernel directly.
 * Only the wall clocks move (CLOCK_REALTIME and its coarse variant, gettimeofday, time);
 * the monotonic clocks, which leases use, are left alone. Built by tests/nemesis_test.sh. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long skew_s;

__attribute__((constructor)) static void init(void) {
  const char *s = getenv("NEMESIS_SKEW_S");
  skew_s = s ? strtol(s, NULL, 10) : 0;
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
  const long rc = syscall(SYS_clock_gettime, clock, ts);
  if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) ts->tv_sec += skew_s;
  return (int)rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
  struct timespec ts;
  (void)tz;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  if (tv) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return 0;
}

time_t time(time_t *out) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}
