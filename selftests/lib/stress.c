// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - randomized stress of channels, select and mutexes across
 * many tasks and a few plain threads, bounded in time, with the results
 * checked:
 *
 *   channels  every message sent is received exactly once (counts and
 *             sums of random values match), and each receiver sees each
 *             sender's messages on one channel in the order they were
 *             sent; senders mix send, send_until, trysend and select;
 *             receivers mix recv_until and select; some receivers are
 *             cancelled at random, which must not lose a message.
 *   mutexes   a counter per mutex equals the increments the tasks
 *             report, and no two holders ever overlap; lockers mix lock,
 *             lock_until and trylock, some hold across a yield, some are
 *             cancelled at random.
 *
 * The seed is printed; USCHED_STRESS_SEED=<n> replays its choices (not the
 * interleaving); USCHED_STRESS_MS=<n> changes the duration of each test.
 */
#include "kselftest_harness.h"
#include "lib_test.h"

static uint64_t stress_seed(struct __test_metadata *_metadata)
{
	const char *e = getenv("USCHED_STRESS_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0;

	if (!seed)
		seed = (ut_now() ^ ((uint64_t)getpid() << 32)) | 1;
	TH_LOG("seed %llu (USCHED_STRESS_SEED to replay)",
	       (unsigned long long)seed);
	return seed;
}

static uint64_t stress_ms(void)
{
	const char *e = getenv("USCHED_STRESS_MS");

	return e ? strtoull(e, NULL, 0) : 2000;
}

/* ---- channels ------------------------------------------------------------ */

#define NCHAN		6
#define NPROD		12	/* tasks */
#define NPROD_THR	2	/* plain threads */
#define NCONS		8	/* tasks: 4 on one channel, 4 selecting */
#define NCONS_CANCEL	4	/* tasks cancelled at a random time */
#define NSEND		(NPROD + NPROD_THR)

struct msg {
	uint32_t sender;
	uint32_t seq;
	uint64_t value;
};

struct cstress {
	usched_chan_t *c[NCHAN];
	uint64_t seed;
	uint64_t stop;			/* producers stop here */
	atomic_ullong sent, sent_sum, recvd, recvd_sum;
	atomic_int cancelled_consumers;
	atomic_int prod_done;
};

struct cworker {
	struct cstress *s;
	uint32_t id;
	uint64_t rng;
	int mode;
};

static uint64_t rnd(struct cworker *w, uint64_t n)
{
	return ut_rand(&w->rng) % n;
}

/* Send @m somewhere, however the dice say; 0 once it was delivered. */
static int stress_send_one(struct cworker *w, struct msg *m)
{
	struct cstress *s = w->s;
	struct usched_select_case cs[3];
	uint64_t d;
	int r, i, k;

	for (;;) {
		k = (int)rnd(w, NCHAN);
		switch (rnd(w, 5)) {
		case 0:
			r = usched_chan_send(s->c[k], m);
			break;
		case 1:
			d = ut_now() + rnd(w, 2000) * US;
			r = usched_chan_send_until(s->c[k], m, d);
			break;
		case 2:
			r = usched_chan_trysend(s->c[k], m);
			if (r == -EAGAIN)
				usched_yield();
			break;
		default:
			for (i = 0; i < 3; i++)
				cs[i] = (struct usched_select_case){
					s->c[rnd(w, NCHAN)],
					USCHED_SELECT_SEND, 1, m };
			d = rnd(w, 4) ? ut_now() + rnd(w, 3000) * US : 0;
			r = usched_select(cs, 3, d);
			if (r >= 0)
				r = cs[r].result;
			break;
		}
		if (r == 0)
			return 0;
		/* Not delivered: try again (never closed while we send). */
		T_CHECK(r == -ETIMEDOUT || r == -EAGAIN);
	}
}

static int stress_producer(struct cworker *w)
{
	struct cstress *s = w->s;
	struct msg m = { .sender = w->id };
	uint64_t n = 0, sum = 0;

	while (ut_now() < s->stop) {
		m.value = ut_rand(&w->rng);
		if (stress_send_one(w, &m))
			return -1;
		n++;
		sum += m.value;
		m.seq++;
	}
	atomic_fetch_add(&s->sent, n);
	atomic_fetch_add(&s->sent_sum, sum);
	atomic_fetch_add(&s->prod_done, 1);
	return 0;
}

static int producer_task(void *arg)
{
	return stress_producer(arg);
}

static void *producer_thread(void *arg)
{
	return stress_producer(arg) ? (void *)1 : NULL;
}

/* Per receiver: the last seq seen from each sender on each channel. */
struct seen {
	int64_t last[NCHAN][NSEND];
	uint64_t n, sum;
};

static int seen_check(struct seen *x, int k, const struct msg *m)
{
	T_CHECK(m->sender < NSEND);
	T_CHECK((int64_t)m->seq > x->last[k][m->sender]);
	x->last[k][m->sender] = m->seq;
	x->n++;
	x->sum += m->value;
	return 0;
}

static void seen_publish(struct cstress *s, struct seen *x)
{
	atomic_fetch_add(&s->recvd, x->n);
	atomic_fetch_add(&s->recvd_sum, x->sum);
}

/*
 * mode 0: recv_until on channel id % NCHAN; mode 1: select over all
 * channels.  Runs until every channel it reads is closed and drained,
 * or it is cancelled (which must lose nothing: -ECANCELED receives
 * nothing).
 */
static int stress_consumer(struct cworker *w)
{
	struct cstress *s = w->s;
	struct usched_select_case cs[NCHAN];
	struct seen *x = calloc(1, sizeof(*x));
	struct msg m;
	int open = NCHAN, r = 0, k, i;
	uint64_t d;

	T_CHECK(x);
	for (k = 0; k < NCHAN; k++)
		for (i = 0; i < NSEND; i++)
			x->last[k][i] = -1;
	for (k = 0; k < NCHAN; k++)
		cs[k] = (struct usched_select_case){ s->c[k],
			USCHED_SELECT_RECV, 1, &m };
	k = (int)(w->id % NCHAN);
	while (open) {
		d = rnd(w, 3) ? ut_now() + rnd(w, 5000) * US : USCHED_NEVER;
		if (w->mode == 0) {
			r = usched_chan_recv_until(s->c[k], &m, d);
			if (r == 0 && seen_check(x, k, &m))
				goto fail;
			if (r == -EPIPE)
				open = 0;
		} else {
			r = usched_select(cs, NCHAN, d);
			if (r >= 0) {
				i = r;
				r = cs[i].result;
				if (r == 0 && seen_check(x, i, &m))
					goto fail;
				if (r == -EPIPE) {
					cs[i].chan = NULL;	/* nil: never again */
					open--;
				}
				if (r != 0 && r != -EPIPE)
					goto fail;
			}
		}
		if (r == -ECANCELED) {
			atomic_fetch_add(&s->cancelled_consumers, 1);
			break;
		}
		if (r && r != -ETIMEDOUT && r != -EPIPE)
			goto fail;
	}
	seen_publish(s, x);
	free(x);
	return 0;
fail:
	seen_publish(s, x);	/* keep the sums meaningful in the log */
	free(x);
	T_CHECK(!"consumer failed");
	return -1;
}

static int consumer_task(void *arg)
{
	return stress_consumer(arg);
}

static int chan_stress_main(void *arg)
{
	struct cstress *s = arg;
	struct cworker *w;
	usched_task_t *prod[NPROD], *cons[NCONS], *canc[NCONS_CANCEL];
	pthread_t thr[NPROD_THR];
	uint64_t rng = s->seed, when[NCONS_CANCEL];
	size_t caps[3] = { 0, 1, 8 };
	int i, done;
	void *ret;

	w = calloc(NSEND + NCONS + NCONS_CANCEL, sizeof(*w));
	T_CHECK(w);
	for (i = 0; i < NCHAN; i++)
		T_EQ(0, usched_chan_create(&s->c[i], sizeof(struct msg),
					   caps[i % 3]));
	for (i = 0; i < NSEND + NCONS + NCONS_CANCEL; i++)
		w[i] = (struct cworker){ s, (uint32_t)i,
					 (s->seed + i * 0x9e3779b97f4a7c15ull) | 1,
					 i >= NSEND ? (i & 1) : 0 };
	for (i = 0; i < NPROD; i++)
		T_EQ(0, ut_spawn(&prod[i], producer_task, &w[i]));
	for (i = 0; i < NPROD_THR; i++)
		T_EQ(0, pthread_create(&thr[i], NULL, producer_thread,
				       &w[NPROD + i]));
	for (i = 0; i < NCONS; i++)
		T_EQ(0, ut_spawn(&cons[i], consumer_task, &w[NSEND + i]));
	for (i = 0; i < NCONS_CANCEL; i++) {
		T_EQ(0, ut_spawn(&canc[i], consumer_task,
				 &w[NSEND + NCONS + i]));
		when[i] = ut_now() + ut_rand(&rng) % (stress_ms() * MS);
	}
	/* Cancel the doomed consumers at their times, while producing. */
	for (done = 0; done < NCONS_CANCEL;) {
		for (i = 0, done = 0; i < NCONS_CANCEL; i++) {
			if (when[i] == 0) {
				done++;
			} else if (ut_now() >= when[i]) {
				T_EQ(0, usched_cancel(canc[i]));
				when[i] = 0;
				done++;
			}
		}
		usched_sleep(1 * MS);
	}
	for (i = 0; i < NPROD; i++)
		T_EQ(0, ut_join(prod[i]));
	for (i = 0; i < NPROD_THR; i++) {
		T_EQ(0, pthread_join(thr[i], &ret));
		T_CHECK(ret == NULL);
	}
	T_EQ(NSEND, atomic_load(&s->prod_done));
	/* Everything is sent: close, and the consumers drain and end. */
	for (i = 0; i < NCHAN; i++)
		T_EQ(0, usched_chan_close(s->c[i]));
	for (i = 0; i < NCONS; i++)
		T_EQ(0, ut_join(cons[i]));
	for (i = 0; i < NCONS_CANCEL; i++)
		T_EQ(0, ut_join(canc[i]));
	for (i = 0; i < NCHAN; i++) {
		T_EQ(0, usched_chan_len(s->c[i]));
		usched_chan_destroy(s->c[i]);
	}
	free(w);
	return 0;
}

TEST(stress_channels_select_sum_and_order)
{
	struct cstress s = { 0 };

	s.seed = stress_seed(_metadata);
	s.stop = ut_now() + stress_ms() * MS;
	ASSERT_UT_OK(ut_run(chan_stress_main, &s));
	TH_LOG("%llu messages, %d consumers cancelled",
	       (unsigned long long)atomic_load(&s.sent),
	       atomic_load(&s.cancelled_consumers));
	EXPECT_LT(0, atomic_load(&s.sent));
	EXPECT_EQ(atomic_load(&s.sent), atomic_load(&s.recvd));
	EXPECT_EQ(atomic_load(&s.sent_sum), atomic_load(&s.recvd_sum));
}

/* ---- mutexes ------------------------------------------------------------- */

#define NMUTEX		6
#define NLOCKER		32
#define NLOCKER_CANCEL	6

struct mstress {
	usched_mutex_t m[NMUTEX];
	long counter[NMUTEX];		/* under m[i] */
	int holder[NMUTEX];		/* under m[i]: 0 or the holder's id */
	uint64_t seed, stop;
	atomic_long increments;
	atomic_int overlaps;
	atomic_int cancelled;
};

struct locker {
	struct mstress *s;
	int id;
	uint64_t rng;
};

static int locker_task(void *arg)
{
	struct locker *l = arg;
	struct mstress *s = l->s;
	long mine = 0;
	int i, r;

	while (ut_now() < s->stop) {
		i = (int)(ut_rand(&l->rng) % NMUTEX);
		switch (ut_rand(&l->rng) % 8) {
		case 0:
			r = usched_mutex_trylock(&s->m[i]);
			break;
		case 1:
		case 2:
			r = usched_mutex_lock_until(&s->m[i], ut_now() +
					(ut_rand(&l->rng) % 300) * US);
			break;
		default:
			r = usched_mutex_lock(&s->m[i]);
			break;
		}
		if (r == -ECANCELED) {
			atomic_fetch_add(&s->cancelled, 1);
			break;
		}
		if (r) {
			T_CHECK(r == -EBUSY || r == -ETIMEDOUT);
			continue;
		}
		if (s->holder[i])
			atomic_fetch_add(&s->overlaps, 1);
		s->holder[i] = l->id;
		s->counter[i]++;
		mine++;
		if (!(ut_rand(&l->rng) % 16))
			usched_yield();		/* hold it across a switch */
		if (s->holder[i] != l->id)
			atomic_fetch_add(&s->overlaps, 1);
		s->holder[i] = 0;
		usched_mutex_unlock(&s->m[i]);
	}
	atomic_fetch_add(&s->increments, mine);
	return 0;
}

static int mutex_stress_main(void *arg)
{
	struct mstress *s = arg;
	struct locker l[NLOCKER];
	usched_task_t *t[NLOCKER];
	uint64_t rng = s->seed;
	int i;

	for (i = 0; i < NLOCKER; i++) {
		l[i] = (struct locker){ s, i + 1,
					(s->seed ^ (i * 0x2545f4914f6cdd1dull)) | 1 };
		T_EQ(0, ut_spawn(&t[i], locker_task, &l[i]));
	}
	/* Cancel a few at random times. */
	for (i = 0; i < NLOCKER_CANCEL; i++) {
		usched_sleep(ut_rand(&rng) % (stress_ms() / NLOCKER_CANCEL + 1) *
			     MS);
		T_EQ(0, usched_cancel(t[ut_rand(&rng) % NLOCKER]));
	}
	for (i = 0; i < NLOCKER; i++)
		T_EQ(0, ut_join(t[i]));
	for (i = 0; i < NMUTEX; i++) {
		T_EQ(0, usched_mutex_trylock(&s->m[i]));	/* all free */
		usched_mutex_unlock(&s->m[i]);
	}
	return 0;
}

TEST(stress_mutex_counters_exact)
{
	struct mstress s = { 0 };
	long total = 0;
	int i;

	for (i = 0; i < NMUTEX; i++)
		usched_mutex_init(&s.m[i]);
	s.seed = stress_seed(_metadata);
	s.stop = ut_now() + stress_ms() * MS;
	ASSERT_UT_OK(ut_run(mutex_stress_main, &s));
	for (i = 0; i < NMUTEX; i++)
		total += s.counter[i];
	TH_LOG("%ld increments, %d lockers cancelled while waiting", total,
	       atomic_load(&s.cancelled));
	EXPECT_LT(0, total);
	EXPECT_EQ(atomic_load(&s.increments), total);
	EXPECT_EQ(0, atomic_load(&s.overlaps));
}

TEST_HARNESS_MAIN
