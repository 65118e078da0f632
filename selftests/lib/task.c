// SPDX-License-Identifier: GPL-2.0
/*
 * task.c - tasks: spawn, join, detach, cancel, yield, self, id, name and
 * setname, with their errors; results; many tasks; spawning from a plain
 * thread; fair yielding; work spread over the slots.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "core_test.h"

static int ret_arg(void *arg)
{
	return (int)(intptr_t)arg;
}

static int nop(void *arg)
{
	return 0;
}

/* ---- spawn and join ---------------------------------------------------- */

static int results_main(void *arg)
{
	usched_task_t *t[64];
	int i, res;

	for (i = 0; i < 64; i++)
		T_EQ(0, ut_spawn(&t[i], ret_arg,
				 (void *)(intptr_t)(i * 3 - 50)));
	for (i = 0; i < 64; i++) {
		res = -1000;
		T_EQ(0, usched_join(t[i], &res));
		T_EQ(i * 3 - 50, res);
	}
	/* A NULL result pointer is fine. */
	T_EQ(0, ut_spawn(&t[0], ret_arg, (void *)5));
	T_EQ(0, usched_join(t[0], NULL));
	return 0;
}

TEST(task_spawn_join_results)
{
	ASSERT_UT_OK(ut_run_slots(2, results_main, NULL));
}

static int einval_main(void *arg)
{
	struct usched_attr a;
	usched_task_t *t;

	T_EQ(-EINVAL, usched_spawn(&t, NULL, NULL, NULL));
	/* No handle: only for a detached task. */
	T_EQ(-EINVAL, usched_spawn(NULL, NULL, nop, NULL));
	usched_attr_init(&a);
	T_EQ(sizeof(a), a.size);
	T_EQ(0, a.flags);
	T_EQ(0, a.stack_size);
	T_CHECK(a.name == NULL);
	T_EQ(-EINVAL, usched_spawn(NULL, &a, nop, NULL));

	a.size = sizeof(a) - 1;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	a.size = 0;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	usched_attr_init(&a);
	a.flags = 1u << 1;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	a.flags = 1u << 31;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	usched_attr_init(&a);
	a.stack_size = 4096;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	a.stack_size = (16u << 10) - 1;
	T_EQ(-EINVAL, usched_spawn(&t, &a, nop, NULL));
	a.flags = USCHED_ATTR_DETACHED;
	T_EQ(-EINVAL, usched_spawn(NULL, &a, nop, NULL));

	/* The smallest stack allowed works. */
	usched_attr_init(&a);
	a.stack_size = 16u << 10;
	T_EQ(0, usched_spawn(&t, &a, ret_arg, (void *)9));
	T_EQ(9, ut_join(t));
	/* Nothing failed left a task behind. */
	T_EQ(1, ut_settle_live(1));
	return 0;
}

TEST(task_spawn_einval)
{
	ASSERT_UT_OK(ut_run_slots(2, einval_main, NULL));
}

TEST(task_spawn_not_started_fails)
{
	usched_task_t *t = NULL;

	EXPECT_GT(0, usched_spawn(&t, NULL, nop, NULL));
	EXPECT_EQ(NULL, t);
}

/* ---- join errors ------------------------------------------------------- */

struct two_joiners {
	usched_sem_t go;		/* the target waits on it */
	usched_task_t *target;
	atomic_int res[2];		/* join's return, 1: not returned yet */
	atomic_int got[2];		/* the result it got */
};

static int target_fn(void *arg)
{
	struct two_joiners *j = arg;

	if (usched_sem_wait(&j->go))
		return -1;
	return 77;
}

struct joiner_arg {
	struct two_joiners *j;
	int i;
};

static int joiner_fn(void *arg)
{
	struct joiner_arg *a = arg;
	int res = -1000;

	atomic_store(&a->j->res[a->i], usched_join(a->j->target, &res));
	atomic_store(&a->j->got[a->i], res);
	return 0;
}

/*
 * Two tasks join one target at once: exactly one gets -EINVAL at once
 * (a handle is joined once), the other waits and gets the result.
 * (Joining a handle again after a join returned is a use after free, as
 * with pthread_join: not tested.)
 */
