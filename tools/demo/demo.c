// SPDX-License-Identifier: GPL-2.0
/*
 * demo - the main job's demo (`make demo`): everything libusched promises,
 * at once, in one mode, with a short table at the end.
 *
 * Usage: demo --mode kernel|fallback [--tasks N] [--hogs N] [--blockers N]
 *             [--secs S] [--slice-us US] [--inflight N] [--progress]
 *
 * The runtime starts in the given mode (kernel mode needs usched.ko: the
 * demo fails at once, saying so, when it cannot be used), with a 1 ms
 * time slice unless --slice-us says otherwise.  Then, concurrently, all in
 * one task group:
 *
 *   short tasks  N of them (default 100,000), spawned by a spawner task
 *                with at most --inflight (default 1,000) alive at once:
 *                each does a little arithmetic, sends its result on a
 *                buffered channel to a collector task (which counts and
 *                sums what it receives: the sum is checked) and marks a
 *                wait group done;
 *   blockers     (default 4) tasks that block in PLAIN syscalls, not in
 *                libusched's calls: read(2) on a pipe that a separate
 *                plain pthread writes a byte to every 2 ms, then
 *                nanosleep(2) for 300 us; each returned call is counted;
 *   hogs         (default: one per slot) tasks that spin in pure
 *                computation and never block or yield: only preemption
 *                gets them off their slots;
 *   ticker       one task that wakes every 1 ms on an absolute schedule
 *                (usched_sleep_until) and records how late it woke (a tick
 *                that is already past when it wakes is skipped, and
 *                counted as missed).
 *
 * It runs for S seconds (default 3) after spawning, waits for the short
 * tasks still running (as long as some end every few seconds), then stops
 * everything: a flag for the hogs and the ticker, the pipes' write ends
 * closed for the blockers, the group cancelled, every task joined
 * (usched_group_wait()).  The controller is the program's main thread, not
 * a task, and a watchdog thread prints the progress (every second with
 * --progress, every 10 s once the run is late): both still run, and
 * report, when the tasks are starved.
 *
 * Output: a table (mode, slots, tasks completed, blocking syscalls, the
 * runtime's blocks and slot handovers, preemptions, the ticker's samples
 * and lateness p50/p99/max, wall time) and one machine-readable line:
 *
 *   DEMO mode=M tasks=N blocks=N handovers=N preempts=N tick_p50_us=N
 *        tick_p99_us=N tick_max_us=N wall_ms=N
 *
 * Exit status: 0; 1 when something is clearly wrong (a short task lost or
 * its result wrong, no short task ended for 5 s, the ticker never ran or
 * woke up more than 2 s late, no blocking syscall returned, a hog never
 * ran, the module saw no block in kernel mode, the tasks did not stop) or
 * the runtime cannot start; 2 on a usage error.
 *
 * In the VM (USCHED_VM=1 in the environment, set by tools/vm-run) the
 * defaults are the same, but the limits are looser (20 s without a short
 * task ending, 10 s of ticker lateness), since QEMU's TCG runs the guest
 * 5-10 times slower, and other VMs may share the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "usched.h"

#define MS			((uint64_t)1000000)
#define US			((uint64_t)1000)
#define TICK_NS			(1 * MS)	/* the ticker's period */
#define WRITER_NS		(2 * MS)	/* the pipe writer's period */
#define BLOCKER_SLEEP_NS	(300 * US)	/* the blockers' nanosleep */
#define MAX_BLOCKERS		256
#define MAX_HOGS		1024

static struct opts {
	int mode;
	unsigned long tasks;
	unsigned long hogs;		/* ULONG_MAX: one per slot */
	unsigned long blockers;
	unsigned long secs;
	unsigned long slice_us;
	unsigned long inflight;		/* 0: no bound */
	bool progress;			/* a status line every second */
} o = {
	.mode = -1,
	.tasks = 100000,
	.hogs = ULONG_MAX,
	.blockers = 4,
	.secs = 3,
	.slice_us = 1000,
	.inflight = 1000,
};

/* Shared by the controller and the tasks. */
static atomic_int stop;			/* hogs, ticker, blockers: stop now */
static usched_wg_t members_wg;		/* tasks other than the short ones */
static usched_group_t *group;

