// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - 64 threads doing random park, wake and handoff in one group
 * for USCHED_STRESS_SECONDS (default 10), while victim processes doing the
 * same are killed with SIGKILL at random moments.  Every call must return
 * an expected result, nothing may hang, and the module's object counts
 * must be back where they were at the end.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS		1000000ull
#define NTHREADS	64

struct shared {
	volatile int stop;
	volatile long ops;
	volatile long bad;
	volatile int last_bad;
};

struct thr {
	int fd;
	unsigned int seed;
	struct shared *sh;
	uint32_t nworkers;
};

static void *stress_fn(void *p)
{
	struct thr *t = p;
	uint32_t id, other;
	long ops = 0;
	int ret;

	if (ut_register(t->fd, &id)) {
		__atomic_add_fetch(&t->sh->bad, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	while (!t->sh->stop) {
		other = rand_r(&t->seed) % t->nworkers;
		switch (rand_r(&t->seed) % 4) {
		case 0:
			ret = ut_park(t->fd, id, ut_now_ns() + (1 + rand_r(&t->seed) % 5) * MS);
			if (ret && ret != -ETIMEDOUT && ret != -EINTR)
				goto bad;
			break;
		case 1:
			ret = ut_wake(t->fd, other);
			if (ret && ret != -ESRCH)
				goto bad;
			break;
		case 2:
			if (other == id)
				break;
			ret = ut_handoff(t->fd, id, other, ut_now_ns() + 3 * MS);
			if (ret && ret != -ETIMEDOUT && ret != -ESRCH && ret != -EINTR)
				goto bad;
			break;
		default:
			ret = ut_target(t->fd, USCHED_IOC_SET_STANDBY, id,
					other == id ? USCHED_NO_WORKER : other);
			if (ret && ret != -ESRCH)
				goto bad;
			break;
		}
		ops++;
		continue;
bad:
		__atomic_add_fetch(&t->sh->bad, 1, __ATOMIC_RELAXED);
		t->sh->last_bad = ret;
	}
	__atomic_add_fetch(&t->sh->ops, ops, __ATOMIC_RELAXED);
	ut_unregister(t->fd, id);
	return NULL;
}

/* A process running the storm with @n threads until stopped or killed. */
static int run_storm(struct shared *sh, int n, unsigned int seed)
{
	static struct thr t[NTHREADS];
	pthread_t tid[NTHREADS];
	int fd, i;

	fd = ut_group(NTHREADS, 1024, 0, 0, 0, NULL);
	if (fd < 0)
		return 1;
	for (i = 0; i < n; i++) {
		t[i] = (struct thr){ .fd = fd, .seed = seed + i, .sh = sh,
				     .nworkers = n };
		if (pthread_create(&tid[i], NULL, stress_fn, &t[i]))
			return 2;
	}
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	close(fd);
	return 0;
}

TEST(stress_park_wake_handoff_with_kill9)
{
	const char *env = getenv("USCHED_STRESS_SECONDS");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 10, end;
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	struct shared *sh, *vsh;
	unsigned int seed = time(NULL);
	int status, kills = 0;
	pid_t main_pid, victim;

	TH_LOG("seed %u, %llu s", seed, (unsigned long long)secs);
	srand(seed);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vsh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_NE(MAP_FAILED, vsh);

	main_pid = fork();
	ASSERT_LE(0, main_pid);
	if (main_pid == 0)
		_exit(run_storm(sh, NTHREADS, seed));

	end = ut_now_ns() + secs * 1000 * MS;
	while (ut_now_ns() < end) {
		victim = fork();
		ASSERT_LE(0, victim);
		if (victim == 0)
			_exit(run_storm(vsh, 16, seed + 1000 + kills));
		usleep(50000 + rand() % 300000);
		ASSERT_EQ(0, kill(victim, SIGKILL));
		ASSERT_EQ(victim, waitpid(victim, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
		kills++;
	}
	sh->stop = 1;
	ASSERT_EQ(main_pid, waitpid(main_pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, sh->bad) {
		TH_LOG("%ld unexpected results, last %d", sh->bad, sh->last_bad);
	}
	EXPECT_EQ(0, vsh->bad);
	EXPECT_LT(1000, sh->ops);
	TH_LOG("%ld operations, %d victims killed", sh->ops, kills);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
}

TEST_HARNESS_MAIN
