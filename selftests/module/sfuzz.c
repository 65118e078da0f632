// SPDX-License-Identifier: GPL-2.0
/*
 * sfuzz.c - a stateful fuzzer: sequences of calls, not single random calls
 * (syzkaller is the model).
 *
 * NPROC fuzz processes run NTHREAD threads each.  Every thread draws
 * operations from a state its process keeps (open group fds, what each was
 * set up with, mappings, the worker ids registered in each group, its own
 * registration), so that most calls are valid-looking (real fds, real
 * worker ids, the mapping's real size) and reach the module's deep paths,
 * and some are broken on purpose (bad sizes, flags, pointers, ids, lengths,
 * offsets).  The operations: open, SETUP, mmap (valid and invalid lengths,
 * offsets, flags), munmap, mremap (must not grow), every ioctl, poll,
 * scribbling on the shared memory, close, dup, a park ended by a signal,
 * fork (the child goes on fuzzing single-threaded on the inherited fds,
 * which must be refused: -EPERM, POLLERR), exec (of this program in a mode
 * that checks the inherited fds, of /bin/true with workers registered and
 * parked, of a missing file that must change nothing), threads that exit
 * registered or after a park, kill -9 of a child whose workers are parked,
 * blocked, gated and spinning, and rmmod attempts (must fail while the
 * module is in use; a success reloads it and the fuzz goes on).  Fuzz
 * threads end after a random number of operations, registered or not, and
 * are replaced.
 *
 * Every result is checked against the errno set documented for the
 * operation (Documentation/abi.md), and counted per operation and errno;
 * the summary is printed as TAP comments.  Parks and handoffs always have
 * a deadline or a signal timer, gate waits a short bound: nothing can
 * hang.  At the end every child is reaped, every process has exited (so
 * every fd is closed) and the module's live counts are back where they
 * were.
 *
 * USCHED_SFUZZ_SECONDS (default 15) bounds the run; the harness's timeout
 * is set to that plus 60 s.  USCHED_SFUZZ_SEED (default: the time) seeds
 * every process and thread: each thread's sequence of operations is a
 * function of the seed, its process and its slot (the interleaving of the
 * threads, and so some results, are not).
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "usched_test.h"

#define NPROC		3
#define NTHREAD		3
#define MAXFD		8
#define MAXMAP		8
#define MAXCHILD	12
#define MAXID		8	/* valid-looking worker ids: 0..MAXID-1 */
#define ERRMAX		134	/* histogram: errno 1..133, and "other" */
#define NBAD		16
#define MS		1000000ull
#define EXEC_ENV	"USCHED_SFUZZ_EXEC"

enum op {
	OP_OPEN, OP_SETUP, OP_MMAP, OP_MMAP_BAD, OP_MUNMAP, OP_MREMAP,
	OP_VERSION, OP_REGISTER, OP_UNREGISTER, OP_PARK, OP_PARK_SIGNAL,
	OP_HANDOFF, OP_WAKE, OP_STANDBY, OP_GRANT, OP_SLICE, OP_REDIRECT,
	OP_PREEMPT, OP_BADARG, OP_RAW, OP_POLL, OP_SCRIBBLE, OP_CLOSE, OP_DUP,
	OP_FORK, OP_EXEC, OP_THREAD, OP_KILL9, OP_RMMOD, OP_RELOAD,
	OP_FOREIGN, OP_FOREIGN_MMAP, OP_FOREIGN_POLL, OP_CHILD_REGISTER,
	OP_EXEC_FAILED, OP_CHILD, NOPS
};

static const char * const op_names[NOPS] = {
	[OP_OPEN] = "open", [OP_SETUP] = "setup", [OP_MMAP] = "mmap",
	[OP_MMAP_BAD] = "mmap-bad", [OP_MUNMAP] = "munmap",
	[OP_MREMAP] = "mremap-grow", [OP_VERSION] = "version",
	[OP_REGISTER] = "register", [OP_UNREGISTER] = "unregister",
	[OP_PARK] = "park", [OP_PARK_SIGNAL] = "park-signal",
	[OP_HANDOFF] = "handoff", [OP_WAKE] = "wake",
	[OP_STANDBY] = "set-standby", [OP_GRANT] = "grant",
	[OP_SLICE] = "set-slice", [OP_REDIRECT] = "set-slice-redirect",
	[OP_PREEMPT] = "preempt", [OP_BADARG] = "ioctl-bad-args",
	[OP_RAW] = "ioctl-random", [OP_POLL] = "poll",
	[OP_SCRIBBLE] = "scribble", [OP_CLOSE] = "close", [OP_DUP] = "dup",
	[OP_FORK] = "fork", [OP_EXEC] = "exec", [OP_THREAD] = "thread-exit",
	[OP_KILL9] = "kill-9", [OP_RMMOD] = "rmmod", [OP_RELOAD] = "insmod",
	[OP_FOREIGN] = "foreign-ioctl", [OP_FOREIGN_MMAP] = "foreign-mmap",
	[OP_FOREIGN_POLL] = "foreign-poll",
	[OP_CHILD_REGISTER] = "child-register", [OP_EXEC_FAILED] = "exec-failed",
	[OP_CHILD] = "child-exit",
};

#define ERRS(...)	((const int[]){ __VA_ARGS__, 0 })
#define IOC_ERRS	EBADF, EBADFD, EPERM, ENOTTY, EINVAL
/*
 * The documented results of each operation, besides 0 (ENOTTY and EBADF:
 * another thread closed the fd, maybe reused by a pipe; EPERM: the fd is
 * a dup'ed one of a group another process owns ...).
 */
static const int * const op_errs[NOPS] = {
	[OP_OPEN] = ERRS(EMFILE, ENFILE, ENOMEM),
	[OP_SETUP] = ERRS(IOC_ERRS, EBUSY, ENOMEM),
	[OP_MMAP] = ERRS(EBADF, EBADFD, EPERM, EINVAL, ENODEV, ENOMEM),
	[OP_MMAP_BAD] = ERRS(EBADF, EBADFD, EPERM, EINVAL, ENODEV, ENOMEM, EACCES),
	[OP_MUNMAP] = ERRS(0),
	[OP_MREMAP] = ERRS(EFAULT),
	[OP_VERSION] = ERRS(EBADF, ENOTTY),
	[OP_REGISTER] = ERRS(IOC_ERRS, EBUSY, ENOSPC, ENOMEM),
	[OP_UNREGISTER] = ERRS(IOC_ERRS, ESRCH),
	[OP_PARK] = ERRS(IOC_ERRS, ESRCH, ETIMEDOUT, EINTR),
	[OP_PARK_SIGNAL] = ERRS(IOC_ERRS, ESRCH, EINTR),
	[OP_HANDOFF] = ERRS(IOC_ERRS, ESRCH, ETIMEDOUT, EINTR),
	[OP_WAKE] = ERRS(IOC_ERRS, ESRCH),
	[OP_STANDBY] = ERRS(IOC_ERRS, ESRCH),
	[OP_GRANT] = ERRS(IOC_ERRS, ESRCH, EOVERFLOW, EAGAIN),
	[OP_SLICE] = ERRS(IOC_ERRS, ESRCH),
	[OP_REDIRECT] = ERRS(IOC_ERRS, ESRCH),
	[OP_PREEMPT] = ERRS(IOC_ERRS, ESRCH),
	[OP_BADARG] = ERRS(IOC_ERRS, EFAULT, E2BIG, ESRCH, EBUSY, ENOSPC,
			   ETIMEDOUT, EINTR, EOVERFLOW, EAGAIN, ENOMEM),
	[OP_RAW] = ERRS(IOC_ERRS, EFAULT, E2BIG, ESRCH, EBUSY, ENOSPC,
			ETIMEDOUT, EINTR, EOVERFLOW, EAGAIN, ENOMEM),
	[OP_POLL] = ERRS(EINTR),
	[OP_SCRIBBLE] = ERRS(0),
	[OP_CLOSE] = ERRS(0),
	[OP_DUP] = ERRS(EMFILE),
	[OP_FORK] = ERRS(EAGAIN, ENOMEM),
	[OP_EXEC] = ERRS(EAGAIN, ENOMEM),
	[OP_THREAD] = ERRS(EAGAIN),
	[OP_KILL9] = ERRS(EAGAIN, ENOMEM),
	[OP_RMMOD] = ERRS(EBUSY, EWOULDBLOCK),
	[OP_RELOAD] = ERRS(EEXIST),
	/* Another process's group: refused, whatever the arguments. */
	[OP_FOREIGN] = ERRS(EPERM),
	[OP_FOREIGN_MMAP] = ERRS(EPERM),
	[OP_FOREIGN_POLL] = ERRS(0),
	[OP_CHILD_REGISTER] = ERRS(EMFILE, ENOMEM),
	[OP_EXEC_FAILED] = ERRS(0),
	[OP_CHILD] = ERRS(0),
};

