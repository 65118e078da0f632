// SPDX-License-Identifier: GPL-2.0
/*
 * sync.c - mutex, condition variable, semaphore, wait group and once:
 * every call, deadlines, cancellation, FIFO handoff, and use from plain
 * threads (with and without the runtime).
 */
#include "kselftest_harness.h"
#include "lib_test.h"

/* ---- mutex -------------------------------------------------------------- */

static int mutex_basic_main(void *arg)
{
	usched_mutex_t m = USCHED_MUTEX_INIT, m2;

	T_EQ(0, usched_mutex_lock(&m));
	T_EQ(-EBUSY, usched_mutex_trylock(&m));
	usched_mutex_unlock(&m);
	T_EQ(0, usched_mutex_trylock(&m));
	usched_mutex_unlock(&m);
	/* A free mutex is taken even with a past deadline. */
	T_EQ(0, usched_mutex_lock_until(&m, 0));
	usched_mutex_unlock(&m);
	usched_mutex_init(&m2);
	T_EQ(0, usched_mutex_lock(&m2));
	usched_mutex_unlock(&m2);
	return 0;
}

TEST(mutex_lock_trylock_unlock)
{
	ASSERT_UT_OK(ut_run(mutex_basic_main, NULL));
}

TEST(mutex_null_einval)
{
	EXPECT_EQ(-EINVAL, usched_mutex_lock(NULL));
	EXPECT_EQ(-EINVAL, usched_mutex_lock_until(NULL, USCHED_NEVER));
	EXPECT_EQ(-EINVAL, usched_mutex_trylock(NULL));
	usched_mutex_unlock(NULL);
	usched_mutex_init(NULL);
}

struct counter {
	usched_mutex_t m;
	long value;
	int iters;
	int tasks;
};

static int counter_task(void *arg)
{
	struct counter *c = arg;
	int i;

	for (i = 0; i < c->iters; i++) {
		T_EQ(0, usched_mutex_lock(&c->m));
		c->value++;
		if (!(i & 63))
			usched_yield();	/* switch while holding it */
		usched_mutex_unlock(&c->m);
	}
	return 0;
}