static int join_twice_main(void *arg)
{
	struct two_joiners j = { .go = USCHED_SEM_INIT(0) };
	struct joiner_arg a[2] = { { &j, 0 }, { &j, 1 } };
	usched_task_t *jt[2];
	uint64_t end;
	int i, einval;

	j.res[0] = j.res[1] = 1;
	T_EQ(0, ut_spawn(&j.target, target_fn, &j));
	for (i = 0; i < 2; i++)
		T_EQ(0, ut_spawn(&jt[i], joiner_fn, &a[i]));
	/* Wait for the loser's -EINVAL while the target still lives. */
	end = ut_now() + 5000 * MS;
	while (atomic_load(&j.res[0]) != -EINVAL &&
	       atomic_load(&j.res[1]) != -EINVAL && ut_now() < end)
		usched_sleep(1 * MS);
	einval = (atomic_load(&j.res[0]) == -EINVAL) +
		 (atomic_load(&j.res[1]) == -EINVAL);
	usched_sem_post(&j.go);
	for (i = 0; i < 2; i++)
		T_EQ(0, ut_join(jt[i]));
	T_EQ(1, einval);
	i = atomic_load(&j.res[0]) == -EINVAL ? 1 : 0;
	T_EQ(0, atomic_load(&j.res[i]));
	T_EQ(77, atomic_load(&j.got[i]));
	return 0;
}

TEST(task_join_twice_einval)
{
	ASSERT_UT_OK(ut_run_slots(2, join_twice_main, NULL));
}

static int join_detached_main(void *arg)
{
	/*
	 * Static: the detached target still uses j.go after this task has
	 * posted it and ended (usched_main() waits for it, not this frame).
	 */
	static struct two_joiners j;
	int res = -1000;

	memset(&j, 0, sizeof(j));
	j.go = (usched_sem_t)USCHED_SEM_INIT(0);

	T_EQ(0, ut_spawn(&j.target, target_fn, &j));
	T_EQ(0, usched_detach(j.target));
	/* Detached: no join, and no second detach (it still runs). */
	T_EQ(-EINVAL, usched_join(j.target, &res));
	T_EQ(-1000, res);
	T_EQ(-EINVAL, usched_detach(j.target));
	usched_sem_post(&j.go);
	return 0;
}

TEST(task_join_detached_einval)
{
	ASSERT_UT_OK(ut_run_slots(2, join_detached_main, NULL));
}

static int join_self_main(void *arg)
{
	int res = -1000;

	T_CHECK(usched_self() != NULL);
	T_EQ(-EDEADLK, usched_join(usched_self(), &res));
	T_EQ(-1000, res);
	T_EQ(-EINVAL, usched_join(NULL, &res));
	T_EQ(-EINVAL, usched_detach(NULL));
	T_EQ(-EINVAL, usched_cancel(NULL));
	return 0;
}

TEST(task_join_self_edeadlk)
{
	ASSERT_UT_OK(ut_run_slots(1, join_self_main, NULL));
	/* A plain thread is not a task: NULL handles are still -EINVAL. */
	EXPECT_EQ(-EINVAL, usched_join(NULL, NULL));
	EXPECT_EQ(-EINVAL, usched_detach(NULL));
	EXPECT_EQ(-EINVAL, usched_cancel(NULL));
}

/* ---- detach ------------------------------------------------------------ */

struct detached {
	usched_wg_t wg;
	atomic_int ran;
};

static int detached_fn(void *arg)
{
	struct detached *d = arg;

	usched_yield();
	atomic_fetch_add(&d->ran, 1);
	usched_wg_done(&d->wg);
	return 0;
}

static int detached_main(void *arg)
{
	struct detached d = { .wg = USCHED_WG_INIT };
	struct usched_attr a;
	usched_task_t *t;
	int i;

	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	T_EQ(0, usched_wg_add(&d.wg, 200));
	/* Detached at spawn, no handle at all. */
	for (i = 0; i < 100; i++)
		T_EQ(0, usched_spawn(NULL, &a, detached_fn, &d));
	/* A handle may be asked for anyway, and must not be used after. */
	for (i = 0; i < 50; i++)
		T_EQ(0, usched_spawn(&t, &a, detached_fn, &d));
	/* Joinable, detached later: while running, or after it ended. */
	for (i = 0; i < 50; i++) {
		T_EQ(0, ut_spawn(&t, detached_fn, &d));
		if (i & 1)
			usched_sleep(100 * US);
		T_EQ(0, usched_detach(t));
	}
	T_EQ(0, usched_wg_wait(&d.wg));
	T_EQ(200, atomic_load(&d.ran));
	/* Every detached task frees itself: only main is left. */
	T_EQ(1, ut_settle_live(1));
	return 0;
}

