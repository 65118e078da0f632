// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime.c - every way a worker or a group ends: thread exit, exec,
 * SIGKILL while parked or blocked, exit_group with workers in every state,
 * rmmod while a worker is registered, and a create-register-exit loop that
 * must leave the module's object counts where they were.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS	1000000ull

static void *register_and_exit(void *p)
{
	int fd = *(int *)p;
	uint32_t id;

	if (ut_register(fd, &id))
		return (void *)1;
	return NULL;	/* exits still registered */
}

TEST(worker_thread_exit_while_registered_cleans_up)
{
	long base = ut_stat("workers");
	struct usched_event ev;
	struct ut_map m = { 0 };
	pthread_t t;
	void *ret;
	int fd;

	ASSERT_LE(0, base);
	fd = ut_group(2, 16, 0, 0, 0, &m);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, register_and_exit, &fd));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_EQ(NULL, ret);
	EXPECT_EQ(base, ut_stat_wait("workers", base, 2000));
	ASSERT_EQ(1, ut_wait_event(&m, USCHED_EV_EXITED, 0, &ev, 2000));
	EXPECT_EQ(USCHED_W_DEAD, ut_kstate(&m, 0));
	munmap(m.base, m.size);
	close(fd);
}

/* Runs in a child: wait for the parent's signal with workers in place. */
static void child_wait(int ready_fd)
{
	if (write(ready_fd, "r", 1) != 1)
		_exit(90);
	for (;;)
		pause();
}

struct state_arg {
	int fd;
	int pipe_rd;
	int mode;	/* 0 park, 1 block in read, 2 gate, 3 spin */
	volatile int registered;
};

static void *state_fn(void *p)
{
	struct state_arg *a = p;
	uint32_t id;
	char c;

	if (ut_register(a->fd, &id))
		_exit(91);
	__atomic_store_n(&a->registered, 1, __ATOMIC_RELEASE);
	switch (a->mode) {
	case 0:
		ut_park(a->fd, id, 0);
		break;
	case 1:
	case 2:
		if (read(a->pipe_rd, &c, 1) < 0)
			break;
		break;
	default:
		for (;;)
			__asm__ volatile("pause");
	}
	for (;;)
		pause();
	return NULL;
}

/* A child process with workers parked, blocked, gated and spinning. */
static pid_t spawn_states(int *ready_rd, int gate_pipe_writes)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		static struct state_arg a[4];
		struct ut_map m;
		int fd, p[2], i;
		pthread_t t;

		close(ready[0]);
		fd = ut_group(8, 64, USCHED_SETUP_GATE, 0, 10000 * MS, &m);
		if (fd < 0 || pipe(p))
			_exit(92);
		for (i = 0; i < 4; i++) {
			a[i].fd = fd;
			a[i].pipe_rd = p[0];
			a[i].mode = i;
			if (i == 2)
				continue;
			pthread_create(&t, NULL, state_fn, &a[i]);
			while (!a[i].registered)
				usleep(1000);
		}
		/* The gated one: block, then complete its read with no slot. */
		pthread_create(&t, NULL, state_fn, &a[2]);
		while (!a[2].registered)
			usleep(1000);
		usleep(20000);
		if (gate_pipe_writes && write(p[1], "xx", 2) != 2)
			_exit(93);
		usleep(20000);
		child_wait(ready[1]);
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	*ready_rd = ready[0];
	return pid;
}

TEST(kill9_with_workers_parked_blocked_gated_spinning)
{
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	int status, rd;
	pid_t pid;

	ASSERT_LE(0, wbase);
	pid = spawn_states(&rd, 1);
	ASSERT_LT(0, pid);
	EXPECT_EQ(wbase + 4, ut_stat("workers"));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 3000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 3000));
	close(rd);
}

static void *exit_group_fn(void *p)
{
	usleep(*(int *)p * 1000);
	exit(7);	/* exit_group from a non-main thread */
}

