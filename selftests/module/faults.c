// SPDX-License-Identifier: GPL-2.0
/*
 * faults.c - fault injection: every allocation and every user copy on the
 * module's paths fails once in turn, and each failure must be clean.
 *
 * For each operation (open, SETUP, mmap, each ioctl, poll) the test arms
 * /proc/thread-self/fail-nth with N = 1, 2, 3, ... so that the N-th
 * injectable call of the calling thread fails: a slab allocation
 * (failslab), a page allocation (fail_page_alloc) or, on a kernel with
 * CONFIG_FAULT_INJECTION_USERCOPY, a copy_from_user()/copy_to_user()
 * (fail_usercopy).  It stops at the first N that the operation no longer
 * reaches.  For every N:
 *
 *  - the operation returns its normal result (the fault hit a call whose
 *    failure the kernel absorbs) or a negative errno of its documented set
 *    (Documentation/abi.md), and then a fault was really injected;
 *  - the state the failure leaves behind is the documented one (a failed
 *    REGISTER leaves the thread unregistered and the id free, a failed
 *    WAKE sets no permit, a failed PARK consumes none, a failed HANDOFF
 *    wakes nobody, a failed GRANT adds no slot, ...);
 *  - once everything is closed, the module's live counts (debugfs
 *    "groups", "workers") are back at their value before the test.
 *
 * The kernel log is judged by the runner (tools/vm-run): no warning, no
 * KASAN or lockdep report; kmemleak (debug kernel) finds no leak.  The
 * knobs are set to verbose=1 (two lines per injected fault, no stack) with
 * no rate limit, so that every injected fault prints its
 * "FAULT_INJECTION: forcing a failure" line, which the runner uses to
 * excuse what a failed allocation prints after it.
 *
 * Kernels without fault injection (Debian's cloud and rt kernels) skip
 * every test with the reason; the debug kernel (tools/debug-kernel) has
 * all three kinds.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define FI_NTH		"/proc/thread-self/fail-nth"
#define FI_DEBUGFS	"/sys/kernel/debug/"
#define FI_MAX_N	4000
#define MS		1000000ull

/* A debugfs knob the test sets, and its value before, restored after. */
struct fi_knob {
	const char *path;
	const char *val;
	int optional;		/* fail_usercopy: only with FAULT_INJECTION_USERCOPY */
};

static const struct fi_knob fi_knobs[] = {
	/* fail-nth needs no probability; these let it reach every call. */
	{ FI_DEBUGFS "failslab/ignore-gfp-wait", "N", 0 },
	{ FI_DEBUGFS "failslab/cache-filter", "N", 0 },
	{ FI_DEBUGFS "failslab/verbose", "1", 0 },
	{ FI_DEBUGFS "failslab/verbose_ratelimit_interval_ms", "0", 1 },
	{ FI_DEBUGFS "fail_page_alloc/ignore-gfp-wait", "N", 0 },
	{ FI_DEBUGFS "fail_page_alloc/ignore-gfp-highmem", "N", 0 },
	{ FI_DEBUGFS "fail_page_alloc/min-order", "0", 0 },
	{ FI_DEBUGFS "fail_page_alloc/verbose", "1", 0 },
	{ FI_DEBUGFS "fail_page_alloc/verbose_ratelimit_interval_ms", "0", 1 },
	{ FI_DEBUGFS "fail_usercopy/verbose", "1", 1 },
	{ FI_DEBUGFS "fail_usercopy/verbose_ratelimit_interval_ms", "0", 1 },
};
#define FI_NKNOBS	(sizeof(fi_knobs) / sizeof(fi_knobs[0]))

static int fi_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

/* The state an operation works on; its prep() builds it, cleanup() frees it. */
struct fi_ctx {
	int fd;			/* the group */
	struct usched_setup s;
	struct ut_map m;
	int registered;		/* this thread is worker @id */
	uint32_t id;
	int fd2;		/* open() result */
	void *map;		/* mmap() result */
	/* The helper worker: HANDOFF's target. */
	pthread_t helper;
	int helper_up;
	int cmd[2], res[2];	/* pipes: commands to it, its results */
	uint32_t helper_id;
};

