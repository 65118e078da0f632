// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - hostile input: random ioctl numbers, sizes, flags, fields and
 * pointers, with register/unregister, mmap/munmap, poll, open and close in
 * between, from several threads, for USCHED_FUZZ_SECONDS (default 10).
 * Reproducible from the printed seed (USCHED_FUZZ_SEED).  Every call must
 * return 0 or an errno of the documented set; no hang; the kernel log is
 * checked by the runner; the object counts are back at the end.
 */
#include <poll.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define NTHREADS	4
#define IOC_NOSIZE(c)	((c) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))
#define MS		1000000ull

static volatile int stop;
static volatile long calls, unexpected;
static volatile int last_err, last_cmd;

static uint64_t rnd64(unsigned int *s)
{
	return ((uint64_t)rand_r(s) << 33) ^ ((uint64_t)rand_r(s) << 11) ^ rand_r(s);
}

static int expected(int ret)
{
	switch (ret) {
	case 0: case -EINVAL: case -E2BIG: case -EFAULT: case -ENOTTY:
	case -EPERM: case -EBUSY: case -EBADFD: case -EBADF: case -ESRCH:
	case -ENOSPC: case -ETIMEDOUT: case -EINTR: case -EOVERFLOW:
	case -ENOMEM: case -EMFILE:
		return 1;
	}
	return ret > 0;	/* poll counts */
}

static const unsigned long cmds[] = {
	USCHED_IOC_VERSION, USCHED_IOC_SETUP, USCHED_IOC_REGISTER,
	USCHED_IOC_UNREGISTER, USCHED_IOC_PARK, USCHED_IOC_WAKE,
	USCHED_IOC_HANDOFF, USCHED_IOC_SET_STANDBY, USCHED_IOC_GRANT,
	USCHED_IOC_SET_SLICE,
};

static void *fuzz_fn(void *p)
{
	unsigned int seed = *(unsigned int *)p;
	static __thread uint64_t buf[64];
	void *bad_ptrs[] = { NULL, (void *)8, (void *)-4096L,
			     (void *)0xffff888000000000ull, (char *)buf + 1 };
	int fd = ut_open(), ret, i;
	unsigned long cmd;
	void *arg, *map = NULL;
	size_t maplen = 0;
	uint32_t *w;

	while (!stop) {
		int op = rand_r(&seed) % 16;

		if (fd < 0)
			fd = ut_open();
		if (fd < 0)
			continue;
		for (i = 0; i < 64; i++)
			buf[i] = rand_r(&seed) % 4 ? 0 : rnd64(&seed);
		w = (uint32_t *)buf;
		w[0] = rand_r(&seed) % 3 ? 16 + 8 * (rand_r(&seed) % 6) : rand_r(&seed);
		w[1] = rand_r(&seed) % 3 ? 0 : 1u << (rand_r(&seed) % 32);
		w[2] = rand_r(&seed) % 8;			/* small worker ids */
		w[3] = rand_r(&seed) % 3 ? rand_r(&seed) % 8 : 0;
		cmd = cmds[rand_r(&seed) % (sizeof(cmds) / sizeof(cmds[0]))];
		arg = buf;

		if (op == 0) {
			cmd = _IOC(rand_r(&seed) % 4, rand_r(&seed) % 2 ? USCHED_IOC_MAGIC : rand_r(&seed) & 0xff,
				   rand_r(&seed) % 32, rand_r(&seed) % 256);
		} else if (op == 1) {
			arg = bad_ptrs[rand_r(&seed) % 5];
		} else if (op == 2) {
			close(fd);
			fd = -1;
			if (map)
				munmap(map, maplen);
			map = NULL;
			continue;
		} else if (op == 3) {
			struct usched_setup s;

			ret = ut_setup(fd, 1 + rand_r(&seed) % 8, 16 << (rand_r(&seed) % 4),
				       rand_r(&seed) % 2, 0, 5 * MS, &s);
			if (!ret && !map) {
				map = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE,
					   MAP_SHARED, fd, 0);
				maplen = s.mmap_size;
				if (map == MAP_FAILED)
					map = NULL;
			}
			goto check;
		} else if (op == 4) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			ret = poll(&pfd, 1, 0);
			goto check;
		} else if (op == 5 && map) {
			/* Scribble on the user-writable fields of the mapping. */
			struct usched_shm_header *h = map;

			h->ring_head = rand_r(&seed);
			continue;
		}
		/*
		 * A park must never wait long: force a near deadline.  The
		 * module ignores an ioctl number's size bits, so compare
		 * without them.
		 */
		if (IOC_NOSIZE(cmd) == IOC_NOSIZE(USCHED_IOC_PARK) ||
		    IOC_NOSIZE(cmd) == IOC_NOSIZE(USCHED_IOC_HANDOFF)) {
			if (arg == buf && (w[1] & USCHED_PARK_DEADLINE || !w[1])) {
				w[1] = USCHED_PARK_DEADLINE;
				buf[2] = ut_now_ns() + (rand_r(&seed) % 3) * MS;
			}
		}
		if (IOC_NOSIZE(cmd) == IOC_NOSIZE(USCHED_IOC_SET_SLICE) && arg == buf &&
		    w[3] == USCHED_PREEMPT_SIGNAL)
			buf[3] = 0;	/* signo 0: no real signal storms */
		ret = ut_err(ioctl(fd, cmd, arg));
check:
		__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
		if (!expected(ret)) {
			__atomic_add_fetch(&unexpected, 1, __ATOMIC_RELAXED);
			last_err = ret;
			last_cmd = cmd;
		}
	}
	/* Leave nothing registered behind: unregister every id we might hold. */
	if (fd >= 0) {
		for (i = 0; i < 8; i++)
			ut_unregister(fd, i);
		close(fd);
	}
	if (map)
		munmap(map, maplen);
	return NULL;
}

TEST(fuzz_ioctls_from_threads)
{
	const char *env = getenv("USCHED_FUZZ_SECONDS");
	const char *senv = getenv("USCHED_FUZZ_SEED");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 10;
	unsigned int seed = senv ? strtoul(senv, NULL, 10) : time(NULL);
	unsigned int seeds[NTHREADS];
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	pthread_t t[NTHREADS];
	int i;

	TH_LOG("seed %u (USCHED_FUZZ_SEED=%u reproduces), %llu s", seed, seed,
	       (unsigned long long)secs);
	for (i = 0; i < NTHREADS; i++) {
		seeds[i] = seed + i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fuzz_fn, &seeds[i]));
	}
	usleep(secs * 1000000);
	stop = 1;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%ld calls", calls);
	EXPECT_EQ(0, unexpected) {
		TH_LOG("last unexpected: %d for cmd %#x", last_err, last_cmd);
	}
	EXPECT_LT(1000, calls);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
}

/* The harness's timeout (30 s) follows USCHED_FUZZ_SECONDS (make fuzz). */
int main(int argc, char **argv)
{
	const char *env = getenv("USCHED_FUZZ_SECONDS");

	_fuzz_ioctls_from_threads_object.timeout = (env ? atoi(env) : 10) + 30;
	return test_harness_run(argc, argv);
}
