// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c - channels: buffered and unbuffered, order, close semantics,
 * try and _until variants, cancellation, len/cap, large elements, and
 * plain threads on either end.
 */
#include "kselftest_harness.h"
#include "lib_test.h"

TEST(chan_create_bad_args_einval)
{
	usched_chan_t *c;

	EXPECT_EQ(-EINVAL, usched_chan_create(NULL, 4, 1));
	EXPECT_EQ(-EINVAL, usched_chan_create(&c, 0, 1));
	EXPECT_EQ(-EINVAL, usched_chan_create(&c, 65537, 1));
	EXPECT_EQ(-EINVAL, usched_chan_create(&c, 8, SIZE_MAX / 4));
	ASSERT_EQ(0, usched_chan_create(&c, 65536, 0));
	usched_chan_destroy(c);
	ASSERT_EQ(0, usched_chan_create(&c, 1, 0));
	EXPECT_EQ(-EINVAL, usched_chan_send(NULL, "x"));
	EXPECT_EQ(-EINVAL, usched_chan_send(c, NULL));
	EXPECT_EQ(-EINVAL, usched_chan_trysend(c, NULL));
	EXPECT_EQ(-EINVAL, usched_chan_recv(NULL, NULL));
	EXPECT_EQ(-EINVAL, usched_chan_close(NULL));
	EXPECT_EQ(0, usched_chan_len(NULL));
	EXPECT_EQ(0, usched_chan_cap(NULL));
	usched_chan_destroy(c);
	usched_chan_destroy(NULL);
}

TEST(chan_buffered_fifo_len_cap)
{
	usched_chan_t *c;
	int i, v;

	ASSERT_EQ(0, usched_chan_create(&c, sizeof(int), 4));
	EXPECT_EQ(4, usched_chan_cap(c));
	EXPECT_EQ(0, usched_chan_len(c));
	/* Wrap the ring a few times. */
	for (int round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++) {
			v = round * 10 + i;
			ASSERT_EQ(0, usched_chan_trysend(c, &v));
			EXPECT_EQ(i + 1, usched_chan_len(c));
		}
		EXPECT_EQ(-EAGAIN, usched_chan_trysend(c, &v));
		EXPECT_EQ(-ETIMEDOUT, usched_chan_send_until(c, &v, 0));
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, usched_chan_tryrecv(c, &v));
			EXPECT_EQ(round * 10 + i, v);
		}
		EXPECT_EQ(1, usched_chan_len(c));
		ASSERT_EQ(0, usched_chan_recv_until(c, &v, 0));
		EXPECT_EQ(round * 10 + 3, v);
		EXPECT_EQ(-EAGAIN, usched_chan_tryrecv(c, &v));
		EXPECT_EQ(-ETIMEDOUT, usched_chan_recv_until(c, &v, 0));
	}
	/* A NULL element drops it. */
	v = 7;
	ASSERT_EQ(0, usched_chan_send(c, &v));
	ASSERT_EQ(0, usched_chan_recv(c, NULL));
	EXPECT_EQ(0, usched_chan_len(c));
	usched_chan_destroy(c);
}

struct pair {
	usched_chan_t *c;
	int value;
	int r;
	uint64_t deadline;
	uint64_t t_done;
};

static int recv_task(void *arg)
{
	struct pair *p = arg;

	p->r = usched_chan_recv_until(p->c, &p->value, p->deadline);
	p->t_done = ut_now();
	return p->r;
}

static int send_task(void *arg)
{
	struct pair *p = arg;

	p->r = usched_chan_send_until(p->c, &p->value, p->deadline);
	p->t_done = ut_now();
	return p->r;
}

static int unbuffered_main(void *arg)
{
	struct pair p = { .deadline = USCHED_NEVER };
	usched_task_t *t;
	uint64_t t0;
	int v = 42;

	T_EQ(0, usched_chan_create(&p.c, sizeof(int), 0));
	T_EQ(0, usched_chan_cap(p.c));
	/* Nobody receiving: a try fails, and nothing is kept. */
	T_EQ(-EAGAIN, usched_chan_trysend(p.c, &v));
	T_EQ(-EAGAIN, usched_chan_tryrecv(p.c, &v));
	T_EQ(0, usched_chan_len(p.c));

	/* A parked receiver gets the element straight from send. */
	T_EQ(0, ut_spawn(&t, recv_task, &p));
	while (usched_chan_trysend(p.c, &v) == -EAGAIN)
		usched_sleep(1 * MS);	/* until the receiver parked */
	T_EQ(0, ut_join(t));
	T_EQ(42, p.value);

	/* A sender waits until a receiver takes it. */
	p.value = 77;
	t0 = ut_now();
	T_EQ(0, ut_spawn(&t, send_task, &p));
	usched_sleep(20 * MS);
	T_EQ(0, usched_chan_recv(p.c, &v));
	T_EQ(77, v);
	T_EQ(0, ut_join(t));
	T_CHECK(p.t_done >= t0 + 20 * MS);

	/* tryrecv takes a parked sender's element. */
	p.value = 78;
	T_EQ(0, ut_spawn(&t, send_task, &p));
	while (usched_chan_tryrecv(p.c, &v) == -EAGAIN)
		usched_sleep(1 * MS);	/* until the sender parked */
	T_EQ(78, v);
	T_EQ(0, ut_join(t));
	usched_chan_destroy(p.c);
	return 0;
}