static int counter_main(void *arg)
{
	struct counter *c = arg;
	usched_task_t *t[64];
	int i;

	for (i = 0; i < c->tasks; i++)
		T_EQ(0, ut_spawn(&t[i], counter_task, c));
	for (i = 0; i < c->tasks; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ((long)c->tasks * c->iters, c->value);
	return 0;
}

TEST(mutex_contended_counter_exact)
{
	struct counter c = { .m = USCHED_MUTEX_INIT, .iters = 20000,
			     .tasks = 16 };

	ASSERT_UT_OK(ut_run(counter_main, &c));
	EXPECT_EQ(16 * 20000, c.value);
}

/* FIFO: waiters get the mutex in the order they queued. */
struct fifo {
	usched_mutex_t m;
	atomic_int order[8];
	atomic_int n;
};

struct fifo_arg {
	struct fifo *f;
	int id;
};

static int fifo_task(void *arg)
{
	struct fifo_arg *a = arg;

	T_EQ(0, usched_mutex_lock(&a->f->m));
	a->f->order[atomic_fetch_add(&a->f->n, 1)] = a->id;
	usched_mutex_unlock(&a->f->m);
	return 0;
}

/*
 * A peek at the mutex's private queue tail, written by the library under
 * its internal lock: racy on purpose (it only has to change eventually),
 * so hidden from ThreadSanitizer.
 */
__attribute__((no_sanitize_thread, noinline))
static void *mutex_tail(usched_mutex_t *m)
{
	return *(void *volatile *)&m->tail;
}

static int fifo_main(void *arg)
{
	struct fifo *f = arg;
	struct fifo_arg a[6];
	usched_task_t *t[6];
	int i;

	T_EQ(0, usched_mutex_lock(&f->m));
	for (i = 0; i < 6; i++) {
		void *tail = mutex_tail(&f->m);

		a[i] = (struct fifo_arg){ f, i };
		T_EQ(0, ut_spawn(&t[i], fifo_task, &a[i]));
		/* Queued (the private tail moved) before the next one comes. */
		while (mutex_tail(&f->m) == tail)
			usched_sleep(1 * MS);
	}
	usched_mutex_unlock(&f->m);
	for (i = 0; i < 6; i++)
		T_EQ(0, ut_join(t[i]));
	for (i = 0; i < 6; i++)
		T_EQ(i, f->order[i]);
	return 0;
}

TEST(mutex_waiters_fifo_handoff)
{
	struct fifo f = { .m = USCHED_MUTEX_INIT };

	ASSERT_UT_OK(ut_run(fifo_main, &f));
}

struct held {
	usched_mutex_t m;
	uint64_t deadline;
	uint64_t t0, t1;
};

static int lock_until_task(void *arg)
{
	struct held *h = arg;
	int r;

	h->t0 = ut_now();
	r = usched_mutex_lock_until(&h->m, h->deadline);
	h->t1 = ut_now();
	if (!r)
		usched_mutex_unlock(&h->m);
	return r;
}

static int mutex_timeout_main(void *arg)
{
	struct held *h = arg;
	usched_task_t *t;

	T_EQ(0, usched_mutex_lock(&h->m));
	/* Past deadline: a non-blocking attempt. */
	h->deadline = 0;
	T_EQ(0, ut_spawn(&t, lock_until_task, h));
	T_EQ(-ETIMEDOUT, ut_join(t));
	/* A real one. */
	h->deadline = ut_now() + 30 * MS;
	T_EQ(0, ut_spawn(&t, lock_until_task, h));
	T_EQ(-ETIMEDOUT, ut_join(t));
	T_CHECK(h->t1 >= h->deadline);
	T_CHECK(h->t1 < h->deadline + 2000 * MS);
	/* The timed-out waiter is gone: unlock frees the mutex. */
	usched_mutex_unlock(&h->m);
	T_EQ(0, usched_mutex_trylock(&h->m));
	usched_mutex_unlock(&h->m);
	/* A deadline that is met. */
	T_EQ(0, usched_mutex_lock(&h->m));
	h->deadline = ut_now() + 5000 * MS;
	T_EQ(0, ut_spawn(&t, lock_until_task, h));
	usched_sleep(10 * MS);
	usched_mutex_unlock(&h->m);
	T_EQ(0, ut_join(t));
	return 0;
}

TEST(mutex_lock_until_timeout)
{
	struct held h = { .m = USCHED_MUTEX_INIT };

	ASSERT_UT_OK(ut_run(mutex_timeout_main, &h));
}

static int lock_task(void *arg)
{
	usched_mutex_t *m = arg;
	int r = usched_mutex_lock(m);

	if (!r)
		usched_mutex_unlock(m);
	return r;
}

static int mutex_cancel_main(void *arg)
{
	usched_mutex_t m = USCHED_MUTEX_INIT;
	usched_task_t *t, *t2;

	T_EQ(0, usched_mutex_lock(&m));
	T_EQ(0, ut_spawn(&t, lock_task, &m));
	T_EQ(0, ut_spawn(&t2, lock_task, &m));
	usched_sleep(20 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* The other waiter still gets it. */
	usched_mutex_unlock(&m);
	T_EQ(0, ut_join(t2));
	T_EQ(0, usched_mutex_trylock(&m));
	usched_mutex_unlock(&m);
	return 0;
}

TEST(mutex_lock_cancelled_ecanceled)
{
	ASSERT_UT_OK(ut_run(mutex_cancel_main, NULL));
}

static int cancelled_self_task(void *arg)
{
	usched_mutex_t *m = arg;

	T_EQ(0, usched_cancel(usched_self()));
	T_CHECK(usched_cancelled());
	/* A free mutex is still taken (cleanup may need it)... */
	T_EQ(0, usched_mutex_lock(m));
	usched_mutex_unlock(m);
	return 0;
}

static int mutex_cancelled_free_main(void *arg)
{
	usched_mutex_t m = USCHED_MUTEX_INIT;
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, cancelled_self_task, &m));
	T_EQ(0, ut_join(t));
	/* ...but a held one is not waited for. */
	T_EQ(0, usched_mutex_lock(&m));
	T_EQ(0, ut_spawn(&t, lock_task, &m));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	usched_mutex_unlock(&m);
	return 0;
}

TEST(mutex_cancelled_task_takes_free_mutex)
{
	ASSERT_UT_OK(ut_run(mutex_cancelled_free_main, NULL));
}

static void *counter_thread(void *arg)
{
	struct counter *c = arg;
	int i;

	for (i = 0; i < c->iters; i++) {
		if (usched_mutex_lock(&c->m))
			return (void *)1;
		c->value++;
		usched_mutex_unlock(&c->m);
	}
	return NULL;
}