/* Operations whose success would be wrong. */
static const char op_no_success[NOPS] = {
	[OP_MREMAP] = 1, [OP_FOREIGN] = 1, [OP_FOREIGN_MMAP] = 1,
};

/* Counters shared by every process of the run (MAP_SHARED). */
struct shared {
	uint64_t end_ns;
	unsigned int seed;
	long calls[NOPS];
	long hist[NOPS][ERRMAX + 1];
	long unexpected;
	struct {
		int op, ret, pid, depth;
		unsigned int seed;
		long step;
	} bad[NBAD];
	long unloads;		/* rmmod that succeeded (the module was idle) */
	/* The module may be missing: an rmmod in flight, or not reloaded yet. */
	int rmmod_inflight, down;
	unsigned int modseq;	/* bumped at each of those transitions */
	long forks, execs, victims, threads, reaped, killed;
	long op_bad[NOPS];	/* unexpected results per operation */
};

static struct shared *sh;

/* ---- per-process state, under mu ---- */

struct gfd {
	int fd;			/* -1: free slot */
	int foreign;		/* inherited from another process */
	int setup;		/* this process set it up */
	uint32_t workers;	/* max_workers of the setup */
	uint64_t mmap_size;
	uint32_t ids;		/* ids registered by our threads (a hint) */
	unsigned int gen;	/* bumped when the slot is reused */
};

struct gmap {
	void *base;		/* NULL: free slot */
	size_t len;
	int writable;
};