static volatile int fi_signals;

static void fi_on_signal(int sig)
{
	fi_signals++;
}

/* The helper: registers, then runs one command at a time until 'q'. */
static void *fi_helper_fn(void *p)
{
	struct fi_ctx *c = p;
	int32_t r;
	char cmd;

	r = ut_register(c->fd, &c->helper_id);
	if (write(c->res[1], &r, sizeof(r)) != sizeof(r) || r)
		return NULL;
	while (read(c->cmd[0], &cmd, 1) == 1) {
		if (cmd == 'q') {
			r = ut_unregister(c->fd, c->helper_id);
		} else {
			/* 'p': a park with a past deadline: 0 iff a permit. */
			r = ut_park(c->fd, c->helper_id, 1);
		}
		if (write(c->res[1], &r, sizeof(r)) != sizeof(r) || cmd == 'q')
			break;
	}
	return NULL;
}

static int fi_helper_cmd(struct fi_ctx *c, char cmd)
{
	int32_t r;

	if (write(c->cmd[1], &cmd, 1) != 1 ||
	    read(c->res[0], &r, sizeof(r)) != sizeof(r))
		return -EIO;
	return r;
}

static int fi_helper_start(struct fi_ctx *c)
{
	int32_t r;

	if (pipe2(c->cmd, O_CLOEXEC) || pipe2(c->res, O_CLOEXEC))
		return -errno;
	if (pthread_create(&c->helper, NULL, fi_helper_fn, c))
		return -EAGAIN;
	c->helper_up = 1;
	if (read(c->res[0], &r, sizeof(r)) != sizeof(r))
		return -EIO;
	return r;
}

static void fi_helper_stop(struct fi_ctx *c)
{
	if (c->helper_up) {
		fi_helper_cmd(c, 'q');
		pthread_join(c->helper, NULL);
		c->helper_up = 0;
	}
	if (c->cmd[0] > 0) {
		close(c->cmd[0]);
		close(c->cmd[1]);
		close(c->res[0]);
		close(c->res[1]);
		c->cmd[0] = 0;
	}
}

/* Common prep: a group set up and mapped; @reg: this thread registered. */
static int fi_group(struct fi_ctx *c, uint32_t flags, int reg)
{
	int ret;

	c->fd = ut_group(4, 16, flags, 0, 0, &c->m);
	if (c->fd < 0)
		return c->fd;
	if (reg) {
		ret = ut_register(c->fd, &c->id);
		if (ret)
			return ret;
		c->registered = 1;
	}
	return 0;
}