TEST(chan_unbuffered_rendezvous)
{
	ASSERT_UT_OK(ut_run(unbuffered_main, NULL));
}

/* Senders parked on a full ring: FIFO is kept through the handoff. */
struct order {
	usched_chan_t *c;
	int base;
};

static int order_sender(void *arg)
{
	struct order *o = arg;
	int i, v;

	for (i = 0; i < 100; i++) {
		v = o->base + i;
		T_EQ(0, usched_chan_send(o->c, &v));
	}
	return 0;
}

static int full_ring_main(void *arg)
{
	struct order o[3];
	usched_task_t *t[3];
	usched_chan_t *c;
	int i, v, next[3] = { 0, 0, 0 };

	T_EQ(0, usched_chan_create(&c, sizeof(int), 2));
	for (i = 0; i < 3; i++) {
		o[i] = (struct order){ c, i * 1000 };
		T_EQ(0, ut_spawn(&t[i], order_sender, &o[i]));
	}
	while (usched_chan_len(c) < 2)
		usched_sleep(1 * MS);
	usched_sleep(5 * MS);	/* senders park on the full ring */
	T_EQ(2, usched_chan_len(c));
	for (i = 0; i < 300; i++) {
		T_EQ(0, usched_chan_recv(c, &v));
		T_EQ(next[v / 1000], v % 1000);	/* per-sender order */
		next[v / 1000]++;
		if (!(i % 7))
			usched_sleep(100 * US);	/* let senders park again */
	}
	for (i = 0; i < 3; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(0, usched_chan_len(c));
	usched_chan_destroy(c);
	return 0;
}

TEST(chan_full_ring_senders_keep_order)
{
	ASSERT_UT_OK(ut_run(full_ring_main, NULL));
}

static int close_main(void *arg)
{
	struct pair r[3], s[2];
	usched_task_t *rt[3], *st[2];
	usched_chan_t *c, *u;
	int i, v;

	/* Buffered: drained, then -EPIPE with a zeroed element. */
	T_EQ(0, usched_chan_create(&c, sizeof(int), 4));
	for (v = 1; v <= 2; v++)
		T_EQ(0, usched_chan_send(c, &v));
	T_EQ(0, usched_chan_close(c));
	T_EQ(-EPIPE, usched_chan_close(c));
	v = 9;
	T_EQ(-EPIPE, usched_chan_send(c, &v));
	T_EQ(-EPIPE, usched_chan_trysend(c, &v));
	T_EQ(-EPIPE, usched_chan_send_until(c, &v, 0));
	T_EQ(0, usched_chan_recv(c, &v));
	T_EQ(1, v);
	T_EQ(0, usched_chan_tryrecv(c, &v));
	T_EQ(2, v);
	v = 5;
	T_EQ(-EPIPE, usched_chan_recv(c, &v));
	T_EQ(0, v);
	v = 5;
	T_EQ(-EPIPE, usched_chan_tryrecv(c, &v));
	T_EQ(0, v);
	T_EQ(-EPIPE, usched_chan_recv_until(c, &v, 0));
	T_EQ(-EPIPE, usched_chan_recv(c, NULL));
	usched_chan_destroy(c);

	/* Waiting receivers (empty) and senders (unbuffered) get -EPIPE. */
	T_EQ(0, usched_chan_create(&c, sizeof(int), 1));
	T_EQ(0, usched_chan_create(&u, sizeof(int), 0));
	for (i = 0; i < 3; i++) {
		r[i] = (struct pair){ .c = c, .value = 5,
				      .deadline = USCHED_NEVER };
		T_EQ(0, ut_spawn(&rt[i], recv_task, &r[i]));
	}
	for (i = 0; i < 2; i++) {
		s[i] = (struct pair){ .c = u, .value = 6,
				      .deadline = USCHED_NEVER };
		T_EQ(0, ut_spawn(&st[i], send_task, &s[i]));
	}
	usched_sleep(10 * MS);
	T_EQ(0, usched_chan_close(c));
	T_EQ(0, usched_chan_close(u));
	for (i = 0; i < 3; i++) {
		T_EQ(-EPIPE, ut_join(rt[i]));
		T_EQ(0, r[i].value);
	}
	for (i = 0; i < 2; i++) {
		T_EQ(-EPIPE, ut_join(st[i]));
		T_EQ(6, s[i].value);	/* the sender's copy is untouched */
	}
	usched_chan_destroy(c);
	usched_chan_destroy(u);

	/* A sender parked on a full ring gets -EPIPE; the ring drains. */
	T_EQ(0, usched_chan_create(&c, sizeof(int), 1));
	v = 1;
	T_EQ(0, usched_chan_send(c, &v));
	s[0] = (struct pair){ .c = c, .value = 2, .deadline = USCHED_NEVER };
	T_EQ(0, ut_spawn(&st[0], send_task, &s[0]));
	usched_sleep(5 * MS);
	T_EQ(0, usched_chan_close(c));
	T_EQ(-EPIPE, ut_join(st[0]));
	T_EQ(0, usched_chan_recv(c, &v));
	T_EQ(1, v);
	T_EQ(-EPIPE, usched_chan_recv(c, &v));
	usched_chan_destroy(c);
	return 0;
}

TEST(chan_close_semantics)
{
	ASSERT_UT_OK(ut_run(close_main, NULL));
}

static int until_main(void *arg)
{
	struct pair p;
	usched_task_t *t;
	usched_chan_t *c;
	uint64_t d;
	int v = 3;

	T_EQ(0, usched_chan_create(&c, sizeof(int), 0));
	d = ut_now() + 20 * MS;
	T_EQ(-ETIMEDOUT, usched_chan_send_until(c, &v, d));
	T_CHECK(ut_now() >= d);
	/* The timed-out element was not left behind. */
	T_EQ(-EAGAIN, usched_chan_tryrecv(c, &v));
	d = ut_now() + 20 * MS;
	T_EQ(-ETIMEDOUT, usched_chan_recv_until(c, &v, d));
	T_CHECK(ut_now() >= d);
	T_EQ(-EAGAIN, usched_chan_trysend(c, &v));

	/* A deadline that is met. */
	p = (struct pair){ .c = c, .deadline = ut_now() + 5000 * MS };
	T_EQ(0, ut_spawn(&t, recv_task, &p));
	usched_sleep(10 * MS);
	v = 11;
	T_EQ(0, usched_chan_send_until(c, &v, ut_now() + 5000 * MS));
	T_EQ(0, ut_join(t));
	T_EQ(11, p.value);
	usched_chan_destroy(c);
	return 0;
}

TEST(chan_until_timeouts)
{
	ASSERT_UT_OK(ut_run(until_main, NULL));
}

static int cancel_main(void *arg)
{
	struct pair r = { .deadline = USCHED_NEVER, .value = 4 };
	struct pair s = { .deadline = USCHED_NEVER, .value = 8 };
	usched_task_t *rt, *st;
	int v;

	T_EQ(0, usched_chan_create(&r.c, sizeof(int), 0));
	s.c = r.c;
	T_EQ(0, ut_spawn(&rt, recv_task, &r));
	usched_sleep(5 * MS);
	T_EQ(0, usched_cancel(rt));
	T_EQ(-ECANCELED, ut_join(rt));
	T_EQ(4, r.value);	/* nothing written */
	T_EQ(0, ut_spawn(&st, send_task, &s));
	usched_sleep(5 * MS);
	T_EQ(0, usched_cancel(st));
	T_EQ(-ECANCELED, ut_join(st));
	/* The cancelled send is not delivered. */
	T_EQ(-EAGAIN, usched_chan_tryrecv(r.c, &v));
	/* A cancelled task still completes what needs no wait. */
	T_EQ(0, usched_cancel(usched_self()));
	T_EQ(-ECANCELED, usched_chan_recv(r.c, &v));
	usched_chan_destroy(r.c);
	T_EQ(0, usched_chan_create(&r.c, sizeof(int), 1));
	v = 1;
	T_EQ(0, usched_chan_send(r.c, &v));
	T_EQ(-ECANCELED, usched_chan_send(r.c, &v));
	T_EQ(0, usched_chan_recv(r.c, &v));
	usched_chan_destroy(r.c);
	return 0;
}

TEST(chan_blocked_ops_cancelled)
{
	ASSERT_UT_OK(ut_run(cancel_main, NULL));
}

/* 64 KiB elements, both ways, buffered and not. */
#define BIG	65536

static int big_sender(void *arg)
{
	usched_chan_t *c = arg;
	unsigned char *b = malloc(BIG);
	int i, k;

	T_CHECK(b);
	for (k = 0; k < 6; k++) {
		for (i = 0; i < BIG; i++)
			b[i] = (unsigned char)(i * 7 + k);
		if (usched_chan_send(c, b)) {
			free(b);
			T_CHECK(0);
		}
	}
	free(b);
	return 0;
}

static int big_main(void *arg)
{
	unsigned char *b = malloc(BIG);
	usched_chan_t *c;
	usched_task_t *t;
	int i, k, cap;

	T_CHECK(b);
	for (cap = 0; cap <= 2; cap += 2) {
		T_EQ(0, usched_chan_create(&c, BIG, cap));
		T_EQ(0, ut_spawn(&t, big_sender, c));
		for (k = 0; k < 6; k++) {
			T_EQ(0, usched_chan_recv(c, b));
			for (i = 0; i < BIG; i++)
				if (b[i] != (unsigned char)(i * 7 + k))
					break;
			T_EQ(BIG, i);
			if (k == 2)
				usched_sleep(5 * MS);	/* sender parks */
		}
		T_EQ(0, ut_join(t));
		usched_chan_destroy(c);
	}
	free(b);
	return 0;
}

TEST(chan_large_elements_intact)
{
	ASSERT_UT_OK(ut_run(big_main, NULL));
}

/*
 * Plain threads on both ends: a producer thread sends 1..N into to_mid and
 * closes it, the middle (tasks, or a third thread) forwards into to_cons,
 * a consumer thread sums until to_cons is closed.  Every item is a futex
 * wake-up between threads: 20000 of them, 4000 in the VM (TCG).
 */
#define THR_N	(getenv("USCHED_VM") ? 4000 : 20000)

struct thr {
	usched_chan_t *to_mid, *to_cons;
	long sum;
};

static void *thr_producer(void *arg)
{
	struct thr *x = arg;
	long i;

	for (i = 1; i <= THR_N; i++)
		if (usched_chan_send(x->to_mid, &i))
			return (void *)1;
	if (usched_chan_close(x->to_mid))
		return (void *)2;
	return NULL;
}

static void *thr_consumer(void *arg)
{
	struct thr *x = arg;
	long v, sum = 0;
	int r;

	while (!(r = usched_chan_recv(x->to_cons, &v)))
		sum += v;
	x->sum = sum;
	return r == -EPIPE ? NULL : (void *)3;
}

static int thr_forward(struct thr *x)
{
	long v;
	int r;

	while (!(r = usched_chan_recv(x->to_mid, &v)))
		T_EQ(0, usched_chan_send(x->to_cons, &v));
	T_EQ(-EPIPE, r);
	return 0;
}

static int thr_task(void *arg)
{
	return thr_forward(arg);
}

static int thr_main(void *arg)
{
	struct thr *x = arg;
	usched_task_t *t[3];
	int i;

	for (i = 0; i < 3; i++)
		T_EQ(0, ut_spawn(&t[i], thr_task, x));
	for (i = 0; i < 3; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(0, usched_chan_close(x->to_cons));
	return 0;
}

static void thr_run(struct __test_metadata *_metadata, size_t cap_mid,
		    size_t cap_cons, bool runtime)
{
	struct thr x = { 0 };
	pthread_t prod, cons;
	void *ret;

	ASSERT_EQ(0, usched_chan_create(&x.to_mid, sizeof(long), cap_mid));
	ASSERT_EQ(0, usched_chan_create(&x.to_cons, sizeof(long), cap_cons));
	ASSERT_EQ(0, pthread_create(&prod, NULL, thr_producer, &x));
	ASSERT_EQ(0, pthread_create(&cons, NULL, thr_consumer, &x));
	if (runtime) {
		ASSERT_UT_OK(ut_run(thr_main, &x));
	} else {
		ASSERT_UT_OK(thr_forward(&x));
		ASSERT_EQ(0, usched_chan_close(x.to_cons));
	}
	ASSERT_EQ(0, pthread_join(prod, &ret));
	EXPECT_EQ(NULL, ret);
	ASSERT_EQ(0, pthread_join(cons, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ((long)THR_N * (THR_N + 1) / 2, x.sum);
	usched_chan_destroy(x.to_mid);
	usched_chan_destroy(x.to_cons);
}

TEST(chan_plain_threads_and_tasks)
{
	thr_run(_metadata, 0, 16, true);
	thr_run(_metadata, 4, 0, true);
}

TEST(chan_plain_threads_without_runtime)
{
	thr_run(_metadata, 0, 0, false);
	thr_run(_metadata, 3, 1, false);
}

TEST_HARNESS_MAIN