TEST(mutex_plain_threads_without_runtime)
{
	struct counter c = { .m = USCHED_MUTEX_INIT, .iters = 50000 };
	pthread_t th[4];
	void *ret;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, counter_thread, &c));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(NULL, ret);
	}
	EXPECT_EQ(4 * 50000, c.value);
}

static int mixed_main(void *arg)
{
	struct counter *c = arg;
	usched_task_t *t[8];
	int i;

	for (i = 0; i < 8; i++)
		T_EQ(0, ut_spawn(&t[i], counter_task, c));
	for (i = 0; i < 8; i++)
		T_EQ(0, ut_join(t[i]));
	return 0;
}

TEST(mutex_threads_and_tasks_share)
{
	struct counter c = { .m = USCHED_MUTEX_INIT, .iters = 20000 };
	pthread_t th[2];
	int i;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, counter_thread, &c));
	ASSERT_UT_OK(ut_run(mixed_main, &c));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	EXPECT_EQ(10 * 20000, c.value);
}

static void *timed_lock_thread(void *arg)
{
	struct held *h = arg;

	return (void *)(intptr_t)usched_mutex_lock_until(&h->m, h->deadline);
}

TEST(mutex_plain_thread_lock_until_timeout)
{
	struct held h = { .m = USCHED_MUTEX_INIT };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, usched_mutex_lock(&h.m));
	h.deadline = ut_now() + 20 * MS;
	ASSERT_EQ(0, pthread_create(&th, NULL, timed_lock_thread, &h));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(-ETIMEDOUT, (int)(intptr_t)ret);
	EXPECT_LE(h.deadline, ut_now());
	usched_mutex_unlock(&h.m);
	EXPECT_EQ(0, usched_mutex_trylock(&h.m));
}

/* ---- condition variables ------------------------------------------------ */

struct cv {
	usched_mutex_t m;
	usched_cond_t c;
	int ready;		/* under m */
	int woken;		/* under m */
	int waiting;		/* under m */
	uint64_t deadline;
};

static int cv_wait_task(void *arg)
{
	struct cv *cv = arg;
	int r = 0;

	T_EQ(0, usched_mutex_lock(&cv->m));
	cv->waiting++;
	while (!cv->ready && !r)
		r = usched_cond_wait(&cv->c, &cv->m);
	if (!r) {
		cv->ready--;
		cv->woken++;
	}
	usched_mutex_unlock(&cv->m);
	return r;
}

static int wait_for_waiting(struct cv *cv, int n)
{
	int w;

	do {
		usched_sleep(1 * MS);
		T_EQ(0, usched_mutex_lock(&cv->m));
		w = cv->waiting;
		usched_mutex_unlock(&cv->m);
	} while (w < n);
	return 0;
}

