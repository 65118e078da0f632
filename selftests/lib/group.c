// SPDX-License-Identifier: GPL-2.0
/*
 * group.c - task groups: waiting for all members, the first failure
 * cancelling the others wherever they are blocked, cancellation from
 * outside, the cascade through groups created by cancelled tasks, a
 * waiter that is cancelled itself, -EBUSY and -EINVAL, and plain threads.
 */
#include "kselftest_harness.h"
#include "lib_test.h"

static int ret_task(void *arg)
{
	usched_sleep(((intptr_t)arg & 0xff) * MS);
	return (int)((intptr_t)arg >> 8);
}

#define RET(ms, result)	((void *)(intptr_t)((result) * 256 + (ms)))

static atomic_int finished;

static int count_task(void *arg)
{
	usched_sleep((intptr_t)arg * MS);
	atomic_fetch_add(&finished, 1);
	return 0;
}

static int all_ok_main(void *arg)
{
	usched_group_t *g;
	int i;

	T_EQ(0, usched_group_create(&g));
	for (i = 0; i < 20; i++)
		T_EQ(0, usched_group_spawn(g, NULL, count_task,
					   (void *)(intptr_t)(i % 7)));
	T_EQ(0, usched_group_wait(g));
	T_EQ(20, atomic_load(&finished));
	/* Waiting again, and on an empty group, is fine. */
	T_EQ(0, usched_group_wait(g));
	T_EQ(0, usched_group_destroy(g));
	T_EQ(0, usched_group_create(&g));
	T_EQ(0, usched_group_wait(g));
	T_EQ(0, usched_group_destroy(g));
	return 0;
}

TEST(group_wait_for_all_members)
{
	ASSERT_UT_OK(ut_run(all_ok_main, NULL));
}

/* Members blocked in every kind of call see -ECANCELED. */
struct blockers {
	usched_mutex_t m;
	usched_cond_t cv;
	usched_sem_t sem;
	usched_wg_t wg;
	usched_chan_t *c;		/* receivers only */
	usched_chan_t *c_send;		/* one sender only */
	usched_task_t *never;
	atomic_int cancelled_seen;
	atomic_int started;
};

enum {
	B_SLEEP, B_MUTEX, B_SEM, B_WG, B_RECV, B_SEND, B_SELECT, B_YIELD,
	B_JOIN, B_NR
};

struct blocker {
	struct blockers *b;
	int kind;
};

static usched_chan_t *forever_chan;

static int forever_task(void *arg)
{
	int v;

	/* Parks until its channel is closed, at the end of the test. */
	return usched_chan_recv(forever_chan, &v) == -EPIPE ? 0 : -1;
}

static int blocker_task(void *arg)
{
	struct blocker *k = arg;
	struct blockers *b = k->b;
	struct usched_select_case cs[2] = {
		{ b->c, USCHED_SELECT_RECV, 0, NULL },
		{ NULL, USCHED_SELECT_SEND, 0, NULL },
	};
	int r = 0, v = 0;

	atomic_fetch_add(&b->started, 1);
	switch (k->kind) {
	case B_SLEEP:
		r = usched_sleep(10000 * MS);
		break;
	case B_MUTEX:
		r = usched_mutex_lock(&b->m);	/* held by main */
		break;
	case B_SEM:
		r = usched_sem_wait(&b->sem);
		break;
	case B_WG:
		r = usched_wg_wait(&b->wg);
		break;
	case B_RECV:
		r = usched_chan_recv(b->c, &v);
		break;
	case B_SEND:
		r = usched_chan_send(b->c_send, &v);	/* nobody receives */
		break;
	case B_SELECT:
		r = usched_select(cs, 2, USCHED_NEVER);
		break;
	case B_YIELD:
		while (!(r = usched_yield()))
			;
		break;
	case B_JOIN:
		r = usched_join(b->never, NULL);
		break;
	default:
		r = -ECANCELED;
	}
	if (r == -ECANCELED)
		atomic_fetch_add(&b->cancelled_seen, 1);
	return r;
}

