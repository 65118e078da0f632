// SPDX-License-Identifier: GPL-2.0
/*
 * kbench - microbenchmarks of usched.ko against its peers, in one run.
 *
 *   handoff-same, handoff-cross  one handoff (wake the partner, sleep), ns:
 *                                module HANDOFF vs futex wake+wait vs pipe,
 *                                both threads on CPU 0, or on CPUs 0 and 1
 *                                (impl module-nospin: the module with its
 *                                handoff spin turned off, when the module
 *                                parameter is writable)
 *   block-standby-same,          from a worker entering a blocking read to
 *   block-standby-cross          its standby running (standby on the
 *                                worker's CPU, or on the other), vs a plain
 *                                futex wake-up latency with the same
 *                                placement (impl futex-wakeup; p50, p99)
 *   gate-grant                   from USCHED_IOC_GRANT to a gated worker
 *                                (GATE_STOLEN: its claim was stolen while
 *                                it was blocked) back in user space; the
 *                                worker on the other CPU (p50, p99)
 *   preempt                      cost of one delivered preemption beyond a
 *                                slice timer that fires and does nothing:
 *                                impl timer-only is that timer's own cost,
 *                                impl signal and redirect what a delivery
 *                                adds to it (ns, medians)
 *
 * How preempt measures: a thread spins reading the clock and records every
 * gap between two reads longer than a threshold (8 loop turns, at least
 * 200 ns): that is time the CPU spent elsewhere.  The signal handler and
 * the trampoline mark the gap they ran in.  The median unmarked gap while
 * the spinner bumps switch_seq at every turn (the timer sees task switches
 * and does nothing), with a 200 us slice so that the timer's fires outnumber
 * the tick's, is the timer's cost; the median marked gap (one delivery, a
 * 4 ms slice) minus it is a delivery's cost.  The handler and the trampoline
 * bump switch_seq as the library does when it takes a preemption (it
 * switches tasks), so the timer's grace-period re-check after a delivery
 * sees a switch and does not deliver again.
 *
 * Without /dev/usched (on the host) only the futex and pipe rows run.
 *
 * Clock: CLOCK_MONOTONIC.  Each repetition prints a machine-readable line
 * (format in c/common/bench.h):
 *   BENCH suite=kbench name=<name> impl=<impl> unit=ns value=<v> rep=<r> ...
 * and at the end of each benchmark a table of medians over repetitions.
 * Times under QEMU TCG are not real times: compare the ratios of one run.
 *
 * Usage: kbench [-q] [-r REPS] [-n ROUNDS] [-s SAMPLES] [-t MS] [-S US]
 *               [name...]
 *   -q  quick: 1 repetition, few rounds and samples (a smoke run)
 *   -r  repetitions (5); -n handoff round trips (20000); -s latency
 *       samples (1000); -t preempt phase in ms (1000); -S preempt slice
 *       in microseconds (4000)
 */
#include <asm/prctl.h>
#include <cpuid.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/usched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "c/common/bench.h"

#define SUITE		"kbench"
#define SPIN_PARAM	"/sys/module/usched/parameters/handoff_spin_ns"
#define STATS_FILE	"/sys/kernel/debug/usched/stats"
#define MAXREPS		32

static long rounds = 20000;
static int samples = 1000;
static int reps = 5;
static int phase_ms = 1000;
static long slice_us = 4000;

/* The slice of the do-nothing timer whose cost is the baseline. */
#define IDLE_SLICE_NS	(200 * NS_PER_US)
static int have_module;
static int fd = -1;
static void *shm;
static size_t shm_size;
static struct usched_worker_slot *slots;

static void die(const char *what)
{
	bench_die("kbench", what, errno);
}

static void pin(int cpu)
{
	int err = bench_pin(cpu);

	if (err)
		bench_die("kbench", "sched_setaffinity", -err);
}

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* ---- results: one row per implementation, medians over repetitions ---- */

struct row {
	const char *impl;
	int n;
	double v[MAXREPS], p99[MAXREPS];
	int lat;
};

static void row_add(const char *name, struct row *r, double v, double p99,
		    int rep)
{
	if (r->n < MAXREPS) {
		r->v[r->n] = v;
		r->p99[r->n] = p99;
		r->n++;
	}
	if (!r->lat)
		bench_line(SUITE, name, r->impl, "ns", v, "rep=%d", rep);
}

