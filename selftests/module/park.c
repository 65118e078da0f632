// SPDX-License-Identifier: GPL-2.0
/*
 * park.c - park, wake and handoff: the wake permit, deadlines, signals,
 * the group shutting down under a parked worker, and handoff ping-pong.
 */
#include <pthread.h>
#include <signal.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS	1000000ull

FIXTURE(park) {
	int fd;
	struct ut_map m;
	uint32_t id;
};

FIXTURE_SETUP(park)
{
	self->fd = ut_group(8, 64, 0, 0, 0, &self->m);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ut_register(self->fd, &self->id));
}

FIXTURE_TEARDOWN(park)
{
	ut_unregister(self->fd, self->id);
	munmap(self->m.base, self->m.size);
	close(self->fd);
}

TEST_F(park, park_deadline_in_past_etimedout)
{
	EXPECT_EQ(-ETIMEDOUT, ut_park(self->fd, self->id, 1));
}

TEST_F(park, park_deadline_respected)
{
	uint64_t t0 = ut_now_ns();

	EXPECT_EQ(-ETIMEDOUT, ut_park(self->fd, self->id, t0 + 30 * MS));
	EXPECT_LE(t0 + 30 * MS, ut_now_ns());
}

TEST_F(park, wake_before_park_not_lost)
{
	ASSERT_EQ(0, ut_wake(self->fd, self->id));
	EXPECT_EQ(0, ut_park(self->fd, self->id, ut_now_ns() + 5000 * MS));
}

TEST_F(park, permits_do_not_accumulate)
{
	ASSERT_EQ(0, ut_wake(self->fd, self->id));
	ASSERT_EQ(0, ut_wake(self->fd, self->id));
	EXPECT_EQ(0, ut_park(self->fd, self->id, ut_now_ns() + 1000 * MS));
	EXPECT_EQ(-ETIMEDOUT, ut_park(self->fd, self->id, ut_now_ns() + 20 * MS));
}

TEST_F(park, park_flags_einval)
{
	struct usched_park p = { .size = sizeof(p), .worker = self->id,
				 .flags = 1u << 7 };

	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_PARK, &p)));
	p.flags = 0;
	p.deadline_ns = 5;	/* a deadline without its flag */
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_PARK, &p)));
	p.deadline_ns = 0;
	p.target = 1;		/* park has no target */
	EXPECT_EQ(-EINVAL, ut_err(ioctl(self->fd, USCHED_IOC_PARK, &p)));
	/* WAKE takes no argument beyond the worker. */
	EXPECT_EQ(-EINVAL, ut_target(self->fd, USCHED_IOC_WAKE, self->id, 1));
}

struct waker {
	int fd;
	uint32_t id;
	int delay_ms;
	pthread_t target;
	int signal;
};

static void *waker_fn(void *p)
{
	struct waker *w = p;

	usleep(w->delay_ms * 1000);
	if (w->signal)
		pthread_kill(w->target, w->signal);
	else
		ut_wake(w->fd, w->id);
	return NULL;
}

TEST_F(park, wake_from_another_thread_ends_park)
{
	struct waker w = { .fd = self->fd, .id = self->id, .delay_ms = 30 };
	uint64_t t0 = ut_now_ns();
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, waker_fn, &w));
	EXPECT_EQ(0, ut_park(self->fd, self->id, t0 + 5000 * MS));
	EXPECT_LE(t0 + 25 * MS, ut_now_ns());
	pthread_join(t, NULL);
}

static void on_usr1(int sig)
{
}

TEST_F(park, signal_interrupts_park_eintr)
{
	struct waker w = { .fd = self->fd, .delay_ms = 30,
			   .target = pthread_self(), .signal = SIGUSR1 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, waker_fn, &w));
	EXPECT_EQ(-EINTR, ut_park(self->fd, self->id, ut_now_ns() + 5000 * MS));
	pthread_join(t, NULL);
	/* The permit survives an interrupted park. */
	ASSERT_EQ(0, ut_wake(self->fd, self->id));
	EXPECT_EQ(0, ut_park(self->fd, self->id, ut_now_ns() + 1000 * MS));
}

struct watcher {
	struct ut_map *m;
	int fd;
	uint32_t id;
	int saw_parked;
};

