/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib_test.h - helpers shared by the library selftests.
 *
 * The harness's ASSERT_* and EXPECT_* longjmp back into the test function
 * on failure; code that runs in a task runs on another stack, usually on
 * another thread, so it must not use them.  Tasks check with T_CHECK() and
 * T_EQ() instead, which record the first failure (file line, expression,
 * values) and make the calling function return -1; the test body then
 * runs the tasks with ut_run() and asserts with ASSERT_UT_OK() that the
 * run returned 0 and nothing failed, printing what failed otherwise.
 */
#ifndef LIB_TEST_H
#define LIB_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "usched.h"

#define MS	1000000ull
#define US	1000ull

struct ut_failure {
	atomic_int failed;
	int line;
	char what[256];
};

static struct ut_failure ut_failure;

static inline void ut_record(int line, const char *expr, long long exp,
			     long long got, int vals)
{
	if (atomic_exchange(&ut_failure.failed, 1))
		return;
	ut_failure.line = line;
	if (vals)
		snprintf(ut_failure.what, sizeof(ut_failure.what),
			 "%s: expected %lld, got %lld", expr, exp, got);
	else
		snprintf(ut_failure.what, sizeof(ut_failure.what), "%s", expr);
}

/* In a task (or a helper returning int): check, else record and return -1. */
#define T_CHECK(cond) do {						\
	if (!(cond)) {							\
		ut_record(__LINE__, #cond, 0, 0, 0);			\
		return -1;						\
	}								\
} while (0)

#define T_EQ(exp, got) do {						\
	long long __e = (long long)(exp), __g = (long long)(got);	\
	if (__e != __g) {						\
		ut_record(__LINE__, #exp " == " #got, __e, __g, 1);	\
		return -1;						\
	}								\
} while (0)

/* Record only (for void functions). */
#define T_NOTE(cond) do {						\
	if (!(cond))							\
		ut_record(__LINE__, #cond, 0, 0, 0);			\
} while (0)

/* In the test body, after the tasks ran: @r is what the run returned. */
#define ASSERT_UT_OK(r) do {						\
	int __r = (r);							\
	if (atomic_load(&ut_failure.failed))				\
		TH_LOG("line %d: %s", ut_failure.line, ut_failure.what); \
	ASSERT_EQ(0, atomic_load(&ut_failure.failed));			\
	ASSERT_EQ(0, __r);						\
} while (0)

/* Start the runtime with @slots slots (0: default), run fn(arg) as main. */
static inline int ut_run_slots(unsigned int slots, int (*fn)(void *), void *arg)
{
	struct usched_config cfg;

	usched_config_init(&cfg);
	cfg.slots = slots;
	return usched_main(&cfg, fn, arg);
}

static inline int ut_run(int (*fn)(void *), void *arg)
{
	return ut_run_slots(4, fn, arg);
}

static inline uint64_t ut_now(void)
{
	return usched_now();
}

/* Spawn a joinable task; -errno on failure. */
static inline int ut_spawn(usched_task_t **t, int (*fn)(void *), void *arg)
{
	return usched_spawn(t, NULL, fn, arg);
}

/* Join @t and return its result (or the join's error). */
static inline int ut_join(usched_task_t *t)
{
	int res = -1000, r = usched_join(t, &res);

	return r ? r : res;
}

/* Sleep in a plain thread (not a task). */
static inline void ut_thread_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

/* A small deterministic PRNG (xorshift64*), for stress tests. */
static inline uint64_t ut_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif /* LIB_TEST_H */