struct kid {
	pid_t pid;		/* 0: free slot */
	uint64_t kill_at;	/* 0: let it end; else SIGKILL at that time */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct gfd fds[MAXFD];
static struct gmap maps[MAXMAP];
static struct kid kids[MAXCHILD];
static int depth;		/* 0: a fuzz process; 1, 2: forked children */

/* Per thread. */
struct tstate {
	unsigned int seed, seed0;
	long step;
	int slot;		/* registered in fds[slot] (gen), or -1 */
	unsigned int gen;
	uint32_t id;
	timer_t timer;
	int have_timer;
	int retire;		/* a worker of a group it lost: end the thread */
};

static __thread struct tstate *ts;
static volatile long sigs;

static void on_sig(int sig)
{
	__atomic_add_fetch(&sigs, 1, __ATOMIC_RELAXED);
}

static unsigned int rnd(void)
{
	return rand_r(&ts->seed);
}

static int one_in(unsigned int n)
{
	return rnd() % n == 0;
}

static uint64_t rnd64(void)
{
	return ((uint64_t)rnd() << 33) ^ ((uint64_t)rnd() << 11) ^ rnd();
}

static unsigned int mix(unsigned int a, unsigned int b)
{
	uint64_t x = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;

	return (unsigned int)(x >> 29) ^ (unsigned int)x;
}

/* The module was (maybe) away during a call that started at @seq. */
static int module_was_away(unsigned int seq)
{
	return __atomic_load_n(&sh->rmmod_inflight, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&sh->down, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&sh->modseq, __ATOMIC_ACQUIRE) != seq;
}

static __thread unsigned int op_modseq;	/* sh->modseq when the op began */

static int allowed(int op, int ret)
{
	const int *e;

	if (ret >= 0)
		return !op_no_success[op];
	/* No device node (ENOENT), or a node without its driver (ENODEV). */
	if ((ret == -ENOENT || ret == -ENODEV) &&
	    (op == OP_OPEN || op == OP_CHILD_REGISTER || op == OP_RMMOD) &&
	    module_was_away(op_modseq))
		return 1;
	for (e = op_errs[op]; *e; e++)
		if (ret == -*e)
			return 1;
	return 0;
}

static int record(int op, int ret)
{
	int e = ret >= 0 ? 0 : -ret;
	long n;

	if (e > ERRMAX)
		e = ERRMAX;
	__atomic_add_fetch(&sh->calls[op], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->hist[op][e], 1, __ATOMIC_RELAXED);
	if (allowed(op, ret))
		return ret;
	__atomic_add_fetch(&sh->op_bad[op], 1, __ATOMIC_RELAXED);
	n = __atomic_fetch_add(&sh->unexpected, 1, __ATOMIC_RELAXED);
	if (n < NBAD) {
		sh->bad[n].op = op;
		sh->bad[n].ret = ret;
		sh->bad[n].pid = getpid();
		sh->bad[n].depth = depth;
		sh->bad[n].seed = ts ? ts->seed0 : 0;
		sh->bad[n].step = ts ? ts->step : 0;
	}
	return ret;
}

/* ---- state helpers (callers hold mu unless said) ---- */

static int pick_fd_slot(void)
{
	int i, s = rnd() % MAXFD;

	for (i = 0; i < MAXFD; i++, s = (s + 1) % MAXFD)
		if (fds[s].fd >= 0)
			return s;
	return -1;
}

static int free_fd_slot(void)
{
	int i;

	for (i = 0; i < MAXFD; i++)
		if (fds[i].fd < 0)
			return i;
	return -1;
}

static void add_fd(int fd, const struct gfd *like)
{
	int s = free_fd_slot();

	if (s < 0) {
		close(fd);
		return;
	}
	fds[s].gen++;
	fds[s].fd = fd;
	fds[s].foreign = like ? like->foreign : 0;
	fds[s].setup = like ? like->setup : 0;
	fds[s].workers = like ? like->workers : 0;
	fds[s].mmap_size = like ? like->mmap_size : 0;
	fds[s].ids = like ? like->ids : 0;
}

/* A worker id that looks right for the group: registered, or near. */
static uint32_t pick_id(int s)
{
	uint32_t ids = s >= 0 ? fds[s].ids : 0;
	int i;

	if (ids && !one_in(4)) {
		for (i = rnd() % 32; !(ids & (1u << (i % 32))); i++)
			;
		return i % 32;
	}
	if (one_in(16))
		return rnd();
	return rnd() % MAXID;
}

static int my_slot_ok(void)
{
	return ts->slot >= 0 && fds[ts->slot].gen == ts->gen &&
	       fds[ts->slot].fd >= 0;
}

/* Snapshot of what an op needs, taken under mu. */
struct pick {
	int s, fd, foreign, own;
	uint32_t id, workers;
	uint64_t mmap_size;
};

static int pick(struct pick *p, int want_own)
{
	pthread_mutex_lock(&mu);
	if (want_own && my_slot_ok() && !one_in(8)) {
		p->s = ts->slot;
		p->own = 1;
	} else {
		p->s = pick_fd_slot();
		p->own = 0;
	}
	if (p->s < 0) {
		pthread_mutex_unlock(&mu);
		return -1;
	}
	p->fd = fds[p->s].fd;
	p->foreign = fds[p->s].foreign;
	p->workers = fds[p->s].workers;
	p->mmap_size = fds[p->s].mmap_size;
	p->id = p->own ? ts->id : pick_id(p->s);
	pthread_mutex_unlock(&mu);
	return 0;
}

/* ---- argument builders: valid-looking, or broken (BADARG) ---- */

static uint64_t guard_page;	/* a page with nothing mapped after it */

/* Break a size-versioned struct; returns the pointer to pass. */
static void *break_arg(void *arg, size_t size, uint32_t ver0)
{
	static __thread uint64_t big[512];
	uint32_t *w = arg;

	switch (rnd() % 7) {
	case 0:
		w[0] = ver0 - 4 * (1 + rnd() % 2);	/* below VER0 */
		return arg;
	case 1:
		w[0] = 4096 + 8 * (rnd() % 4);		/* above a page */
		return arg;
	case 2: {	/* larger struct, non-zero tail: -E2BIG */
		uint32_t bigger = size + 8 * (1 + rnd() % 8);

		memset(big, 0, sizeof(big));
		memcpy(big, arg, size);
		memcpy(big, &bigger, sizeof(bigger));
		((char *)big)[size + rnd() % 8] = 1 + rnd() % 255;
		return big;
	}
	case 3:
		w[1] |= 1u << (rnd() % 32);		/* a flag bit */
		return arg;
	case 4:	/* crossing into an unmapped page */
		return (char *)(uintptr_t)guard_page + 4096 - size / 2;
	case 5: {
		static void * const bad[] = {
			NULL, (void *)8, (void *)-4096L,
			(void *)0xffff888000000000ull,
		};
		return bad[rnd() % 4];
	}
	default:
		w[2 + rnd() % (size / 4 - 2)] = rnd64();	/* any field */
		return arg;
	}
}

static int do_ioctl(int op, const struct pick *p, unsigned long cmd,
		    void *arg, size_t size, uint32_t ver0)
{
	int ret;

	if (one_in(6)) {
		arg = break_arg(arg, size, ver0);
		op = OP_BADARG;
	}
	ret = ut_err(ioctl(p->fd, cmd, arg));
	if (p->foreign && cmd != USCHED_IOC_VERSION)
		op = OP_FOREIGN;
	return record(op, ret);
}

static void op_open(void)
{
	int fd = ut_open();

	record(OP_OPEN, fd < 0 ? fd : 0);
	if (fd < 0)
		return;
	pthread_mutex_lock(&mu);
	add_fd(fd, NULL);
	pthread_mutex_unlock(&mu);
}

static void op_setup(void)
{
	struct usched_setup s = { .size = sizeof(s) };
	struct pick p;
	int ret, i;

	if (pick(&p, 0))
		return;
	pthread_mutex_lock(&mu);
	for (i = 0; i < MAXFD && fds[p.s].setup && !one_in(4); i++) {
		/* Mostly a group that is not set up yet: SETUP works there. */
		p.s = (p.s + 1) % MAXFD;
		if (fds[p.s].fd < 0)
			p.s = pick_fd_slot();
		p.fd = fds[p.s].fd;
		p.foreign = fds[p.s].foreign;
	}
	pthread_mutex_unlock(&mu);
	s.max_workers = 1 + rnd() % MAXID;
	s.ring_entries = 16u << (rnd() % 5);
	s.flags = (uint32_t[]){ 0, 0, USCHED_SETUP_GATE,
				USCHED_SETUP_GATE_STOLEN }[rnd() % 4];
	s.gate_slots = rnd() % (s.max_workers + 1);
	s.gate_timeout_ns = (1 + rnd() % 20) * MS;	/* gate stalls stay short */
	ret = do_ioctl(OP_SETUP, &p, USCHED_IOC_SETUP, &s, sizeof(s),
		       USCHED_SETUP_SIZE_VER0);
	if (ret)
		return;
	pthread_mutex_lock(&mu);
	if (fds[p.s].fd == p.fd) {
		fds[p.s].setup = 1;
		fds[p.s].workers = s.max_workers;
		fds[p.s].mmap_size = s.mmap_size;
	}
	pthread_mutex_unlock(&mu);
}

static void add_map(void *base, size_t len, int writable)
{
	int i;

	for (i = 0; i < MAXMAP; i++) {
		if (!maps[i].base) {
			maps[i].base = base;
			maps[i].len = len;
			maps[i].writable = writable;
			return;
		}
	}
	munmap(base, len);
}

static void op_mmap(void)
{
	struct pick p;
	size_t len;
	off_t off = 0;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED, op = OP_MMAP;
	void *m;

	if (pick(&p, 0))
		return;
	len = p.mmap_size ? p.mmap_size : 4096;
	if (one_in(4) && len > 4096)
		len = 4096 * (1 + rnd() % (len / 4096));	/* a prefix */
	if (one_in(5))
		prot = PROT_READ;
	if (one_in(4)) {
		op = OP_MMAP_BAD;
		switch (rnd() % 5) {
		case 0:
			len += 4096 * (1 + rnd() % 4);	/* beyond the memory */
			break;
		case 1:
			off = 4096 * (1 + rnd() % 4);
			break;
		case 2:
			flags = MAP_PRIVATE;
			break;
		case 3:
			len = 0;
			break;
		default:
			off = 1 + rnd() % 4095;		/* unaligned */
			break;
		}
	}
	m = mmap(NULL, len, prot, flags, p.fd, off);
	if (p.foreign && op == OP_MMAP)
		op = OP_FOREIGN_MMAP;
	record(op, m == MAP_FAILED ? -errno : 0);
	if (m == MAP_FAILED)
		return;
	pthread_mutex_lock(&mu);
	add_map(m, len, prot & PROT_WRITE);
	pthread_mutex_unlock(&mu);
}

static void op_munmap(void)
{
	int i = rnd() % MAXMAP, ret;

	pthread_mutex_lock(&mu);
	if (maps[i].base) {
		ret = munmap(maps[i].base, maps[i].len) ? -errno : 0;
		record(OP_MUNMAP, ret);
		maps[i].base = NULL;
	}
	pthread_mutex_unlock(&mu);
}

static void op_mremap(void)
{
	int i = rnd() % MAXMAP;
	void *m;

	pthread_mutex_lock(&mu);
	if (maps[i].base) {
		/* VM_DONTEXPAND: growing fails, and the mapping stays. */
		m = mremap(maps[i].base, maps[i].len, maps[i].len + 4096,
			   MREMAP_MAYMOVE);
		record(OP_MREMAP, m == MAP_FAILED ? -errno : 0);
		if (m != MAP_FAILED) {
			maps[i].base = m;
			maps[i].len += 4096;
		}
	}
	pthread_mutex_unlock(&mu);
}

static void op_scribble(void)
{
	int i = rnd() % MAXMAP, n;
	uint32_t *w;

	pthread_mutex_lock(&mu);
	if (maps[i].base && maps[i].writable) {
		w = maps[i].base;
		for (n = 1 + rnd() % 4; n; n--) {
			switch (rnd() % 4) {
			case 0:	/* the ring head, the gate's free count */
				w[rnd() % 2 ? 16 : 10] = one_in(2) ? rnd() % 12 : rnd();
				break;
			case 1:	/* a slot's user words: nopreempt, switch_seq, claim */
				w[32 + 16 * (rnd() % MAXID) +
				  (uint32_t[]){ 2, 3, 14 }[rnd() % 3]] = rnd() % 3 ? rnd() % 4 : rnd();
				break;
			default: /* anywhere: the kernel never trusts it */
				w[rnd() % (maps[i].len / 4)] = rnd();
				break;
			}
		}
		record(OP_SCRIBBLE, 0);
	}
	pthread_mutex_unlock(&mu);
}

static void op_version(void)
{
	struct usched_version v = { .size = sizeof(v) };
	struct pick p;

	if (pick(&p, 0))
		return;
	do_ioctl(OP_VERSION, &p, USCHED_IOC_VERSION, &v, sizeof(v),
		 USCHED_VERSION_SIZE_VER0);
}

static void op_unregister(void);

static void op_register(void)
{
	struct usched_register r = { .size = sizeof(r) };
	struct pick p;
	int ret, mine;

	pthread_mutex_lock(&mu);
	mine = my_slot_ok();
	pthread_mutex_unlock(&mu);
	if (mine && !one_in(4)) {
		op_unregister();	/* a worker already: -EBUSY is known */
		return;
	}
	if (pick(&p, 0))
		return;
	ret = do_ioctl(OP_REGISTER, &p, USCHED_IOC_REGISTER, &r, sizeof(r),
		       USCHED_REGISTER_SIZE_VER0);
	/*
	 * -EBUSY and not a worker we know of: still a worker of a group
	 * that was shut down (closed) or that the table forgot.  That lasts
	 * until the thread ends: end it, registered (the death path).
	 */
	if (ret == -EBUSY && !mine && !p.foreign && !depth)
		ts->retire = 1;
	if (ret)
		return;
	pthread_mutex_lock(&mu);
	ts->slot = p.s;
	ts->gen = fds[p.s].gen;
	ts->id = r.worker;
	if (r.worker < 32)
		fds[p.s].ids |= 1u << r.worker;
	pthread_mutex_unlock(&mu);
}

static void forget_me(void)
{
	if (my_slot_ok() && ts->id < 32)
		fds[ts->slot].ids &= ~(1u << ts->id);
	ts->slot = -1;
}

static void op_unregister(void)
{
	struct usched_register r = { .size = sizeof(r) };
	struct pick p;
	int ret;

	if (pick(&p, 1))
		return;
	r.worker = p.id;
	ret = do_ioctl(OP_UNREGISTER, &p, USCHED_IOC_UNREGISTER, &r, sizeof(r),
		       USCHED_REGISTER_SIZE_VER0);
	if (!ret && p.own) {
		pthread_mutex_lock(&mu);
		forget_me();
		pthread_mutex_unlock(&mu);
	}
}

/* Worker-own calls: mostly made by a worker. */
static void be_worker(void)
{
	int mine;

	pthread_mutex_lock(&mu);
	mine = my_slot_ok();
	pthread_mutex_unlock(&mu);
	if (!mine && !one_in(4))
		op_register();
}

static void op_park(int handoff)
{
	struct usched_park a = { .size = sizeof(a) };
	struct pick p;

	be_worker();
	if (pick(&p, 1))
		return;
	a.worker = p.id;
	a.flags = USCHED_PARK_DEADLINE;
	a.deadline_ns = one_in(4) ? 0 : ut_now_ns() + rnd() % (3 * MS);
	if (handoff) {
		pthread_mutex_lock(&mu);
		a.target = pick_id(p.s);
		pthread_mutex_unlock(&mu);
	}
	do_ioctl(handoff ? OP_HANDOFF : OP_PARK, &p,
		 handoff ? USCHED_IOC_HANDOFF : USCHED_IOC_PARK, &a, sizeof(a),
		 USCHED_PARK_SIZE_VER0);
}

/* A park without a deadline, ended by a signal (or a wake) in 1-4 ms. */
static void op_park_signal(void)
{
	struct usched_park a = { .size = sizeof(a) };
	struct itimerspec its = { 0 };
	struct pick p;
	int ret;

	be_worker();
	if (pick(&p, 1) || !p.own)
		return;
	if (!ts->have_timer) {
		struct sigevent sev = {
			.sigev_notify = SIGEV_THREAD_ID,
			.sigev_signo = SIGUSR2,
		};

		sev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
		if (timer_create(CLOCK_MONOTONIC, &sev, &ts->timer))
			return;
		ts->have_timer = 1;
	}
	a.worker = p.id;
	/*
	 * Periodic: a first expiry that comes before the park has started
	 * (a slow VM) is handled and lost; the next one ends the park.
	 */
	its.it_value.tv_nsec = (1 + rnd() % 4) * MS;
	its.it_interval = its.it_value;
	timer_settime(ts->timer, 0, &its, NULL);
	ret = ut_err(ioctl(p.fd, USCHED_IOC_PARK, &a));
	memset(&its, 0, sizeof(its));
	timer_settime(ts->timer, 0, &its, NULL);
	record(p.foreign ? OP_FOREIGN : OP_PARK_SIGNAL, ret);
}

static void op_target(int op, unsigned long cmd)
{
	struct usched_target t = { .size = sizeof(t) };
	struct pick p;

	if (pick(&p, 0))
		return;
	pthread_mutex_lock(&mu);
	t.worker = pick_id(p.s);
	if (op == OP_STANDBY)
		t.arg = one_in(4) ? USCHED_NO_WORKER : pick_id(p.s);
	if (op == OP_GRANT) {
		if (one_in(3)) {
			t.flags = USCHED_GRANT_WORKER;
		} else {
			t.worker = 0;
			t.arg = rnd() % (p.workers + 2);
		}
	}
	if (op == OP_PREEMPT) {
		/* Under mu: never while op_redirect() has a fake trampoline. */
		do_ioctl(op, &p, cmd, &t, sizeof(t), USCHED_TARGET_SIZE_VER0);
		pthread_mutex_unlock(&mu);
		return;
	}
	pthread_mutex_unlock(&mu);
	do_ioctl(op, &p, cmd, &t, sizeof(t), USCHED_TARGET_SIZE_VER0);
}

static const int slice_signals[] = { SIGUSR2, SIGURG, SIGWINCH, SIGCHLD };

static void op_slice(void)
{
	struct usched_slice s = { .size = sizeof(s) };
	struct pick p;
	int ret;

	be_worker();
	if (pick(&p, 1))
		return;
	s.worker = p.id;
	if (one_in(3)) {
		s.mode = USCHED_PREEMPT_OFF;
	} else {
		s.mode = USCHED_PREEMPT_SIGNAL;
		s.slice_ns = (1 + rnd() % 20) * MS;
		s.signo = slice_signals[rnd() % 4];
		if (one_in(8))	/* refused: 0, SIGKILL, SIGSTOP, > 64 */
			s.signo = (uint32_t[]){ 0, SIGKILL, SIGSTOP, 65 }[rnd() % 4];
	}
	/* Not broken at random: a bad signo could kill the process. */
	ret = ut_err(ioctl(p.fd, USCHED_IOC_SET_SLICE, &s));
	record(p.foreign ? OP_FOREIGN : OP_SLICE, ret);
}

static void fake_trampoline(void)
{
}

/*
 * REDIRECT mode with a trampoline that is not one, so no redirect may
 * happen: under mu (PREEMPT is only issued under mu), the worker first
 * goes OFF (a preemption queued earlier is dropped at the return from
 * that call), then REDIRECT with a slice that cannot expire, then OFF.
 */
static void op_redirect(void)
{
	struct usched_slice off = { .size = sizeof(off) };
	struct usched_slice s = { .size = sizeof(s) };
	struct pick p;
	int ret;

	if (pick(&p, 1) || !p.own)
		return;
	off.worker = s.worker = p.id;
	s.mode = USCHED_PREEMPT_REDIRECT;
	s.slice_ns = 60000 * MS;
	s.trampoline = (uintptr_t)fake_trampoline;
	s.trampoline_len = 1 + rnd() % 64;
	if (one_in(4))	/* refused: no trampoline, too long, wrapping */
		s.trampoline_len = (uint64_t[]){ 0, 4097, -1ull }[rnd() % 3];
	pthread_mutex_lock(&mu);
	ret = ut_err(ioctl(p.fd, USCHED_IOC_SET_SLICE, &off));
	record(p.foreign ? OP_FOREIGN : OP_SLICE, ret);
	if (!ret) {
		ret = ut_err(ioctl(p.fd, USCHED_IOC_SET_SLICE, &s));
		record(p.foreign ? OP_FOREIGN : OP_REDIRECT, ret);
		ret = ut_err(ioctl(p.fd, USCHED_IOC_SET_SLICE, &off));
		record(p.foreign ? OP_FOREIGN : OP_SLICE, ret);
	}
	pthread_mutex_unlock(&mu);
}

static const unsigned long cmds[] = {
	USCHED_IOC_VERSION, USCHED_IOC_SETUP, USCHED_IOC_REGISTER,
	USCHED_IOC_UNREGISTER, USCHED_IOC_PARK, USCHED_IOC_WAKE,
	USCHED_IOC_HANDOFF, USCHED_IOC_SET_STANDBY, USCHED_IOC_GRANT,
	USCHED_IOC_SET_SLICE, USCHED_IOC_PREEMPT,
};

/* Random numbers, sizes and fields; never SET_SLICE/PREEMPT (signals). */
static void op_raw(void)
{
	uint64_t buf[8];
	struct pick p;
	unsigned long cmd;
	uint32_t *w = (uint32_t *)buf;
	int i, ret;

	if (pick(&p, 0))
		return;
	for (i = 0; i < 8; i++)
		buf[i] = one_in(3) ? rnd64() : 0;
	w[0] = one_in(3) ? rnd() % 80 : 16 + 8 * (rnd() % 5);
	w[2] = rnd() % MAXID;
	w[1] = one_in(2) ? 0 : w[1];
	if (one_in(2)) {
		cmd = _IOC(rnd() % 4, one_in(2) ? USCHED_IOC_MAGIC : rnd() & 0xff,
			   12 + rnd() % 20, rnd() % 256);
	} else {
		cmd = cmds[rnd() % 9];
	}
	if ((cmd & 0xffff) == (USCHED_IOC_PARK & 0xffff) ||
	    (cmd & 0xffff) == (USCHED_IOC_HANDOFF & 0xffff)) {
		w[1] = USCHED_PARK_DEADLINE;	/* never an unbounded park */
		buf[2] = ut_now_ns() + rnd() % (2 * MS);
	}
	if (((cmd >> 8) & 0xff) == USCHED_IOC_MAGIC &&
	    ((cmd & 0xff) == 0x09 || (cmd & 0xff) == 0x0a))
		return;	/* SET_SLICE, PREEMPT: op_slice and op_target */
	ret = ut_err(ioctl(p.fd, cmd, buf));
	record(p.foreign && (cmd & 0xff) && ret != -ENOTTY ? OP_FOREIGN : OP_RAW,
	       ret);
}

static void op_poll(void)
{
	struct pollfd pf[3];
	int i, n = 1 + rnd() % 3, foreign = -1, ret;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n; i++) {
		int s = pick_fd_slot();

		pf[i].fd = s < 0 ? -1 : fds[s].fd;
		pf[i].events = POLLIN;
		if (s >= 0 && fds[s].foreign && n == 1)
			foreign = i;
	}
	pthread_mutex_unlock(&mu);
	ret = poll(pf, n, rnd() % 3);
	ret = ret < 0 ? -errno : 0;
	if (foreign >= 0 && !ret) {
		/* Another process's group: EPOLLERR, nothing else. */
		record(OP_FOREIGN_POLL, pf[0].revents == POLLERR ? 0 : -EPROTO);
		return;
	}
	record(OP_POLL, ret);
}