static void row_lat(const char *name, struct row *r, struct samples *s,
		    struct samples *all, int rep)
{
	size_t i;

	r->lat = 1;
	for (i = 0; i < s->n; i++)
		samples_add(all, s->v[i]);
	bench_lat(SUITE, name, r->impl, s, rep);
	row_add(name, r, (double)samples_q(s, 0.5), (double)samples_q(s, 0.99),
		rep);
}

static void table(const char *name, struct row *rows, int nrows)
{
	double ref = 0, v[MAXREPS];
	const char *first = NULL;
	int i, j;

	/* Ratios are against the first row: the module's. */
	for (i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		double med, lo = 1e300, hi = 0;

		if (!r->n)
			continue;
		for (j = 0; j < r->n; j++) {
			v[j] = r->v[j];
			lo = v[j] < lo ? v[j] : lo;
			hi = v[j] > hi ? v[j] : hi;
		}
		med = median_dbl(v, r->n);
		if (!ref) {
			ref = med;
			first = r->impl;
		}
		printf("%-20s %-14s %10.0f ns  [%.0f..%.0f]", name, r->impl, med,
		       lo, hi);
		if (r->lat) {
			for (j = 0; j < r->n; j++)
				v[j] = r->p99[j];
			printf("  p99 %8.0f ns", median_dbl(v, r->n));
		}
		if (first != r->impl && med)
			printf("  %s/this %.2f", first, ref / med);
		printf("\n");
	}
	fflush(stdout);
}

/* ---- the module ------------------------------------------------------ */

static int group_open(uint32_t flags, int need)
{
	struct usched_setup s = { .size = sizeof(s), .flags = flags,
				  .max_workers = 8, .ring_entries = 4096,
				  .gate_timeout_ns = 5000 * NS_PER_MS };

	if (shm)
		munmap(shm, shm_size);
	if (fd >= 0)
		close(fd);
	shm = NULL;
	fd = open("/dev/usched", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (need)
			die("open /dev/usched (is the module loaded?)");
		return -1;
	}
	if (ioctl(fd, USCHED_IOC_SETUP, &s))
		die("USCHED_IOC_SETUP");
	shm = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED)
		die("mmap");
	shm_size = s.mmap_size;
	slots = (void *)((char *)shm + s.slots_offset);
	return 0;
}

static void group_close(void)
{
	if (shm)
		munmap(shm, shm_size);
	if (fd >= 0)
		close(fd);
	shm = NULL;
	fd = -1;
}

static uint32_t reg(void)
{
	struct usched_register r = { .size = sizeof(r) };

	if (ioctl(fd, USCHED_IOC_REGISTER, &r))
		die("USCHED_IOC_REGISTER");
	return r.worker;
}

static void unreg(uint32_t id)
{
	struct usched_register r = { .size = sizeof(r), .worker = id };

	if (ioctl(fd, USCHED_IOC_UNREGISTER, &r))
		die("USCHED_IOC_UNREGISTER");
}

static int park(uint32_t id)
{
	struct usched_park p = { .size = sizeof(p), .worker = id };

	return ioctl(fd, USCHED_IOC_PARK, &p);
}

static void park_sure(uint32_t id)
{
	while (park(id))
		if (errno != EINTR)
			die("USCHED_IOC_PARK");
}

static void handoff(uint32_t id, uint32_t to)
{
	struct usched_park p = { .size = sizeof(p), .worker = id, .target = to };

	while (ioctl(fd, USCHED_IOC_HANDOFF, &p)) {
		if (errno != EINTR)
			die("USCHED_IOC_HANDOFF");
		/* Interrupted after the wake: only park again. */
		park_sure(id);
		return;
	}
}

static int target(unsigned long cmd, uint32_t w, uint32_t arg)
{
	struct usched_target t = { .size = sizeof(t), .worker = w, .arg = arg };

	return ioctl(fd, cmd, &t);
}