static void fi_cleanup(struct fi_ctx *c)
{
	fi_helper_stop(c);
	if (c->registered)
		ut_unregister(c->fd, c->id);
	if (c->map && c->map != MAP_FAILED)
		munmap(c->map, c->s.mmap_size);
	if (c->m.base)
		munmap(c->m.base, c->m.size);
	if (c->fd2 > 0)
		close(c->fd2);
	if (c->fd > 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
}

/*
 * One operation: prep() builds the state (no fault armed), run() is the
 * call under test (the fault is armed just before it, on this thread),
 * after() checks the state the call left, knowing its result, and returns
 * 0 or a negative code that names what is wrong.
 */
struct fi_op {
	const char *name;
	int errnos[4];		/* the documented failures (negative) */
	int (*prep)(struct fi_ctx *c);
	int (*run)(struct fi_ctx *c);
	int (*after)(struct fi_ctx *c, int ret);
};

/* ---- open ---- */

static int prep_none(struct fi_ctx *c)
{
	return 0;
}

static int run_open(struct fi_ctx *c)
{
	c->fd2 = ut_open();
	return c->fd2 < 0 ? c->fd2 : 0;
}

static int after_open(struct fi_ctx *c, int ret)
{
	struct usched_setup s;

	if (ret)
		return 0;
	/* A group that opened despite a fault works. */
	return ut_setup(c->fd2, 2, 16, 0, 0, 0, &s);
}

/* ---- SETUP ---- */

static int prep_open(struct fi_ctx *c)
{
	c->fd = ut_open();
	return c->fd < 0 ? c->fd : 0;
}

static int run_setup(struct fi_ctx *c)
{
	return ut_setup(c->fd, 4, 64, USCHED_SETUP_GATE, 2, 0, &c->s);
}

static int after_setup(struct fi_ctx *c, int ret)
{
	struct usched_setup s;
	int r = ut_setup(c->fd, 4, 64, USCHED_SETUP_GATE, 2, 0, &s);

	/* ENOMEM: not set up.  EFAULT: not set up, or set up (copy-out). */
	if (ret == -ENOMEM && r)
		return -1;
	if (ret == -EFAULT && r && r != -EBUSY)
		return -2;
	if (!ret && r != -EBUSY)
		return -3;
	/* Whichever call set it up, the group is whole: map and check it. */
	if (!r)
		c->s = s;
	c->s.mmap_size = 4096;
	if (ut_map(c->fd, &c->s, &c->m))
		return -4;
	if (c->m.hdr->magic != USCHED_SHM_MAGIC || c->m.hdr->max_workers != 4 ||
	    c->m.hdr->ring_entries != 64 || c->m.hdr->gate_free != 2)
		return -5;
	return 0;
}

/* ---- mmap ---- */

static int prep_setup(struct fi_ctx *c)
{
	int ret;

	c->fd = ut_open();
	if (c->fd < 0)
		return c->fd;
	ret = ut_setup(c->fd, 4, 16, 0, 0, 0, &c->s);
	return ret;
}

static int run_mmap(struct fi_ctx *c)
{
	c->map = mmap(NULL, c->s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, 0);
	return c->map == MAP_FAILED ? -errno : 0;
}

static int after_mmap(struct fi_ctx *c, int ret)
{
	struct usched_shm_header *h;

	if (ret) {
		/* A later mapping works. */
		c->map = mmap(NULL, c->s.mmap_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, c->fd, 0);
		if (c->map == MAP_FAILED)
			return -1;
	}
	h = c->map;
	return h->magic == USCHED_SHM_MAGIC ? 0 : -2;
}

/* ---- VERSION ---- */

static int run_version(struct fi_ctx *c)
{
	struct usched_version v = { .size = sizeof(v) };
	int ret = ut_err(ioctl(c->fd, USCHED_IOC_VERSION, &v));

	if (!ret && v.abi_major != USCHED_ABI_MAJOR)
		return -EPROTO;
	return ret;
}

static int after_nothing(struct fi_ctx *c, int ret)
{
	return 0;
}

/* ---- REGISTER, UNREGISTER ---- */

static int prep_group(struct fi_ctx *c)
{
	return fi_group(c, 0, 0);
}

static int prep_worker(struct fi_ctx *c)
{
	return fi_group(c, 0, 1);
}

static int run_register(struct fi_ctx *c)
{
	int ret = ut_register(c->fd, &c->id);

	if (!ret)
		c->registered = 1;
	return ret;
}

static int after_register(struct fi_ctx *c, int ret)
{
	uint32_t id;

	if (!ret)
		return c->id == 0 && ut_kstate(&c->m, 0) == USCHED_W_RUNNING ? 0 : -1;
	/* Not a worker, and id 0 is free (the failure took nothing). */
	if (ut_kstate(&c->m, 0) != USCHED_W_FREE)
		return -2;
	if (ut_register(c->fd, &id))
		return -3;
	c->registered = 1;
	c->id = id;
	return id == 0 ? 0 : -4;
}

static int run_unregister(struct fi_ctx *c)
{
	int ret = ut_unregister(c->fd, c->id);

	if (!ret)
		c->registered = 0;
	return ret;
}

static int after_unregister(struct fi_ctx *c, int ret)
{
	if (!ret)
		return ut_kstate(&c->m, c->id) == USCHED_W_FREE ? 0 : -1;
	/* Still a worker: the second try ends it. */
	if (ut_kstate(&c->m, c->id) != USCHED_W_RUNNING)
		return -2;
	if (ut_unregister(c->fd, c->id))
		return -3;
	c->registered = 0;
	return 0;
}

/* ---- PARK ---- */

static int prep_worker_permit(struct fi_ctx *c)
{
	int ret = fi_group(c, 0, 1);

	return ret ? ret : ut_wake(c->fd, c->id);
}

static int run_park(struct fi_ctx *c)
{
	return ut_park(c->fd, c->id, 0);	/* the permit ends it at once */
}

static int after_park(struct fi_ctx *c, int ret)
{
	int r = ut_park(c->fd, c->id, 1);

	/* Success consumed the permit; a failure left it in place. */
	if (!ret)
		return r == -ETIMEDOUT ? 0 : -1;
	return r == 0 ? 0 : -2;
}

/* ---- WAKE ---- */

static int run_wake(struct fi_ctx *c)
{
	return ut_wake(c->fd, c->id);
}

static int after_wake(struct fi_ctx *c, int ret)
{
	int r = ut_park(c->fd, c->id, 1);

	/* Success set the permit; a failure did not. */
	if (!ret)
		return r == 0 ? 0 : -1;
	return r == -ETIMEDOUT ? 0 : -2;
}

/* ---- HANDOFF ---- */

static int prep_handoff(struct fi_ctx *c)
{
	int ret = prep_worker_permit(c);

	return ret ? ret : fi_helper_start(c);
}

static int run_handoff(struct fi_ctx *c)
{
	return ut_handoff(c->fd, c->id, c->helper_id, 0);
}

static int after_handoff(struct fi_ctx *c, int ret)
{
	int mine = ut_park(c->fd, c->id, 1);
	int its = fi_helper_cmd(c, 'p');

	/* Success: the target got a permit and ours was used. */
	if (!ret)
		return mine == -ETIMEDOUT && its == 0 ? 0 : -1;
	/* A failure woke nobody and left our permit. */
	return mine == 0 && its == -ETIMEDOUT ? 0 : -2;
}

/* ---- SET_STANDBY ---- */

static int prep_standby(struct fi_ctx *c)
{
	int ret = fi_group(c, 0, 1);

	return ret ? ret : fi_helper_start(c);
}

static int run_standby(struct fi_ctx *c)
{
	return ut_target(c->fd, USCHED_IOC_SET_STANDBY, c->id, c->helper_id);
}

static int after_standby(struct fi_ctx *c, int ret)
{
	int fd[2], its;
	char b;

	/* Block once (a read from an empty pipe that a timer fills). */
	if (pipe(fd))
		return -1;
	if (fork() == 0) {
		usleep(20000);
		_exit(write(fd[1], "x", 1) != 1);
	}
	close(fd[1]);
	if (read(fd[0], &b, 1) != 1)
		return -2;
	close(fd[0]);
	wait(NULL);
	usleep(10000);	/* the standby's wake runs from an irq_work */
	its = fi_helper_cmd(c, 'p');
	/* Success: the block woke the standby; a failure named nobody. */
	if (!ret)
		return its == 0 ? 0 : -3;
	return its == -ETIMEDOUT ? 0 : -4;
}

/* ---- GRANT, GRANT_WORKER ---- */

static int prep_gate(struct fi_ctx *c)
{
	return fi_group(c, USCHED_SETUP_GATE, 1);
}

static int run_grant(struct fi_ctx *c)
{
	return ut_target(c->fd, USCHED_IOC_GRANT, 0, 1);
}

static int after_grant(struct fi_ctx *c, int ret)
{
	uint32_t free = __atomic_load_n(&c->m.hdr->gate_free, __ATOMIC_ACQUIRE);

	return free == (ret ? 0 : 1) ? 0 : -1;
}

static int run_grant_worker(struct fi_ctx *c)
{
	struct usched_target t = {
		.size = sizeof(t), .flags = USCHED_GRANT_WORKER, .worker = c->id,
	};

	/* Not waiting at the gate: -EAGAIN is its normal result. */
	return ut_err(ioctl(c->fd, USCHED_IOC_GRANT, &t));
}

/* ---- SET_SLICE, PREEMPT ---- */

static int set_slice(struct fi_ctx *c, uint32_t mode)
{
	struct usched_slice s = {
		.size = sizeof(s), .worker = c->id, .mode = mode,
		.slice_ns = mode ? 10000 * MS : 0, .signo = mode ? SIGUSR1 : 0,
	};

	return ut_err(ioctl(c->fd, USCHED_IOC_SET_SLICE, &s));
}

static int run_set_slice(struct fi_ctx *c)
{
	return set_slice(c, USCHED_PREEMPT_SIGNAL);
}

static int after_set_slice(struct fi_ctx *c, int ret)
{
	struct usched_target t = { .size = sizeof(t), .worker = c->id };
	int r = ut_err(ioctl(c->fd, USCHED_IOC_PREEMPT, &t));

	/* PREEMPT needs a slice: it tells whether SET_SLICE took effect. */
	if (!ret)
		return r == 0 && !set_slice(c, USCHED_PREEMPT_OFF) ? 0 : -1;
	return r == -EINVAL ? 0 : -2;
}

static int prep_slice(struct fi_ctx *c)
{
	int ret = fi_group(c, 0, 1);

	fi_signals = 0;
	return ret ? ret : set_slice(c, USCHED_PREEMPT_SIGNAL);
}

static int run_preempt(struct fi_ctx *c)
{
	return ut_target(c->fd, USCHED_IOC_PREEMPT, c->id, 0);
}

static int after_preempt(struct fi_ctx *c, int ret)
{
	int i;

	/* Success: one signal, delivered at a return to user mode. */
	for (i = 0; i < 200 && !ret && !fi_signals; i++)
		usleep(1000);
	if (fi_signals != (ret ? 0 : 1))
		return -1;
	return set_slice(c, USCHED_PREEMPT_OFF) ? -2 : 0;
}

/* ---- poll ---- */

static int run_poll(struct fi_ctx *c)
{
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = c->fd, .events = POLLIN },
	};
	int ret = poll(p, 2, 0);

	return ret < 0 ? -errno : 0;
}

