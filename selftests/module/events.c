// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - BLOCKED and UNBLOCKED events: reasons, syscall numbers,
 * pairing and order, poll, overflow accounting, the standby wake-up, and a
 * sleep in a page fault (held by userfaultfd) reported as one.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS	1000000ull

struct blocker {
	int fd;
	int pipe_rd;
	uint32_t id;
	int reads;
	int ret;
	volatile int registered;
	uint32_t standby;	/* USCHED_NO_WORKER: none */
	struct ut_map *map;	/* idle_blocker_fn */
	uint32_t claim_after;	/* idle_blocker_fn */
};

static void *blocker_fn(void *p)
{
	struct blocker *b = p;
	char c;
	int i;

	b->ret = ut_register(b->fd, &b->id);
	if (!b->ret && b->standby != USCHED_NO_WORKER)
		b->ret = ut_target(b->fd, USCHED_IOC_SET_STANDBY, b->id, b->standby);
	__atomic_store_n(&b->registered, 1, __ATOMIC_RELEASE);
	for (i = 0; i < b->reads && !b->ret; i++)
		if (read(b->pipe_rd, &c, 1) != 1)
			b->ret = -EIO;
	if (!b->ret)
		b->ret = ut_unregister(b->fd, b->id);
	return NULL;
}

FIXTURE(events) {
	int fd;
	struct ut_map m;
	int p[2];
};

FIXTURE_SETUP(events)
{
	self->fd = ut_group(4, 16, 0, 0, 0, &self->m);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe(self->p));
}

FIXTURE_TEARDOWN(events)
{
	munmap(self->m.base, self->m.size);
	close(self->fd);
	close(self->p[0]);
	close(self->p[1]);
}

TEST_F(events, blocked_read_posts_blocked_then_unblocked)
{
	struct blocker b = { .fd = self->fd, .pipe_rd = self->p[0], .reads = 1,
			     .standby = USCHED_NO_WORKER };
	struct usched_event ev, ev2;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, blocker_fn, &b));
	while (!b.registered)
		usleep(1000);
	ASSERT_EQ(0, b.ret);
	ASSERT_EQ(1, ut_wait_event(&self->m, USCHED_EV_BLOCKED, b.id, &ev, 5000));
	EXPECT_EQ(USCHED_BLOCK_SYSCALL, ev.reason);
	EXPECT_EQ(SYS_read, ev.syscall);
	EXPECT_EQ(1, ev.seq);
	EXPECT_NE(0, ev.time_ns);
	EXPECT_EQ(USCHED_W_BLOCKED, ut_kstate(&self->m, b.id));
	EXPECT_EQ(1, self->m.slots[b.id].blocks);

	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, ut_wait_event(&self->m, USCHED_EV_UNBLOCKED, b.id, &ev2, 5000));
	EXPECT_EQ(ev.seq, ev2.seq);	/* it names the BLOCKED it ends */
	EXPECT_LE(ev.time_ns, ev2.time_ns);
	pthread_join(t, NULL);
	EXPECT_EQ(0, b.ret);
}

TEST_F(events, nanosleep_reports_its_syscall)
{
	struct usched_event ev;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint32_t id;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	nanosleep(&ts, NULL);
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	ASSERT_EQ(1, ut_wait_event(&self->m, USCHED_EV_BLOCKED, id, &ev, 1000));
	EXPECT_EQ(USCHED_BLOCK_SYSCALL, ev.reason);
	EXPECT_TRUE(ev.syscall == SYS_nanosleep || ev.syscall == SYS_clock_nanosleep) {
		TH_LOG("syscall %d", ev.syscall);
	}
}

TEST_F(events, every_unblocked_follows_its_blocked)
{
	struct blocker b = { .fd = self->fd, .pipe_rd = self->p[0], .reads = 50,
			     .standby = USCHED_NO_WORKER };
	struct usched_event ev;
	uint32_t last_blocked = 0, last_unblocked = 0;
	int i, blocked = 0, unblocked = 0;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, blocker_fn, &b));
	for (i = 0; i < 50; i++) {
		usleep(2000);
		ASSERT_EQ(1, write(self->p[1], "x", 1));
		/* Drain as we go so the small ring never overflows. */
		while (ut_next_event(&self->m, &ev)) {
			if (ev.worker != b.id)
				continue;
			if (ev.type == USCHED_EV_BLOCKED) {
				EXPECT_EQ(last_unblocked, last_blocked);
				EXPECT_EQ(last_blocked + 1, ev.seq);
				last_blocked = ev.seq;
				blocked++;
			} else if (ev.type == USCHED_EV_UNBLOCKED) {
				EXPECT_EQ(last_blocked, ev.seq);
				last_unblocked = ev.seq;
				unblocked++;
			}
		}
	}
	pthread_join(t, NULL);
	while (ut_next_event(&self->m, &ev)) {
		if (ev.worker != b.id)
			continue;
		if (ev.type == USCHED_EV_BLOCKED)
			blocked++;
		if (ev.type == USCHED_EV_UNBLOCKED) {
			EXPECT_EQ(last_blocked, ev.seq);
			unblocked++;
		}
	}
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(blocked, unblocked);
	EXPECT_LE(1, blocked);
	EXPECT_EQ(0, self->m.hdr->ring_overflow);
}

