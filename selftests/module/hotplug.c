// SPDX-License-Identifier: GPL-2.0
/*
 * hotplug.c - the module under CPU hotplug and under memory pressure.
 *
 * hotplug_cpus_cycle_during_storm_with_slices: worker threads of one
 * group park (short deadlines), wake and hand off to each other at random,
 * spin in user mode for up to a millisecond now and then, and restart
 * their slice, all with a 200 us preemption slice in SIGNAL mode (the
 * handler counts, and takes half of the preemptions by bumping the slot's
 * switch_seq as the library does); meanwhile one thread takes CPUs 1..N-1
 * (never cpu0) offline and online again through
 * /sys/devices/system/cpu/cpuN/online for USCHED_HOTPLUG_SECONDS (default
 * 10).  The slice timers are pinned hrtimers: each offline migrates the
 * timers of the dying CPU, and parked workers wake on another CPU.  Every
 * call must give a documented result, every CPU is online again at the
 * end, every worker unregisters, and the module's live counts are back.
 * It adapts to the CPU count (with 2 vCPUs it cycles cpu1 only; the VM
 * lane hotplug-4cpu of tools/check runs it with 4) and skips, saying
 * why, with one CPU or without a writable cpuN/online (not root, or a
 * kernel without CONFIG_HOTPLUG_CPU).
 *
 * memcg_enomem_clean_under_memory_max: a child process in a memory cgroup
 * (cgroup v2, mounted at /sys/fs/cgroup if it is not) whose memory.max
 * is 8 MiB above what it brought in, with oom_score_adj -1000, opens
 * groups and sets them up with large rings (128 KiB to 2 MiB of shared
 * memory each, charged to the cgroup: __vmalloc(GFP_KERNEL_ACCOUNT)) until
 * SETUP fails, closes them, and starts again, while its worker threads
 * park, wake and hand off, and register again between rounds.  SETUP must
 * fail with -ENOMEM and nothing else, at least once; the memcg OOM killer
 * must never run (memory.events "oom" stays 0: the module's user-sized
 * allocations use __GFP_RETRY_MAYFAIL, so a memcg at its limit fails them
 * after reclaim); the child exits normally; after the cgroup is removed
 * the live counts are back.  Only SETUP is pressed: the child's user
 * memory is locked in (mlockall) and its threads (64 KiB stacks) exist
 * before it joins the cgroup, and every other allocation of the child
 * (open's file and group, REGISTER's worker) happens between rounds, when
 * the groups of the last round are freed: a small GFP_KERNEL_ACCOUNT
 * allocation at the limit would invoke the OOM killer, which prints a
 * report (and the runner fails the run on its "Call Trace:").  Skipped on
 * kernels without cgroups or without the memory controller (the debug
 * kernel).
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define MS		1000000ull
#define US		1000ull
#define HP_MAXCPU	64
#define HP_WORKERS	8
#define HP_SLICE_NS	(200 * US)
#define HP_SIGNO	SIGUSR2
#define CPU_SYS		"/sys/devices/system/cpu"

/* ---- CPU hotplug ---- */

static int hp_online_path(int cpu, char *buf, size_t len)
{
	return snprintf(buf, len, CPU_SYS "/cpu%d/online", cpu) >= (int)len;
}

/* 1 online, 0 offline, -errno when it cannot be read. */
static int hp_get(int cpu)
{
	char path[96], c = 0;
	int fd, n;

	hp_online_path(cpu, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, &c, 1);
	close(fd);
	if (n != 1)
		return -EIO;
	return c == '1';
}

static int hp_set(int cpu, int online)
{
	char path[96];

	hp_online_path(cpu, path, sizeof(path));
	return ut_write_file(path, online ? "1" : "0");
}

/* Number of cpuN directories (possible and present). */
static int hp_ncpus(void)
{
	char path[96];
	int n;

	for (n = 0; n < HP_MAXCPU; n++) {
		snprintf(path, sizeof(path), CPU_SYS "/cpu%d", n);
		if (access(path, F_OK))
			break;
	}
	return n;
}

/* Bring every CPU back; returns how many are still offline after. */
static int hp_all_online(int ncpu)
{
	int cpu, i, left = 0;

	for (cpu = 1; cpu < ncpu; cpu++) {
		for (i = 0; i < 50 && hp_get(cpu) == 0; i++) {
			if (hp_set(cpu, 1))
				usleep(20000);
		}
		if (hp_get(cpu) == 0)
			left++;
	}
	return left;
}

struct hp_shared {
	volatile int stop;
	int fd;
	struct ut_map m;
	uint32_t nworkers;
	long parks, wakes, handoffs, spins, slices;
	long bad;
	int last_bad, last_bad_op;
	long signals;
};