static void op_close(void)
{
	int s;

	pthread_mutex_lock(&mu);
	s = pick_fd_slot();
	if (s >= 0) {
		/* flush() never fails; a close in another thread's park is fine. */
		record(OP_CLOSE, close(fds[s].fd) ? -errno : 0);
		fds[s].fd = -1;
		fds[s].gen++;
	}
	pthread_mutex_unlock(&mu);
}

static void op_dup(void)
{
	int s, fd;

	pthread_mutex_lock(&mu);
	s = pick_fd_slot();
	if (s >= 0 && free_fd_slot() >= 0) {
		fd = fcntl(fds[s].fd, F_DUPFD_CLOEXEC, 0);
		record(OP_DUP, fd < 0 ? -errno : 0);
		if (fd >= 0)
			add_fd(fd, &fds[s]);
	}
	pthread_mutex_unlock(&mu);
}

static void op_rmmod(void)
{
	int ret;

	__atomic_add_fetch(&sh->rmmod_inflight, 1, __ATOMIC_ACQ_REL);
	__atomic_add_fetch(&sh->modseq, 1, __ATOMIC_ACQ_REL);
	ret = ut_rmmod();
	if (!ret)
		__atomic_store_n(&sh->down, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&sh->modseq, 1, __ATOMIC_ACQ_REL);
	__atomic_sub_fetch(&sh->rmmod_inflight, 1, __ATOMIC_ACQ_REL);
	record(OP_RMMOD, ret);
	if (ret)
		return;
	/* Nothing used it at that moment: load it again and go on. */
	__atomic_add_fetch(&sh->unloads, 1, __ATOMIC_RELAXED);
	ret = ut_insmod(NULL);
	record(OP_RELOAD, ret);
	if (!ret || ret == -EEXIST) {
		__atomic_store_n(&sh->down, 0, __ATOMIC_RELEASE);
		__atomic_add_fetch(&sh->modseq, 1, __ATOMIC_ACQ_REL);
	}
}