/* Short tasks. */
static usched_wg_t short_wg;		/* short tasks not yet ended */
static usched_sem_t inflight_sem;	/* bounds the short tasks alive */
static usched_chan_t *results;		/* short tasks -> collector */
static atomic_ulong spawned;		/* short tasks spawned */
static atomic_ulong short_ended;	/* short tasks ended */
static unsigned long collected;		/* collector: results received */
static uint64_t collected_sum;		/* collector: their sum */
static atomic_int short_err;		/* first unexpected error */

/* Blockers. */
static int pipes[MAX_BLOCKERS][2];
static atomic_ulong reads_done, sleeps_done;
static atomic_int blocker_err;

/* Hogs. */
static atomic_ulong hog_work;		/* rounds of arithmetic, all hogs */
static atomic_ulong hogs_ran;		/* hogs that did at least a round */
static atomic_ulong hog_sink;		/* keeps the arithmetic alive */

/* Ticker: lateness samples, ns; written by the ticker only. */
static uint64_t *lat;
static size_t nlat, lat_cap;
static uint64_t ticks_missed;

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: demo --mode kernel|fallback [--tasks N] [--hogs N] [--blockers N]\n"
		"            [--secs S] [--slice-us US] [--inflight N] [--progress]\n"
		"  --tasks N      short tasks (default 100000)\n"
		"  --hogs N       CPU hogs (default: one per slot)\n"
		"  --blockers N   tasks blocking in read(2)/nanosleep(2) (default 4, at most %d)\n"
		"  --secs S       run time after spawning, seconds (default 3)\n"
		"  --slice-us US  preemption time slice (default 1000)\n"
		"  --inflight N   short tasks alive at most (default 1000; 0: no bound)\n"
		"  --progress     a status line every second\n",
		MAX_BLOCKERS);
	exit(status);
}

static unsigned long num_arg(const char *name, const char *s, unsigned long min,
			     unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "demo: %s: not a number in %lu..%lu: %s\n",
			name, min, max, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "tasks", required_argument, NULL, 'n' },
		{ "hogs", required_argument, NULL, 'H' },
		{ "blockers", required_argument, NULL, 'b' },
		{ "secs", required_argument, NULL, 's' },
		{ "slice-us", required_argument, NULL, 'S' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "kernel"))
				o.mode = USCHED_MODE_KERNEL;
			else if (!strcmp(optarg, "fallback"))
				o.mode = USCHED_MODE_FALLBACK;
			else
				usage(2);
			break;
		case 'n':
			o.tasks = num_arg("--tasks", optarg, 1, 100000000);
			break;
		case 'H':
			o.hogs = num_arg("--hogs", optarg, 0, MAX_HOGS);
			break;
		case 'b':
			o.blockers = num_arg("--blockers", optarg, 0, MAX_BLOCKERS);
			break;
		case 's':
			o.secs = num_arg("--secs", optarg, 1, 3600);
			break;
		case 'S':
			o.slice_us = num_arg("--slice-us", optarg, 100, 10000000);
			break;
		case 'i':
			o.inflight = num_arg("--inflight", optarg, 0, 100000000);
			break;
		case 'p':
			o.progress = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc || o.mode < 0)
		usage(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Sleep until @when (CLOCK_MONOTONIC, ns); at once when it is past. */
static void sleep_until_ns(uint64_t when)
{
	struct timespec ts = { .tv_sec = when / 1000000000ull,
			       .tv_nsec = when % 1000000000ull };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void set_err(atomic_int *e, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(e, &zero, err);
}

/* ---- short tasks -------------------------------------------------------- */

/* A little arithmetic: the same function the collector's check uses. */
static uint64_t short_value(uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
	int k;

	for (k = 0; k < 64; k++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ull;
	}
	return x >> 16;
}

static int short_task(void *arg)
{
	uint64_t v = short_value((uintptr_t)arg);
	int r;

	r = usched_chan_send(results, &v);
	if (r && r != -ECANCELED)
		set_err(&short_err, r);
	usched_sem_post(&inflight_sem);
	atomic_fetch_add_explicit(&short_ended, 1, memory_order_relaxed);
	usched_wg_done(&short_wg);
	return 0;
}

static int spawner_task(void *arg)
{
	struct usched_attr a;
	unsigned long i;
	int r = 0;

	usched_attr_init(&a);
	a.name = "short";
	for (i = 0; i < o.tasks; i++) {
		if (o.inflight) {
			r = usched_sem_wait(&inflight_sem);
			if (r)
				break;
		}
		r = usched_group_spawn(group, &a, short_task, (void *)(uintptr_t)i);
		if (r)
			break;
		atomic_fetch_add(&spawned, 1);
	}
	if (r && r != -ECANCELED)
		set_err(&short_err, r);
	/* The ones never spawned will not end: take them off the count. */
	if (i < o.tasks)
		usched_wg_add(&short_wg, -(int64_t)(o.tasks - i));
	usched_wg_done(&members_wg);
	return 0;
}

static int collector_task(void *arg)
{
	uint64_t v;
	int r;

	while (collected < o.tasks) {
		r = usched_chan_recv(results, &v);
		if (r) {
			if (r != -ECANCELED)
				set_err(&short_err, r);
			break;
		}
		__atomic_store_n(&collected, collected + 1, __ATOMIC_RELAXED);
		collected_sum += v;
	}
	usched_wg_done(&members_wg);
	return 0;
}

/* ---- blockers and their pipe writer ------------------------------------- */

static int blocker_task(void *arg)
{
	int fd = pipes[(uintptr_t)arg][0];
	struct timespec ts;
	char buf[64];
	ssize_t n;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* A plain read(2): the worker thread blocks in the kernel. */
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;		/* the writer closed: stop */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			set_err(&blocker_err, errno);
			break;
		}
		atomic_fetch_add_explicit(&reads_done, 1, memory_order_relaxed);
		/* A plain nanosleep(2), as well. */
		ts.tv_sec = 0;
		ts.tv_nsec = BLOCKER_SLEEP_NS;
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		atomic_fetch_add_explicit(&sleeps_done, 1, memory_order_relaxed);
	}
	usched_wg_done(&members_wg);
	return 0;
}

