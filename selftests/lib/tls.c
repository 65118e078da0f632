// SPDX-License-Identifier: GPL-2.0
/*
 * tls.c - task-local storage (usched_key_*) and errno.
 *
 * Keys: create/delete/set/get and their errors, -EAGAIN beyond
 * USCHED_KEYS_MAX, values private to each task even on one worker,
 * destructors at task end (with the re-set rounds, as pthread keys), and
 * plain threads' own values.
 *
 * errno: this file is compiled WITHOUT USCHED_NO_ERRNO_WRAP, so `errno`
 * goes through usched.h's wrapper.  Tasks set errno, switch (yield, sleep,
 * block, get preempted, migrate between the two workers of a 2-slot
 * runtime) and read their own value back.
 */
#include <fcntl.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "core_test.h"

#ifdef USCHED_NO_ERRNO_WRAP
#error "tls.c tests the errno wrapper: do not define USCHED_NO_ERRNO_WRAP"
#endif

/* ---- keys: API and errors ---------------------------------------------- */

TEST(tls_key_errors)
{
	usched_key_t k, k2;
	int x;

	EXPECT_EQ(-EINVAL, usched_key_create(NULL, NULL));
	ASSERT_EQ(0, usched_key_create(&k, NULL));
	EXPECT_LT(k, USCHED_KEYS_MAX);
	EXPECT_EQ(NULL, usched_getspecific(k));
	EXPECT_EQ(0, usched_setspecific(k, &x));
	EXPECT_EQ(&x, usched_getspecific(k));
	EXPECT_EQ(0, usched_setspecific(k, NULL));
	EXPECT_EQ(NULL, usched_getspecific(k));
	EXPECT_EQ(0, usched_key_delete(k));
	/* Deleted, or never created, or out of range: -EINVAL / NULL. */
	EXPECT_EQ(-EINVAL, usched_key_delete(k));
	EXPECT_EQ(-EINVAL, usched_setspecific(k, &x));
	EXPECT_EQ(-EINVAL, usched_setspecific(USCHED_KEYS_MAX, &x));
	EXPECT_EQ(-EINVAL, usched_setspecific(UINT32_MAX, &x));
	EXPECT_EQ(-EINVAL, usched_key_delete(USCHED_KEYS_MAX));
	EXPECT_EQ(-EINVAL, usched_key_delete(UINT32_MAX));
	EXPECT_EQ(NULL, usched_getspecific(USCHED_KEYS_MAX));
	EXPECT_EQ(NULL, usched_getspecific(UINT32_MAX));
	/* Keys are reused, distinct while alive. */
	ASSERT_EQ(0, usched_key_create(&k, NULL));
	ASSERT_EQ(0, usched_key_create(&k2, NULL));
	EXPECT_NE(k, k2);
	EXPECT_EQ(0, usched_key_delete(k));
	EXPECT_EQ(0, usched_key_delete(k2));
}

TEST(tls_keys_max_eagain)
{
	usched_key_t keys[USCHED_KEYS_MAX + 1], k;
	int n = 0, i;

	while (n <= USCHED_KEYS_MAX && !usched_key_create(&keys[n], NULL))
		n++;
	/* This process created none before: exactly the maximum. */
	EXPECT_EQ(USCHED_KEYS_MAX, n);
	EXPECT_EQ(-EAGAIN, usched_key_create(&k, NULL));
	for (i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			ASSERT_NE(keys[i], keys[j]);
	/* One freed: one more fits. */
	EXPECT_EQ(0, usched_key_delete(keys[7]));
	EXPECT_EQ(0, usched_key_create(&k, NULL));
	EXPECT_EQ(keys[7], k);
	EXPECT_EQ(-EAGAIN, usched_key_create(&k, NULL));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, usched_key_delete(keys[i]));
	EXPECT_EQ(0, usched_key_create(&k, NULL));
	EXPECT_EQ(0, usched_key_delete(k));
}

/* ---- values per task --------------------------------------------------- */

#define NPRIV	64

struct priv {
	usched_key_t k1, k2;
	atomic_int ran;
};

struct priv_arg {
	struct priv *p;
	int i;
	char mine[2];
};

