// SPDX-License-Identifier: GPL-2.0
/*
 * select.c - usched_select(): argument checks, ready cases, the random
 * choice among ready cases, deadlines (0 polls), nil and closed channels,
 * waking on a partner or a close, cancellation, the same channel in
 * several cases, select against select, and plain threads.
 */
#include "kselftest_harness.h"
#include "lib_test.h"

#define SEND	USCHED_SELECT_SEND
#define RECV	USCHED_SELECT_RECV

TEST(select_bad_args_einval)
{
	struct usched_select_case cs[65];
	usched_chan_t *c;
	int v = 0;

	ASSERT_EQ(0, usched_chan_create(&c, sizeof(int), 1));
	memset(cs, 0, sizeof(cs));
	for (int i = 0; i < 65; i++)
		cs[i] = (struct usched_select_case){ c, RECV, 0, &v };
	EXPECT_EQ(-EINVAL, usched_select(cs, 65, 0));
	EXPECT_EQ(-EINVAL, usched_select(NULL, 1, 0));
	cs[3].op = 0;
	EXPECT_EQ(-EINVAL, usched_select(cs, 4, 0));
	cs[3].op = 3;
	EXPECT_EQ(-EINVAL, usched_select(cs, 4, 0));
	cs[3] = (struct usched_select_case){ c, SEND, 0, NULL };
	EXPECT_EQ(-EINVAL, usched_select(cs, 4, 0));
	/* A bad op is refused even on a nil channel. */
	cs[3] = (struct usched_select_case){ NULL, 7, 0, NULL };
	EXPECT_EQ(-EINVAL, usched_select(cs, 4, 0));
	/* Nothing was done: the channel is still empty. */
	EXPECT_EQ(0, usched_chan_len(c));
	/* 64 cases are fine (nothing ready: polling times out). */
	cs[3] = cs[0];
	EXPECT_EQ(-ETIMEDOUT, usched_select(cs, 64, 0));
	usched_chan_destroy(c);
}

TEST(select_ready_case_chosen)
{
	usched_chan_t *c[3];
	struct usched_select_case cs[3];
	int v = 0, w = 5;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, usched_chan_create(&c[i], sizeof(int), 1));
	v = 33;
	ASSERT_EQ(0, usched_chan_send(c[1], &v));
	v = 0;
	cs[0] = (struct usched_select_case){ c[0], RECV, 1, &v };
	cs[1] = (struct usched_select_case){ c[1], RECV, 1, &v };
	cs[2] = (struct usched_select_case){ c[1], SEND, 1, &w };	/* full */
	EXPECT_EQ(1, usched_select(cs, 3, USCHED_NEVER));
	EXPECT_EQ(0, cs[1].result);
	EXPECT_EQ(33, v);
	/* Now only the send to c[1] can proceed. */
	EXPECT_EQ(2, usched_select(cs, 3, 0));
	EXPECT_EQ(0, cs[2].result);
	EXPECT_EQ(1, usched_chan_len(c[1]));
	ASSERT_EQ(0, usched_chan_recv(c[1], &v));
	EXPECT_EQ(5, v);
	for (int i = 0; i < 3; i++)
		usched_chan_destroy(c[i]);
}

/* Both always ready: each chosen about half the time. */
TEST(select_random_choice_fair)
{
	enum { N = 4000, K = 4 };
	usched_chan_t *c[K];
	struct usched_select_case cs[K];
	int hits[K] = { 0 }, v = 1, i, r;

	for (i = 0; i < K; i++) {
		ASSERT_EQ(0, usched_chan_create(&c[i], sizeof(int), 1));
		cs[i] = (struct usched_select_case){ c[i], RECV, 0, &v };
		ASSERT_EQ(0, usched_chan_send(c[i], &v));
	}
	for (i = 0; i < N; i++) {
		r = usched_select(cs, K, 0);
		ASSERT_LE(0, r);
		ASSERT_GT(K, r);
		hits[r]++;
		ASSERT_EQ(0, usched_chan_send(c[r], &v));	/* ready again */
	}
	for (i = 0; i < K; i++) {
		TH_LOG("case %d chosen %d of %d", i, hits[i], N);
		/* Expected 1000, sd ~27: a wide margin. */
		EXPECT_LT(N / K - 200, hits[i]);
		EXPECT_GT(N / K + 200, hits[i]);
	}
	for (i = 0; i < K; i++)
		usched_chan_destroy(c[i]);
}

