// SPDX-License-Identifier: GPL-2.0
/*
 * time.c - usched_now(), usched_sleep() and usched_sleep_until(): the
 * clock is monotonic and is CLOCK_MONOTONIC; a sleep never ends early and
 * ends late by a bounded amount (an idle runtime, a busy one, and 10k
 * sleepers at once); a cancelled sleep returns -ECANCELED; plain threads
 * sleep too.
 *
 * Lateness is judged the way a loaded host allows (plain threads here see
 * 500 ms outliers at load 10 on 2 CPUs): the median must stay under
 * LATE_MED_MS and the 90th percentile under LATE_P90_MS, every sleep under
 * LATE_MAX_MS (something stuck, not a slow host); times 3 under a
 * sanitizer, times 5 in the VM (TCG).  The percentiles are printed.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "core_test.h"

#define LATE_MED_MS	5
#define LATE_P90_MS	200
#define LATE_MAX_MS	2000

static uint64_t scaled(uint64_t ms)
{
	uint64_t b = ms * MS;

	if (UT_ASAN || UT_TSAN)
		b *= 3;
	if (ut_vm())
		b *= 5;
	return b * ut_slow();
}

/* Lateness samples, and their verdict. */
struct lateness {
	uint64_t *v;
	unsigned int n, cap;
	_Atomic unsigned int early;
	usched_mutex_t lock;
};

static void late_add(struct lateness *l, uint64_t late)
{
	usched_mutex_lock(&l->lock);
	if (l->n < l->cap)
		l->v[l->n++] = late;
	usched_mutex_unlock(&l->lock);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* In the test body: sort, print, check. */
static void late_check(struct __test_metadata *_metadata,
		       struct lateness *l, const char *what)
{
	uint64_t med, p90, max;

	ASSERT_GT(l->n, 0);
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_u64);
	med = l->v[l->n / 2];
	p90 = l->v[l->n * 9 / 10];
	max = l->v[l->n - 1];
	TH_LOG("%s: %u sleeps late by %llu us (median), %llu us (90%%), "
	       "%llu us (max)", what, l->n, (unsigned long long)med / US,
	       (unsigned long long)p90 / US, (unsigned long long)max / US);
	EXPECT_EQ(0, atomic_load(&l->early));
	EXPECT_LE(med, scaled(LATE_MED_MS));
	EXPECT_LE(p90, scaled(LATE_P90_MS));
	EXPECT_LE(max, scaled(LATE_MAX_MS));
}

static uint64_t clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- the clock --------------------------------------------------------- */

static int monotonic_fn(void *arg)
{
	uint64_t prev = usched_now(), now;
	int i;

	for (i = 0; i < 20000; i++) {
		now = usched_now();
		T_CHECK(now >= prev);
		prev = now;
		if (!(i % 1000))
			T_EQ(0, usched_yield());	/* maybe elsewhere */
	}
	return 0;
}

static int monotonic_main(void *arg)
{
	usched_task_t *t[8];
	int i;

	for (i = 0; i < 8; i++)
		T_EQ(0, ut_spawn(&t[i], monotonic_fn, NULL));
	for (i = 0; i < 8; i++)
		T_EQ(0, ut_join(t[i]));
	return 0;
}

TEST(time_now_monotonic)
{
	uint64_t a, b, c, prev;
	int i;

	/* It is CLOCK_MONOTONIC, in nanoseconds, without the runtime too. */
	a = clock_mono();
	b = usched_now();
	c = clock_mono();
	EXPECT_LE(a, b);
	EXPECT_LE(b, c);
	prev = usched_now();
	for (i = 0; i < 100000; i++) {
		b = usched_now();
		ASSERT_LE(prev, b);
		prev = b;
	}
	ASSERT_UT_OK(ut_run_slots(2, monotonic_main, NULL));
}

/* ---- accuracy ---------------------------------------------------------- */

struct acc {
	struct lateness l;
	int busy;		/* a yielding task shares the slot */
	atomic_int stop;
};

static int sleep_check(struct acc *a, uint64_t d, bool until)
{
	uint64_t t0 = usched_now(), t1;

	if (until)
		T_EQ(0, usched_sleep_until(t0 + d));
	else
		T_EQ(0, usched_sleep(d));
	t1 = usched_now();
	if (t1 - t0 < d) {
		fprintf(stderr, "# %s(%llu ns) returned after %llu ns\n",
			until ? "sleep_until" : "sleep", (unsigned long long)d,
			(unsigned long long)(t1 - t0));
		atomic_fetch_add(&a->l.early, 1);
		return 0;
	}
	late_add(&a->l, t1 - t0 - d);
	return 0;
}