struct hp_thr {
	struct hp_shared *sh;
	unsigned int seed;
	pthread_t tid;
};

static __thread volatile uint32_t hp_my_id = UINT32_MAX;
static __thread unsigned long hp_my_sigs;
static struct hp_shared *hp_sh;

/* The preemption signal: count; take every other one (a "switch"). */
static void hp_on_signal(int sig)
{
	uint32_t id = hp_my_id;

	__atomic_add_fetch(&hp_sh->signals, 1, __ATOMIC_RELAXED);
	if (id != UINT32_MAX && (++hp_my_sigs & 1))
		__atomic_add_fetch(&hp_sh->m.slots[id].switch_seq, 1,
				   __ATOMIC_RELEASE);
}

static int hp_set_slice(int fd, uint32_t id, uint32_t mode, uint64_t ns)
{
	struct usched_slice s = {
		.size = sizeof(s), .worker = id, .mode = mode, .slice_ns = ns,
		.signo = mode == USCHED_PREEMPT_SIGNAL ? HP_SIGNO : 0,
	};

	return ut_err(ioctl(fd, USCHED_IOC_SET_SLICE, &s));
}

static void hp_spin(uint64_t ns)
{
	uint64_t end = ut_now_ns() + ns;

	while (ut_now_ns() < end)
		;
}

static void *hp_worker(void *p)
{
	struct hp_thr *t = p;
	struct hp_shared *sh = t->sh;
	long parks = 0, wakes = 0, handoffs = 0, spins = 0, slices = 0;
	uint32_t id, other;
	int ret, op;

	ret = ut_register(sh->fd, &id);
	if (!ret) {
		hp_my_id = id;
		ret = hp_set_slice(sh->fd, id, USCHED_PREEMPT_SIGNAL, HP_SLICE_NS);
	}
	if (ret) {
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		sh->last_bad = ret;
		sh->last_bad_op = -1;
		return NULL;
	}
	while (!sh->stop) {
		other = rand_r(&t->seed) % sh->nworkers;
		op = rand_r(&t->seed) % 8;
		switch (op) {
		case 0:
		case 1:
			ret = ut_park(sh->fd, id, ut_now_ns() +
				      (1 + rand_r(&t->seed) % 5) * MS);
			if (ret && ret != -ETIMEDOUT && ret != -EINTR)
				goto bad;
			parks++;
			break;
		case 2:
		case 3:
			ret = ut_wake(sh->fd, other);
			if (ret && ret != -ESRCH)
				goto bad;
			wakes++;
			break;
		case 4:
		case 5:
			if (other == id)
				break;
			ret = ut_handoff(sh->fd, id, other, ut_now_ns() + 3 * MS);
			if (ret && ret != -ETIMEDOUT && ret != -ESRCH &&
			    ret != -EINTR)
				goto bad;
			handoffs++;
			break;
		case 6:
			/* Run long enough for the slice to expire. */
			hp_spin((rand_r(&t->seed) % 1000) * US);
			spins++;
			break;
		default:
			/* Restart the timer, on whatever CPU this runs now. */
			ret = hp_set_slice(sh->fd, id, USCHED_PREEMPT_SIGNAL,
					   (100 + rand_r(&t->seed) % 300) * US);
			if (ret)
				goto bad;
			slices++;
			break;
		}
		continue;
bad:
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		sh->last_bad = ret;
		sh->last_bad_op = op;
	}
	ret = hp_set_slice(sh->fd, id, USCHED_PREEMPT_OFF, 0);
	if (!ret)
		ret = ut_unregister(sh->fd, id);
	if (ret) {
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		sh->last_bad = ret;
		sh->last_bad_op = -2;
	}
	hp_my_id = UINT32_MAX;
	__atomic_add_fetch(&sh->parks, parks, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->wakes, wakes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->handoffs, handoffs, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->spins, spins, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->slices, slices, __ATOMIC_RELAXED);
	return NULL;
}

FIXTURE(hotplug) {
	int ncpu;
};

FIXTURE_SETUP(hotplug)
{
	self->ncpu = hp_ncpus();
}

/* Whatever happened, leave every CPU online for the next programs. */
FIXTURE_TEARDOWN(hotplug)
{
	if (self->ncpu > 1)
		hp_all_online(self->ncpu);
}