TEST(select_deadline_timeout_and_poll)
{
	usched_chan_t *c;
	struct usched_select_case cs[2];
	uint64_t t0, d;
	int v = 0;

	ASSERT_EQ(0, usched_chan_create(&c, sizeof(int), 0));
	cs[0] = (struct usched_select_case){ c, RECV, 0, &v };
	cs[1] = (struct usched_select_case){ c, SEND, 0, &v };
	t0 = ut_now();
	EXPECT_EQ(-ETIMEDOUT, usched_select(cs, 2, 0));
	EXPECT_GT(t0 + 100 * MS, ut_now());	/* polled, did not wait */
	d = ut_now() + 25 * MS;
	EXPECT_EQ(-ETIMEDOUT, usched_select(cs, 2, d));
	EXPECT_LE(d, ut_now());
	/* No waiter was left behind on either queue. */
	EXPECT_EQ(-EAGAIN, usched_chan_trysend(c, &v));
	EXPECT_EQ(-EAGAIN, usched_chan_tryrecv(c, &v));
	usched_chan_destroy(c);
}

TEST(select_nil_channels_never_ready)
{
	struct usched_select_case cs[2] = {
		{ NULL, RECV, 0, NULL },
		{ NULL, SEND, 0, NULL },
	};
	uint64_t d;

	EXPECT_EQ(-ETIMEDOUT, usched_select(cs, 2, 0));
	d = ut_now() + 10 * MS;
	EXPECT_EQ(-ETIMEDOUT, usched_select(cs, 2, d));
	EXPECT_LE(d, ut_now());
	/* No cases at all: wait for the deadline. */
	d = ut_now() + 10 * MS;
	EXPECT_EQ(-ETIMEDOUT, usched_select(NULL, 0, d));
	EXPECT_LE(d, ut_now());
}

TEST(select_closed_channel_ready_epipe)
{
	usched_chan_t *c, *other;
	struct usched_select_case cs[2];
	int v = 9, w = 4;

	ASSERT_EQ(0, usched_chan_create(&c, sizeof(int), 2));
	ASSERT_EQ(0, usched_chan_create(&other, sizeof(int), 0));
	ASSERT_EQ(0, usched_chan_send(c, &w));
	ASSERT_EQ(0, usched_chan_close(c));
	cs[0] = (struct usched_select_case){ other, RECV, 0, &w };
	cs[1] = (struct usched_select_case){ c, RECV, 0, &v };
	/* Drains first... */
	EXPECT_EQ(1, usched_select(cs, 2, USCHED_NEVER));
	EXPECT_EQ(0, cs[1].result);
	EXPECT_EQ(4, v);
	/* ...then is ready with -EPIPE and a zeroed element. */
	v = 9;
	EXPECT_EQ(1, usched_select(cs, 2, USCHED_NEVER));
	EXPECT_EQ(-EPIPE, cs[1].result);
	EXPECT_EQ(0, v);
	/* A send case on a closed channel is ready too, with -EPIPE. */
	cs[1] = (struct usched_select_case){ c, SEND, 0, &w };
	EXPECT_EQ(1, usched_select(cs, 2, 0));
	EXPECT_EQ(-EPIPE, cs[1].result);
	usched_chan_destroy(c);
	usched_chan_destroy(other);
}

/* ---- parked selects ------------------------------------------------------ */