static int private_fn(void *arg)
{
	struct priv_arg *a = arg;
	struct priv *p = a->p;
	int r;

	/* A new task starts with no values, whatever ran on this worker. */
	T_CHECK(usched_getspecific(p->k1) == NULL);
	T_CHECK(usched_getspecific(p->k2) == NULL);
	T_EQ(0, usched_setspecific(p->k1, &a->mine[0]));
	T_EQ(0, usched_setspecific(p->k2, &a->mine[1]));
	for (r = 0; r < 50; r++) {
		if (r % 3 == 0)
			T_EQ(0, usched_yield());
		else if (r % 3 == 1)
			T_EQ(0, usched_sleep((r % 7) * 20 * US));
		else
			ut_spin_ns(20 * US);
		T_CHECK(usched_getspecific(p->k1) == &a->mine[0]);
		T_CHECK(usched_getspecific(p->k2) == &a->mine[1]);
	}
	/* Changing one value changes only that one. */
	T_EQ(0, usched_setspecific(p->k1, NULL));
	T_EQ(0, usched_yield());
	T_CHECK(usched_getspecific(p->k1) == NULL);
	T_CHECK(usched_getspecific(p->k2) == &a->mine[1]);
	atomic_fetch_add(&p->ran, 1);
	return 0;
}