TEST_F(events, poll_reports_pending_events)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	struct usched_event ev;
	uint32_t id;

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, ut_register(self->fd, &id));
	nanosleep(&ts, NULL);
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	while (ut_next_event(&self->m, &ev))
		;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

struct poller {
	int fd;
	int ret;
	short revents;
};

static void *poller_fn(void *p)
{
	struct poller *a = p;
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };

	a->ret = poll(&pfd, 1, 5000);
	a->revents = pfd.revents;
	return NULL;
}

TEST_F(events, poll_sleeper_woken_by_block_event)
{
	struct poller a = { .fd = self->fd };
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	uint64_t t0 = ut_now_ns();
	pthread_t t;
	uint32_t id;

	ASSERT_EQ(0, pthread_create(&t, NULL, poller_fn, &a));
	usleep(50000);
	ASSERT_EQ(0, ut_register(self->fd, &id));
	nanosleep(&ts, NULL);	/* the BLOCKED event comes from the notifier */
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	pthread_join(t, NULL);
	EXPECT_EQ(1, a.ret);
	EXPECT_TRUE(a.revents & POLLIN);
	EXPECT_GT(t0 + 4000 * 1000000ull, ut_now_ns());
}

TEST_F(events, full_ring_sets_overflow_and_counts)
{
	struct timespec ts = { 0, 1000 * 1000 };
	uint32_t id;
	int i;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	/*
	 * 20 blocks, 40 events into 16 entries.  A nanosleep whose timer
	 * expired before it could sleep (a slow debug kernel) is no block:
	 * count the blocks, not the calls.
	 */
	for (i = 0; i < 200 && self->m.slots[id].block_seq < 20; i++)
		nanosleep(&ts, NULL);
	ASSERT_EQ(0, ut_unregister(self->fd, id));
	EXPECT_EQ(1, self->m.hdr->ring_overflow);
	EXPECT_LE(20, self->m.hdr->overflow_count);
	EXPECT_EQ(16, self->m.hdr->ring_tail);
	/* The per-worker sequence numbers keep counting: resync is possible. */
	EXPECT_LE(20, self->m.slots[id].block_seq);
}

struct standby {
	int fd;
	uint32_t id;
	int ret;
	volatile int registered;
	uint64_t woken_at;
};

static void *standby_fn(void *p)
{
	struct standby *s = p;

	s->ret = ut_register(s->fd, &s->id);
	__atomic_store_n(&s->registered, 1, __ATOMIC_RELEASE);
	if (!s->ret)
		s->ret = ut_park(s->fd, s->id, ut_now_ns() + 5000 * MS);
	s->woken_at = ut_now_ns();
	ut_unregister(s->fd, s->id);
	return NULL;
}

TEST_F(events, block_wakes_named_standby)
{
	struct standby s = { .fd = self->fd };
	struct blocker b = { .fd = self->fd, .pipe_rd = self->p[0], .reads = 1 };
	pthread_t ts, tb;
	uint64_t t0;

	ASSERT_EQ(0, pthread_create(&ts, NULL, standby_fn, &s));
	while (!s.registered)
		usleep(1000);
	ASSERT_EQ(0, s.ret);
	ASSERT_EQ(1, ut_wait_kstate(&self->m, s.id, USCHED_W_PARKED, 2000));
	b.standby = s.id;
	t0 = ut_now_ns();
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker_fn, &b));
	pthread_join(ts, NULL);
	EXPECT_EQ(0, s.ret);	/* woken, not timed out */
	EXPECT_LE(t0, s.woken_at);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0, b.ret);
}

TEST_F(events, set_standby_rejects_bad_ids)
{
	uint32_t id;

	ASSERT_EQ(0, ut_register(self->fd, &id));
	EXPECT_EQ(-EINVAL, ut_target(self->fd, USCHED_IOC_SET_STANDBY, id, id));
	EXPECT_EQ(-EINVAL, ut_target(self->fd, USCHED_IOC_SET_STANDBY, id, 4));
	EXPECT_EQ(-ESRCH, ut_target(self->fd, USCHED_IOC_SET_STANDBY, id, 2));
	EXPECT_EQ(-ESRCH, ut_target(self->fd, USCHED_IOC_SET_STANDBY, 3, id));
	EXPECT_EQ(0, ut_target(self->fd, USCHED_IOC_SET_STANDBY, id,
			       USCHED_NO_WORKER));
	ASSERT_EQ(0, ut_unregister(self->fd, id));
}

