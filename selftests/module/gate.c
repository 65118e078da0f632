// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - return-to-user gating: a worker whose syscall completed waits
 * for a slot; USCHED_IOC_GRANT lets it through; the gate fails open on its
 * time bound, when the group closes, and for a lone worker; a fatal signal
 * always gets through.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS	1000000ull

struct gated {
	int fd;
	int pipe_rd;
	uint32_t id;
	int ret;
	volatile int registered;
	uint64_t back_at;
};

static void *gated_fn(void *p)
{
	struct gated *g = p;
	char c;

	g->ret = ut_register(g->fd, &g->id);
	__atomic_store_n(&g->registered, 1, __ATOMIC_RELEASE);
	if (g->ret)
		return NULL;
	if (read(g->pipe_rd, &c, 1) != 1)
		g->ret = -EIO;
	g->back_at = ut_now_ns();
	ut_unregister(g->fd, g->id);
	return NULL;
}

/* A second worker, so that the gated one is not alone. */
static void *parked_fn(void *p)
{
	struct gated *g = p;

	g->ret = ut_register(g->fd, &g->id);
	__atomic_store_n(&g->registered, 1, __ATOMIC_RELEASE);
	if (!g->ret)
		ut_park(g->fd, g->id, ut_now_ns() + 10000 * MS);
	ut_unregister(g->fd, g->id);
	return NULL;
}

FIXTURE(gate) {
	int fd;
	struct ut_map m;
	int p[2];
	struct gated other;
	pthread_t tother;
};

FIXTURE_SETUP(gate)
{
	self->fd = ut_group(4, 64, USCHED_SETUP_GATE, 0, 3000 * MS, &self->m);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe(self->p));
	self->other.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&self->tother, NULL, parked_fn, &self->other));
	while (!self->other.registered)
		usleep(1000);
	ASSERT_EQ(0, self->other.ret);
}

FIXTURE_TEARDOWN(gate)
{
	ut_wake(self->fd, self->other.id);
	pthread_join(self->tother, NULL);
	munmap(self->m.base, self->m.size);
	close(self->fd);
	close(self->p[0]);
	close(self->p[1]);
}

TEST_F(gate, unblocked_worker_waits_for_grant)
{
	struct gated g = { .fd = self->fd, .pipe_rd = self->p[0] };
	struct usched_shm_header *hdr = self->m.hdr;
	uint64_t granted_at;
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, gated_fn, &g));
	while (!g.registered)
		usleep(1000);
	ASSERT_EQ(1, ut_wait_kstate(&self->m, g.id, USCHED_W_BLOCKED, 2000));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	/* The read completed; the worker now waits at the gate. */
	ASSERT_EQ(1, ut_wait_kstate(&self->m, g.id, USCHED_W_GATED, 2000));
	EXPECT_EQ(1, hdr->gate_waiting);
	EXPECT_EQ(0, hdr->gate_free);
	usleep(50000);
	EXPECT_EQ(0, g.back_at);
	granted_at = ut_now_ns();
	ASSERT_EQ(0, ut_target(self->fd, USCHED_IOC_GRANT, 0, 1));
	pthread_join(t, NULL);
	EXPECT_EQ(0, g.ret);
	EXPECT_LE(granted_at, g.back_at);
	EXPECT_EQ(0, hdr->gate_waiting);
	EXPECT_EQ(1, hdr->grants);
	EXPECT_EQ(0, hdr->gate_free);	/* the slot was taken */
	EXPECT_EQ(1, self->m.slots[g.id].gate_waits);
}

TEST_F(gate, free_slot_passes_without_waiting)
{
	struct gated g = { .fd = self->fd, .pipe_rd = self->p[0] };
	pthread_t t;

	ASSERT_EQ(0, ut_target(self->fd, USCHED_IOC_GRANT, 0, 1));
	EXPECT_EQ(1, self->m.hdr->gate_free);
	ASSERT_EQ(0, pthread_create(&t, NULL, gated_fn, &g));
	while (!g.registered)
		usleep(1000);
	ASSERT_EQ(1, ut_wait_kstate(&self->m, g.id, USCHED_W_BLOCKED, 2000));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_EQ(0, g.ret);
	EXPECT_EQ(0, self->m.hdr->gate_free);
	EXPECT_EQ(0, self->m.slots[g.id].gate_waits);
}