static int private_main(void *arg)
{
	struct priv *p = arg;
	struct priv_arg a[NPRIV];
	usched_task_t *t[NPRIV];
	int i;
	static char mainval;

	/* Main is a task too, with its own value. */
	T_EQ(0, usched_setspecific(p->k1, &mainval));
	for (i = 0; i < NPRIV; i++) {
		a[i].p = p;
		a[i].i = i;
		T_EQ(0, ut_spawn(&t[i], private_fn, &a[i]));
	}
	for (i = 0; i < NPRIV; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(NPRIV, atomic_load(&p->ran));
	T_CHECK(usched_getspecific(p->k1) == &mainval);
	T_CHECK(usched_getspecific(p->k2) == NULL);
	return 0;
}

static void *plain_values(void *arg)
{
	struct priv *p = arg;
	int mine;

	/* Another plain thread: its own values, NULL at first. */
	if (usched_getspecific(p->k1) || usched_getspecific(p->k2))
		return (void *)1;
	if (usched_setspecific(p->k1, &mine) ||
	    usched_getspecific(p->k1) != &mine)
		return (void *)2;
	return NULL;
}

/* One slot: every task runs on the same worker, one after another. */
TEST(tls_values_private_to_each_task)
{
	static struct priv p;
	int plain_val;
	pthread_t th;
	void *r;

	ASSERT_EQ(0, usched_key_create(&p.k1, NULL));
	ASSERT_EQ(0, usched_key_create(&p.k2, NULL));
	/* The plain thread's value is not any task's. */
	ASSERT_EQ(0, usched_setspecific(p.k1, &plain_val));
	ASSERT_UT_OK(ut_run_slots(1, private_main, &p));
	EXPECT_EQ(&plain_val, usched_getspecific(p.k1));
	EXPECT_EQ(NULL, usched_getspecific(p.k2));
	/* And on two slots, where tasks move between workers. */
	atomic_store(&p.ran, 0);
	ASSERT_UT_OK(ut_run_slots(2, private_main, &p));
	EXPECT_EQ(&plain_val, usched_getspecific(p.k1));
	ASSERT_EQ(0, pthread_create(&th, NULL, plain_values, &p));
	pthread_join(th, &r);
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(&plain_val, usched_getspecific(p.k1));
}

/* ---- destructors ------------------------------------------------------- */

struct dtors {
	usched_key_t k, k_again, k_forever, k_deleted, k_block;
	atomic_int calls, again_calls, forever_calls, deleted_calls;
	atomic_int block_calls;
	atomic_int bad_value;
	char val[4];
};

static struct dtors D;

static void dtor_once(void *v)
{
	if (v != &D.val[0])
		atomic_store(&D.bad_value, 1);
	atomic_fetch_add(&D.calls, 1);
}

/* Sets its value again twice: three calls in all. */
static void dtor_again(void *v)
{
	if (atomic_fetch_add(&D.again_calls, 1) % 3 < 2)
		usched_setspecific(D.k_again, v);
}

/* Sets its value again every time: bounded rounds, as pthread keys. */
static void dtor_forever(void *v)
{
	atomic_fetch_add(&D.forever_calls, 1);
	usched_setspecific(D.k_forever, v);
}

static void dtor_deleted(void *v)
{
	atomic_fetch_add(&D.deleted_calls, 1);
}

/* A destructor may block: it runs on the task. */
static void dtor_block(void *v)
{
	if (usched_self() && !usched_sleep(1 * MS))
		atomic_fetch_add(&D.block_calls, 1);
}

static int dtor_fn(void *arg)
{
	T_EQ(0, usched_setspecific(D.k, &D.val[0]));
	T_EQ(0, usched_setspecific(D.k_again, &D.val[1]));
	T_EQ(0, usched_setspecific(D.k_forever, &D.val[2]));
	T_EQ(0, usched_setspecific(D.k_deleted, &D.val[3]));
	T_EQ(0, usched_setspecific(D.k_block, &D.val[3]));
	T_EQ(0, usched_yield());
	return 0;
}

static int nullval_fn(void *arg)
{
	/* A NULL value: no destructor call. */
	T_EQ(0, usched_setspecific(D.k, &D.val[0]));
	T_EQ(0, usched_setspecific(D.k, NULL));
	return 0;
}

static int dtor_main(void *arg)
{
	struct usched_attr a;
	usched_task_t *t;
	int i;

	T_EQ(0, ut_spawn(&t, dtor_fn, NULL));
	T_EQ(0, ut_join(t));
	T_EQ(1, atomic_load(&D.calls));
	T_EQ(3, atomic_load(&D.again_calls));
	/* pthread: PTHREAD_DESTRUCTOR_ITERATIONS (4) rounds at most. */
	T_CHECK(atomic_load(&D.forever_calls) >= 1);
	T_CHECK(atomic_load(&D.forever_calls) <= 4);
	T_EQ(1, atomic_load(&D.block_calls));
	T_EQ(0, atomic_load(&D.bad_value));

	T_EQ(0, ut_spawn(&t, nullval_fn, NULL));
	T_EQ(0, ut_join(t));
	T_EQ(1, atomic_load(&D.calls));

	/* Detached tasks run them too; many at once. */
	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	for (i = 0; i < 100; i++)
		T_EQ(0, usched_spawn(NULL, &a, dtor_fn, NULL));
	for (i = 0; i < 5000 && atomic_load(&D.calls) < 101; i++)
		usched_sleep(1 * MS);
	T_EQ(101, atomic_load(&D.calls));
	return 0;
}

static int deleted_fn(void *arg)
{
	T_EQ(0, usched_setspecific(D.k_deleted, &D.val[3]));
	T_EQ(0, usched_key_delete(D.k_deleted));
	return 0;
}

TEST(tls_destructors_run_at_task_end)
{
	usched_task_t *t;
	int before;

	ASSERT_EQ(0, usched_key_create(&D.k, dtor_once));
	ASSERT_EQ(0, usched_key_create(&D.k_again, dtor_again));
	ASSERT_EQ(0, usched_key_create(&D.k_forever, dtor_forever));
	ASSERT_EQ(0, usched_key_create(&D.k_deleted, dtor_deleted));
	ASSERT_EQ(0, usched_key_create(&D.k_block, dtor_block));
	ASSERT_UT_OK(ut_run_slots(2, dtor_main, NULL));
	/* Every spawned dtor_fn ran the deleted key's destructor once. */
	EXPECT_EQ(101, atomic_load(&D.deleted_calls));
	EXPECT_EQ(101, atomic_load(&D.block_calls));

	/* Deleted by the task itself before it ends: not run. */
	ASSERT_EQ(0, usched_key_create(&D.k_deleted, dtor_deleted));
	before = atomic_load(&D.deleted_calls);
	ASSERT_EQ(0, usched_start(NULL));
	ASSERT_EQ(0, ut_spawn(&t, deleted_fn, NULL));
	EXPECT_EQ(0, ut_join(t));
	EXPECT_EQ(0, usched_stop());
	EXPECT_EQ(before, atomic_load(&D.deleted_calls));
}

/* ---- plain threads ----------------------------------------------------- */

static void *plain_thread(void *arg)
{
	usched_key_t k = *(usched_key_t *)arg;
	long mine = (long)pthread_self();
	int i;

	if (usched_getspecific(k))
		return (void *)1;
	for (i = 0; i < 1000; i++) {
		if (usched_setspecific(k, (void *)(mine + i)))
			return (void *)2;
		sched_yield();
		if (usched_getspecific(k) != (void *)(mine + i))
			return (void *)3;
	}
	return NULL;
}

TEST(tls_plain_thread_values)
{
	usched_key_t k;
	pthread_t th[4];
	void *r;
	int i, x;

	ASSERT_EQ(0, usched_key_create(&k, NULL));
	ASSERT_EQ(0, usched_setspecific(k, &x));
	/* Without the runtime, and while it runs. */
	for (i = 0; i < 4; i++) {
		if (i == 2)
			ASSERT_EQ(0, usched_start(NULL));
		ASSERT_EQ(0, pthread_create(&th[i], NULL, plain_thread, &k));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], &r);
		EXPECT_EQ(NULL, r);
	}
	EXPECT_EQ(&x, usched_getspecific(k));
	EXPECT_EQ(0, usched_stop());
	EXPECT_EQ(&x, usched_getspecific(k));
	EXPECT_EQ(0, usched_key_delete(k));
}