static int busy_yielder(void *arg)
{
	struct acc *a = arg;

	while (!atomic_load(&a->stop))
		usched_yield();
	return 0;
}

static int accuracy_main(void *arg)
{
	static const uint64_t d[] = { 0, 1 * US, 50 * US, 200 * US, 1 * MS,
				      3 * MS, 10 * MS, 25 * MS };
	struct acc *a = arg;
	usched_task_t *y = NULL;
	unsigned int i, round;

	if (a->busy)
		T_EQ(0, ut_spawn(&y, busy_yielder, a));
	for (round = 0; round < 3; round++)
		for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
			if (sleep_check(a, d[i], false) ||
			    sleep_check(a, d[i], true))
				break;
		}
	atomic_store(&a->stop, 1);
	if (y)
		T_EQ(0, ut_join(y));
	return 0;
}

static uint64_t acc_samples[256];

TEST(time_sleep_never_early_late_bounded)
{
	struct acc a = { .l = { .v = acc_samples, .cap = 256 } };

	ASSERT_UT_OK(ut_run_slots(2, accuracy_main, &a));
	late_check(_metadata, &a.l, "idle runtime");
}

/* The slot is never idle: a task yields all the time beside the sleeper. */
TEST(time_sleep_late_bounded_busy_slot)
{
	struct acc a = { .l = { .v = acc_samples, .cap = 256 }, .busy = 1 };

	ASSERT_UT_OK(ut_run_slots(1, accuracy_main, &a));
	late_check(_metadata, &a.l, "busy slot");
}

static int past_main(void *arg)
{
	uint64_t t0 = usched_now();
	int i;

	/* A deadline already past: no wait (maybe a yield). */
	for (i = 0; i < 1000; i++) {
		T_EQ(0, usched_sleep_until(0));
		T_EQ(0, usched_sleep_until(usched_now() - 1));
		T_EQ(0, usched_sleep(0));
	}
	T_CHECK(usched_now() - t0 < 500 * MS * (ut_vm() ? 5 : 1));
	return 0;
}

TEST(time_sleep_past_deadline_returns_at_once)
{
	ASSERT_UT_OK(ut_run_slots(1, past_main, NULL));
}

/* ---- cancellation ------------------------------------------------------ */

struct csleep {
	atomic_int started;
	int r_sleep, r_until, r_after;
	uint64_t elapsed;
};

static int long_sleeper(void *arg)
{
	struct csleep *c = arg;
	uint64_t t0 = usched_now();

	atomic_store(&c->started, 1);
	c->r_sleep = usched_sleep(10000 * MS);
	c->elapsed = usched_now() - t0;
	/* Cancelled stays cancelled. */
	c->r_until = usched_sleep_until(USCHED_NEVER);
	c->r_after = usched_sleep(0);
	return 0;
}

static int cancel_main(void *arg)
{
	struct csleep c = { 0 }, d = { 0 };
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, long_sleeper, &c));
	while (!atomic_load(&c.started))
		usched_sleep(1 * MS);
	usched_sleep(20 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(0, ut_join(t));
	T_EQ(-ECANCELED, c.r_sleep);
	T_EQ(-ECANCELED, c.r_until);
	T_EQ(-ECANCELED, c.r_after);
	T_CHECK(c.elapsed >= 20 * MS);
	T_CHECK(c.elapsed < 2000 * MS);

	/* sleep_until(USCHED_NEVER) ends only by a cancel. */
	T_EQ(0, ut_spawn(&t, long_sleeper, &d));
	T_EQ(0, usched_cancel(t));
	T_EQ(0, ut_join(t));
	T_EQ(-ECANCELED, d.r_sleep);
	T_EQ(-ECANCELED, d.r_until);
	return 0;
}

TEST(time_sleep_cancel_ecanceled)
{
	ASSERT_UT_OK(ut_run_slots(2, cancel_main, NULL));
}