/* ---- the loop ---- */

FIXTURE(faults) {
	int nth;		/* /proc/thread-self/fail-nth of the test thread */
	int usercopy;		/* fail_usercopy is there */
	char old[FI_NKNOBS][32];
	int saved[FI_NKNOBS];
	long gbase, wbase;
};

FIXTURE_SETUP(faults)
{
	char buf[32];
	unsigned int i;
	int ret;

	self->nth = -1;
	if (!ut_module_loaded())
		SKIP(return, "usched.ko is not loaded");
	if (access(FI_NTH, F_OK))
		SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION", FI_NTH);
	if (access(FI_DEBUGFS "failslab", F_OK) ||
	    access(FI_DEBUGFS "fail_page_alloc", F_OK))
		SKIP(return, "no failslab/fail_page_alloc in debugfs: kernel without CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS");
	self->gbase = ut_stat("groups");
	self->wbase = ut_stat("workers");
	ASSERT_LE(0, self->gbase);
	ASSERT_LE(0, self->wbase);
	self->usercopy = !access(FI_DEBUGFS "fail_usercopy", F_OK);
	for (i = 0; i < FI_NKNOBS; i++) {
		ret = fi_read(fi_knobs[i].path, buf, sizeof(buf));
		if (ret && fi_knobs[i].optional)
			continue;
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", fi_knobs[i].path, strerror(-ret));
		strcpy(self->old[i], buf);
		ASSERT_EQ(0, ut_write_file(fi_knobs[i].path, fi_knobs[i].val))
			TH_LOG("%s", fi_knobs[i].path);
		self->saved[i] = 1;
	}
	signal(SIGUSR1, fi_on_signal);
	/* fail-nth is per thread: every armed call is made on this one. */
	self->nth = open(FI_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
}

FIXTURE_TEARDOWN(faults)
{
	unsigned int i;

	if (self->nth >= 0) {
		if (write(self->nth, "0", 1) < 0)
			TH_LOG("fail-nth reset: %s", strerror(errno));
		close(self->nth);
	}
	for (i = 0; i < FI_NKNOBS; i++)
		if (self->saved[i])
			ut_write_file(fi_knobs[i].path, self->old[i]);
}

/* Arm: the @n-th injectable call of this thread from now on fails. */
static int fi_arm(int nth, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return write(nth, buf, len) == len ? 0 : -errno;
}

/*
 * Disarm; returns 1 when the fault was injected (the counter reached 0),
 * 0 when the calls made did not reach the n-th.  The read's own
 * copy_to_user() may consume the last count (-EFAULT): that means it was
 * not reached by the operation either.
 */
static int fi_disarm(int nth)
{
	char buf[16] = "";
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);
	int left = n > 0 ? atoi(buf) : -1;

	/* Its copy_from_user() may consume a count too: 0 either way. */
	if (write(nth, "0", 1) < 0 && errno != EFAULT)
		return -errno;
	if (n < 0)
		return errno == EFAULT ? 0 : -errno;
	return left == 0;
}