/* ---- errno ------------------------------------------------------------- */

#define NERR		48
#define ERR_ROUNDS	300

struct errs {
	usched_sem_t ping;
	atomic_int migrated, tasks_migrated;
	int rounds;
};

struct err_arg {
	struct errs *e;
	int i;
};

/*
 * errno, read and written exactly: the wrapper's address is used within a
 * no-preemption region (library.md, "TLS and errno": the residual window).
 */
static void set_errno(int v)
{
	usched_nopreempt_begin();
	errno = v;
	usched_nopreempt_end();
}

static int get_errno(void)
{
	int v;

	usched_nopreempt_begin();
	v = errno;
	usched_nopreempt_end();
	return v;
}

static int errno_fn(void *arg)
{
	struct err_arg *a = arg;
	uint64_t seed = a->i * 7919 + 1;
	pid_t tid = ut_gettid(), now;
	int r, want, got, moved = 0;

	for (r = 0; r < a->e->rounds; r++) {
		want = 10000 + a->i * 1000 + r;
		set_errno(want);
		switch (ut_rand(&seed) % 5) {
		case 0:
			T_EQ(0, usched_yield());
			break;
		case 1:
			T_EQ(0, usched_sleep(ut_rand(&seed) % (100 * US)));
			break;
		case 2:
			/* A semaphore another task posts: park and wake. */
			if (!usched_sem_trywait(&a->e->ping))
				usched_sem_post(&a->e->ping);
			else
				T_EQ(0, usched_sleep(1));
			break;
		case 3:
			/* Compute: maybe preempted, maybe moved. */
			ut_spin_ns(30 * US);
			break;
		case 4:
			/* A failing syscall sets errno; then switch. */
			T_EQ(-1, close(-1));
			T_EQ(EBADF, get_errno());
			T_EQ(0, usched_yield());
			T_EQ(EBADF, get_errno());
			set_errno(want);
			T_EQ(0, usched_yield());
			break;
		}
		got = get_errno();
		if (got != want) {
			fprintf(stderr, "# task %d round %d: errno %d, want %d\n",
				a->i, r, got, want);
			T_CHECK(!"errno changed across a switch");
		}
		now = ut_gettid();
		if (now != tid) {
			moved++;
			tid = now;
		}
	}
	atomic_fetch_add(&a->e->migrated, moved);
	if (moved)
		atomic_fetch_add(&a->e->tasks_migrated, 1);
	return 0;
}

static int errno_main(void *arg)
{
	struct errs *e = arg;
	struct err_arg a[NERR];
	usched_task_t *t[NERR];
	int i;

	set_errno(4242);
	for (i = 0; i < NERR; i++) {
		a[i].e = e;
		a[i].i = i;
		T_EQ(0, ut_spawn(&t[i], errno_fn, &a[i]));
	}
	for (i = 0; i < NERR; i++)
		T_EQ(0, ut_join(t[i]));
	T_EQ(4242, get_errno());
	fprintf(stderr, "# %d of %d tasks changed worker, %d moves in all\n",
		atomic_load(&e->tasks_migrated), NERR,
		atomic_load(&e->migrated));
	/* Two slots and this many switches: tasks do move. */
	T_CHECK(atomic_load(&e->migrated) > 0);
	return 0;
}

TEST(tls_errno_kept_across_switches_and_migration)
{
	static struct errs e = { .ping = USCHED_SEM_INIT(1) };

	e.rounds = ut_vm() ? ERR_ROUNDS / 3 : ERR_ROUNDS;
	ASSERT_UT_OK(ut_run_slots(2, errno_main, &e));
}

/*
 * errno across preemption: a preempted task may resume on another worker
 * (usched.h), and its errno follows it.  Six spinners on two slots,
 * preempted every 1 ms, set errno, spin (preemptible: they move), and
 * read it back.  The store and the check are each bracketed with
 * usched_nopreempt_begin()/_end(), as Documentation/library.md ("TLS and
 * errno", the residual window) says exact code must: between the wrapper's
 * call and the access, a preemption could otherwise move the task.
 */