TEST_F_TIMEOUT(hotplug, cpus_cycle_during_storm_with_slices, 120)
{
	const char *env = getenv("USCHED_HOTPLUG_SECONDS");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 10, end;
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	long parks0 = ut_stat("parks"), wakes0 = ut_stat("wakes");
	long hand0 = ut_stat("handoffs"), sig0 = ut_stat("preempt_signals");
	long offlines = 0, onlines = 0, busy = 0, other_err = 0;
	struct hp_thr t[HP_WORKERS];
	struct sigaction sa = { .sa_handler = hp_on_signal };
	unsigned int seed = time(NULL);
	int cpu, i, ret, last_err = 0, ncpu = self->ncpu;

	if (ncpu < 2)
		SKIP(return, "%d CPU: nothing to take offline (run with -c 2 or more)",
		     ncpu);
	if (!ut_module_loaded())
		SKIP(return, "module not loaded");
	if (access(CPU_SYS "/cpu1/online", F_OK))
		SKIP(return, "no cpu1/online: kernel without CONFIG_HOTPLUG_CPU");
	if (access(CPU_SYS "/cpu1/online", W_OK))
		SKIP(return, "cpu1/online not writable: %s", strerror(errno));
	ASSERT_EQ(0, hp_all_online(ncpu)) TH_LOG("a CPU is offline before the test");
	/* A first cycle: a kernel or hypervisor that refuses hotplug. */
	ret = hp_set(1, 0);
	if (ret)
		SKIP(return, "cpu1 cannot go offline: %s", strerror(-ret));
	ASSERT_EQ(0, hp_set(1, 1));

	TH_LOG("seed %u, %d CPUs, %llu s", seed, ncpu, (unsigned long long)secs);
	hp_sh = mmap(NULL, sizeof(*hp_sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hp_sh);
	hp_sh->nworkers = HP_WORKERS;
	hp_sh->fd = ut_group(HP_WORKERS, 256, 0, 0, 0, &hp_sh->m);
	ASSERT_LE(0, hp_sh->fd);
	ASSERT_EQ(0, sigaction(HP_SIGNO, &sa, NULL));

	for (i = 0; i < HP_WORKERS; i++) {
		t[i] = (struct hp_thr){ .sh = hp_sh, .seed = seed + i };
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, hp_worker, &t[i]));
	}

	/* This thread is the hotplug thread: flip a random CPU 1..N-1. */
	srand(seed);
	end = ut_now_ns() + secs * 1000 * MS;
	while (ut_now_ns() < end) {
		cpu = 1 + rand() % (ncpu - 1);
		ret = hp_get(cpu);
		if (ret < 0) {
			other_err++;
			last_err = ret;
			continue;
		}
		ret = hp_set(cpu, !ret);
		if (!ret && hp_get(cpu))
			onlines++;
		else if (!ret)
			offlines++;
		else if (ret == -EBUSY || ret == -EAGAIN)
			busy++;
		else {
			other_err++;
			last_err = ret;
		}
		usleep(rand() % 20000);
	}
	EXPECT_EQ(0, hp_all_online(ncpu));
	for (cpu = 1; cpu < ncpu; cpu++)
		EXPECT_EQ(1, hp_get(cpu)) TH_LOG("cpu%d stayed offline", cpu);

	hp_sh->stop = 1;
	for (i = 0; i < HP_WORKERS; i++)
		pthread_join(t[i].tid, NULL);
	munmap(hp_sh->m.base, hp_sh->m.size);
	close(hp_sh->fd);

	TH_LOG("%ld offline, %ld online (%ld refused busy), %ld parks, %ld wakes, %ld handoffs, %ld spins, %ld slice restarts, %ld preemption signals handled",
	       offlines, onlines, busy, hp_sh->parks, hp_sh->wakes,
	       hp_sh->handoffs, hp_sh->spins, hp_sh->slices, hp_sh->signals);
	TH_LOG("module counts: %ld parks, %ld wakes, %ld handoffs, %ld preemption signals",
	       ut_stat("parks") - parks0, ut_stat("wakes") - wakes0,
	       ut_stat("handoffs") - hand0, ut_stat("preempt_signals") - sig0);
	EXPECT_EQ(0, other_err) TH_LOG("cpuN/online: %s", strerror(-last_err));
	EXPECT_EQ(0, hp_sh->bad) {
		TH_LOG("%ld unexpected results, last %d (op %d)", hp_sh->bad,
		       hp_sh->last_bad, hp_sh->last_bad_op);
	}
	EXPECT_LE(1, offlines);
	EXPECT_LE(1, onlines);
	EXPECT_LT(0, hp_sh->parks);
	EXPECT_LT(0, hp_sh->handoffs);
	EXPECT_LT(0, hp_sh->signals);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
}

/* ---- memory pressure ---- */