/* A worker that marked its claim IDLE before a wait: no standby, no steal. */
static void *idle_blocker_fn(void *p)
{
	struct blocker *b = p;
	struct usched_worker_slot *slot;
	char c;

	b->ret = ut_register(b->fd, &b->id);
	if (!b->ret)
		b->ret = ut_target(b->fd, USCHED_IOC_SET_STANDBY, b->id, b->standby);
	__atomic_store_n(&b->registered, 1, __ATOMIC_RELEASE);
	if (b->ret)
		return NULL;
	slot = &b->map->slots[b->id];
	__atomic_store_n(&slot->claim, USCHED_CLAIM_IDLE, __ATOMIC_RELAXED);
	if (read(b->pipe_rd, &c, 1) != 1)
		b->ret = -EIO;
	b->claim_after = __atomic_load_n(&slot->claim, __ATOMIC_RELAXED);
	ut_unregister(b->fd, b->id);
	return NULL;
}

TEST_F(events, idle_claim_wakes_no_standby)
{
	struct standby s = { .fd = self->fd };
	struct blocker b = { .fd = self->fd, .pipe_rd = self->p[0],
			     .map = &self->m };
	struct usched_event ev;
	pthread_t ts, tb;
	uint64_t woke;

	ASSERT_EQ(0, pthread_create(&ts, NULL, standby_fn, &s));
	while (!s.registered)
		usleep(1000);
	ASSERT_EQ(0, s.ret);
	b.standby = s.id;
	ASSERT_EQ(0, pthread_create(&tb, NULL, idle_blocker_fn, &b));
	while (!b.registered)
		usleep(1000);
	ASSERT_EQ(0, b.ret);
	ASSERT_EQ(1, ut_wait_event(&self->m, USCHED_EV_BLOCKED, b.id, &ev, 2000));
	/* Still IDLE while blocked: nothing to steal, and the standby sleeps. */
	EXPECT_EQ(USCHED_CLAIM_IDLE,
		  self->m.slots[b.id].claim & USCHED_CLAIM_STATE);
	usleep(100000);
	EXPECT_EQ(USCHED_W_PARKED, ut_kstate(&self->m, s.id));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0, b.ret);
	EXPECT_EQ(USCHED_CLAIM_RUNNING, b.claim_after & USCHED_CLAIM_STATE);
	woke = ut_now_ns();
	ut_wake(self->fd, s.id);
	pthread_join(ts, NULL);
	EXPECT_LE(woke, s.woken_at);	/* woken by us, not by the block */
}

/* A worker that sleeps in a page fault: userfaultfd holds the fault. */
struct faulter {
	int fd;
	uint32_t id;
	int ret;
	volatile char *page;
	volatile int registered;
	char got;
};

static void *faulter_fn(void *p)
{
	struct faulter *f = p;

	f->ret = ut_register(f->fd, &f->id);
	__atomic_store_n(&f->registered, 1, __ATOMIC_RELEASE);
	if (f->ret)
		return NULL;
	f->got = f->page[0];	/* sleeps until the fault is resolved */
	ut_unregister(f->fd, f->id);
	return NULL;
}

TEST_F(events, page_fault_sleep_reports_fault)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_copy copy = { 0 };
	struct faulter f = { .fd = self->fd };
	struct usched_event ev;
	long psz = sysconf(_SC_PAGESIZE);
	char *src;
	pthread_t t;
	int uffd;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd (%s)", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	f.page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f.page);
	reg.range.start = (uintptr_t)f.page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	ASSERT_EQ(0, pthread_create(&t, NULL, faulter_fn, &f));
	while (!f.registered)
		usleep(1000);
	ASSERT_EQ(0, f.ret);
	ASSERT_EQ(1, ut_wait_event(&self->m, USCHED_EV_BLOCKED, f.id, &ev, 2000));
	EXPECT_EQ(USCHED_BLOCK_FAULT, ev.reason);
	EXPECT_EQ(-1, ev.syscall);

	src = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	src[0] = 'u';
	copy.dst = (uintptr_t)f.page;
	copy.src = (uintptr_t)src;
	copy.len = psz;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	pthread_join(t, NULL);
	EXPECT_EQ('u', f.got);
	EXPECT_EQ(1, ut_wait_event(&self->m, USCHED_EV_UNBLOCKED, f.id, &ev, 2000));
	munmap(src, psz);
	munmap((void *)f.page, psz);
	close(uffd);
}

TEST_HARNESS_MAIN