/* A counter of /sys/kernel/debug/usched/stats, or -1. */
static long kstat(const char *name)
{
	char key[64];
	long v, found = -1;
	FILE *f = fopen(STATS_FILE, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

/* handoff_spin_ns: read (@set < 0) or write; -1 when not possible. */
static long spin_param(long set)
{
	long v = -1;
	FILE *f = fopen(SPIN_PARAM, set < 0 ? "r" : "w");

	if (!f)
		return -1;
	if (set < 0) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
	} else {
		v = fprintf(f, "%ld\n", set) > 0 ? set : -1;
	}
	if (fclose(f))
		v = -1;
	return v;
}

/* ---- futex ----------------------------------------------------------- */

static long futex(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void fwait(uint32_t *w, uint32_t val)
{
	while (LOAD(*w) == val)
		futex(w, FUTEX_WAIT_PRIVATE, val);
}

static void fwake(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
	futex(w, FUTEX_WAKE_PRIVATE, 1);
}

/* ---- handoff ---------------------------------------------------------- */

enum { H_MODULE, H_FUTEX, H_PIPE };

struct pp {
	int cpu, impl;
	long n;
	uint32_t id, peer;
	uint32_t ready;
	uint32_t fut[2];
	int pipes[2][2];
};

static void *pong(void *p)
{
	struct pp *a = p;
	long i;
	char c;

	pin(a->cpu);
	if (a->impl == H_MODULE) {
		a->peer = reg();
		STORE(a->ready, 1);
		/* Woken by the first handoff; the last one is answered by a
		 * plain wake, so that nobody is left parked. */
		park_sure(a->peer);
		for (i = 0; i < a->n - 1; i++)
			handoff(a->peer, a->id);
		if (target(USCHED_IOC_WAKE, a->id, 0))
			die("USCHED_IOC_WAKE");
		unreg(a->peer);
	} else if (a->impl == H_FUTEX) {
		STORE(a->ready, 1);
		for (i = 0; i < a->n; i++) {
			fwait(&a->fut[1], (uint32_t)i);
			fwake(&a->fut[0]);
		}
	} else {
		STORE(a->ready, 1);
		for (i = 0; i < a->n; i++) {
			if (read(a->pipes[0][0], &c, 1) != 1 ||
			    write(a->pipes[1][1], &c, 1) != 1)
				die("pipe pong");
		}
	}
	return NULL;
}

/* ns per handoff: one round trip is two handoffs. */
static double run_handoff(int impl, int cross, long n)
{
	struct pp a = { .cpu = cross ? 1 : 0, .impl = impl, .n = n };
	uint64_t t0, t1;
	pthread_t t;
	long i;
	char c = 'x';

	pin(0);
	if (impl == H_MODULE) {
		group_open(0, 1);
		a.id = reg();
	} else if (impl == H_PIPE) {
		if (pipe(a.pipes[0]) || pipe(a.pipes[1]))
			die("pipe");
	}
	if (pthread_create(&t, NULL, pong, &a))
		die("pthread_create");
	while (!LOAD(a.ready))
		usleep(100);
	usleep(1000);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (impl == H_MODULE) {
			handoff(a.id, a.peer);
		} else if (impl == H_FUTEX) {
			fwake(&a.fut[1]);
			fwait(&a.fut[0], (uint32_t)i);
		} else {
			if (write(a.pipes[0][1], &c, 1) != 1 ||
			    read(a.pipes[1][0], &c, 1) != 1)
				die("pipe ping");
		}
	}
	t1 = now_ns();
	pthread_join(t, NULL);
	if (impl == H_MODULE) {
		unreg(a.id);
		group_close();
	}
	if (impl == H_PIPE) {
		close(a.pipes[0][0]); close(a.pipes[0][1]);
		close(a.pipes[1][0]); close(a.pipes[1][1]);
	}
	return (double)(t1 - t0) / (double)n / 2;
}

static void bench_handoff(int cross)
{
	const char *name = cross ? "handoff-cross" : "handoff-same";
	struct row rows[] = { { .impl = "module" }, { .impl = "futex" },
			      { .impl = "pipe" }, { .impl = "module-nospin" } };
	long spin = have_module ? spin_param(-1) : -1;
	long h0 = kstat("handoffs"), s0 = kstat("handoff_spin_hits");
	int r, impl;

	/* Warm-up: every path once, not recorded. */
	for (impl = have_module ? H_MODULE : H_FUTEX; impl <= H_PIPE; impl++)
		run_handoff(impl, cross, rounds / 10 + 1);
	for (r = 1; r <= reps; r++) {
		for (impl = have_module ? H_MODULE : H_FUTEX; impl <= H_PIPE; impl++)
			row_add(name, &rows[impl], run_handoff(impl, cross, rounds),
				-1, r);
		/* The same module with its adaptive spin off: what it buys. */
		if (spin > 0 && spin_param(0) == 0) {
			row_add(name, &rows[3], run_handoff(H_MODULE, cross, rounds),
				-1, r);
			spin_param(spin);
		}
	}
	if (have_module && h0 >= 0)
		printf("# %s: module handoffs %ld, of which the spin caught the reply %ld (handoff_spin_ns=%ld)\n",
		       name, kstat("handoffs") - h0,
		       kstat("handoff_spin_hits") - s0, spin);
	table(name, rows, 4);
}

/* ---- block-to-standby and plain wake-up latency ---------------------- */

static uint64_t stamp_before;
static uint32_t stamp_after;

struct standby_arg {
	int cpu, use_futex, n;
	uint32_t id;
	int pipe_wr;	/* module variant: lets the blocked reader go on */
	uint32_t ready;
	uint32_t fut, back;
	struct samples *lat;
};

static void *standby_fn(void *p)
{
	struct standby_arg *a = p;
	uint64_t t;
	int i;

	pin(a->cpu);
	if (!a->use_futex)
		a->id = reg();
	STORE(a->ready, 1);
	for (i = 0; i < a->n; i++) {
		if (a->use_futex)
			fwait(&a->fut, (uint32_t)i);
		else
			park_sure(a->id);
		t = now_ns();
		samples_add(a->lat, t - LOAD(stamp_before));
		STORE(stamp_after, 1);
		if (a->use_futex)
			fwake(&a->back);
		else if (write(a->pipe_wr, "x", 1) != 1)
			die("write");
	}
	if (!a->use_futex)
		unreg(a->id);
	return NULL;
}

/* The worker (CPU 0) blocks in read(2); its standby runs on @cpu. */
static void run_block_standby(int cpu, int n, struct samples *lat)
{
	struct standby_arg a = { .cpu = cpu, .n = n, .lat = lat };
	uint32_t me;
	pthread_t t;
	int p[2], i;
	char c;

	pin(0);
	group_open(0, 1);
	if (pipe(p))
		die("pipe");
	a.pipe_wr = p[1];
	if (pthread_create(&t, NULL, standby_fn, &a))
		die("pthread_create");
	while (!LOAD(a.ready))
		usleep(100);
	me = reg();
	if (target(USCHED_IOC_SET_STANDBY, me, a.id))
		die("USCHED_IOC_SET_STANDBY");
	for (i = 0; i < n; i++) {
		/* Never sleep here: any sleep of ours wakes the standby. */
		while (LOAD(slots[a.id].kstate) != USCHED_W_PARKED)
			sched_yield();
		STORE(stamp_after, 0);
		STORE(stamp_before, now_ns());
		/* Blocks at once: the module wakes the standby, which writes. */
		if (read(p[0], &c, 1) != 1)
			die("read");
	}
	target(USCHED_IOC_SET_STANDBY, me, USCHED_NO_WORKER);
	unreg(me);
	pthread_join(t, NULL);
	group_close();
	close(p[0]);
	close(p[1]);
}

/* Plain wake-up: CPU 0 wakes a futex waiter on @cpu, then waits itself. */
static void run_wakeup(int cpu, int n, struct samples *lat)
{
	struct standby_arg f = { .cpu = cpu, .n = n, .lat = lat, .use_futex = 1 };
	pthread_t t;
	int i;

	pin(0);
	if (pthread_create(&t, NULL, standby_fn, &f))
		die("pthread_create");
	while (!LOAD(f.ready))
		usleep(100);
	for (i = 0; i < n; i++) {
		usleep(200);	/* the waiter is asleep in FUTEX_WAIT again */
		STORE(stamp_after, 0);
		STORE(stamp_before, now_ns());
		fwake(&f.fut);
		fwait(&f.back, (uint32_t)i);
	}
	pthread_join(t, NULL);
}

static void bench_block_standby(int cross)
{
	const char *name = cross ? "block-standby-cross" : "block-standby-same";
	struct row rows[] = { { .impl = "module" }, { .impl = "futex-wakeup" } };
	struct samples s = { 0 }, all[2] = { { 0 } };
	int r;

	run_wakeup(cross, samples / 10 + 2, &s);
	s.n = 0;
	if (have_module) {
		run_block_standby(cross, samples / 10 + 2, &s);
		s.n = 0;
	}
	for (r = 1; r <= reps; r++) {
		if (have_module) {
			run_block_standby(cross, samples, &s);
			row_lat(name, &rows[0], &s, &all[0], r);
			s.n = 0;
		}
		run_wakeup(cross, samples, &s);
		row_lat(name, &rows[1], &s, &all[1], r);
		s.n = 0;
	}
	if (have_module)
		bench_cdf(SUITE, name, rows[0].impl, &all[0]);
	bench_cdf(SUITE, name, rows[1].impl, &all[1]);
	table(name, rows, 2);
	samples_free(&s);
	samples_free(&all[0]);
	samples_free(&all[1]);
}

/* ---- gate: grant to running -------------------------------------------- */

/* A second worker that only parks, so the gated worker is not alone. */
static void *parked_fn(void *p)
{
	uint32_t id = reg();

	STORE(*(uint32_t *)p, id + 1);
	park_sure(id);
	unreg(id);
	return NULL;
}

struct gated_arg {
	int pipe_rd, n;
	uint32_t id;
	uint32_t ready;
	struct samples *lat;
};

static void *gated_fn(void *p)
{
	struct gated_arg *a = p;
	uint64_t t;
	int i;
	char c;

	pin(1);
	a->id = reg();
	STORE(a->ready, 1);
	for (i = 0; i < a->n; i++) {
		if (read(a->pipe_rd, &c, 1) != 1)
			die("read");
		t = now_ns();
		samples_add(a->lat, t - LOAD(stamp_before));
		STORE(stamp_after, 1);
	}
	unreg(a->id);
	return NULL;
}

static void run_gate(int n, struct samples *lat)
{
	struct gated_arg a = { .n = n, .lat = lat };
	uint32_t other = 0, claim, *cw;
	pthread_t t, to;
	int p[2], i;

	pin(0);
	group_open(USCHED_SETUP_GATE_STOLEN, 1);
	if (pipe(p))
		die("pipe");
	a.pipe_rd = p[0];
	if (pthread_create(&to, NULL, parked_fn, &other) ||
	    pthread_create(&t, NULL, gated_fn, &a))
		die("pthread_create");
	while (!LOAD(other) || !LOAD(a.ready))
		usleep(100);
	cw = &slots[a.id].claim;
	for (i = 0; i < n; i++) {
		/* Blocked in read: steal its claim, as a standby taking its
		 * slot would, so that it waits at the gate on return. */
		for (;;) {
			claim = LOAD(*cw);
			if ((claim & USCHED_CLAIM_STATE) == USCHED_CLAIM_BLOCKED &&
			    LOAD(slots[a.id].kstate) == USCHED_W_BLOCKED &&
			    __atomic_compare_exchange_n(cw, &claim,
					(claim & ~USCHED_CLAIM_STATE) | USCHED_CLAIM_STOLEN,
					0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				break;
			usleep(50);
		}
		if (write(p[1], "x", 1) != 1)
			die("write");
		while (LOAD(slots[a.id].kstate) != USCHED_W_GATED)
			__builtin_ia32_pause();
		STORE(stamp_after, 0);
		STORE(stamp_before, now_ns());
		if (target(USCHED_IOC_GRANT, 0, 1))
			die("USCHED_IOC_GRANT");
		while (!LOAD(stamp_after))
			__builtin_ia32_pause();
	}
	pthread_join(t, NULL);
	if (target(USCHED_IOC_WAKE, other - 1, 0))
		die("USCHED_IOC_WAKE");
	pthread_join(to, NULL);
	group_close();
	close(p[0]);
	close(p[1]);
}

static void bench_gate(void)
{
	struct row rows[] = { { .impl = "module" }, { .impl = "futex-wakeup" } };
	struct samples s = { 0 }, all[2] = { { 0 } };
	int r;

	run_gate(samples / 10 + 2, &s);
	s.n = 0;
	for (r = 1; r <= reps; r++) {
		run_gate(samples, &s);
		row_lat("gate-grant", &rows[0], &s, &all[0], r);
		s.n = 0;
		run_wakeup(1, samples, &s);
		row_lat("gate-grant", &rows[1], &s, &all[1], r);
		s.n = 0;
	}
	bench_cdf(SUITE, "gate-grant", "module", &all[0]);
	table("gate-grant", rows, 2);
	samples_free(&s);
	samples_free(&all[0]);
	samples_free(&all[1]);
}

/* ---- preemption delivery cost ------------------------------------------ */

/* Deliveries seen; the trampoline and the handler bump them. */
volatile unsigned long kbench_tramp_hits;	/* the asm below bumps it */
static volatile unsigned long sig_hits;
static volatile uint32_t *my_switch_seq;

/*
 * Minimal trampolines: what the library's does, without the task switch.
 * Below the red zone, save the flags and the registers the code changes,
 * then the whole extended state (xsave, as the kernel does for a signal
 * frame; fxsave where the CPU lacks it), count, take the preemption (bump
 * switch_seq at %gs:12), restore, clear nopreempt (%gs:8: a module that
 * sets it at a redirect defers the next one until the trampoline has used
 * resume_ip; an interrupt between the two instructions finds the IP inside
 * the trampoline and is deferred too), and return by `jmp *%gs:0`.
 */
#define TRAMP_HEAD							\
"	lea	-128(%rsp), %rsp\n"					\
"	pushfq\n"							\
"	push	%rax\n	push	%rdx\n	push	%rbx\n"			\
"	mov	%rsp, %rbx\n"						\
"	and	$-64, %rsp\n"						\
"	sub	$4096, %rsp\n"
#define TRAMP_TAIL							\
"	mov	%rbx, %rsp\n"						\
"	pop	%rbx\n	pop	%rdx\n	pop	%rax\n"			\
"	popfq\n"							\
"	lea	128(%rsp), %rsp\n"					\
"	movl	$0, %gs:8\n"						\
"	jmp	*%gs:0\n"

asm(
"	.text\n"
"	.globl	kbench_tramp_xsave, kbench_tramp_xsave_end\n"
"	.globl	kbench_tramp_fxsave, kbench_tramp_fxsave_end\n"
"	.hidden	kbench_tramp_xsave, kbench_tramp_xsave_end\n"
"	.hidden	kbench_tramp_fxsave, kbench_tramp_fxsave_end\n"
"	.p2align 4\n"
"kbench_tramp_xsave:\n"
TRAMP_HEAD
"	xor	%eax, %eax\n"
"	mov	%rax, 512(%rsp)\n	mov	%rax, 520(%rsp)\n"
"	mov	%rax, 528(%rsp)\n	mov	%rax, 536(%rsp)\n"
"	mov	%rax, 544(%rsp)\n	mov	%rax, 552(%rsp)\n"
"	mov	%rax, 560(%rsp)\n	mov	%rax, 568(%rsp)\n"
"	mov	$-1, %eax\n	mov	$-1, %edx\n"
"	xsave64	(%rsp)\n"
"	lock incq	kbench_tramp_hits(%rip)\n"
"	incl	%gs:12\n"
"	mov	$-1, %eax\n	mov	$-1, %edx\n"
"	xrstor64 (%rsp)\n"
TRAMP_TAIL
"kbench_tramp_xsave_end:\n"
"	.p2align 4\n"
"kbench_tramp_fxsave:\n"
TRAMP_HEAD
"	fxsave64 (%rsp)\n"
"	lock incq	kbench_tramp_hits(%rip)\n"
"	incl	%gs:12\n"
"	fxrstor64 (%rsp)\n"
TRAMP_TAIL
"kbench_tramp_fxsave_end:\n"
);
extern char kbench_tramp_xsave[], kbench_tramp_xsave_end[];
extern char kbench_tramp_fxsave[], kbench_tramp_fxsave_end[];

static void on_sig(int sig)
{
	sig_hits++;
	(*my_switch_seq)++;	/* the preemption is taken: a task switch */
}

static int have_xsave(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return !!(c & (1u << 27));	/* OSXSAVE */
}

/*
 * Spin for @ns; record gaps longer than @thr into @marked when one delivery
 * ran in them (*@hits went up by one), else into @plain.  With @seq, bump
 * it at every turn (tasks switch all the time: the timer does nothing).
 * Returns the gaps in which several deliveries ran (not recorded).
 */
static unsigned long spin_gaps(uint64_t ns, uint64_t thr,
			       volatile uint32_t *seq,
			       volatile unsigned long *hits,
			       struct samples *marked, struct samples *plain)
{
	uint64_t prev = now_ns(), end = prev + ns, t;
	unsigned long seen = *hits, h, multi = 0;

	while (prev < end) {
		if (seq)
			(*seq)++;
		t = now_ns();
		if (t - prev > thr) {
			h = *hits;
			if (h != seen) {
				/* Only gaps with exactly one delivery count. */
				if (h - seen == 1 && marked)
					samples_add(marked, t - prev);
				else if (h - seen > 1)
					multi++;
				seen = h;
			} else if (plain) {
				samples_add(plain, t - prev);
			}
		}
		prev = t;
	}
	return multi;
}

static int set_slice(uint32_t id, uint32_t mode, uint64_t slice, int xs)
{
	struct usched_slice s = { .size = sizeof(s), .worker = id,
				  .mode = mode, .slice_ns = slice };

	if (mode == USCHED_PREEMPT_SIGNAL) {
		s.signo = SIGUSR2;
	} else if (mode == USCHED_PREEMPT_REDIRECT) {
		char *b = xs ? kbench_tramp_xsave : kbench_tramp_fxsave;
		char *e = xs ? kbench_tramp_xsave_end : kbench_tramp_fxsave_end;

		s.trampoline = (uintptr_t)b;
		s.trampoline_len = (uintptr_t)(e - b);
	} else {
		s.slice_ns = 0;
	}
	return ioctl(fd, USCHED_IOC_SET_SLICE, &s);
}

static void bench_preempt(void)
{
	/*
	 * 4 ms by default (-S): the re-check a grace period after a delivery
	 * should come after the handler or trampoline took it, even under
	 * TCG where a signal delivery takes a hundred microseconds or more.
	 */
	const uint64_t slice = slice_us * NS_PER_US, dur = phase_ms * NS_PER_MS;
	struct row rows[] = { { .impl = "timer-only" }, { .impl = "signal" },
			      { .impl = "redirect" } };
	struct sigaction sa = { .sa_handler = on_sig };
	struct samples base = { 0 }, idle = { 0 }, sig = { 0 }, red = { 0 };
	volatile uint32_t local = 0;
	volatile unsigned long none = 0;
	uint64_t thr, turn, t0;
	unsigned long turns = 0, nsig = 0, nred = 0, multi = 0;
	double ti, cs, cr;
	int r, xs = have_xsave();
	uint32_t id;

	pin(0);
	group_open(0, 1);
	id = reg();
	my_switch_seq = &slots[id].switch_seq;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL))
		die("sigaction");
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, &slots[id]))
		die("arch_prctl(ARCH_SET_GS)");

	/* The cost of one loop turn, with no timer. */
	t0 = now_ns();
	while (now_ns() - t0 < 50 * NS_PER_MS) {
		local++;
		turns++;
	}
	turn = (now_ns() - t0) / turns;
	thr = 8 * turn > 200 ? 8 * turn : 200;
	/* Warm-up of every path. */
	set_slice(id, USCHED_PREEMPT_SIGNAL, slice, xs);
	spin_gaps(dur / 5, thr, &local, &sig_hits, NULL, NULL);
	set_slice(id, USCHED_PREEMPT_REDIRECT, slice, xs);
	spin_gaps(dur / 5, thr, &local, &kbench_tramp_hits, NULL, NULL);

	for (r = 1; r <= reps; r++) {
		set_slice(id, USCHED_PREEMPT_OFF, 0, xs);
		spin_gaps(dur / 2, thr, NULL, &none, NULL, &base);
		/*
		 * A timer that fires and does nothing: tasks "switch" at
		 * every turn.  Signal mode: the mode does not matter.  A
		 * short slice, so that its fires outnumber every other
		 * interrupt (the tick) and the median gap is one of them.
		 */
		if (set_slice(id, USCHED_PREEMPT_SIGNAL, IDLE_SLICE_NS, xs))
			die("USCHED_IOC_SET_SLICE signal");
		spin_gaps(dur, thr, my_switch_seq, &none, NULL, &idle);
		if (set_slice(id, USCHED_PREEMPT_SIGNAL, slice, xs))
			die("USCHED_IOC_SET_SLICE signal");
		nsig -= sig_hits;
		multi += spin_gaps(dur, thr, &local, &sig_hits, &sig, NULL);
		nsig += sig_hits;
		if (set_slice(id, USCHED_PREEMPT_REDIRECT, slice, xs))
			die("USCHED_IOC_SET_SLICE redirect");
		nred -= kbench_tramp_hits;
		multi += spin_gaps(dur, thr, &local, &kbench_tramp_hits, &red,
				   NULL);
		nred += kbench_tramp_hits;

		samples_sort(&idle);
		samples_sort(&sig);
		samples_sort(&red);
		ti = (double)samples_q(&idle, 0.5);
		cs = (double)samples_q(&sig, 0.5) - ti;
		cr = (double)samples_q(&red, 0.5) - ti;
		row_add("preempt", &rows[0], ti, -1, r);
		row_add("preempt", &rows[1], cs, -1, r);
		row_add("preempt", &rows[2], cr, -1, r);
		printf("# preempt rep %d: gaps: no timer %zu, idle timer %zu (expected ~%llu), signal %zu, redirect %zu; median gap: idle %llu, signal %llu, redirect %llu ns\n",
		       r, base.n, idle.n, (unsigned long long)(dur / IDLE_SLICE_NS),
		       sig.n, red.n,
		       (unsigned long long)samples_q(&idle, 0.5),
		       (unsigned long long)samples_q(&sig, 0.5),
		       (unsigned long long)samples_q(&red, 0.5));
		base.n = idle.n = sig.n = red.n = 0;
	}
	set_slice(id, USCHED_PREEMPT_OFF, 0, xs);
	signal(SIGUSR2, SIG_IGN);
	printf("# preempt: slice %llu us, loop turn %llu ns, gap threshold %llu ns, %s trampoline, %lu signals, %lu redirects, %llu deferrals, %lu gaps with several deliveries (not counted)\n",
	       (unsigned long long)(slice / NS_PER_US),
	       (unsigned long long)turn, (unsigned long long)thr,
	       xs ? "xsave" : "fxsave", nsig, nred,
	       (unsigned long long)slots[id].deferrals, multi);
	unreg(id);
	group_close();
	table("preempt", rows, 3);
	samples_free(&base);
	samples_free(&idle);
	samples_free(&sig);
	samples_free(&red);
}