static void *watch_then_wake(void *p)
{
	struct watcher *w = p;

	w->saw_parked = ut_wait_kstate(w->m, w->id, USCHED_W_PARKED, 2000);
	ut_wake(w->fd, w->id);
	return NULL;
}

TEST_F(park, kstate_parked_while_parked_running_after)
{
	struct watcher w = { .m = &self->m, .fd = self->fd, .id = self->id };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, watch_then_wake, &w));
	EXPECT_EQ(0, ut_park(self->fd, self->id, ut_now_ns() + 5000 * MS));
	pthread_join(t, NULL);
	EXPECT_TRUE(w.saw_parked);
	EXPECT_EQ(USCHED_W_RUNNING, ut_kstate(&self->m, self->id));
}

TEST_F(park, handoff_to_self_or_stranger_rejected)
{
	EXPECT_EQ(-EINVAL, ut_handoff(self->fd, self->id, self->id, 0));
	EXPECT_EQ(-ESRCH, ut_handoff(self->fd, self->id, 5, 1));
	EXPECT_EQ(-EINVAL, ut_handoff(self->fd, self->id, 8, 1));
}

struct pp {
	int fd;
	uint32_t id, peer;
	volatile uint32_t *peer_id_ready;
	int rounds;
	int errors;
	long *counter;
};

static void *pong_fn(void *p)
{
	struct pp *a = p;
	int i, ret;

	if (ut_register(a->fd, &a->id))
		return (void *)1;
	__atomic_store_n(a->peer_id_ready, a->id + 1, __ATOMIC_RELEASE);
	ret = ut_park(a->fd, a->id, ut_now_ns() + 10000 * MS);
	for (i = 0; i < a->rounds && ret == 0; i++) {
		__atomic_add_fetch(a->counter, 1, __ATOMIC_RELAXED);
		ret = ut_handoff(a->fd, a->id, a->peer, ut_now_ns() + 10000 * MS);
	}
	if (ret && i < a->rounds)
		a->errors++;
	ut_wake(a->fd, a->peer);
	ut_unregister(a->fd, a->id);
	return NULL;
}

TEST_F(park, handoff_ping_pong_alternates)
{
	volatile uint32_t ready = 0;
	long counter = 0;
	struct pp b = { .fd = self->fd, .peer = self->id,
			.peer_id_ready = &ready, .rounds = 2000,
			.counter = &counter };
	pthread_t t;
	int i, ret = 0;
	long mine = 0;

	ASSERT_EQ(0, pthread_create(&t, NULL, pong_fn, &b));
	while (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		usleep(100);
	b.id = ready - 1;
	for (i = 0; i < 2000 && ret == 0; i++) {
		/* Strict alternation: the peer ran exactly i times so far. */
		if (__atomic_load_n(&counter, __ATOMIC_RELAXED) != mine)
			break;
		ret = ut_handoff(self->fd, self->id, b.id, ut_now_ns() + 10000 * MS);
		mine++;
	}
	pthread_join(t, NULL);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(2000, i);
	EXPECT_EQ(0, b.errors);
	EXPECT_EQ(2000, counter);
}

struct closer {
	int fd;
	int delay_ms;
};

static void *closer_fn(void *p)
{
	struct closer *c = p;

	usleep(c->delay_ms * 1000);
	close(c->fd);
	return NULL;
}

/* The owner closing its last fd shuts the group down: parks return. */
TEST(park_group_closed_by_another_thread_ebadf)
{
	struct closer c = { .delay_ms = 50 };
	struct usched_park p = { .size = sizeof(p) };
	pthread_t t;
	uint32_t id;
	int fd;

	fd = ut_group(2, 16, 0, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ut_register(fd, &id));
	c.fd = fd;
	p.worker = id;
	ASSERT_EQ(0, pthread_create(&t, NULL, closer_fn, &c));
	EXPECT_EQ(-EBADF, ut_err(ioctl(fd, USCHED_IOC_PARK, &p)));
	pthread_join(t, NULL);
	/* The fd is gone; the worker stays registered until the thread ends. */
	EXPECT_EQ(-EBADF, ut_err(ioctl(fd, USCHED_IOC_PARK, &p)));
}

TEST_HARNESS_MAIN