#define CG_ROOT		"/sys/fs/cgroup"
#define MC_LIMIT	(8ul << 20)	/* above what the child brings in */
#define MC_FDS		24		/* groups opened per round */
#define MC_THREADS	4
#define MC_STACK	(64 << 10)

struct mc_shared {
	volatile int stop;
	volatile int round;	/* even: between rounds (no pressure) */
	int fd;
	uint32_t nworkers;
	long setups_ok, enomem, other, last_other;
	long rounds, registers, storm_ops;
	long bad;
	int last_bad;
	int child_err, child_err_line;
	volatile int registered;
};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return ut_write_file(path, val);
}

/* The value of @key in a "key value" file (memory.events), or -1. */
static long cg_key(const char *dir, const char *file, const char *key)
{
	char path[256], k[64];
	long v, ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", k, &v) == 2) {
		if (!strcmp(k, key)) {
			ret = v;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int cg_has_word(const char *path, const char *word)
{
	char buf[512], *tok, *save;
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f)) {
		for (tok = strtok_r(buf, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save))
			found |= !strcmp(tok, word);
	}
	fclose(f);
	return found;
}

/* Park, wake, hand off; register again whenever a new round starts. */
static void *mc_worker(void *p)
{
	struct mc_shared *sh = p;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	uint32_t id, other;
	long ops = 0, regs = 0;
	int ret, round = -1;

	while (!sh->stop) {
		int r = sh->round;

		if (!(r & 1) && r != round) {
			/* Between rounds: the last round's groups are freed. */
			if (round >= 0 && (ret = ut_unregister(sh->fd, id)))
				goto bad;
			ret = ut_register(sh->fd, &id);
			if (ret)
				goto bad;
			regs++;
			round = r;
			__atomic_add_fetch(&sh->registered, 1, __ATOMIC_RELEASE);
			continue;
		}
		if (round < 0) {
			usleep(1000);
			continue;
		}
		other = rand_r(&seed) % sh->nworkers;
		switch (rand_r(&seed) % 3) {
		case 0:
			ret = ut_park(sh->fd, id, ut_now_ns() + (1 + rand_r(&seed) % 3) * MS);
			if (ret && ret != -ETIMEDOUT && ret != -EINTR)
				goto bad;
			break;
		case 1:
			ret = ut_wake(sh->fd, other);
			if (ret && ret != -ESRCH)
				goto bad;
			break;
		default:
			if (other == id)
				break;
			ret = ut_handoff(sh->fd, id, other, ut_now_ns() + 2 * MS);
			if (ret && ret != -ETIMEDOUT && ret != -ESRCH && ret != -EINTR)
				goto bad;
			break;
		}
		ops++;
		continue;
bad:
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		sh->last_bad = ret;
		usleep(1000);
	}
	if (round >= 0)
		ut_unregister(sh->fd, id);
	__atomic_add_fetch(&sh->storm_ops, ops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->registers, regs, __ATOMIC_RELAXED);
	return NULL;
}

#define MC_CHECK(cond) do {						\
	if (!(cond)) {							\
		sh->child_err = errno ? errno : -1;			\
		sh->child_err_line = __LINE__;				\
		_exit(3);						\
	}								\
} while (0)

/* The child: everything allocated up front, then rounds of SETUP. */
static void mc_child(struct mc_shared *sh, const char *cg, uint64_t ms)
{
	pthread_t tid[MC_THREADS];
	pthread_attr_t attr;
	int fds[MC_FDS], i, n, ret, want;
	char pid[32];
	uint64_t end;
	unsigned int seed = getpid();

	MC_CHECK(!cg_write("/proc/self", "oom_score_adj", "-1000"));
	sh->nworkers = MC_THREADS;
	sh->fd = ut_group(MC_THREADS, 16, 0, 0, 0, NULL);
	MC_CHECK(sh->fd >= 0);
	MC_CHECK(!pthread_attr_init(&attr));
	MC_CHECK(!pthread_attr_setstacksize(&attr, MC_STACK));
	/* Every page of the child is faulted in now, charged outside. */
	MC_CHECK(!mlockall(MCL_CURRENT | MCL_FUTURE));
	for (i = 0; i < MC_THREADS; i++)
		MC_CHECK(!pthread_create(&tid[i], &attr, mc_worker, sh));
	snprintf(pid, sizeof(pid), "%d", getpid());
	MC_CHECK(!cg_write(cg, "cgroup.procs", pid));

	end = ut_now_ns() + ms * MS;
	while (ut_now_ns() < end) {
		/* Between rounds: workers register again, groups are opened. */
		want = (sh->round / 2 + 1) * MC_THREADS;
		while (__atomic_load_n(&sh->registered, __ATOMIC_ACQUIRE) < want &&
		       !sh->bad)
			usleep(1000);
		for (n = 0; n < MC_FDS; n++) {
			fds[n] = ut_open();
			MC_CHECK(fds[n] >= 0);
		}
		sh->round++;	/* odd: pressure */
		for (i = 0; i < n; i++) {
			uint32_t ring = 1u << (12 + rand_r(&seed) % 5);
			uint32_t workers = 1 + rand_r(&seed) % 256;

			ret = ut_setup(fds[i], workers, ring, 0, 0, 0, NULL);
			if (!ret)
				sh->setups_ok++;
			else if (ret == -ENOMEM)
				sh->enomem++;
			else {
				sh->other++;
				sh->last_other = ret;
			}
		}
		for (i = 0; i < n; i++)
			close(fds[i]);
		sh->rounds++;
		sh->round++;	/* even: released */
	}
	sh->stop = 1;
	for (i = 0; i < MC_THREADS; i++)
		pthread_join(tid[i], NULL);
	close(sh->fd);
	_exit(0);
}