static int cv_signal_main(void *arg)
{
	struct cv *cv = arg;
	usched_task_t *t[4];
	int i, woken;

	for (i = 0; i < 4; i++)
		T_EQ(0, ut_spawn(&t[i], cv_wait_task, cv));
	/* Seen under m: each waiter queued itself before it released m. */
	T_EQ(0, wait_for_waiting(cv, 4));

	/* Signal wakes one, and only one. */
	T_EQ(0, usched_mutex_lock(&cv->m));
	cv->ready = 1;
	usched_cond_signal(&cv->c);
	usched_mutex_unlock(&cv->m);
	do {
		usched_sleep(1 * MS);
		T_EQ(0, usched_mutex_lock(&cv->m));
		woken = cv->woken;
		usched_mutex_unlock(&cv->m);
	} while (!woken);
	usched_sleep(20 * MS);
	T_EQ(0, usched_mutex_lock(&cv->m));
	woken = cv->woken;
	usched_mutex_unlock(&cv->m);
	T_EQ(1, woken);

	/* Broadcast wakes the rest. */
	T_EQ(0, usched_mutex_lock(&cv->m));
	cv->ready = 3;
	usched_cond_broadcast(&cv->c);
	usched_mutex_unlock(&cv->m);
	for (i = 0; i < 4; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(4, cv->woken);
	/* Signals with nobody waiting are not remembered. */
	usched_cond_signal(&cv->c);
	usched_cond_broadcast(&cv->c);
	return 0;
}

TEST(cond_signal_one_broadcast_all)
{
	struct cv cv = { .m = USCHED_MUTEX_INIT, .c = USCHED_COND_INIT };

	ASSERT_UT_OK(ut_run(cv_signal_main, &cv));
}

static int cv_timeout_main(void *arg)
{
	struct cv *cv = arg;
	uint64_t d;

	usched_cond_init(&cv->c);
	T_EQ(0, usched_mutex_lock(&cv->m));
	/* Past deadline: at once, the mutex still held. */
	T_EQ(-ETIMEDOUT, usched_cond_wait_until(&cv->c, &cv->m, 0));
	T_EQ(-EBUSY, usched_mutex_trylock(&cv->m));
	d = ut_now() + 25 * MS;
	T_EQ(-ETIMEDOUT, usched_cond_wait_until(&cv->c, &cv->m, d));
	T_CHECK(ut_now() >= d);
	/* Locked again on the error path. */
	T_EQ(-EBUSY, usched_mutex_trylock(&cv->m));
	usched_mutex_unlock(&cv->m);
	/* The timed-out waiter left the queue: a signal finds nobody. */
	usched_cond_signal(&cv->c);
	T_CHECK(cv->c.head == NULL);
	return 0;
}

TEST(cond_wait_until_timeout_relocks)
{
	struct cv cv = { .m = USCHED_MUTEX_INIT };

	ASSERT_UT_OK(ut_run(cv_timeout_main, &cv));
}

static int cv_cancel_task(void *arg)
{
	struct cv *cv = arg;
	int r;

	T_EQ(0, usched_mutex_lock(&cv->m));
	cv->waiting++;
	r = usched_cond_wait(&cv->c, &cv->m);
	/* Re-locked even though cancelled. */
	T_EQ(-EBUSY, usched_mutex_trylock(&cv->m));
	usched_mutex_unlock(&cv->m);
	return r;
}

static int cv_cancel_main(void *arg)
{
	struct cv *cv = arg;
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, cv_cancel_task, cv));
	T_EQ(0, wait_for_waiting(cv, 1));
	/* Hold the mutex across the cancel: the relock must wait for it. */
	T_EQ(0, usched_mutex_lock(&cv->m));
	T_EQ(0, usched_cancel(t));
	usched_sleep(10 * MS);
	usched_mutex_unlock(&cv->m);
	T_EQ(-ECANCELED, ut_join(t));
	/* A cancelled task's wait fails at once, mutex kept. */
	T_EQ(0, usched_cancel(usched_self()));
	T_EQ(0, usched_mutex_lock(&cv->m));
	T_EQ(-ECANCELED, usched_cond_wait(&cv->c, &cv->m));
	usched_mutex_unlock(&cv->m);
	return 0;
}

TEST(cond_wait_cancelled_relocks)
{
	struct cv cv = { .m = USCHED_MUTEX_INIT, .c = USCHED_COND_INIT };

	ASSERT_UT_OK(ut_run(cv_cancel_main, &cv));
}

TEST(cond_null_einval)
{
	usched_mutex_t m = USCHED_MUTEX_INIT;
	usched_cond_t c = USCHED_COND_INIT;

	EXPECT_EQ(-EINVAL, usched_cond_wait(NULL, &m));
	EXPECT_EQ(-EINVAL, usched_cond_wait(&c, NULL));
	EXPECT_EQ(-EINVAL, usched_cond_wait_until(NULL, &m, 0));
	usched_cond_signal(NULL);
	usched_cond_broadcast(NULL);
}

/* A bounded queue under a mutex with two conditions: threads and tasks. */
#define PC_ITEMS	20000
#define PC_SIZE		8

struct pc {
	usched_mutex_t m;
	usched_cond_t notfull, notempty;
	long q[PC_SIZE];
	int head, len;
	long sum;
	int done;
};

static int pc_put(struct pc *p, long v)
{
	T_EQ(0, usched_mutex_lock(&p->m));
	while (p->len == PC_SIZE)
		T_EQ(0, usched_cond_wait(&p->notfull, &p->m));
	p->q[(p->head + p->len++) % PC_SIZE] = v;
	usched_cond_signal(&p->notempty);
	usched_mutex_unlock(&p->m);
	return 0;
}

static int pc_get(struct pc *p, long *v)
{
	T_EQ(0, usched_mutex_lock(&p->m));
	while (!p->len)
		T_EQ(0, usched_cond_wait(&p->notempty, &p->m));
	*v = p->q[p->head];
	p->head = (p->head + 1) % PC_SIZE;
	p->len--;
	usched_cond_signal(&p->notfull);
	usched_mutex_unlock(&p->m);
	return 0;
}