/* A condition wait (on a private mutex: b->m is held by main). */
static int cond_blocker_task(void *arg)
{
	struct blockers *b = arg;
	usched_mutex_t m = USCHED_MUTEX_INIT;
	int r;

	T_EQ(0, usched_mutex_lock(&m));
	atomic_fetch_add(&b->started, 1);
	r = usched_cond_wait(&b->cv, &m);
	usched_mutex_unlock(&m);
	if (r == -ECANCELED)
		atomic_fetch_add(&b->cancelled_seen, 1);
	return r;
}

static int failure_main(void *arg)
{
	struct blockers *b = arg;
	struct blocker k[B_NR];
	usched_group_t *g;
	uint64_t t0;
	int i, n = 0;

	T_EQ(0, usched_chan_create(&b->c, sizeof(int), 0));
	T_EQ(0, usched_chan_create(&b->c_send, sizeof(int), 0));
	T_EQ(0, usched_chan_create(&forever_chan, sizeof(int), 0));
	T_EQ(0, ut_spawn(&b->never, forever_task, NULL));
	T_EQ(0, usched_mutex_lock(&b->m));
	T_EQ(0, usched_wg_add(&b->wg, 1));
	T_EQ(0, usched_group_create(&g));
	for (i = 0; i < B_NR; i++) {
		k[i] = (struct blocker){ b, i };
		T_EQ(0, usched_group_spawn(g, NULL, blocker_task, &k[i]));
		n++;
	}
	T_EQ(0, usched_group_spawn(g, NULL, cond_blocker_task, b));
	n++;
	while (atomic_load(&b->started) < n)
		usched_sleep(1 * MS);
	usched_sleep(10 * MS);	/* all of them parked */
	t0 = ut_now();
	/* The failure: -EIO. */
	T_EQ(0, usched_group_spawn(g, NULL, ret_task, RET(5, -EIO)));
	T_EQ(-EIO, usched_group_wait(g));
	T_CHECK(ut_now() - t0 < 5000 * MS);
	T_EQ(n, atomic_load(&b->cancelled_seen));
	/* Cancelled for good: new members are refused. */
	T_EQ(-ECANCELED, usched_group_spawn(g, NULL, ret_task, RET(0, 0)));
	T_EQ(0, usched_group_destroy(g));
	usched_mutex_unlock(&b->m);
	T_EQ(0, usched_chan_close(forever_chan));
	T_EQ(0, ut_join(b->never));
	usched_chan_destroy(forever_chan);
	usched_chan_destroy(b->c);
	usched_chan_destroy(b->c_send);
	return 0;
}

TEST(group_first_failure_cancels_blocked_members)
{
	struct blockers b = { .m = USCHED_MUTEX_INIT, .cv = USCHED_COND_INIT,
			      .sem = USCHED_SEM_INIT(0), .wg = USCHED_WG_INIT };

	ASSERT_UT_OK(ut_run(failure_main, &b));
}

/* Waits until cancelled (nobody posts), then returns its argument. */
static int gated_task(void *arg)
{
	usched_sem_t never = USCHED_SEM_INIT(0);

	T_EQ(-ECANCELED, usched_sem_wait(&never));
	return (int)(intptr_t)arg;
}

static int first_result_main(void *arg)
{
	usched_group_t *g;

	/* The first failure's result wins over later ones. */
	T_EQ(0, usched_group_create(&g));
	T_EQ(0, usched_group_spawn(g, NULL, gated_task, (void *)(intptr_t)0));
	/* Fails too, but only once the first failure cancelled it. */
	T_EQ(0, usched_group_spawn(g, NULL, gated_task,
				   (void *)(intptr_t)-EIO));
	T_EQ(0, usched_group_spawn(g, NULL, ret_task, RET(0, 7)));
	T_EQ(7, usched_group_wait(g));
	T_EQ(0, usched_group_destroy(g));
	return 0;
}

TEST(group_first_failure_result_wins)
{
	ASSERT_UT_OK(ut_run(first_result_main, NULL));
}