/* ---- children ---- */

static void add_kid(pid_t pid, uint64_t kill_at)
{
	int i;

	for (i = 0; i < MAXCHILD; i++) {
		if (!kids[i].pid) {
			kids[i].pid = pid;
			kids[i].kill_at = kill_at;
			return;
		}
	}
	/* No room: this one is killed now, and reaped with the others. */
	kill(pid, SIGKILL);
}

static int free_kids(void)
{
	int i, n = 0;

	for (i = 0; i < MAXCHILD; i++)
		n += !kids[i].pid;
	return n;
}

/* 0 for a child that ended well or that we killed; else what went wrong. */
static int child_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status) ? -(1000 + WEXITSTATUS(status)) : 0;
	return WTERMSIG(status) == SIGKILL ? 0 : -(2000 + WTERMSIG(status));
}

/*
 * Kill the children that are due (@all: every one), and reap whatever
 * ended: our children, and the orphans of killed ones (a fuzz process is
 * a subreaper).  @all: until none is left (ECHILD), for at most 5 s;
 * returns 0 then, -1 if some are left.
 */
/*
 * Kill every child of this process, also the orphans of its children that
 * were reparented to it (it is a subreaper), which the kids table does
 * not know: a kill -9 victim's workers park until they are killed.
 */
static void kill_all_children(void)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	DIR *d = opendir("/proc");
	pid_t me = getpid();
	long ppid;
	FILE *f;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p && sscanf(p, ") %*c %ld", &ppid) == 1 && ppid == me)
			kill(atoi(de->d_name), SIGKILL);
	}
	closedir(d);
}