static void *pc_thread_producer(void *arg)
{
	struct pc *p = arg;
	long i;

	for (i = 1; i <= PC_ITEMS; i++)
		if (pc_put(p, i))
			return (void *)1;
	return NULL;
}

static int pc_task_consumer(void *arg)
{
	struct pc *p = arg;
	long v;
	int i;

	for (i = 0; i < PC_ITEMS / 2; i++) {
		T_EQ(0, pc_get(p, &v));
		__atomic_fetch_add(&p->sum, v, __ATOMIC_RELAXED);
	}
	return 0;
}

static int pc_main(void *arg)
{
	struct pc *p = arg;
	usched_task_t *t[2];
	int i;

	for (i = 0; i < 2; i++)
		T_EQ(0, ut_spawn(&t[i], pc_task_consumer, p));
	for (i = 0; i < 2; i++)
		T_EQ(0, ut_join(t[i]));
	return 0;
}

TEST(cond_producer_thread_consumer_tasks)
{
	struct pc p = { .m = USCHED_MUTEX_INIT, .notfull = USCHED_COND_INIT,
			.notempty = USCHED_COND_INIT };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, pthread_create(&th, NULL, pc_thread_producer, &p));
	ASSERT_UT_OK(ut_run(pc_main, &p));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ((long)PC_ITEMS * (PC_ITEMS + 1) / 2, p.sum);
}

/* ---- semaphores --------------------------------------------------------- */

TEST(sem_trywait_counts)
{
	usched_sem_t s = USCHED_SEM_INIT(2);

	EXPECT_EQ(0, usched_sem_trywait(&s));
	EXPECT_EQ(0, usched_sem_trywait(&s));
	EXPECT_EQ(-EAGAIN, usched_sem_trywait(&s));
	usched_sem_post(&s);
	EXPECT_EQ(0, usched_sem_trywait(&s));
	EXPECT_EQ(-EAGAIN, usched_sem_trywait(&s));
	/* Past deadline with a unit: taken; without: -ETIMEDOUT. */
	usched_sem_post(&s);
	EXPECT_EQ(0, usched_sem_wait_until(&s, 0));
	EXPECT_EQ(-ETIMEDOUT, usched_sem_wait_until(&s, 0));
	EXPECT_EQ(-EINVAL, usched_sem_wait(NULL));
	EXPECT_EQ(-EINVAL, usched_sem_trywait(NULL));
	usched_sem_post(NULL);
}

TEST(sem_negative_init_owes_posts)
{
	usched_sem_t s;

	usched_sem_init(&s, -2);
	EXPECT_EQ(-EAGAIN, usched_sem_trywait(&s));
	usched_sem_post(&s);
	usched_sem_post(&s);
	EXPECT_EQ(-EAGAIN, usched_sem_trywait(&s));
	usched_sem_post(&s);
	EXPECT_EQ(0, usched_sem_trywait(&s));
}

struct semt {
	usched_sem_t s;
	atomic_int got;
	uint64_t deadline;
};

static int sem_wait_task(void *arg)
{
	struct semt *st = arg;
	int r = usched_sem_wait_until(&st->s, st->deadline);

	if (!r)
		atomic_fetch_add(&st->got, 1);
	return r;
}

static int sem_main(void *arg)
{
	struct semt *st = arg;
	usched_task_t *t[5];
	uint64_t d;
	int i;

	st->deadline = USCHED_NEVER;
	for (i = 0; i < 5; i++)
		T_EQ(0, ut_spawn(&t[i], sem_wait_task, st));
	usched_sleep(10 * MS);
	T_EQ(0, atomic_load(&st->got));
	for (i = 0; i < 3; i++)
		usched_sem_post(&st->s);
	while (atomic_load(&st->got) < 3)
		usched_sleep(1 * MS);
	usched_sleep(10 * MS);
	T_EQ(3, atomic_load(&st->got));	/* and not more */
	/* A cancelled waiter leaves; the post goes to the next one. */
	for (i = 0; i < 5; i++)
		usched_cancel(t[i]);
	usched_sem_post(&st->s);
	for (i = 0; i < 5; i++) {
		int r = ut_join(t[i]);

		T_CHECK(r == 0 || r == -ECANCELED);
	}
	/* got + units left == posts: nothing lost to the cancels. */
	T_EQ(4, atomic_load(&st->got) +
	     (usched_sem_trywait(&st->s) == 0 ? 1 : 0));
	T_EQ(-EAGAIN, usched_sem_trywait(&st->s));
	/* Timeout. */
	d = ut_now() + 20 * MS;
	T_EQ(-ETIMEDOUT, usched_sem_wait_until(&st->s, d));
	T_CHECK(ut_now() >= d);
	return 0;
}