struct perr {
	uint64_t end, preempts;
	_Atomic uint64_t checks, bad, moved;
};

static int perr_fn(void *arg)
{
	struct perr *p = arg;
	uint64_t n = 0, bad = 0, moved = 0;
	int v = (int)(uintptr_t)&n, got;
	volatile uint64_t x = 0;
	pid_t tid;

	while (ut_now() < p->end) {
		usched_nopreempt_begin();
		errno = ++v;
		tid = ut_gettid();
		usched_nopreempt_end();
		for (int k = 0; k < 20000; k++)
			x = x * 31 + k;
		usched_nopreempt_begin();
		got = errno;
		moved += tid != ut_gettid();
		usched_nopreempt_end();
		bad += got != v;
		n++;
	}
	atomic_fetch_add(&p->checks, n);
	atomic_fetch_add(&p->bad, bad);
	atomic_fetch_add(&p->moved, moved);
	return 0;
}

static int perr_main(void *arg)
{
	struct perr *p = arg;
	usched_task_t *t[6];
	uint64_t before = ut_stats().preempts;
	int i;

	p->end = ut_now() + 400 * MS;
	for (i = 0; i < 6; i++)
		T_EQ(0, ut_spawn(&t[i], perr_fn, p));
	for (i = 0; i < 6; i++)
		T_EQ(0, ut_join(t[i]));
	p->preempts = ut_stats().preempts - before;
	fprintf(stderr, "# %llu errno checks across %llu preemptions (%llu "
		"moved the task): %llu wrong\n",
		(unsigned long long)atomic_load(&p->checks),
		(unsigned long long)p->preempts,
		(unsigned long long)atomic_load(&p->moved),
		(unsigned long long)atomic_load(&p->bad));
	return 0;
}

TEST(tls_errno_kept_across_preemption)
{
	static struct perr p;
	struct usched_config cfg;

	usched_config_init(&cfg);
	cfg.slots = 2;
	cfg.slice_ns = 1 * MS;
	ASSERT_UT_OK(usched_main(&cfg, perr_main, &p));
	if (UT_TSAN && !p.preempts)
		SKIP(return, "asynchronous preemption is off under TSan "
		     "(by design, lib/usched/san.h): nothing to check");
	EXPECT_GT(p.preempts, 0);
	EXPECT_EQ(0, atomic_load(&p.bad));
}

/*
 * This thread's errno, asked anew: glibc declares __errno_location()
 * const, so the compiler may reuse an earlier call's result; the asm
 * keeps this wrapper from being found const itself.
 */
static __attribute__((noinline)) int *thread_errno(void)
{
	int *p = __errno_location();

	__asm__ volatile("" : "+r"(p));
	return p;
}

/* The wrapper is this thread's errno, on a plain thread too. */
static void *errno_plain(void *arg)
{
	errno = 77;
	if (usched_errno_location() != thread_errno() ||
	    *usched_errno_location() != 77)
		return (void *)1;
	return NULL;
}

static int errno_loc_fn(void *arg)
{
	bool same[2];
	int v[2];

	/* In regions: a preemption between the two calls could move it. */
	usched_nopreempt_begin();
	same[0] = usched_errno_location() == thread_errno();
	errno = 5;
	v[0] = *thread_errno();
	usched_nopreempt_end();
	T_EQ(0, usched_yield());
	/* Perhaps another thread now: the wrapper follows, and the value. */
	usched_nopreempt_begin();
	same[1] = usched_errno_location() == thread_errno();
	v[1] = *thread_errno();
	usched_nopreempt_end();
	T_CHECK(same[0] && same[1]);
	T_EQ(5, v[0]);
	T_EQ(5, v[1]);
	return 0;
}

static int errno_loc_main(void *arg)
{
	usched_task_t *t[16];
	int i;

	for (i = 0; i < 16; i++)
		T_EQ(0, ut_spawn(&t[i], errno_loc_fn, NULL));
	for (i = 0; i < 16; i++)
		T_EQ(0, ut_join(t[i]));
	return 0;
}

TEST(tls_errno_location_is_the_threads)
{
	pthread_t th;
	void *r;

	errno = 3;
	EXPECT_EQ(__errno_location(), usched_errno_location());
	EXPECT_EQ(3, *usched_errno_location());
	ASSERT_EQ(0, pthread_create(&th, NULL, errno_plain, NULL));
	pthread_join(th, &r);
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(3, errno);
	ASSERT_UT_OK(ut_run_slots(2, errno_loc_main, NULL));
}

TEST_HARNESS_MAIN