static atomic_int writer_stop;

/* A plain pthread, outside the runtime: a byte to every pipe, periodically. */
static void *writer_thread(void *arg)
{
	uint64_t next = now_ns();
	unsigned long i;
	char c = 'x';

	while (!atomic_load(&writer_stop)) {
		for (i = 0; i < o.blockers; i++)
			if (write(pipes[i][1], &c, 1) < 0 && errno != EAGAIN)
				set_err(&blocker_err, errno);
		next += WRITER_NS;
		if (next < now_ns())
			next = now_ns();	/* late: no burst to catch up */
		sleep_until_ns(next);
	}
	for (i = 0; i < o.blockers; i++)
		close(pipes[i][1]);	/* the blockers read EOF */
	return NULL;
}

/* ---- hogs and ticker ------------------------------------------------------ */

static int hog_task(void *arg)
{
	uint64_t x = (uintptr_t)arg + 1, rounds = 0;
	int k;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (k = 0; k < 4096; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			x ^= x >> 29;
		}
		rounds++;
		atomic_fetch_add_explicit(&hog_work, 1, memory_order_relaxed);
	}
	if (rounds)
		atomic_fetch_add(&hogs_ran, 1);
	atomic_fetch_xor(&hog_sink, x);
	usched_wg_done(&members_wg);
	return 0;
}

static int ticker_task(void *arg)
{
	uint64_t next = usched_now() + TICK_NS, now, skip;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (usched_sleep_until(next))
			break;		/* cancelled */
		now = usched_now();
		if (nlat < lat_cap) {
			lat[nlat] = now - next;
			__atomic_store_n(&nlat, nlat + 1, __ATOMIC_RELAXED);
		}
		next += TICK_NS;
		if (next <= now) {
			/* Late by more than a period: skip the past ticks. */
			skip = (now - next) / TICK_NS + 1;
			ticks_missed += skip;
			next += skip * TICK_NS;
		}
	}
	usched_wg_done(&members_wg);
	return 0;
}

/* ---- the controller (the main thread, not a task) ------------------------ */

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct_us(const uint64_t *v, size_t n, unsigned int pct)
{
	size_t i;

	if (!n)
		return 0;
	i = (n * pct + 99) / 100;	/* nearest rank */
	if (i)
		i--;
	if (i >= n)
		i = n - 1;
	return v[i] / US;
}