static int outside_main(void *arg)
{
	usched_group_t *g;
	int i;

	T_EQ(0, usched_group_create(&g));
	for (i = 0; i < 5; i++)
		T_EQ(0, usched_group_spawn(g, NULL, ret_task, RET(250, 0)));
	usched_sleep(5 * MS);
	usched_group_cancel(g);
	/* Sleeping members return 0 after their sleep fails: not a failure. */
	T_EQ(-ECANCELED, usched_group_wait(g));
	T_EQ(-ECANCELED, usched_group_spawn(g, NULL, ret_task, RET(0, 0)));
	usched_group_cancel(g);		/* again: harmless */
	T_EQ(0, usched_group_destroy(g));
	usched_group_cancel(NULL);
	return 0;
}

TEST(group_cancel_from_outside)
{
	ASSERT_UT_OK(ut_run(outside_main, NULL));
}

/* Cancelling a task cancels its groups, and their members' groups. */
static atomic_int leaf_cancelled, leaf_started;

static int leaf_task(void *arg)
{
	int r;

	atomic_fetch_add(&leaf_started, 1);
	r = usched_sleep(10000 * MS);

	if (r == -ECANCELED)
		atomic_fetch_add(&leaf_cancelled, 1);
	return r;
}

static int inner_task(void *arg)
{
	usched_group_t *h;
	int r, i;

	T_EQ(0, usched_group_create(&h));
	for (i = 0; i < 3; i++)
		T_EQ(0, usched_group_spawn(h, NULL, leaf_task, NULL));
	r = usched_group_wait(h);
	T_EQ(0, usched_group_destroy(h));
	return r;
}

static int outer_task(void *arg)
{
	usched_group_t *g;
	int r, i;

	T_EQ(0, usched_group_create(&g));
	for (i = 0; i < 2; i++)
		T_EQ(0, usched_group_spawn(g, NULL, inner_task, NULL));
	T_EQ(0, usched_group_spawn(g, NULL, leaf_task, NULL));
	r = usched_group_wait(g);
	T_EQ(0, usched_group_destroy(g));
	return r;
}

static int cascade_main(void *arg)
{
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, outer_task, NULL));
	while (atomic_load(&leaf_started) < 7)	/* the whole tree exists */
		usched_sleep(1 * MS);
	T_EQ(0, atomic_load(&leaf_cancelled));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* 2 inner groups x 3 leaves, and one leaf in the outer group. */
	T_EQ(7, atomic_load(&leaf_cancelled));
	return 0;
}

TEST(group_cancel_cascades_to_created_groups)
{
	ASSERT_UT_OK(ut_run(cascade_main, NULL));
}

/* A cancelled task creates groups that are cancelled from the start. */
static int born_cancelled_main(void *arg)
{
	usched_group_t *g;

	T_EQ(0, usched_cancel(usched_self()));
	T_EQ(0, usched_group_create(&g));
	T_EQ(-ECANCELED, usched_group_spawn(g, NULL, ret_task, RET(0, 0)));
	T_EQ(-ECANCELED, usched_group_wait(g));
	T_EQ(0, usched_group_destroy(g));
	return 0;
}

TEST(group_created_by_cancelled_task_is_cancelled)
{
	ASSERT_UT_OK(ut_run(born_cancelled_main, NULL));
}

/* A waiter that is cancelled cancels the members and still waits. */
static atomic_int cleaned;

static int slow_cleanup_task(void *arg)
{
	uint64_t end;
	int r = usched_sleep(10000 * MS);

	/* Cleanup that takes a while without blocking. */
	end = ut_now() + 30 * MS;
	while (ut_now() < end)
		;
	atomic_fetch_add(&cleaned, 1);
	return r;
}

struct gw {
	usched_group_t *g;
	int seen_cleaned;
};

static int group_waiter_task(void *arg)
{
	struct gw *w = arg;
	int r = usched_group_wait(w->g);

	w->seen_cleaned = atomic_load(&cleaned);
	return r;
}