static int fi_errno_ok(const struct fi_op *op, int ret)
{
	int i;

	for (i = 0; i < 4 && op->errnos[i]; i++)
		if (ret == op->errnos[i])
			return 1;
	return 0;
}

static void fi_run(struct __test_metadata *_metadata,
		   FIXTURE_DATA(faults) *self, const struct fi_op *op)
{
	struct fi_ctx c = { 0 };
	int ref, ret, inj, bad, failed = 0, absorbed = 0;
	sigset_t usr1;
	unsigned int n;

	/*
	 * A preemption signal is delivered on the way out of the armed call:
	 * with the fault still armed, its rt_sigreturn's copy could be the
	 * one that fails (SIGSEGV).  Blocked until the fault is disarmed.
	 */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);

	/* The reference: the result without a fault. */
	ASSERT_EQ(0, op->prep(&c)) TH_LOG("%s: prep", op->name);
	ref = op->run(&c);
	ASSERT_EQ(0, op->after(&c, ref)) TH_LOG("%s: after, no fault", op->name);
	fi_cleanup(&c);
	ASSERT_FALSE(fi_errno_ok(op, ref)) TH_LOG("%s: %d without a fault", op->name, ref);

	for (n = 1; n <= FI_MAX_N; n++) {
		ASSERT_EQ(0, op->prep(&c)) TH_LOG("%s: prep, n=%u", op->name, n);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		ASSERT_EQ(0, fi_arm(self->nth, n));
		ret = op->run(&c);
		inj = fi_disarm(self->nth);
		sigprocmask(SIG_UNBLOCK, &usr1, NULL);
		ASSERT_LE(0, inj) TH_LOG("%s: fail-nth: %s", op->name, strerror(-inj));
		if (ret != ref) {
			EXPECT_TRUE(fi_errno_ok(op, ret))
				TH_LOG("%s: fault %u: result %d (%s), not documented",
				       op->name, n, ret, strerror(-ret));
			EXPECT_EQ(1, inj)
				TH_LOG("%s: fault %u: result %d without an injected fault",
				       op->name, n, ret);
			failed++;
		} else if (inj) {
			absorbed++;
		}
		bad = op->after(&c, ret == ref ? 0 : ret);
		EXPECT_EQ(0, bad)
			TH_LOG("%s: fault %u: result %d left a wrong state (%d)",
			       op->name, n, ret, bad);
		fi_cleanup(&c);
		EXPECT_EQ(self->wbase, ut_stat_wait("workers", self->wbase, 3000))
			TH_LOG("%s: fault %u: workers not back", op->name, n);
		EXPECT_EQ(self->gbase, ut_stat_wait("groups", self->gbase, 3000))
			TH_LOG("%s: fault %u: groups not back", op->name, n);
		if (_metadata->exit_code == KSFT_FAIL || !inj)
			break;
	}
	EXPECT_GT(FI_MAX_N, n) TH_LOG("%s: still injecting at %u", op->name, n);
	if (!failed && !absorbed && !self->usercopy)
		SKIP(return, "%s: no allocation on this path, and no fail_usercopy (CONFIG_FAULT_INJECTION_USERCOPY) for its copies",
		     op->name);
	EXPECT_LT(0, failed + absorbed) TH_LOG("%s: no fault reached", op->name);
	TH_LOG("%s: %u fault points: %d failed cleanly, %d absorbed (%s)",
	       op->name, n - 1, failed, absorbed,
	       self->usercopy ? "slab, page, usercopy" : "slab, page; no fail_usercopy");
}