struct sel {
	usched_chan_t *c[3];
	struct usched_select_case cs[3];
	int vals[3];
	int r;
	uint64_t deadline;
};

static int select_task(void *arg)
{
	struct sel *s = arg;

	s->r = usched_select(s->cs, 3, s->deadline);
	return s->r < 0 ? s->r : 0;
}

static int sel_setup(struct sel *s, size_t cap)
{
	for (int i = 0; i < 3; i++) {
		T_EQ(0, usched_chan_create(&s->c[i], sizeof(int), cap));
		s->vals[i] = -1;
		s->cs[i] = (struct usched_select_case){ s->c[i], RECV, 1,
							 &s->vals[i] };
	}
	s->deadline = USCHED_NEVER;
	return 0;
}

static void sel_free(struct sel *s)
{
	for (int i = 0; i < 3; i++)
		usched_chan_destroy(s->c[i]);
}

static int wake_main(void *arg)
{
	struct sel s;
	usched_task_t *t;
	int v;

	/* A send to the second channel completes the parked select. */
	T_EQ(0, sel_setup(&s, 0));
	T_EQ(0, ut_spawn(&t, select_task, &s));
	usched_sleep(10 * MS);
	v = 123;
	T_EQ(0, usched_chan_send(s.c[1], &v));
	T_EQ(0, ut_join(t));
	T_EQ(1, s.r);
	T_EQ(0, s.cs[1].result);
	T_EQ(123, s.vals[1]);
	T_EQ(-1, s.vals[0]);
	T_EQ(-1, s.vals[2]);
	/* Its other waiters are gone. */
	T_EQ(-EAGAIN, usched_chan_trysend(s.c[0], &v));
	T_EQ(-EAGAIN, usched_chan_trysend(s.c[2], &v));
	sel_free(&s);

	/* A parked send case: a receiver takes the select's element. */
	T_EQ(0, sel_setup(&s, 0));
	s.vals[2] = 55;
	s.cs[2].op = SEND;
	T_EQ(0, ut_spawn(&t, select_task, &s));
	usched_sleep(10 * MS);
	T_EQ(0, usched_chan_recv(s.c[2], &v));
	T_EQ(0, ut_join(t));
	T_EQ(2, s.r);
	T_EQ(55, v);
	sel_free(&s);

	/* A close wakes it with -EPIPE. */
	T_EQ(0, sel_setup(&s, 1));
	T_EQ(0, ut_spawn(&t, select_task, &s));
	usched_sleep(10 * MS);
	T_EQ(0, usched_chan_close(s.c[0]));
	T_EQ(0, ut_join(t));
	T_EQ(0, s.r);
	T_EQ(-EPIPE, s.cs[0].result);
	T_EQ(0, s.vals[0]);
	sel_free(&s);

	/* A deadline while parked. */
	T_EQ(0, sel_setup(&s, 1));
	s.deadline = ut_now() + 20 * MS;
	T_EQ(0, ut_spawn(&t, select_task, &s));
	T_EQ(-ETIMEDOUT, ut_join(t));
	T_CHECK(ut_now() >= s.deadline);
	v = 1;
	T_EQ(0, usched_chan_send(s.c[0], &v));	/* into the ring, not to it */
	T_EQ(1, usched_chan_len(s.c[0]));
	sel_free(&s);
	return 0;
}

TEST(select_parked_woken_by_send_recv_close_deadline)
{
	ASSERT_UT_OK(ut_run(wake_main, NULL));
}