TEST(exit_group_with_workers_in_every_state)
{
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	int status, ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static int delay = 100;
		pthread_t t;
		int rd;
		pid_t inner;

		/* Build the states in this process, not in a grandchild. */
		(void)inner;
		(void)rd;
		{
			static struct state_arg a[4];
			struct ut_map m;
			int fd, p[2], i;

			fd = ut_group(8, 64, USCHED_SETUP_GATE, 0, 10000 * MS, &m);
			if (fd < 0 || pipe(p))
				_exit(92);
			for (i = 0; i < 4; i++) {
				a[i].fd = fd;
				a[i].pipe_rd = p[0];
				a[i].mode = i;
				pthread_create(&t, NULL, state_fn, &a[i]);
				while (!a[i].registered)
					usleep(1000);
			}
			usleep(20000);
			if (write(p[1], "xx", 2) != 2)
				_exit(93);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(94);
		pthread_create(&t, NULL, exit_group_fn, &delay);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(7, WEXITSTATUS(status));
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 3000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 3000));
	close(ready[0]);
	close(ready[1]);
}

TEST(exec_while_registered_detaches)
{
	long wbase = ut_stat("workers"), seen = -1;
	char key[64];
	int status;
	pid_t pid;
	FILE *f;

	unlink("/tmp/exec-stats");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		uint32_t id;
		int fd = ut_group(2, 16, 0, 0, 0, NULL);

		if (fd < 0 || ut_register(fd, &id))
			_exit(1);
		if (ut_stat("workers") != wbase + 1)
			_exit(2);
		/*
		 * The new program keeps the thread, not the registration: the
		 * worker detaches at its first wake-up in the new program, and
		 * the program itself reads the count while it is still alive.
		 */
		execl("/bin/busybox", "sh", "-c",
		      "sleep 0.2; cat " USCHED_STATS " > /tmp/exec-stats; sleep 0.2",
		      (char *)NULL);
		_exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	f = fopen("/tmp/exec-stats", "r");
	ASSERT_NE(NULL, f);
	while (fscanf(f, "%63s %ld", key, &seen) == 2 && strcmp(key, "workers"))
		;
	fclose(f);
	EXPECT_EQ(wbase, seen);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 2000));
}

struct holder {
	int fd;
	volatile int state;	/* 1 registered, 2 fd closed, 3 may exit */
};

static void *hold_fn(void *p)
{
	struct holder *h = p;
	uint32_t id;

	if (ut_register(h->fd, &id))
		return (void *)1;
	__atomic_store_n(&h->state, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != 3)
		usleep(1000);
	return NULL;	/* exits registered: death cleanup drops the module */
}

TEST(rmmod_fails_while_worker_registered_succeeds_after)
{
	struct holder h = { 0 };
	pthread_t t;
	int ret;

	h.fd = ut_group(2, 16, 0, 0, 0, NULL);
	ASSERT_LE(0, h.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_fn, &h));
	while (!h.state)
		usleep(1000);
	close(h.fd);	/* no fd left: only the worker holds the module */
	ret = ut_rmmod();
	EXPECT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY) {
		TH_LOG("rmmod returned %d", ret);
	}
	__atomic_store_n(&h.state, 3, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ASSERT_EQ(0, ut_stat_wait("workers", 0, 3000));
	ASSERT_EQ(0, ut_rmmod());
	ASSERT_EQ(0, ut_insmod(NULL));
}

TEST(create_register_exit_cycles_leave_counts_at_zero)
{
	/*
	 * Up to 10000 rounds (USCHED_LIFETIME_CYCLES), but no longer than
	 * 15 s once 500 have run: a round costs 0.1 ms on hardware and up
	 * to 10 ms on a debug kernel under TCG, and the harness gives a
	 * test 30 s.
	 */
	const char *env = getenv("USCHED_LIFETIME_CYCLES");
	long n = env ? atol(env) : 10000, i;
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	struct timespec t0, now;
	void *ret;
	pthread_t t;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (i >= 500 && i % 100 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec >= 15)
				break;
		}
		fd = ut_group(2, 16, 0, 0, 0, NULL);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, pthread_create(&t, NULL, register_and_exit, &fd));
		ASSERT_EQ(0, pthread_join(t, &ret));
		ASSERT_EQ(NULL, ret);
		close(fd);
	}
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
	TH_LOG("%ld of %ld cycles", i, n);
}

TEST_HARNESS_MAIN