/* USCHED_TEST_SLOW (tools/check sets it on the debug kernel), at least 1. */
static int slow_factor(void)
{
	const char *e = getenv("USCHED_TEST_SLOW");
	int f = e ? atoi(e) : 1;

	return f > 0 ? f : 1;
}

static int reap_kids(int all)
{
	uint64_t now = ut_now_ns(), until = now + 5000 * MS;
	int i, status, ret = 0;
	pid_t r;

	pthread_mutex_lock(&mu);
	for (i = 0; i < MAXCHILD; i++) {
		if (kids[i].pid && (all || (kids[i].kill_at && now >= kids[i].kill_at))) {
			kill(kids[i].pid, SIGKILL);
			kids[i].kill_at = 0;
			__atomic_add_fetch(&sh->killed, 1, __ATOMIC_RELAXED);
		}
	}
	for (;;) {
		r = waitpid(-1, &status, WNOHANG);
		if (r < 0)
			break;		/* ECHILD: nobody left */
		if (r == 0) {
			if (!all)
				break;
			if (ut_now_ns() > until) {
				ret = -1;
				break;
			}
			kill_all_children();
			usleep(5000);
			continue;
		}
		for (i = 0; i < MAXCHILD; i++)
			if (kids[i].pid == r)
				kids[i].pid = 0;
		__atomic_add_fetch(&sh->reaped, 1, __ATOMIC_RELAXED);
		record(OP_CHILD, child_status(status));
	}
	pthread_mutex_unlock(&mu);
	return ret;
}

static void fuzz_loop(uint64_t end, long budget);

/* In a fork child: nothing of the parent's state is ours. */
static void become_child(void)
{
	int i;

	depth++;
	for (i = 0; i < MAXFD; i++) {
		fds[i].foreign = 1;
		fds[i].ids = 0;
	}
	/* VM_DONTCOPY: the mappings are not in this process. */
	memset(maps, 0, sizeof(maps));
	memset(kids, 0, sizeof(kids));
	ts->slot = -1;
	ts->have_timer = 0;
	ts->seed = mix(ts->seed, getpid());
}

/*
 * The forking thread was maybe a worker: the child is not one.  Its own
 * new group takes its registration (not -EBUSY).
 */
static void child_register_check(void)
{
	int fd = ut_group(2, 16, 0, 0, 0, NULL), ret;
	uint32_t id;

	if (fd < 0) {
		record(OP_CHILD_REGISTER, fd);
		return;
	}
	ret = ut_register(fd, &id);
	record(OP_CHILD_REGISTER, ret);
	if (!ret && ut_unregister(fd, id))
		record(OP_CHILD_REGISTER, -EPROTO);
	close(fd);
}

static void op_fork(void)
{
	pid_t pid;

	if (depth >= 2 || free_kids() < 2)
		return;
	pthread_mutex_lock(&mu);
	pid = fork();
	if (pid == 0) {
		/* Single-threaded from here: mu was held by this thread. */
		pthread_mutex_unlock(&mu);
		become_child();
		child_register_check();
		fuzz_loop(ut_now_ns() + (20 + rnd() % 200) * MS, 20 + rnd() % 100);
		reap_kids(1);
		/* Ends registered or not, with its fds open or not. */
		if (one_in(2))
			exit(0);
		_exit(0);
	}
	pthread_mutex_unlock(&mu);
	record(OP_FORK, pid < 0 ? -errno : 0);
	if (pid < 0)
		return;
	__atomic_add_fetch(&sh->forks, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&mu);
	/* Sometimes killed before it is done. */
	add_kid(pid, one_in(4) ? ut_now_ns() + rnd() % (50 * MS) : 0);
	pthread_mutex_unlock(&mu);
}

struct victim_arg {
	int fd, rd, mode;
	volatile int up;
};