static int waiter_cancel_main(void *arg)
{
	struct gw w;
	usched_task_t *t;
	int i;

	T_EQ(0, usched_group_create(&w.g));
	for (i = 0; i < 3; i++)
		T_EQ(0, usched_group_spawn(w.g, NULL, slow_cleanup_task, NULL));
	T_EQ(0, ut_spawn(&t, group_waiter_task, &w));
	usched_sleep(10 * MS);
	T_EQ(-EBUSY, usched_group_destroy(w.g));
	T_EQ(0, usched_cancel(t));
	T_EQ(-ECANCELED, ut_join(t));
	/* It returned only after every member had finished. */
	T_EQ(3, w.seen_cleaned);
	T_EQ(0, usched_group_destroy(w.g));
	return 0;
}

TEST(group_wait_cancelled_waits_for_members)
{
	ASSERT_UT_OK(ut_run(waiter_cancel_main, NULL));
}

static int self_wait_task(void *arg)
{
	return usched_group_wait(*(usched_group_t **)arg);
}

static int args_main(void *arg)
{
	static usched_group_t *g;
	struct usched_attr a;

	T_EQ(-EINVAL, usched_group_create(NULL));
	T_EQ(0, usched_group_create(&g));
	T_EQ(-EINVAL, usched_group_spawn(NULL, NULL, ret_task, NULL));
	T_EQ(-EINVAL, usched_group_spawn(g, NULL, NULL, NULL));
	usched_attr_init(&a);
	a.size = 4;
	T_EQ(-EINVAL, usched_group_spawn(g, &a, ret_task, NULL));
	usched_attr_init(&a);
	a.flags = 1u << 9;
	T_EQ(-EINVAL, usched_group_spawn(g, &a, ret_task, NULL));
	usched_attr_init(&a);
	a.stack_size = 4096;
	T_EQ(-EINVAL, usched_group_spawn(g, &a, ret_task, NULL));
	/* A named member with its own stack size; detached is implied. */
	usched_attr_init(&a);
	a.name = "member";
	a.stack_size = 128 << 10;
	T_EQ(0, usched_group_spawn(g, &a, ret_task, RET(1, 0)));
	/* A member waiting for its own group would wait forever. */
	T_EQ(0, usched_group_spawn(g, NULL, self_wait_task, &g));
	T_EQ(-EDEADLK, usched_group_wait(g));
	T_EQ(-EINVAL, usched_group_wait(NULL));
	T_EQ(-EINVAL, usched_group_destroy(NULL));
	T_EQ(0, usched_group_destroy(g));
	return 0;
}

TEST(group_bad_args_einval)
{
	ASSERT_UT_OK(ut_run(args_main, NULL));
}

/* A group outlives the task that created it. */
static int creator_task(void *arg)
{
	usched_group_t **out = arg;
	int i;

	T_EQ(0, usched_group_create(out));
	for (i = 0; i < 4; i++)
		T_EQ(0, usched_group_spawn(*out, NULL, count_task,
					   (void *)(intptr_t)20));
	return 0;	/* without waiting */
}

static int outlive_main(void *arg)
{
	usched_group_t *g;
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, creator_task, &g));
	T_EQ(0, ut_join(t));
	T_EQ(-EBUSY, usched_group_destroy(g));
	T_EQ(0, usched_group_wait(g));
	T_EQ(4, atomic_load(&finished));
	T_EQ(0, usched_group_destroy(g));
	return 0;
}

TEST(group_outlives_its_creator)
{
	ASSERT_UT_OK(ut_run(outlive_main, NULL));
}

TEST(group_plain_thread_spawns_and_waits)
{
	usched_group_t *g;
	int i;

	ASSERT_EQ(0, usched_start(NULL));
	ASSERT_EQ(0, usched_group_create(&g));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, usched_group_spawn(g, NULL, count_task,
						(void *)(intptr_t)(i % 3)));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, usched_group_spawn(g, NULL, leaf_task, NULL));
	ASSERT_EQ(0, usched_group_spawn(g, NULL, ret_task, RET(10, -ENOSPC)));
	EXPECT_EQ(-ENOSPC, usched_group_wait(g));
	EXPECT_EQ(4, atomic_load(&leaf_cancelled));
	EXPECT_EQ(0, usched_group_destroy(g));
	ASSERT_EQ(0, usched_stop());
}

TEST_HARNESS_MAIN