/* ---- main ---------------------------------------------------------------- */

static const char *const names[] = {
	"handoff-same", "handoff-cross", "block-standby-same",
	"block-standby-cross", "gate-grant", "preempt",
};

static void run(const char *n)
{
	printf("# %s\n", n);
	fflush(stdout);
	if (!strcmp(n, "handoff-same"))
		bench_handoff(0);
	else if (!strcmp(n, "handoff-cross"))
		bench_handoff(1);
	else if (!strcmp(n, "block-standby-same"))
		bench_block_standby(0);
	else if (!strcmp(n, "block-standby-cross"))
		bench_block_standby(1);
	else if (!have_module)
		printf("# %s: skipped: no /dev/usched\n", n);
	else if (!strcmp(n, "gate-grant"))
		bench_gate();
	else if (!strcmp(n, "preempt"))
		bench_preempt();
}

static void usage(void)
{
	fprintf(stderr, "usage: kbench [-q] [-r REPS] [-n ROUNDS] [-s SAMPLES] [-t MS] [-S SLICE_US] [name...]\nnames:");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fprintf(stderr, " %s", names[i]);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int opt, i;
	size_t j;

	while ((opt = getopt(argc, argv, "qr:n:s:t:S:")) != -1) {
		switch (opt) {
		case 'q':
			reps = 1;
			rounds = 2000;
			samples = 100;
			phase_ms = 200;
			break;
		case 'r': reps = atoi(optarg); break;
		case 'n': rounds = atol(optarg); break;
		case 's': samples = atoi(optarg); break;
		case 't': phase_ms = atoi(optarg); break;
		case 'S': slice_us = atol(optarg); break;
		default: usage();
		}
	}
	if (rounds < 2 || samples < 2 || reps < 1 || reps > MAXREPS ||
	    phase_ms < 10 || slice_us < 50) {
		fprintf(stderr, "kbench: ROUNDS >= 2, SAMPLES >= 2, 1 <= REPS <= %d, MS >= 10, SLICE >= 50\n",
			MAXREPS);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			if (!strcmp(argv[i], names[j]))
				break;
		if (j == sizeof(names) / sizeof(names[0]))
			usage();
	}
	have_module = group_open(0, 0) == 0;
	group_close();
	if (!have_module)
		printf("# kbench: no /dev/usched (%s): module rows skipped\n",
		       strerror(errno));
	printf("# kbench: %d CPUs, %d repetitions, %ld round trips, %d samples, clock CLOCK_MONOTONIC\n",
	       bench_cpus(), reps, rounds, samples);
	if (optind == argc)
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			run(names[j]);
	for (i = optind; i < argc; i++)
		run(argv[i]);
	return 0;
}