static void *victim_fn(void *p)
{
	struct victim_arg *a = p;
	uint32_t id;
	char c;

	if (ut_register(a->fd, &id))
		_exit(40);
	__atomic_store_n(&a->up, 1, __ATOMIC_RELEASE);
	switch (a->mode) {
	case 0:
		ut_park(a->fd, id, 0);		/* no deadline: only death ends it */
		break;
	case 1:
		if (read(a->rd, &c, 1) < 0)	/* blocked; or gated after */
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

/* A child with workers parked, blocked, gated and spinning, killed -9. */
static void op_kill9(void)
{
	pid_t pid;

	if (free_kids() < 2)
		return;
	pid = fork();
	if (pid == 0) {
		static struct victim_arg a[4];
		pthread_t t;
		int fd, p[2], i;

		fd = ut_group(4, 16, one_in(2) ? USCHED_SETUP_GATE : 0, 0,
			      10000 * MS, NULL);
		if (fd < 0 || pipe(p))
			_exit(0);	/* e.g. EMFILE: nothing to kill */
		for (i = 0; i < 4; i++) {
			a[i].fd = fd;
			a[i].rd = p[0];
			a[i].mode = i < 3 ? i % 2 : 2;
			if (pthread_create(&t, NULL, victim_fn, &a[i]))
				_exit(41);
			while (!__atomic_load_n(&a[i].up, __ATOMIC_ACQUIRE))
				usleep(500);
		}
		usleep(2000);
		/* One blocked reader returns: it waits at the gate, if any. */
		if (write(p[1], "x", 1) != 1)
			_exit(42);
		for (;;)
			pause();
	}
	record(OP_KILL9, pid < 0 ? -errno : 0);
	if (pid < 0)
		return;
	__atomic_add_fetch(&sh->victims, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&mu);
	add_kid(pid, ut_now_ns() + rnd() % (30 * MS));
	pthread_mutex_unlock(&mu);
}

static void *parked_forever(void *p)
{
	int fd = *(int *)p;
	uint32_t id;

	if (!ut_register(fd, &id))
		ut_park(fd, id, 0);
	for (;;)
		pause();
	return NULL;
}

/*
 * exec in a child: of this program (it checks the fds it inherited), of
 * /bin/true with the child's workers registered and parked (their threads
 * die in the exec, the caller's registration ends), or of a missing file
 * (nothing changes: the caller is still a worker).
 */
static void op_exec(void)
{
	pid_t pid;
	int variant = rnd() % 3;

	if (free_kids() < 2)
		return;
	pthread_mutex_lock(&mu);
	pid = fork();
	if (pid == 0) {
		static int fd;
		char env[256], *envp[] = { env, NULL };
		int n, i, len;
		uint32_t id;
		pthread_t t;

		pthread_mutex_unlock(&mu);
		become_child();
		fd = ut_group(4, 16, 0, 0, 0, NULL);
		if (fd < 0)
			_exit(0);
		fcntl(fd, F_SETFD, 0);
		if (ut_register(fd, &id))
			_exit(50);
		len = snprintf(env, sizeof(env), EXEC_ENV "=%u:%d", ts->seed, fd);
		/* Some of the parent's fds go through the exec too. */
		for (i = 0, n = 0; i < MAXFD && n < 3; i++) {
			if (fds[i].fd < 0 || one_in(2))
				continue;
			fcntl(fds[i].fd, F_SETFD, 0);
			len += snprintf(env + len, sizeof(env) - len, ",%d", fds[i].fd);
			n++;
		}
		if (variant == 1) {
			for (i = 0; i < 2; i++)
				pthread_create(&t, NULL, parked_forever, &fd);
			usleep(2000);
			execl("/bin/true", "true", (char *)NULL);
			_exit(51);
		}
		if (variant == 2) {
			if (!execl("/nonexistent/usched-sfuzz", "x", (char *)NULL))
				_exit(52);
			/* A failed exec changed nothing: still our worker. */
			_exit(ut_unregister(fd, id) ? 53 : 0);
		}
		execle("/proc/self/exe", "sfuzz-exec", (char *)NULL, envp);
		_exit(54);
	}
	pthread_mutex_unlock(&mu);
	record(OP_EXEC, pid < 0 ? -errno : 0);
	if (pid < 0)
		return;
	__atomic_add_fetch(&sh->execs, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&mu);
	add_kid(pid, one_in(6) ? ut_now_ns() + rnd() % (20 * MS) : 0);
	pthread_mutex_unlock(&mu);
}

/*
 * The exec'ed program: every fd it got is another process's group (the
 * owner's mm is gone): refused; its own new group works.  Exit status 0
 * or the number of the check that failed.
 */
static int exec_mode(const char *spec)
{
	struct usched_version v = { .size = sizeof(v) };
	struct usched_setup s;
	const char *c = strchr(spec, ':');
	struct pollfd pf;
	uint32_t id;
	int fd, ret;
	char *e;
	void *m;

	for (; c && *c; c = e) {
		fd = strtol(c + 1, &e, 10);
		if (e == c + 1)
			return 9;
		memset(&v, 0, sizeof(v));
		v.size = sizeof(v);
		if (ioctl(fd, USCHED_IOC_VERSION, &v))
			return 10;
		ret = ut_setup(fd, 2, 16, 0, 0, 0, &s);
		if (ret != -EPERM)
			return 11;
		if (ut_register(fd, &id) != -EPERM || ut_wake(fd, 0) != -EPERM)
			return 12;
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED || errno != EPERM)
			return 13;
		pf.fd = fd;
		pf.events = POLLIN;
		if (poll(&pf, 1, 0) != 1 || pf.revents != POLLERR)
			return 14;
	}
	/*
	 * This thread was maybe a worker before the exec: not any more once
	 * it has switched out in the new program (abi.md: the registration
	 * ends at the first context switch there).  Sleep to switch.
	 */
	usleep(1000);
	fd = ut_group(2, 16, 0, 0, 0, NULL);
	if (fd < 0)	/* the fuzzer's rmmod may have taken the module away */
		return fd == -EMFILE || fd == -ENOMEM || fd == -ENOENT ||
		       fd == -ENODEV ? 0 : 15;
	if (ut_register(fd, &id))
		return 16;
	if (ut_park(fd, id, ut_now_ns() + MS) != -ETIMEDOUT)
		return 17;
	return 0;	/* exits registered */
}

/* A short-lived thread: registers, maybe parks, exits registered. */
static void *short_thread(void *p)
{
	int fd = (int)(intptr_t)p;
	uint32_t id;

	if (ut_register(fd, &id))
		return NULL;
	if ((id + fd) % 2)
		ut_park(fd, id, ut_now_ns() + MS);
	return NULL;
}

static void op_thread(void)
{
	pthread_attr_t at;
	pthread_t t;
	struct pick p;
	int ret;

	if (depth || pick(&p, 0))
		return;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &at, short_thread, (void *)(intptr_t)p.fd);
	pthread_attr_destroy(&at);
	record(OP_THREAD, -ret);
	if (!ret)
		__atomic_add_fetch(&sh->threads, 1, __ATOMIC_RELAXED);
}

/* ---- the loop ---- */

struct weighted {
	int weight;
	void (*fn)(void);
	int in_child;		/* also in a (single-threaded) fork child */
};

static void w_park(void) { op_park(0); }
static void w_handoff(void) { op_park(1); }
static void w_wake(void) { op_target(OP_WAKE, USCHED_IOC_WAKE); }
static void w_standby(void) { op_target(OP_STANDBY, USCHED_IOC_SET_STANDBY); }
static void w_grant(void) { op_target(OP_GRANT, USCHED_IOC_GRANT); }
static void w_preempt(void) { op_target(OP_PREEMPT, USCHED_IOC_PREEMPT); }

static const struct weighted table[] = {
	{ 6, op_open, 1 }, { 8, op_setup, 1 }, { 5, op_mmap, 1 },
	{ 3, op_munmap, 1 }, { 1, op_mremap, 1 }, { 2, op_version, 1 },
	{ 8, op_register, 1 }, { 4, op_unregister, 1 }, { 8, w_park, 1 },
	{ 2, op_park_signal, 1 }, { 6, w_handoff, 1 }, { 8, w_wake, 1 },
	{ 3, w_standby, 1 }, { 4, w_grant, 1 }, { 3, op_slice, 1 },
	{ 1, op_redirect, 1 }, { 3, w_preempt, 1 }, { 4, op_raw, 1 },
	{ 4, op_poll, 1 }, { 3, op_scribble, 1 }, { 4, op_close, 1 },
	{ 2, op_dup, 1 }, { 1, op_fork, 1 }, { 1, op_exec, 0 },
	{ 1, op_thread, 0 }, { 1, op_kill9, 0 }, { 1, op_rmmod, 1 },
};