TEST(sem_wait_post_timeout_cancel)
{
	struct semt st = { .s = USCHED_SEM_INIT(0) };

	ASSERT_UT_OK(ut_run(sem_main, &st));
}

struct pingpong {
	usched_sem_t a, b;
	int rounds;
};

static void *ping_thread(void *arg)
{
	struct pingpong *p = arg;
	int i;

	for (i = 0; i < p->rounds; i++) {
		usched_sem_post(&p->a);
		if (usched_sem_wait(&p->b))
			return (void *)1;
	}
	return NULL;
}

static int pong_main(void *arg)
{
	struct pingpong *p = arg;
	int i;

	for (i = 0; i < p->rounds; i++) {
		T_EQ(0, usched_sem_wait(&p->a));
		usched_sem_post(&p->b);
	}
	return 0;
}

TEST(sem_thread_task_pingpong)
{
	struct pingpong p = { USCHED_SEM_INIT(0), USCHED_SEM_INIT(0), 5000 };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, pthread_create(&th, NULL, ping_thread, &p));
	ASSERT_UT_OK(ut_run(pong_main, &p));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
}

/* ---- wait groups --------------------------------------------------------- */

TEST(wg_add_below_zero_einval)
{
	usched_wg_t wg = USCHED_WG_INIT;

	EXPECT_EQ(-EINVAL, usched_wg_add(&wg, -1));
	EXPECT_EQ(0, usched_wg_add(&wg, 2));
	EXPECT_EQ(-EINVAL, usched_wg_add(&wg, -3));
	EXPECT_EQ(0, usched_wg_add(&wg, -2));
	EXPECT_EQ(0, usched_wg_wait(&wg));	/* zero: at once */
	EXPECT_EQ(0, usched_wg_add(&wg, INT64_MAX));
	EXPECT_EQ(-EINVAL, usched_wg_add(&wg, 1));
	EXPECT_EQ(-EINVAL, usched_wg_add(NULL, 1));
	EXPECT_EQ(-EINVAL, usched_wg_wait(NULL));
	usched_wg_done(NULL);
}

struct wgt {
	usched_wg_t wg;
	atomic_int done;
};

static int wg_worker(void *arg)
{
	struct wgt *w = arg;

	usched_sleep(5 * MS);
	atomic_fetch_add(&w->done, 1);
	usched_wg_done(&w->wg);
	return 0;
}

static int wg_waiter(void *arg)
{
	struct wgt *w = arg;

	T_EQ(0, usched_wg_wait(&w->wg));
	T_EQ(10, atomic_load(&w->done));
	return 0;
}

static int wg_plain_wait_task(void *arg)
{
	struct wgt *w = arg;

	return usched_wg_wait(&w->wg);
}

static int wg_main(void *arg)
{
	struct wgt *w = arg;
	usched_task_t *waiters[3], *t;
	struct usched_attr a;
	uint64_t d;
	int i;

	usched_wg_init(&w->wg);
	T_EQ(0, usched_wg_add(&w->wg, 10));
	for (i = 0; i < 3; i++)
		T_EQ(0, ut_spawn(&waiters[i], wg_waiter, w));
	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	for (i = 0; i < 10; i++)
		T_EQ(0, usched_spawn(NULL, &a, wg_worker, w));
	for (i = 0; i < 3; i++)
		T_EQ(0, ut_join(waiters[i]));

	/* Timeout and cancel. */
	T_EQ(0, usched_wg_add(&w->wg, 1));
	T_EQ(-ETIMEDOUT, usched_wg_wait_until(&w->wg, 0));
	d = ut_now() + 20 * MS;
	T_EQ(-ETIMEDOUT, usched_wg_wait_until(&w->wg, d));
	T_CHECK(ut_now() >= d);
	T_EQ(0, ut_spawn(&t, wg_plain_wait_task, w));
	usched_sleep(5 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	usched_wg_done(&w->wg);
	T_EQ(0, usched_wg_wait(&w->wg));
	return 0;
}

TEST(wg_wait_for_tasks_timeout_cancel)
{
	struct wgt w = { 0 };

	ASSERT_UT_OK(ut_run(wg_main, &w));
}

static void *wg_thread_waiter(void *arg)
{
	struct wgt *w = arg;

	if (usched_wg_wait(&w->wg))
		return (void *)1;
	return (void *)(intptr_t)atomic_load(&w->done);
}

static int wg_thread_main(void *arg)
{
	struct wgt *w = arg;
	struct usched_attr a;
	int i;

	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	for (i = 0; i < 10; i++)
		T_EQ(0, usched_spawn(NULL, &a, wg_worker, w));
	return 0;
}

TEST(wg_plain_thread_waits_for_tasks)
{
	struct wgt w = { .wg = USCHED_WG_INIT };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, usched_wg_add(&w.wg, 10));
	ASSERT_EQ(0, pthread_create(&th, NULL, wg_thread_waiter, &w));
	ASSERT_UT_OK(ut_run(wg_thread_main, &w));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(10, (int)(intptr_t)ret);
}