static int cancel_main(void *arg)
{
	struct sel s;
	usched_task_t *t;
	int v = 3;

	T_EQ(0, sel_setup(&s, 0));
	T_EQ(0, ut_spawn(&t, select_task, &s));
	usched_sleep(10 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	for (int i = 0; i < 3; i++)
		T_EQ(-EAGAIN, usched_chan_trysend(s.c[i], &v));
	/* A cancelled task still takes a ready case, fails to wait. */
	T_EQ(0, usched_cancel(usched_self()));
	T_EQ(-ECANCELED, usched_select(s.cs, 3, USCHED_NEVER));
	sel_free(&s);
	T_EQ(0, sel_setup(&s, 1));
	T_EQ(0, usched_chan_send(s.c[2], &v));
	T_EQ(2, usched_select(s.cs, 3, USCHED_NEVER));
	sel_free(&s);
	return 0;
}

TEST(select_parked_cancelled)
{
	ASSERT_UT_OK(ut_run(cancel_main, NULL));
}

/* Selects on both sides of one unbuffered channel pair up. */
struct duel {
	usched_chan_t *c;
	int out, in, r;
};

static int duel_task(void *arg)
{
	struct duel *d = arg;
	struct usched_select_case cs[2] = {
		{ d->c, SEND, 1, &d->out },
		{ d->c, RECV, 1, &d->in },
	};

	d->r = usched_select(cs, 2, ut_now() + 5000 * MS);
	T_CHECK(d->r >= 0);
	T_EQ(0, cs[d->r].result);
	return 0;
}

static int duel_main(void *arg)
{
	struct duel d[2];
	usched_task_t *t[2];
	usched_chan_t *c;
	int round;

	T_EQ(0, usched_chan_create(&c, sizeof(int), 0));
	for (round = 0; round < 50; round++) {
		for (int i = 0; i < 2; i++) {
			d[i] = (struct duel){ c, 100 + i, -1, -1 };
			T_EQ(0, ut_spawn(&t[i], duel_task, &d[i]));
			if (round & 1)
				usched_sleep(1 * MS);	/* first one parks */
		}
		for (int i = 0; i < 2; i++)
			T_EQ(0, ut_join(t[i]));
		/* One sent (case 0), the other received it (case 1). */
		T_EQ(1, d[0].r + d[1].r);
		if (d[0].r == 0)
			T_EQ(100, d[1].in);
		else
			T_EQ(101, d[0].in);
	}
	usched_chan_destroy(c);
	return 0;
}

TEST(select_against_select_same_channel)
{
	ASSERT_UT_OK(ut_run(duel_main, NULL));
}

/* The same channel in several cases, and a plain thread selecting. */
struct thsel {
	usched_chan_t *a, *b;
	int got[2];
};

static void *select_thread(void *arg)
{
	struct thsel *x = arg;
	int v = -1, r, n;

	for (n = 0; n < 2000; n++) {
		struct usched_select_case cs[3] = {
			{ x->a, RECV, 0, &v },
			{ x->b, RECV, 0, &v },
			{ x->a, RECV, 0, &v },
		};

		r = usched_select(cs, 3, USCHED_NEVER);
		if (r < 0 || cs[r].result)
			return (void *)1;
		if (v != (r == 1 ? 2 : 1))
			return (void *)2;
		x->got[r == 1]++;
	}
	return NULL;
}

static int thsel_main(void *arg)
{
	struct thsel *x = arg;
	int i, one = 1, two = 2;

	for (i = 0; i < 1000; i++) {
		T_EQ(0, usched_chan_send(x->a, &one));
		T_EQ(0, usched_chan_send(x->b, &two));
	}
	return 0;
}

TEST(select_plain_thread_duplicate_channel)
{
	struct thsel x = { 0 };
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, usched_chan_create(&x.a, sizeof(int), 0));
	ASSERT_EQ(0, usched_chan_create(&x.b, sizeof(int), 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, select_thread, &x));
	ASSERT_UT_OK(ut_run(thsel_main, &x));
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
	EXPECT_EQ(1000, x.got[0]);
	EXPECT_EQ(1000, x.got[1]);
	usched_chan_destroy(x.a);
	usched_chan_destroy(x.b);
}

TEST_HARNESS_MAIN