static void fuzz_loop(uint64_t end, long budget)
{
	int total = 0, r, i;
	const int n = sizeof(table) / sizeof(table[0]);

	for (i = 0; i < n; i++)
		total += table[i].weight;
	while (budget-- > 0 && ut_now_ns() < end && !ts->retire) {
		ts->step++;
		r = rnd() % total;
		for (i = 0; r >= table[i].weight; i++)
			r -= table[i].weight;
		if (depth && !table[i].in_child)
			continue;
		op_modseq = __atomic_load_n(&sh->modseq, __ATOMIC_ACQUIRE);
		table[i].fn();
	}
}

struct slot {
	pthread_t t;
	volatile int done;
	struct tstate st;
};

static void *fuzz_thread(void *p)
{
	struct slot *sl = p;

	ts = &sl->st;
	/* 50-2000 operations, then the thread ends (maybe registered). */
	fuzz_loop(sh->end_ns, 50 + rnd() % 1950);
	if (ts->have_timer)
		timer_delete(ts->timer);
	__atomic_store_n(&sl->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void start_slot(struct slot *sl, unsigned int seed)
{
	memset(&sl->st, 0, sizeof(sl->st));
	sl->st.seed = sl->st.seed0 = seed;
	sl->st.slot = -1;
	sl->done = 0;
	if (pthread_create(&sl->t, NULL, fuzz_thread, sl))
		sl->done = 2;	/* retried at the next round */
}

/* One fuzz process: NTHREAD threads, replaced as they end, until the end. */
static int fuzz_process(int idx)
{
	static struct slot slots[NTHREAD];
	static struct tstate main_ts;
	unsigned int gen = 0;
	struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_RESTART };
	int i;

	ts = &main_ts;
	/* Orphans of killed children come back here to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	main_ts.seed = main_ts.seed0 = mix(sh->seed, 1000 + idx);
	main_ts.slot = -1;
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGURG, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	for (i = 0; i < MAXFD; i++)
		fds[i].fd = -1;
	for (i = 0; i < NTHREAD; i++)
		start_slot(&slots[i], mix(sh->seed, mix(idx, gen++)));
	while (ut_now_ns() < sh->end_ns) {
		usleep(2000);
		reap_kids(0);
		for (i = 0; i < NTHREAD; i++) {
			if (!__atomic_load_n(&slots[i].done, __ATOMIC_ACQUIRE))
				continue;
			if (slots[i].done == 1)
				pthread_join(slots[i].t, NULL);
			start_slot(&slots[i], mix(sh->seed, mix(idx, gen++)));
		}
	}
	for (i = 0; i < NTHREAD; i++)
		if (slots[i].done != 2)
			pthread_join(slots[i].t, NULL);
	/* Leave fds and registrations to exit(): the way most programs end. */
	exit(reap_kids(1) ? 3 : 0);
}

TEST(sfuzz_sequences_from_threads_and_processes)
{
	const char *env = getenv("USCHED_SFUZZ_SECONDS");
	const char *senv = getenv("USCHED_SFUZZ_SEED");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 15;
	unsigned int seed = senv ? strtoul(senv, NULL, 10) : time(NULL);
	long wbase = ut_stat("workers"), gbase = ut_stat("groups");
	pid_t pids[NPROC];
	int i, e, status, hung = 0;
	long total = 0;
	uint64_t hard, t0 = ut_now_ns();
	void *g;

	if (!ut_module_loaded())
		SKIP(return, "usched.ko is not loaded");
	ASSERT_LE(0, wbase);
	ASSERT_LE(0, gbase);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	g = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g);
	munmap((char *)g + 4096, 4096);
	guard_page = (uintptr_t)g;
	/* Orphans of a fuzz process that had to be killed come here. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sh->seed = seed;
	sh->end_ns = ut_now_ns() + secs * 1000000000ull;
	ksft_print_msg("sfuzz: seed %u (USCHED_SFUZZ_SEED=%u reproduces the sequences), %llu s, %d processes x %d threads\n",
		       seed, seed, (unsigned long long)secs, NPROC, NTHREAD);
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			fuzz_process(i);
	}
	/*
	 * Bounded: a process that does not end in time hangs somewhere.  20 s
	 * to wind down, times USCHED_TEST_SLOW on a slow (debug) kernel.
	 */
	hard = sh->end_ns + 20000 * MS * slow_factor();
	for (i = 0; i < NPROC; i++) {
		while (waitpid(pids[i], &status, WNOHANG) == 0) {
			if (ut_now_ns() > hard) {
				hung++;
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				break;
			}
			usleep(10000);
		}
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("fuzz process %d: status %#x", i, status);
	}
	EXPECT_EQ(0, hung) TH_LOG("%d fuzz processes did not end", hung);
	/* Every descendant was reaped (status 3 above says a process had left some). */
	EXPECT_EQ(-1, waitpid(-1, &status, WNOHANG));
	/* rmmod may have succeeded in a quiet moment: it was reloaded. */
	ASSERT_TRUE(ut_module_loaded());
	if (sh->unloads)
		wbase = gbase = 0;

	for (i = 0; i < NOPS; i++) {
		char line[512];
		int len;

		total += sh->calls[i];
		if (!sh->calls[i])
			continue;
		len = snprintf(line, sizeof(line), "%-18s %7ld%s:", op_names[i],
			       sh->calls[i], sh->op_bad[i] ? " UNEXPECTED" : "");
		for (e = 0; e <= ERRMAX && len < (int)sizeof(line) - 40; e++) {
			if (!sh->hist[i][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, " %s %ld",
					!e ? "ok" : e == ERRMAX ? "other" :
					strerrorname_np(e), sh->hist[i][e]);
		}
		ksft_print_msg("%s\n", line);
	}
	ksft_print_msg("sfuzz: %ld calls in %.1f s; %ld forks, %ld execs, %ld kill -9 victims, %ld short threads; %ld children reaped (%ld killed); %ld unloads; %ld unexpected\n",
		       total, (ut_now_ns() - t0) / 1e9, sh->forks, sh->execs,
		       sh->victims, sh->threads, sh->reaped, sh->killed,
		       sh->unloads, sh->unexpected);
	EXPECT_EQ(0, sh->unexpected);
	for (i = 0; i < sh->unexpected && i < NBAD; i++)
		TH_LOG("unexpected: %s returned %d (%s) in pid %d (depth %d), thread seed %u, step %ld",
		       op_names[sh->bad[i].op], sh->bad[i].ret,
		       sh->bad[i].ret > -1000 ? strerror(-sh->bad[i].ret) : "child check",
		       sh->bad[i].pid, sh->bad[i].depth, sh->bad[i].seed,
		       sh->bad[i].step);
	EXPECT_LT(1000, total);
	EXPECT_EQ(wbase, ut_stat_wait("workers", wbase, 5000));
	EXPECT_EQ(gbase, ut_stat_wait("groups", gbase, 5000));
	munmap(sh, sizeof(*sh));
}

/*
 * Not TEST_HARNESS_MAIN: the exec'ed mode comes first, and the harness's
 * timeout follows USCHED_SFUZZ_SECONDS.
 */
int main(int argc, char **argv)
{
	const char *spec = getenv(EXEC_ENV);
	const char *env = getenv("USCHED_SFUZZ_SECONDS");

	if (spec)
		return exec_mode(spec);
	_sfuzz_sequences_from_threads_and_processes_object.timeout =
		(env ? atoi(env) : 15) + 60 * slow_factor();
	return test_harness_run(argc, argv);
}