TEST(memcg_enomem_clean_under_memory_max)
{
	const char *env = getenv("USCHED_MEMCG_MS");
	uint64_t ms = env ? strtoull(env, NULL, 10) : 4000;
	long wbase, gbase, oom, oom_kill, max_events;
	char cg[128], limit[32];
	struct mc_shared *sh;
	int mounted = 0, status = 0, i;
	pid_t child;

	if (!ut_module_loaded())
		SKIP(return, "module not loaded");
	if (access(CG_ROOT, F_OK))
		SKIP(return, "no " CG_ROOT ": kernel without CONFIG_CGROUPS");
	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			SKIP(return, "cannot mount cgroup2 at " CG_ROOT ": %s",
			     strerror(errno));
		mounted = 1;
	}
	if (!cg_has_word(CG_ROOT "/cgroup.controllers", "memory")) {
		if (mounted)
			umount2(CG_ROOT, 0);
		SKIP(return, "no memory controller in cgroup v2 (CONFIG_MEMCG off, or bound to v1)");
	}
	wbase = ut_stat("workers");
	gbase = ut_stat("groups");
	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.subtree_control", "+memory"));
	snprintf(cg, sizeof(cg), CG_ROOT "/usched-hotplug-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("mkdir %s: %s", cg, strerror(errno));
	/* The child's new charges: 8 MiB, whatever it charged before. */
	snprintf(limit, sizeof(limit), "%lu", MC_LIMIT);
	ASSERT_EQ(0, cg_write(cg, "memory.max", limit));
	cg_write(cg, "memory.swap.max", "0");

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		mc_child(sh, cg, ms);

	for (i = 0; i < 2000 + (int)ms / 10; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		usleep(10000);
	}
	if (i >= 2000 + (int)ms / 10) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		TH_LOG("child did not finish in %llu ms + 20 s: killed",
		       (unsigned long long)ms);
	}
	oom = cg_key(cg, "memory.events", "oom");
	oom_kill = cg_key(cg, "memory.events", "oom_kill");
	max_events = cg_key(cg, "memory.events", "max");
	/* The cgroup empties when the child is reaped; rmdir may lag. */
	for (i = 0; i < 500 && rmdir(cg); i++)
		usleep(10000);
	EXPECT_GT(500, i) TH_LOG("rmdir %s: %s", cg, strerror(errno));
	if (mounted)
		umount2(CG_ROOT, MNT_DETACH);

	TH_LOG("%ld rounds, %ld SETUPs ok, %ld ENOMEM, %ld other errors, %ld registrations, %ld park/wake/handoff calls; memory.events: max %ld, oom %ld, oom_kill %ld",
	       sh->rounds, sh->setups_ok, sh->enomem, sh->other,
	       sh->registers, sh->storm_ops, max_events, oom, oom_kill);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child killed by signal %d",
					      WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("child failed at line %d: %s", sh->child_err_line,
		       strerror(sh->child_err));
	}
	EXPECT_EQ(0, sh->other) TH_LOG("SETUP: unexpected %s",
				       strerror(-sh->last_other));
	EXPECT_EQ(0, sh->bad) TH_LOG("storm: unexpected %d", sh->last_bad);
	EXPECT_LT(0, sh->enomem) TH_LOG("no SETUP failed: the limit was not reached");
	EXPECT_LT(0, sh->setups_ok);
	EXPECT_LT(0, sh->registers);
	EXPECT_EQ(0, oom) TH_LOG("the memcg OOM killer was invoked");
	EXPECT_EQ(0, oom_kill);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
}

TEST_HARNESS_MAIN