TEST(task_detached_needs_no_handle)
{
	ASSERT_UT_OK(ut_run_slots(2, detached_main, NULL));
}

/* ---- cancel ------------------------------------------------------------ */

struct cancel {
	usched_sem_t sem;
	atomic_int waiting;
	atomic_int r1, r2, r3, flag;
};

static int cancelled_fn(void *arg)
{
	struct cancel *c = arg;

	atomic_store(&c->flag, usched_cancelled());
	atomic_store(&c->waiting, 1);
	atomic_store(&c->r1, usched_sem_wait(&c->sem));
	atomic_store(&c->flag, atomic_load(&c->flag) * 10 + usched_cancelled());
	/* Cancelled for good: every later blocking call says so. */
	atomic_store(&c->r2, usched_yield());
	atomic_store(&c->r3, usched_sleep(1 * MS));
	return 5;
}

static int cancel_main(void *arg)
{
	struct cancel c = { .sem = USCHED_SEM_INIT(0) };
	usched_task_t *t;

	T_EQ(0, ut_spawn(&t, cancelled_fn, &c));
	while (!atomic_load(&c.waiting))
		usched_sleep(1 * MS);
	usched_sleep(5 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(0, usched_cancel(t));	/* twice: harmless */
	T_EQ(5, ut_join(t));
	T_EQ(-ECANCELED, c.r1);
	T_EQ(-ECANCELED, c.r2);
	T_EQ(-ECANCELED, c.r3);
	T_EQ(1, c.flag);		/* 0 before, 1 after */
	T_EQ(0, usched_cancelled());	/* main was not */

	/* Cancelled before it ever ran: its first blocking call fails. */
	memset(&c, 0, sizeof(c));
	T_EQ(0, ut_spawn(&t, cancelled_fn, &c));
	T_EQ(0, usched_cancel(t));
	T_EQ(5, ut_join(t));
	T_EQ(-ECANCELED, c.r1);
	/* (It may have run on the other slot before the cancel came.) */
	T_CHECK(c.flag == 11 || c.flag == 1);

	/* Cancelling a task that already ended (not yet joined): 0. */
	T_EQ(0, ut_spawn(&t, ret_arg, (void *)3));
	usched_sleep(10 * MS);
	T_EQ(0, usched_cancel(t));
	T_EQ(3, ut_join(t));
	return 0;
}

TEST(task_cancel_blocking_call_ecanceled)
{
	ASSERT_UT_OK(ut_run_slots(2, cancel_main, NULL));
	/* Outside tasks: nothing is cancelled. */
	EXPECT_EQ(0, usched_cancelled());
}

/* ---- yield ------------------------------------------------------------- */

#define YIELDS	2000

struct alt {
	atomic_int n;
	char log[2 * YIELDS];
};

static int yielder(void *arg)
{
	struct alt *a = (struct alt *)((uintptr_t)arg & ~(uintptr_t)1);
	char me = 'A' + ((uintptr_t)arg & 1);
	int i;

	for (i = 0; i < YIELDS; i++) {
		a->log[atomic_fetch_add(&a->n, 1)] = me;
		T_EQ(0, usched_yield());
	}
	return 0;
}

/* Two tasks yielding on one slot take turns, strictly. */
static int alternate_main(void *arg)
{
	struct alt *a = arg;
	usched_task_t *t[2];
	int i, same = 0, first = -1;

	T_EQ(0, ut_spawn(&t[0], yielder, a));
	T_EQ(0, ut_spawn(&t[1], yielder, (void *)((uintptr_t)a | 1)));
	T_EQ(0, ut_join(t[0]));
	T_EQ(0, ut_join(t[1]));
	T_EQ(2 * YIELDS, atomic_load(&a->n));
	/* Once both run (the first entries), until one is done. */
	for (i = 2; i < 2 * YIELDS - 2; i++)
		if (a->log[i] == a->log[i - 1]) {
			same++;
			if (first < 0)
				first = i;
		}
	if (same)
		fprintf(stderr, "# %d repeats, first at %d: ...%.16s...\n",
			same, first, a->log + (first > 8 ? first - 8 : 0));
	T_EQ(0, same);
	return 0;
}

TEST(task_yield_alternates)
{
	static struct alt a;

	ASSERT_UT_OK(ut_run_slots(1, alternate_main, &a));
}

TEST(task_yield_plain_thread)
{
	/* Not a task: a sched_yield(), 0, with or without the runtime. */
	EXPECT_EQ(0, usched_yield());
	ASSERT_EQ(0, usched_start(NULL));
	EXPECT_EQ(0, usched_yield());
	EXPECT_EQ(NULL, usched_self());
	EXPECT_EQ(0, usched_task_id());
	EXPECT_STREQ("", usched_task_name());
	EXPECT_GT(0, usched_task_setname("x"));
	EXPECT_EQ(0, usched_stop());
}

/* ---- identity: self, id, name ------------------------------------------ */

struct ident {
	usched_task_t *handle;
	uint64_t id;
	char name[64];
	char name_after[64];
};

static int ident_fn(void *arg)
{
	struct ident *x = arg;

	T_CHECK(usched_self() == x->handle);
	x->id = usched_task_id();
	snprintf(x->name, sizeof(x->name), "%s", usched_task_name());
	T_EQ(0, usched_yield());
	usched_sleep(100 * US);
	T_CHECK(usched_self() == x->handle);
	T_EQ(x->id, usched_task_id());
	snprintf(x->name_after, sizeof(x->name_after), "%s",
		 usched_task_name());
	return 0;
}

#define NIDENT	500

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int ident_main(void *arg)
{
	static struct ident x[NIDENT];
	static uint64_t ids[NIDENT + 1];
	struct usched_attr a;
	char want[64], buf[40] = "copied-at-spawn";
	int i;

	T_CHECK(usched_task_id() != 0);
	T_EQ(0, strcmp(usched_task_name(), "main"));
	usched_attr_init(&a);
	for (i = 0; i < NIDENT; i++) {
		switch (i % 4) {
		case 0:
			a.name = NULL;
			break;
		case 1:
			a.name = "named";
			break;
		case 2:
			a.name = "0123456789012345678901234567890123456789";
			break;
		case 3:
			a.name = buf;
			break;
		}
		T_EQ(0, usched_spawn(&x[i].handle, &a, ident_fn, &x[i]));
	}
	/* The name was copied: changing the buffer changes nothing. */
	strcpy(buf, "changed");
	for (i = 0; i < NIDENT; i++)
		T_EQ(0, ut_join(x[i].handle));
	for (i = 0; i < NIDENT; i++) {
		switch (i % 4) {
		case 0:
			snprintf(want, sizeof(want), "task-%llu",
				 (unsigned long long)x[i].id);
			break;
		case 1: strcpy(want, "named"); break;
		case 2: strcpy(want, "0123456789012345678901234567890"); break;
		case 3: strcpy(want, "copied-at-spawn"); break;
		}
		if (strcmp(want, x[i].name) || strcmp(want, x[i].name_after)) {
			fprintf(stderr, "# task %d: name '%s' then '%s', want '%s'\n",
				i, x[i].name, x[i].name_after, want);
			T_CHECK(0);
		}
		ids[i] = x[i].id;
	}
	/* Ids: never 0, unique (main's too). */
	ids[NIDENT] = usched_task_id();
	qsort(ids, NIDENT + 1, sizeof(ids[0]), cmp_u64);
	T_CHECK(ids[0] != 0);
	for (i = 1; i <= NIDENT; i++)
		T_CHECK(ids[i] != ids[i - 1]);
	return 0;
}

TEST(task_self_id_name)
{
	EXPECT_EQ(NULL, usched_self());
	EXPECT_EQ(0, usched_task_id());
	EXPECT_STREQ("", usched_task_name());
	ASSERT_UT_OK(ut_run_slots(1, ident_main, NULL));
}

static int setname_fn(void *arg)
{
	T_EQ(0, usched_task_setname("renamed"));
	T_EQ(0, strcmp("renamed", usched_task_name()));
	T_EQ(0, usched_yield());
	usched_sleep(1 * MS);
	T_EQ(0, strcmp("renamed", usched_task_name()));
	T_EQ(0, usched_task_setname("a-name-that-is-much-longer-than-31-chars"));
	T_EQ(0, strcmp("a-name-that-is-much-longer-than", usched_task_name()));
	T_EQ(31, strlen(usched_task_name()));
	T_EQ(-EINVAL, usched_task_setname(NULL));
	T_EQ(0, strcmp("a-name-that-is-much-longer-than", usched_task_name()));
	T_EQ(0, usched_task_setname(""));
	T_EQ(0, usched_task_setname("x"));
	T_EQ(0, strcmp("x", usched_task_name()));
	return 0;
}

static int setname_main(void *arg)
{
	usched_task_t *t[8];
	int i;

	for (i = 0; i < 8; i++)
		T_EQ(0, ut_spawn(&t[i], setname_fn, NULL));
	for (i = 0; i < 8; i++)
		T_EQ(0, ut_join(t[i]));
	/* Main's own name is its own. */
	T_EQ(0, strcmp(usched_task_name(), "main"));
	return 0;
}

TEST(task_setname)
{
	ASSERT_UT_OK(ut_run_slots(2, setname_main, NULL));
}

/* ---- many tasks -------------------------------------------------------- */

static int square_fn(void *arg)
{
	uint64_t v = (uintptr_t)arg;

	return (int)(v * v % 1000003);
}

static int many_main(void *arg)
{
	unsigned int n = *(unsigned int *)arg, i;
	usched_task_t **t = calloc(n, sizeof(*t));
	uint64_t sum = 0, want = 0;
	uint64_t t0 = ut_now();
	int res;

	T_CHECK(t);
	for (i = 0; i < n; i++) {
		T_EQ(0, ut_spawn(&t[i], square_fn, (void *)(uintptr_t)i));
		want += (uint64_t)i * i % 1000003;
	}
	for (i = 0; i < n; i++) {
		T_EQ(0, usched_join(t[i], &res));
		sum += res;
	}
	free(t);
	T_EQ(want, sum);
	fprintf(stderr, "# %u tasks spawned and joined in %llu ms\n", n,
		(unsigned long long)(ut_now() - t0) / MS);
	/* In batches: spawn 1000, join them, again. */
	t0 = ut_now();
	for (i = 0; i < n; i += 1000) {
		usched_task_t *b[1000];
		unsigned int k, m = n - i < 1000 ? n - i : 1000;

		for (k = 0; k < m; k++)
			T_EQ(0, ut_spawn(&b[k], square_fn,
					 (void *)(uintptr_t)(i + k)));
		for (k = 0; k < m; k++) {
			T_EQ(0, usched_join(b[k], &res));
			T_EQ((uint64_t)(i + k) * (i + k) % 1000003, res);
		}
	}
	fprintf(stderr, "# again in batches of 1000: %llu ms\n",
		(unsigned long long)(ut_now() - t0) / MS);
	T_EQ(1, ut_settle_live(1));
	return 0;
}

/*
 * Also the regression test of core bug #1 (a task preempted inside
 * usched_spawn() while it held rt.lock deadlocked every worker: the
 * statically linked library's code counted as preemptible program code;
 * fixed by lib/usched/usched.lds).  It hung here within seconds.
 */
TEST(task_many_spawn_join)
{
	unsigned int n = ut_vm() ? 20000 : 100000;

	/* TSan: each task is a fiber, and TSan allows 8128 threads live. */
	if (UT_TSAN)
		n = 5000;
	n = ut_env_u64("USCHED_MANY_TASKS", n);
	ASSERT_UT_OK(ut_run_slots(2, many_main, &n));
}

/* ---- spawning from a plain thread -------------------------------------- */

struct plain {
	usched_wg_t wg;
	atomic_int detached_ran;
	int failed;
};

static int plain_detached_fn(void *arg)
{
	struct plain *p = arg;

	usched_yield();
	atomic_fetch_add(&p->detached_ran, 1);
	usched_wg_done(&p->wg);
	return 0;
}

static void *plain_thread(void *arg)
{
	struct plain *p = arg;
	struct usched_attr a;
	usched_task_t *t[100];
	int i, res;

	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	if (usched_self() || usched_task_id())
		p->failed = __LINE__;
	usched_wg_add(&p->wg, 100);
	for (i = 0; i < 100; i++)
		if (usched_spawn(NULL, &a, plain_detached_fn, p))
			p->failed = __LINE__;
	for (i = 0; i < 100; i++)
		if (ut_spawn(&t[i], square_fn, (void *)(uintptr_t)(i + 1)))
			p->failed = __LINE__;
	/* A plain thread joins by sleeping on a futex. */
	for (i = 0; i < 100; i++)
		if (usched_join(t[i], &res) || res != (i + 1) * (i + 1))
			p->failed = __LINE__;
	if (usched_wg_wait(&p->wg))
		p->failed = __LINE__;
	return NULL;
}

TEST(task_spawn_from_plain_thread)
{
	struct plain p = { .wg = USCHED_WG_INIT };
	struct usched_config cfg;
	pthread_t th[3];
	int i;

	usched_config_init(&cfg);
	cfg.slots = 2;
	ASSERT_EQ(0, usched_start(&cfg));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, plain_thread, &p));
	/* The thread that started the runtime is a plain thread too. */
	plain_thread(&p);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, p.failed);
	EXPECT_EQ(0, usched_stop());
	EXPECT_EQ(400, atomic_load(&p.detached_ran));
}