static void spawn_or_die(const char *what, usched_fn_t fn, void *arg)
{
	struct usched_attr a;
	int r;

	usched_attr_init(&a);
	a.name = what;
	usched_wg_add(&members_wg, 1);
	r = usched_group_spawn(group, &a, fn, arg);
	if (r) {
		fprintf(stderr, "demo: spawning the %s task: %s\n", what, strerror(-r));
		exit(1);
	}
}

/* ---- the watchdog: progress, and a way out when tasks never stop --------- */

static uint64_t t_start, t_run;		/* when spawning began, when it ends */
static unsigned int grace_short_s, grace_stop_s, stall_s;
static atomic_int phase;		/* 0 running, 1 stopping, 2 done */

static void status_line(const char *what)
{
	struct usched_stats st = { .size = sizeof(st) };

	usched_stats_get(&st);
	printf("demo: %s at %.1f s: short spawned %lu, ended %lu, collected %lu; "
	       "syscalls %lu; ticks %zu; hog rounds %lu; tasks live %" PRIu64
	       ", workers %u, switches %" PRIu64 ", preempts %" PRIu64
	       ", blocks %" PRIu64 ", handovers %" PRIu64 "\n",
	       what, (now_ns() - t_start) / 1e9, atomic_load(&spawned),
	       atomic_load(&short_ended), __atomic_load_n(&collected, __ATOMIC_RELAXED),
	       atomic_load(&reads_done) + atomic_load(&sleeps_done),
	       __atomic_load_n(&nlat, __ATOMIC_RELAXED), atomic_load(&hog_work),
	       st.tasks_live, st.workers, st.switches, st.preempts, st.blocks,
	       st.handovers);
}

/*
 * A plain thread: a status line every second with --progress, every 10 s
 * once the run is late; past every grace period, the last status and
 * _exit(1): tasks that do not end would make usched_stop() wait forever.
 */
static void *watchdog_thread(void *arg)
{
	uint64_t hard = t_run + (grace_short_s + grace_stop_s + 30) * 1000 * MS;
	uint64_t last = 0, now;

	while (atomic_load(&phase) < 2) {
		sleep_until_ns(now_ns() + 100 * MS);
		now = now_ns();
		if (now > hard) {
			status_line("STUCK");
			printf("demo: FAIL: still not done %u s after the run: giving up\n",
			       grace_short_s + grace_stop_s + 30);
			fflush(stdout);
			_exit(1);
		}
		if (o.progress ? now - last >= 1000 * MS :
		    now > t_run + 10000 * MS && now - last >= 10000 * MS) {
			status_line(atomic_load(&phase) ? "stopping" : "running");
			last = now;
		}
	}
	return NULL;
}

static bool failed;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("demo: FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed = true;
}