#define FI_TEST(name, ...)						\
	TEST_F(faults, name)						\
	{								\
		static const struct fi_op op = { __VA_ARGS__ };		\
		fi_run(_metadata, self, &op);				\
	}

/* EFAULT: the VFS's copy of the path. */
FI_TEST(open_group_alloc_failures_enomem,
	.name = "open", .errnos = { -ENOMEM, -EFAULT },
	.prep = prep_none, .run = run_open, .after = after_open)

FI_TEST(setup_failures_enomem_efault_group_whole_after,
	.name = "SETUP", .errnos = { -ENOMEM, -EFAULT },
	.prep = prep_open, .run = run_setup, .after = after_setup)

FI_TEST(mmap_failures_enomem_mapping_works_after,
	.name = "mmap", .errnos = { -ENOMEM },
	.prep = prep_setup, .run = run_mmap, .after = after_mmap)

FI_TEST(version_copy_failures_efault,
	.name = "VERSION", .errnos = { -EFAULT },
	.prep = prep_open, .run = run_version, .after = after_nothing)

FI_TEST(register_failures_leave_thread_unregistered_id_free,
	.name = "REGISTER", .errnos = { -ENOMEM, -EFAULT },
	.prep = prep_group, .run = run_register, .after = after_register)

FI_TEST(unregister_copy_failure_leaves_worker_registered,
	.name = "UNREGISTER", .errnos = { -EFAULT },
	.prep = prep_worker, .run = run_unregister, .after = after_unregister)