/* A plain thread cancels a sleeping task. */
TEST(time_sleep_cancel_from_plain_thread)
{
	struct csleep c = { 0 };
	usched_task_t *t;

	ASSERT_EQ(0, usched_start(NULL));
	ASSERT_EQ(0, ut_spawn(&t, long_sleeper, &c));
	while (!atomic_load(&c.started))
		ut_thread_sleep_ms(1);
	ut_thread_sleep_ms(10);
	EXPECT_EQ(0, usched_cancel(t));
	EXPECT_EQ(0, ut_join(t));
	EXPECT_EQ(-ECANCELED, c.r_sleep);
	EXPECT_LT(c.elapsed, 2000 * MS);
	EXPECT_EQ(0, usched_stop());
}

/* ---- plain threads ----------------------------------------------------- */

static void *plain_sleeper(void *arg)
{
	uint64_t t0 = usched_now(), *el = arg;

	if (usched_sleep(15 * MS))
		return (void *)1;
	el[0] = usched_now() - t0;
	t0 = usched_now();
	if (usched_sleep_until(t0 + 5 * MS) || usched_sleep_until(0))
		return (void *)1;
	el[1] = usched_now() - t0;
	return NULL;
}

TEST(time_sleep_plain_thread)
{
	uint64_t el[2] = { 0, 0 };
	pthread_t th;
	void *r;

	/* Without the runtime. */
	EXPECT_EQ(NULL, plain_sleeper(el));
	EXPECT_GE(el[0], 15 * MS);
	EXPECT_LE(el[0], 15 * MS + scaled(LATE_MAX_MS));
	EXPECT_GE(el[1], 5 * MS);
	/* While it runs, from another thread. */
	ASSERT_EQ(0, usched_start(NULL));
	ASSERT_EQ(0, pthread_create(&th, NULL, plain_sleeper, el));
	pthread_join(th, &r);
	EXPECT_EQ(NULL, r);
	EXPECT_GE(el[0], 15 * MS);
	EXPECT_LE(el[0], 15 * MS + scaled(LATE_MAX_MS));
	EXPECT_GE(el[1], 5 * MS);
	EXPECT_EQ(0, usched_stop());
}

/* ---- many sleepers ----------------------------------------------------- */

struct sleepers {
	usched_wg_t wg;
	struct lateness l;
	atomic_int woke;
	uint64_t seed;
};

struct sleeper_arg {
	struct sleepers *s;
	uint64_t ns;
};

static int short_sleeper(void *arg)
{
	struct sleeper_arg *a = arg;
	uint64_t deadline = usched_now() + a->ns, now;
	int r;

	r = a->ns & 1 ? usched_sleep_until(deadline) : usched_sleep(a->ns);
	now = usched_now();
	if (r || now < deadline)
		atomic_fetch_add(&a->s->l.early, 1);
	else
		late_add(&a->s->l, now - deadline);
	atomic_fetch_add(&a->s->woke, 1);
	usched_wg_done(&a->s->wg);
	return 0;
}

static int sleepers_main(void *arg)
{
	struct sleepers *s = arg;
	unsigned int n = s->l.cap, i;
	struct sleeper_arg *a = calloc(n, sizeof(*a));
	struct usched_attr at;
	uint64_t t0 = usched_now();

	T_CHECK(a);
	usched_attr_init(&at);
	at.flags = USCHED_ATTR_DETACHED;
	T_EQ(0, usched_wg_add(&s->wg, n));
	for (i = 0; i < n; i++) {
		a[i].s = s;
		a[i].ns = ut_rand(&s->seed) % (50 * MS) + 1;
		T_EQ(0, usched_spawn(NULL, &at, short_sleeper, &a[i]));
	}
	T_EQ(0, usched_wg_wait_until(&s->wg, usched_now() + 15000 * MS));
	fprintf(stderr, "# %u sleepers woke in %llu ms\n", n,
		(unsigned long long)(usched_now() - t0) / MS);
	T_EQ(n, atomic_load(&s->woke));
	free(a);
	return 0;
}

TEST(time_many_sleepers_all_wake)
{
	static struct sleepers s = { .wg = USCHED_WG_INIT, .seed = 0x5eed };
	/* TSan: each task is a fiber, and TSan allows 8128 threads live. */
	unsigned int n = ut_vm() ? 2000 : UT_TSAN ? 5000 : 10000;

	n = ut_env_u64("USCHED_SLEEPERS", n);
	s.l.v = calloc(n, sizeof(s.l.v[0]));
	s.l.cap = n;
	ASSERT_NE(NULL, s.l.v);
	ASSERT_UT_OK(ut_run_slots(2, sleepers_main, &s));
	late_check(_metadata, &s.l, "10k sleepers");
}

TEST_HARNESS_MAIN