/* After the run: wait for the short tasks, as long as they progress. */
static void wait_short_tasks(void)
{
	uint64_t cap = now_ns() + grace_short_s * 1000 * MS;
	uint64_t now, seen_at = now_ns(), next;
	unsigned long seen = atomic_load(&short_ended), n;

	for (;;) {
		next = now_ns() + 1000 * MS;
		if (!usched_wg_wait_until(&short_wg, next < cap ? next : cap))
			return;
		now = now_ns();
		n = atomic_load(&short_ended);
		if (n != seen) {
			seen = n;
			seen_at = now;
		} else if (now - seen_at >= stall_s * 1000 * MS) {
			fail("short tasks: none ended for %u s (%lu of %lu ended): starved",
			     stall_s, n, o.tasks);
			return;
		}
		if (now >= cap) {
			fail("short tasks: only %lu of %lu ended within %u s of the run",
			     n, o.tasks, grace_short_s);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct usched_stats st = { .size = sizeof(st) };
	uint64_t t0, t_end, deadline, expected_sum = 0, p50, p99, pmax;
	unsigned long i;
	struct usched_config cfg;
	bool in_vm, stuck = false;
	pthread_t writer, watchdog;
	int r, gres;

	parse_args(argc, argv);
	in_vm = getenv("USCHED_VM") && !strcmp(getenv("USCHED_VM"), "1");
	setvbuf(stdout, NULL, _IOLBF, 0);

	usched_config_init(&cfg);
	cfg.mode = o.mode;
	cfg.slice_ns = o.slice_us * US;
	r = usched_start(&cfg);
	if (r == -ENODEV && o.mode == USCHED_MODE_KERNEL) {
		fprintf(stderr, "demo: kernel mode is unavailable: %s\n",
			access("/dev/usched", F_OK) ?
			"usched.ko is not loaded (no /dev/usched)" :
			"/dev/usched cannot be used");
		return 1;
	}
	if (r) {
		fprintf(stderr, "demo: usched_start(%s mode): %s\n",
			usched_mode_name(o.mode), strerror(-r));
		return 1;
	}
	if (usched_mode() != o.mode) {
		fprintf(stderr, "demo: asked for %s mode, the runtime runs in %s mode\n",
			usched_mode_name(o.mode), usched_mode_name(usched_mode()));
		return 1;
	}
	usched_stats_get(&st);
	if (o.hogs == ULONG_MAX)
		o.hogs = st.slots;

	printf("demo: %s mode, %u slots, %lu us slice%s: %lu short tasks (%lu alive at most), %lu blockers, %lu hogs, 1 ticker, %lu s\n",
	       usched_mode_name(o.mode), st.slots, o.slice_us,
	       in_vm ? " (in the VM)" : "", o.tasks, o.inflight, o.blockers,
	       o.hogs, o.secs);

	/* Room for every tick of the run and of a generous grace period. */
	lat_cap = (o.secs + 600) * 1000;
	lat = malloc(lat_cap * sizeof(*lat));
	r = usched_chan_create(&results, sizeof(uint64_t), 1024);
	if (!lat || r) {
		fprintf(stderr, "demo: out of memory\n");
		return 1;
	}
	for (i = 0; i < o.blockers; i++) {
		if (pipe2(pipes[i], O_CLOEXEC)) {
			perror("demo: pipe2");
			return 1;
		}
		fcntl(pipes[i][1], F_SETFL, O_NONBLOCK);
	}
	usched_wg_init(&members_wg);
	usched_wg_init(&short_wg);
	usched_sem_init(&inflight_sem, o.inflight);
	usched_wg_add(&short_wg, o.tasks);
	r = usched_group_create(&group);
	if (r) {
		fprintf(stderr, "demo: usched_group_create: %s\n", strerror(-r));
		return 1;
	}

	/*
	 * Grace periods: TCG is slow, and other VMs may share the host.  The
	 * short tasks may take longer than the run as long as they progress;
	 * none ending for stall_s seconds means that they are starved.
	 */
	grace_short_s = in_vm ? 600 : 120;
	grace_stop_s = in_vm ? 60 : 10;
	stall_s = in_vm ? 20 : 5;
	t0 = t_start = now_ns();
	t_run = t0 + o.secs * 1000 * MS;
	if (pthread_create(&watchdog, NULL, watchdog_thread, NULL)) {
		fprintf(stderr, "demo: cannot start the watchdog thread\n");
		return 1;
	}
	spawn_or_die("ticker", ticker_task, NULL);
	spawn_or_die("collector", collector_task, NULL);
	spawn_or_die("spawner", spawner_task, NULL);
	for (i = 0; i < o.blockers; i++)
		spawn_or_die("blocker", blocker_task, (void *)(uintptr_t)i);
	for (i = 0; i < o.hogs; i++)
		spawn_or_die("hog", hog_task, (void *)(uintptr_t)i);
	if (o.blockers && pthread_create(&writer, NULL, writer_thread, NULL)) {
		fprintf(stderr, "demo: cannot start the pipe writer thread\n");
		return 1;
	}

	/* Run, then let the short tasks finish while they make progress. */
	sleep_until_ns(t_run);
	wait_short_tasks();

	/* Stop everything: flags, pipes, the group's cancel; join all. */
	atomic_store(&phase, 1);
	atomic_store(&stop, 1);
	if (o.blockers) {
		atomic_store(&writer_stop, 1);
		pthread_join(writer, NULL);
	}
	usched_group_cancel(group);
	deadline = now_ns() + grace_stop_s * 1000 * MS;
	if (usched_wg_wait_until(&members_wg, deadline) ||
	    usched_wg_wait_until(&short_wg, deadline)) {
		fail("the tasks did not stop within %u s of the cancel (a task starved?)",
		     grace_stop_s);
		stuck = true;
	}
	gres = stuck ? 0 : usched_group_wait(group);
	t_end = now_ns();
	usched_stats_get(&st);
	atomic_store(&phase, 2);
	pthread_join(watchdog, NULL);

	for (i = 0; i < o.tasks; i++)
		expected_sum += short_value(i);
	qsort(lat, nlat, sizeof(*lat), u64_cmp);
	p50 = pct_us(lat, nlat, 50);
	p99 = pct_us(lat, nlat, 99);
	pmax = nlat ? lat[nlat - 1] / US : 0;

	printf("  %-28s %s\n", "mode", usched_mode_name(st.mode));
	printf("  %-28s %u (%u worker threads now)\n", "slots", st.slots, st.workers);
	printf("  %-28s %lu of %lu (sum %s)\n", "short tasks completed",
	       collected, o.tasks, collected < o.tasks ? "incomplete" :
	       collected_sum == expected_sum ? "ok" : "WRONG");
	printf("  %-28s %lu (%lu read, %lu nanosleep; %lu blockers)\n",
	       "blocking syscalls completed",
	       atomic_load(&reads_done) + atomic_load(&sleeps_done),
	       atomic_load(&reads_done), atomic_load(&sleeps_done), o.blockers);
	printf("  %-28s %" PRIu64 "\n", "blocks detected", st.blocks);
	printf("  %-28s %" PRIu64 " (%" PRIu64 " gate waits)\n", "slot handovers",
	       st.handovers, st.gate_waits);
	printf("  %-28s %" PRIu64 " (%" PRIu64 " deferred)\n", "preemptions",
	       st.preempts, st.preempt_deferred);
	printf("  %-28s %lu of %lu hogs ran, %lu Mi rounds\n", "hogs",
	       atomic_load(&hogs_ran), o.hogs, atomic_load(&hog_work) * 4096 >> 20);
	printf("  %-28s %zu (%" PRIu64 " ticks missed)\n", "ticker samples",
	       nlat, ticks_missed);
	printf("  %-28s %" PRIu64 " / %" PRIu64 " / %" PRIu64 " us\n",
	       "ticker lateness p50/p99/max", p50, p99, pmax);
	printf("  %-28s %" PRIu64 " ms\n", "wall time", (t_end - t0) / MS);
	printf("DEMO mode=%s tasks=%lu blocks=%" PRIu64 " handovers=%" PRIu64
	       " preempts=%" PRIu64 " tick_p50_us=%" PRIu64 " tick_p99_us=%" PRIu64
	       " tick_max_us=%" PRIu64 " wall_ms=%" PRIu64 "\n",
	       usched_mode_name(st.mode), collected, st.blocks, st.handovers,
	       st.preempts, p50, p99, pmax, (t_end - t0) / MS);

	/* What is clearly wrong. */
	if (atomic_load(&short_err))
		fail("short tasks: %s", strerror(-atomic_load(&short_err)));
	if (collected != o.tasks)
		fail("short tasks: %lu of %lu completed their handshake",
		     collected, o.tasks);
	else if (collected_sum != expected_sum)
		fail("short tasks: the collector's sum is wrong");
	if (!nlat)
		fail("the ticker never ran");
	else if (pmax > (in_vm ? 10000000 : 2000000))	/* us */
		fail("the ticker was starved: it woke up %" PRIu64 " ms late",
		     pmax / 1000);
	if (atomic_load(&blocker_err))
		fail("blockers: %s", strerror(atomic_load(&blocker_err)));
	if (o.blockers && !atomic_load(&reads_done))
		fail("no blocking syscall returned");
	if (o.blockers && st.mode == USCHED_MODE_KERNEL && !st.blocks)
		fail("kernel mode, yet the module reported no block");
	if (atomic_load(&hogs_ran) < o.hogs)
		fail("%lu of %lu hogs never ran", o.hogs - atomic_load(&hogs_ran),
		     o.hogs);
	if (gres && gres != -ECANCELED)
		fail("the task group failed: %s", strerror(-gres));

	if (stuck) {
		/* Tasks still run: usched_stop() would wait for them forever. */
		fflush(stdout);
		_exit(1);
	}
	usched_group_destroy(group);
	usched_chan_destroy(results);
	r = usched_stop();
	if (r)
		fail("usched_stop: %s", strerror(-r));
	free(lat);
	return failed ? 1 : 0;
}