/* ---- once ---------------------------------------------------------------- */

static atomic_int once_runs;
static atomic_int once_finished;
static usched_once_t once_obj = USCHED_ONCE_INIT;
static usched_sem_t once_gate = USCHED_SEM_INIT(0);

/* In a task: runs until the test opens the gate; in a thread: 30 ms. */
static void once_fn_slow(void)
{
	atomic_fetch_add(&once_runs, 1);
	if (usched_self())
		usched_sem_wait(&once_gate);
	else
		ut_thread_sleep_ms(30);
	atomic_store(&once_finished, 1);
}

static int once_task(void *arg)
{
	T_EQ(0, usched_once(&once_obj, once_fn_slow));
	/* Returned: fn has finished, and its effects are visible. */
	T_EQ(1, atomic_load(&once_finished));
	return 0;
}

static int once_main(void *arg)
{
	usched_task_t *t[8];
	int i;

	for (i = 0; i < 8; i++)
		T_EQ(0, ut_spawn(&t[i], once_task, NULL));
	while (!atomic_load(&once_runs))
		usched_sleep(1 * MS);
	usched_sleep(10 * MS);
	usched_sem_post(&once_gate);
	for (i = 0; i < 8; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(1, atomic_load(&once_runs));
	T_EQ(0, usched_once(&once_obj, once_fn_slow));
	T_EQ(1, atomic_load(&once_runs));
	return 0;
}

TEST(once_runs_once_callers_wait)
{
	ASSERT_UT_OK(ut_run(once_main, NULL));
}

static int once_waiter_task(void *arg)
{
	return usched_once(&once_obj, once_fn_slow);
}

static int once_cancel_main(void *arg)
{
	usched_task_t *runner, *waiter;

	T_EQ(0, ut_spawn(&runner, once_task, NULL));
	while (!atomic_load(&once_runs))	/* runner is in fn */
		usched_sleep(1 * MS);
	T_EQ(0, ut_spawn(&waiter, once_waiter_task, NULL));
	usched_sleep(5 * MS);	/* queued, or it will be, cancelled */
	T_EQ(0, usched_cancel(waiter));
	T_EQ(-ECANCELED, ut_join(waiter));
	T_EQ(0, atomic_load(&once_finished));	/* fn still running */
	usched_sem_post(&once_gate);
	T_EQ(0, ut_join(runner));
	T_EQ(1, atomic_load(&once_runs));
	T_EQ(1, atomic_load(&once_finished));
	return 0;
}

TEST(once_cancelled_waiter_fn_completes)
{
	ASSERT_UT_OK(ut_run(once_cancel_main, NULL));
}

static void *once_thread(void *arg)
{
	if (usched_once(&once_obj, once_fn_slow))
		return (void *)1;
	return (void *)(intptr_t)atomic_load(&once_finished);
}

TEST(once_plain_threads)
{
	pthread_t th[4];
	void *ret;
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, once_thread, NULL));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(1, (int)(intptr_t)ret);
	}
	EXPECT_EQ(1, atomic_load(&once_runs));
	EXPECT_EQ(-EINVAL, usched_once(NULL, once_fn_slow));
	EXPECT_EQ(-EINVAL, usched_once(&once_obj, NULL));
}

TEST_HARNESS_MAIN