FI_TEST(park_copy_failure_keeps_permit,
	.name = "PARK", .errnos = { -EFAULT },
	.prep = prep_worker_permit, .run = run_park, .after = after_park)

FI_TEST(wake_copy_failure_sets_no_permit,
	.name = "WAKE", .errnos = { -EFAULT },
	.prep = prep_worker, .run = run_wake, .after = after_wake)

FI_TEST(handoff_copy_failure_wakes_nobody,
	.name = "HANDOFF", .errnos = { -EFAULT },
	.prep = prep_handoff, .run = run_handoff, .after = after_handoff)

FI_TEST(set_standby_copy_failure_names_no_standby,
	.name = "SET_STANDBY", .errnos = { -EFAULT },
	.prep = prep_standby, .run = run_standby, .after = after_standby)

FI_TEST(grant_copy_failure_adds_no_slot,
	.name = "GRANT", .errnos = { -EFAULT },
	.prep = prep_gate, .run = run_grant, .after = after_grant)

FI_TEST(grant_worker_copy_failure_efault,
	.name = "GRANT_WORKER", .errnos = { -EFAULT },
	.prep = prep_gate, .run = run_grant_worker, .after = after_nothing)

FI_TEST(set_slice_copy_failure_sets_no_slice,
	.name = "SET_SLICE", .errnos = { -EFAULT },
	.prep = prep_worker, .run = run_set_slice, .after = after_set_slice)

FI_TEST(preempt_copy_failure_delivers_nothing,
	.name = "PREEMPT", .errnos = { -EFAULT },
	.prep = prep_slice, .run = run_preempt, .after = after_preempt)

FI_TEST(poll_failures_enomem_efault,
	.name = "poll", .errnos = { -ENOMEM, -EFAULT },
	.prep = prep_group, .run = run_poll, .after = after_nothing)

TEST_HARNESS_MAIN