/* ---- work spreads over the slots --------------------------------------- */

#define NSPREAD		32
#define SPREAD_ROUNDS	10

struct spread {
	pid_t tid[NSPREAD * SPREAD_ROUNDS];
	atomic_int n;
};

static int spread_fn(void *arg)
{
	struct spread *s = arg;
	int i;

	for (i = 0; i < SPREAD_ROUNDS; i++) {
		ut_spin_ns(300 * US);
		s->tid[atomic_fetch_add(&s->n, 1)] = ut_gettid();
		T_EQ(0, usched_yield());
	}
	return 0;
}

static int spread_main(void *arg)
{
	struct spread *s = arg;
	usched_task_t *t[NSPREAD];
	pid_t seen[8];
	int i, k, nseen = 0;

	for (i = 0; i < NSPREAD; i++)
		T_EQ(0, ut_spawn(&t[i], spread_fn, s));
	for (i = 0; i < NSPREAD; i++)
		T_EQ(0, ut_join(t[i]));
	for (i = 0; i < atomic_load(&s->n); i++) {
		for (k = 0; k < nseen && seen[k] != s->tid[i]; k++)
			;
		if (k == nseen && nseen < 8)
			seen[nseen++] = s->tid[i];
	}
	fprintf(stderr, "# tasks ran on %d worker threads\n", nseen);
	T_CHECK(nseen >= 2);
	return 0;
}