TEST_F(gate, grant_rejects_bad_counts)
{
	EXPECT_EQ(-EINVAL, ut_target(self->fd, USCHED_IOC_GRANT, 1, 1));
	EXPECT_EQ(-EINVAL, ut_target(self->fd, USCHED_IOC_GRANT, 0, 5));
	EXPECT_EQ(0, ut_target(self->fd, USCHED_IOC_GRANT, 0, 4));
	EXPECT_EQ(-EOVERFLOW, ut_target(self->fd, USCHED_IOC_GRANT, 0, 1));
}

TEST(gate_fails_open_after_timeout)
{
	struct ut_map m = { 0 };
	struct gated g = { 0 }, other = { 0 };
	struct usched_event ev;
	pthread_t t, to;
	int p[2];
	uint64_t t0;

	g.fd = ut_group(4, 64, USCHED_SETUP_GATE, 0, 60 * MS, &m);
	ASSERT_LE(0, g.fd);
	ASSERT_EQ(0, pipe(p));
	other.fd = g.fd;
	ASSERT_EQ(0, pthread_create(&to, NULL, parked_fn, &other));
	while (!other.registered)
		usleep(1000);
	g.pipe_rd = p[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, gated_fn, &g));
	while (!g.registered)
		usleep(1000);
	ASSERT_EQ(1, ut_wait_kstate(&m, g.id, USCHED_W_BLOCKED, 2000));
	t0 = ut_now_ns();
	ASSERT_EQ(1, write(p[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_EQ(0, g.ret);
	EXPECT_LE(t0 + 50 * MS, g.back_at);	/* waited about its bound */
	EXPECT_EQ(1, m.hdr->gate_timeouts);
	ASSERT_EQ(1, ut_wait_event(&m, USCHED_EV_GATE_OPEN, g.id, &ev, 1000));
	EXPECT_EQ(1, ev.reason);
	ut_wake(g.fd, other.id);
	pthread_join(to, NULL);
	munmap(m.base, m.size);
	close(g.fd);
	close(p[0]);
	close(p[1]);
}

TEST(gate_lone_worker_passes)
{
	struct ut_map m = { 0 };
	struct gated g = { 0 };
	struct usched_event ev;
	pthread_t t;
	int p[2];

	g.fd = ut_group(4, 64, USCHED_SETUP_GATE, 0, 5000 * MS, &m);
	ASSERT_LE(0, g.fd);
	ASSERT_EQ(0, pipe(p));
	g.pipe_rd = p[0];
	ASSERT_EQ(0, pthread_create(&t, NULL, gated_fn, &g));
	while (!g.registered)
		usleep(1000);
	ASSERT_EQ(1, ut_wait_kstate(&m, g.id, USCHED_W_BLOCKED, 2000));
	ASSERT_EQ(1, write(p[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_EQ(0, g.ret);
	ASSERT_EQ(1, ut_wait_event(&m, USCHED_EV_GATE_OPEN, g.id, &ev, 1000));
	EXPECT_EQ(3, ev.reason);
	munmap(m.base, m.size);
	close(g.fd);
	close(p[0]);
	close(p[1]);
}

/* A gated worker of a killed process: the kill always gets through. */
TEST(gate_fatal_signal_gets_through)
{
	int p[2], status, ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ut_map m = { 0 };
		struct gated g = { 0 }, other = { 0 };
		pthread_t t, to;

		g.fd = ut_group(4, 64, USCHED_SETUP_GATE, 0, 10000 * MS, &m);
		if (g.fd < 0)
			_exit(1);
		other.fd = g.fd;
		pthread_create(&to, NULL, parked_fn, &other);
		while (!other.registered)
			usleep(1000);
		g.pipe_rd = p[0];
		pthread_create(&t, NULL, gated_fn, &g);
		while (!g.registered)
			usleep(1000);
		if (!ut_wait_kstate(&m, g.id, USCHED_W_BLOCKED, 2000))
			_exit(2);
		if (write(p[1], "x", 1) != 1)
			_exit(3);
		if (!ut_wait_kstate(&m, g.id, USCHED_W_GATED, 2000))
			_exit(4);
		if (write(ready[1], "r", 1) != 1)
			_exit(5);
		pause();
		_exit(6);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_EQ(0, ut_stat_wait("workers", 0, 2000));
}

TEST_F(gate, grant_zero_only_wakes)
{
	EXPECT_EQ(0, ut_target(self->fd, USCHED_IOC_GRANT, 0, 0));
	EXPECT_EQ(0, self->m.hdr->gate_free);
	EXPECT_EQ(0, self->m.hdr->grants);
}

TEST(gate_setup_rejects_both_modes_einval)
{
	struct usched_setup s;
	int fd = ut_open();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, ut_setup(fd, 4, 64,
				    USCHED_SETUP_GATE | USCHED_SETUP_GATE_STOLEN,
				    0, 0, &s));
	close(fd);
}

static int ut_grant_worker(int fd, uint32_t id)
{
	struct usched_target t = { .size = sizeof(t),
				   .flags = USCHED_GRANT_WORKER, .worker = id };

	return ut_err(ioctl(fd, USCHED_IOC_GRANT, &t));
}

/* A GATE_STOLEN group with a parked second worker and a pipe. */
struct stolen {
	struct ut_map m;
	struct gated g, other;
	pthread_t t, to;
	int p[2];
};

static int stolen_start(struct stolen *st, uint64_t timeout)
{
	memset(st, 0, sizeof(*st));
	st->g.fd = ut_group(4, 64, USCHED_SETUP_GATE_STOLEN, 0, timeout, &st->m);
	if (st->g.fd < 0 || pipe(st->p))
		return -1;
	st->other.fd = st->g.fd;
	pthread_create(&st->to, NULL, parked_fn, &st->other);
	while (!st->other.registered)
		usleep(1000);
	st->g.pipe_rd = st->p[0];
	pthread_create(&st->t, NULL, gated_fn, &st->g);
	while (!st->g.registered)
		usleep(1000);
	if (st->g.ret || st->other.ret)
		return -1;
	return ut_wait_kstate(&st->m, st->g.id, USCHED_W_BLOCKED, 2000) ? 0 : -1;
}

static void stolen_end(struct stolen *st)
{
	ut_wake(st->g.fd, st->other.id);
	pthread_join(st->to, NULL);
	munmap(st->m.base, st->m.size);
	close(st->g.fd);
	close(st->p[0]);
	close(st->p[1]);
}

TEST(claim_blocked_with_sequence_then_running)
{
	struct stolen st;
	struct usched_worker_slot *slot;
	uint32_t c;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	slot = &st.m.slots[st.g.id];
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	EXPECT_EQ(USCHED_CLAIM_BLOCKED, c & USCHED_CLAIM_STATE);
	EXPECT_EQ(USCHED_CLAIM_SEQ(slot->block_seq), c & ~USCHED_CLAIM_STATE);
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	pthread_join(st.t, NULL);
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	EXPECT_EQ(USCHED_CLAIM_RUNNING, c & USCHED_CLAIM_STATE);
	stolen_end(&st);
}

TEST(gate_stolen_mode_lets_unstolen_worker_pass)
{
	struct stolen st;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_EQ(0, st.m.slots[st.g.id].gate_waits);
	EXPECT_EQ(0, st.m.hdr->gate_free);	/* it took no slot */
	EXPECT_EQ(0, st.m.hdr->gate_timeouts);
	stolen_end(&st);
}

TEST(gate_stolen_worker_waits_for_user_added_slot)
{
	struct stolen st;
	struct usched_worker_slot *slot;
	struct usched_shm_header *hdr;
	uint32_t c;
	uint64_t granted_at;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	slot = &st.m.slots[st.g.id];
	hdr = st.m.hdr;
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	ASSERT_EQ(USCHED_CLAIM_BLOCKED, c & USCHED_CLAIM_STATE);
	/* A stale sequence does not steal; the right one does. */
	EXPECT_FALSE(__atomic_compare_exchange_n(&slot->claim,
		&(uint32_t){ c - USCHED_CLAIM_SEQ(1) },
		(c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &c,
		(c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	ASSERT_EQ(1, ut_wait_kstate(&st.m, st.g.id, USCHED_W_GATED, 2000));
	EXPECT_EQ(1, hdr->gate_waiting);
	usleep(50000);
	EXPECT_EQ(0, st.g.back_at);
	/* User space adds a slot itself, then wakes the waiter it sees. */
	granted_at = ut_now_ns();
	__atomic_fetch_add(&hdr->gate_free, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(1, __atomic_load_n(&hdr->gate_waiting, __ATOMIC_SEQ_CST));
	ASSERT_EQ(0, ut_target(st.g.fd, USCHED_IOC_GRANT, 0, 0));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_LE(granted_at, st.g.back_at);
	EXPECT_EQ(0, hdr->gate_free);
	EXPECT_EQ(1, slot->gate_waits);
	EXPECT_EQ(USCHED_CLAIM_RUNNING, slot->claim & USCHED_CLAIM_STATE);
	stolen_end(&st);
}

TEST(gate_stolen_worker_fails_open_after_timeout)
{
	struct stolen st;
	struct usched_worker_slot *slot;
	uint32_t c;

	ASSERT_EQ(0, stolen_start(&st, 60 * MS));
	slot = &st.m.slots[st.g.id];
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &c,
		(c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_EQ(1, st.m.hdr->gate_timeouts);
	stolen_end(&st);
}

TEST(gate_grant_worker_lets_only_it_through)
{
	struct stolen st;
	struct usched_worker_slot *slot;
	uint64_t granted_at;
	uint32_t c;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	slot = &st.m.slots[st.g.id];
	/* Not at the gate yet (still blocked in its read): -EAGAIN. */
	EXPECT_EQ(-EAGAIN, ut_grant_worker(st.g.fd, st.g.id));
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &c,
		(c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	ASSERT_EQ(1, ut_wait_kstate(&st.m, st.g.id, USCHED_W_GATED, 2000));
	/* Not the other worker (parked, not gated), nor a bad id. */
	EXPECT_EQ(-EAGAIN, ut_grant_worker(st.g.fd, st.other.id));
	EXPECT_EQ(-EINVAL, ut_grant_worker(st.g.fd, 4));
	EXPECT_EQ(-ESRCH, ut_grant_worker(st.g.fd, 3));
	usleep(20000);
	EXPECT_EQ(0, st.g.back_at);
	granted_at = ut_now_ns();
	ASSERT_EQ(0, ut_grant_worker(st.g.fd, st.g.id));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_LE(granted_at, st.g.back_at);
	EXPECT_EQ(0, st.m.hdr->gate_free);	/* no slot of the shared pool */
	EXPECT_EQ(1, st.m.hdr->grants);
	EXPECT_EQ(0, st.m.hdr->gate_timeouts);
	stolen_end(&st);
}

/*
 * User space stole the claim, then changed its mind before the call
 * completed (STOLEN back to BLOCKED, same sequence): no gate.
 */
TEST(unstolen_claim_returns_without_gate)
{
	struct stolen st;
	struct usched_worker_slot *slot;
	uint32_t c, stolen;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	slot = &st.m.slots[st.g.id];
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	stolen = (c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN;
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &c, stolen, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &stolen, c, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_EQ(0, slot->gate_waits);
	EXPECT_EQ(0, st.m.hdr->gate_timeouts);
	EXPECT_EQ(USCHED_CLAIM_RUNNING, slot->claim & USCHED_CLAIM_STATE);
	stolen_end(&st);
}

/* A parked worker that records how its park ended, and when. */
struct sleeper {
	struct gated g;
	int park_ret;
	uint64_t woke_at;
};

static void *sleeper_fn(void *p)
{
	struct sleeper *s = p;

	s->g.ret = ut_register(s->g.fd, &s->g.id);
	__atomic_store_n(&s->g.registered, 1, __ATOMIC_RELEASE);
	if (s->g.ret)
		return NULL;
	s->park_ret = ut_park(s->g.fd, s->g.id, ut_now_ns() + 10000 * MS);
	s->woke_at = ut_now_ns();
	ut_unregister(s->g.fd, s->g.id);
	return NULL;
}

/*
 * A worker whose claim was stolen wakes the standby it names when it
 * starts waiting at the gate (ABI 1.3), so a library whose other workers
 * all sleep hears of it (and can hand back a slot that went idle),
 * instead of the gate failing open on its time bound.
 */
TEST(gate_wait_wakes_the_named_standby)
{
	struct stolen st;
	struct sleeper sb = { 0 };
	struct usched_version v = { .size = sizeof(v) };
	struct usched_worker_slot *slot;
	uint64_t gated_at;
	pthread_t t;
	uint32_t c;

	ASSERT_EQ(0, stolen_start(&st, 3000 * MS));
	ASSERT_EQ(0, ut_err(ioctl(st.g.fd, USCHED_IOC_VERSION, &v)));
	EXPECT_TRUE(v.features & USCHED_FEAT_GATE_WAKES_STANDBY);
	sb.g.fd = st.g.fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, sleeper_fn, &sb));
	while (!sb.g.registered)
		usleep(1000);
	ASSERT_EQ(0, sb.g.ret);
	ASSERT_EQ(1, ut_wait_kstate(&st.m, sb.g.id, USCHED_W_PARKED, 2000));
	/* Named after the block: the block itself woke nobody. */
	ASSERT_EQ(0, ut_target(st.g.fd, USCHED_IOC_SET_STANDBY, st.g.id,
			       sb.g.id));
	slot = &st.m.slots[st.g.id];
	c = __atomic_load_n(&slot->claim, __ATOMIC_ACQUIRE);
	ASSERT_TRUE(__atomic_compare_exchange_n(&slot->claim, &c,
		(c & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN, 0,
		__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	usleep(20000);
	EXPECT_EQ(0, sb.woke_at);
	gated_at = ut_now_ns();
	ASSERT_EQ(1, write(st.p[1], "x", 1));
	pthread_join(t, NULL);
	/* Woken by a permit (0), long before its 10 s deadline. */
	EXPECT_EQ(0, sb.park_ret);
	EXPECT_LE(gated_at, sb.woke_at);
	EXPECT_GT(gated_at + 2000 * MS, sb.woke_at);
	ASSERT_EQ(1, ut_wait_kstate(&st.m, st.g.id, USCHED_W_GATED, 2000));
	EXPECT_EQ(0, st.g.back_at);
	ASSERT_EQ(0, ut_grant_worker(st.g.fd, st.g.id));
	pthread_join(st.t, NULL);
	EXPECT_EQ(0, st.g.ret);
	EXPECT_EQ(0, st.m.hdr->gate_timeouts);
	stolen_end(&st);
}

TEST(gate_grant_rejects_unknown_flags_and_arg)
{
	struct usched_target t = { .size = sizeof(t) };
	struct ut_map m = { 0 };
	int fd = ut_group(4, 64, USCHED_SETUP_GATE_STOLEN, 0, 0, &m);

	ASSERT_LE(0, fd);
	t.flags = 2;
	EXPECT_EQ(-EINVAL, ut_err(ioctl(fd, USCHED_IOC_GRANT, &t)));
	t.flags = USCHED_GRANT_WORKER;
	t.arg = 1;
	EXPECT_EQ(-EINVAL, ut_err(ioctl(fd, USCHED_IOC_GRANT, &t)));
	munmap(m.base, m.size);
	close(fd);
}

TEST_HARNESS_MAIN
