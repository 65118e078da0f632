/* SPDX-License-Identifier: GPL-2.0 */
/*
 * core_test.h - helpers for the selftests of the core runtime (runtime.c,
 * task.c, time.c, tls.c, preempt.c, detach.c, million.c, stack.c), on top
 * of lib_test.h.
 *
 *   ut_vm()          the VM runner set USCHED_VM=1: scale heavy tests down
 *                    (TCG is 5-10x slower, and the guest has 2 GiB)
 *   ut_slow()        USCHED_TEST_SLOW=<n> (default 1): a kernel n times
 *                    slower still (the debug kernel: KASAN, lockdep):
 *                    time bounds grow, loads shrink by that factor
 *   UT_ASAN, UT_TSAN the sanitizer this program was built with
 *   ut_stats()       usched_stats_get() of the running runtime
 *   ut_rss_bytes()   resident set size, from /proc/self/statm
 *   ut_map_count()   mappings in /proc/self/maps
 *   ut_gettid()      the calling OS thread (a task: its worker now)
 *   ut_spin_ns()     burn CPU in this program's own code (preemptible)
 *   ut_env_u64()     a number from the environment, or a default
 *   ut_settle_live() in a task: wait (2 s at most) for stats.tasks_live
 *                    to reach a value (a joined task may still be counted
 *                    for a moment after its joiner resumed)
 */
#ifndef CORE_TEST_H
#define CORE_TEST_H

#include <stdbool.h>
#include <sys/syscall.h>

#include "lib_test.h"

#if defined(__SANITIZE_ADDRESS__)
#define UT_ASAN 1
#else
#define UT_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#define UT_TSAN 1
#else
#define UT_TSAN 0
#endif

static inline bool ut_vm(void)
{
	const char *e = getenv("USCHED_VM");

	return e && *e && strcmp(e, "0");
}

static inline uint64_t ut_env_u64(const char *name, uint64_t def)
{
	const char *e = getenv(name);
	char *end;
	unsigned long long v;

	if (!e || !*e)
		return def;
	v = strtoull(e, &end, 0);
	return *end ? def : v;
}

/* USCHED_TEST_SLOW, at least 1. */
static inline uint64_t ut_slow(void)
{
	uint64_t f = ut_env_u64("USCHED_TEST_SLOW", 1);

	return f ? f : 1;
}

static inline struct usched_stats ut_stats(void)
{
	struct usched_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (usched_stats_get(&st))
		memset(&st, 0, sizeof(st));
	return st;
}

static inline long ut_rss_bytes(void)
{
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static inline long ut_map_count(void)
{
	char buf[4096];
	long n = 0;
	size_t got, i;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < got; i++)
			n += buf[i] == '\n';
	fclose(f);
	return n;
}

static inline pid_t ut_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Spin for @ns in this program's own code (a preemptible loop: the clock
 * is read only every few thousand iterations).  Returns the iterations.
 */
static inline uint64_t ut_spin_ns(uint64_t ns)
{
	uint64_t end = ut_now() + ns, n = 0;
	volatile uint64_t x = 1;

	for (;;) {
		for (int i = 0; i < 4096; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
		n += 4096;
		if (ut_now() >= end)
			return n;
	}
}

static inline uint64_t ut_settle_live(uint64_t want)
{
	uint64_t end = ut_now() + 2000 * MS, live;

	while ((live = ut_stats().tasks_live) != want && ut_now() < end)
		usched_sleep(1 * MS);
	return live;
}

/* usched_main() with @cfg (slots, flags, slice already set by the caller). */
static inline int ut_run_cfg(const struct usched_config *cfg,
			     int (*fn)(void *), void *arg)
{
	return usched_main(cfg, fn, arg);
}

#endif /* CORE_TEST_H */