TEST(task_work_spreads_across_slots)
{
	static struct spread s;

	ASSERT_UT_OK(ut_run_slots(2, spread_main, &s));
}

/*
 * Two slots run two tasks at the same time: each waits (spinning, never
 * yielding) until it has seen the other run.
 */
struct meet {
	atomic_int here[2];
	atomic_int ok[2];
};

static int meet_fn(void *arg)
{
	struct meet *m = (struct meet *)((uintptr_t)arg & ~(uintptr_t)1);
	int me = (uintptr_t)arg & 1;
	uint64_t end = ut_now() + 5000 * MS;

	atomic_store(&m->here[me], 1);
	while (!atomic_load(&m->here[!me]) && ut_now() < end)
		;
	atomic_store(&m->ok[me], atomic_load(&m->here[!me]));
	return 0;
}

static int meet_main(void *arg)
{
	struct meet *m = arg;
	usched_task_t *t[2];

	T_EQ(0, ut_spawn(&t[0], meet_fn, m));
	T_EQ(0, ut_spawn(&t[1], meet_fn, (void *)((uintptr_t)m | 1)));
	T_EQ(0, ut_join(t[0]));
	T_EQ(0, ut_join(t[1]));
	T_EQ(1, atomic_load(&m->ok[0]));
	T_EQ(1, atomic_load(&m->ok[1]));
	return 0;
}

TEST(task_two_slots_run_in_parallel)
{
	static struct meet m;
	struct usched_config cfg;

	/* No preemption: only a second slot lets the second task run. */
	usched_config_init(&cfg);
	cfg.slots = 2;
	cfg.flags = USCHED_CFG_NO_PREEMPT;
	ASSERT_UT_OK(ut_run_cfg(&cfg, meet_main, &m));
}

TEST_HARNESS_MAIN
