// SPDX-License-Identifier: GPL-2.0
/*
 * ubench - usched's side of the benchmarks: the workloads of tools/bench/go
 * (goroutines) and tools/bench/c/pthread/cbench.c (plain threads), written
 * with libusched's public API only (<usched.h>).
 *
 *   spawn     spawn N tasks that each store one result, join them all
 *   yield     two tasks on one slot calling usched_yield
 *   chan      ping-pong over two unbuffered channels, one slot
 *   mem       N tasks parked on a channel receive: RSS growth per task
 *             (one repetition per process: the harness runs it per rep)
 *   sysblock  one slot: task A makes task B runnable, then blocks in a raw
 *             read(2) of an empty pipe (not the library's I/O); B measures
 *             how long after A's read began it got to run, and writes the
 *             byte A waits for
 *   ticker    a task sleeping to each 1 ms tick beside 2 x slots spinning
 *             tasks, for a fixed wall time, for each time slice of -S
 *             (microseconds; default
 *             100,1000,10000); impl usched-<mode>@<slice>
 *   fanout    socket pairs, a client and an echo task on each, round trips
 *             of 64 bytes through usched_read/usched_write (io_uring)
 *   forkjoin  a job spawns 64 CPU-bound tasks and joins them; for each
 *             slot count of -p
 *
 * The mode comes from the environment (USCHED_MODE=kernel|fallback, read by
 * usched_start()); the implementation is printed as usched-<mode>.
 * Output and clock: see ../common/bench.h.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <usched.h>

#include "../common/cli.h"

#define SUITE	"ubench"

static char impl[48] = "usched";
static struct cli *cli;

static void die(const char *what, int err)
{
	bench_die("ubench", what, err < 0 ? -err : err);
}

static void set_impl(const char *suffix)
{
	snprintf(impl, sizeof(impl), "usched-%s%s",
		 usched_mode_name(usched_mode()), suffix ? suffix : "");
}

/* usched_main with @slots (0: default) and @slice_ns (0: default). */
static void run_main(uint32_t slots, uint64_t slice_ns, int (*fn)(void *),
		     void *arg)
{
	struct usched_config cfg;
	int r;

	usched_config_init(&cfg);
	cfg.slots = slots;
	cfg.slice_ns = slice_ns;
	r = usched_main(&cfg, fn, arg);
	if (r < 0)
		die("usched_main", r);
	if (r > 0)
		die("main task failed", r);
}

static usched_task_t *spawn(usched_fn_t fn, void *arg)
{
	usched_task_t *t;
	int r = usched_spawn(&t, NULL, fn, arg);

	if (r)
		die("usched_spawn", r);
	return t;
}

static void join(usched_task_t *t)
{
	int r = usched_join(t, NULL);

	if (r)
		die("usched_join", r);
}

/* ---- spawn ------------------------------------------------------------ */

static uint64_t *spawn_res;

static int spawn_fn(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	spawn_res[i] = (uint64_t)i * 2 + 1;
	return 0;
}

static uint64_t spawn_once(long n, usched_task_t **t)
{
	uint64_t t0 = now_ns(), s = 0;
	long i;

	for (i = 0; i < n; i++)
		t[i] = spawn(spawn_fn, (void *)(uintptr_t)i);
	for (i = 0; i < n; i++)
		join(t[i]);
	t0 = now_ns() - t0;
	for (i = 0; i < n; i++)
		s += spawn_res[i];
	if (s != (uint64_t)n * (uint64_t)n)
		die("spawn: wrong sum", EIO);
	bench_sink += s;
	return t0;
}

static int m_spawn(void *arg)
{
	long n = cli_n(cli, cli->sz.spawn_n);
	usched_task_t **t = calloc(n, sizeof(*t));
	int r;

	spawn_res = calloc(n, sizeof(*spawn_res));
	if (!t || !spawn_res)
		die("calloc", ENOMEM);
	set_impl(NULL);
	spawn_once(n / 10 + 1, t);
	for (r = 1; r <= cli->reps; r++)
		bench_line(SUITE, "spawn-join", impl, "ns/task",
			   (double)spawn_once(n, t) / (double)n, "n=%ld rep=%d",
			   n, r);
	free(t);
	free(spawn_res);
	return 0;
}

static void w_spawn(struct cli *c)
{
	cli = c;
	run_main(0, 0, m_spawn, NULL);
}

/* ---- yield ------------------------------------------------------------ */

struct yarg {
	long k;
	uint64_t count;
};

static int yield_fn(void *p)
{
	struct yarg *a = p;

	for (long i = 0; i < a->k; i++) {
		usched_yield();
		a->count++;
	}
	return 0;
}

static uint64_t yield_once(long k)
{
	struct yarg a[2] = { { k, 0 }, { k, 0 } };
	usched_task_t *t[2];
	uint64_t t0 = now_ns();

	t[0] = spawn(yield_fn, &a[0]);
	t[1] = spawn(yield_fn, &a[1]);
	join(t[0]);
	join(t[1]);
	t0 = now_ns() - t0;
	bench_sink += a[0].count + a[1].count;
	return t0;
}

static int m_yield(void *arg)
{
	long k = cli_n(cli, cli->sz.yield_k);
	int r;

	set_impl(NULL);
	yield_once(k / 10 + 1);
	for (r = 1; r <= cli->reps; r++)
		bench_line(SUITE, "switch-yield", impl, "ns/switch",
			   (double)yield_once(k) / (double)(2 * k), "n=%ld rep=%d",
			   2 * k, r);
	return 0;
}

static void w_yield(struct cli *c)
{
	cli = c;
	run_main(1, 0, m_yield, NULL);
}

/* ---- chan ------------------------------------------------------------- */

static usched_chan_t *ping, *pong;

static int echo_fn(void *arg)
{
	uint64_t v;

	while (!usched_chan_recv(ping, &v)) {
		v++;
		if (usched_chan_send(pong, &v))
			die("chan: send", EPIPE);
	}
	return 0;
}

static uint64_t chan_once(long k)
{
	uint64_t t0, s = 0, v;
	usched_task_t *t;
	long i;
	int r;

	if ((r = usched_chan_create(&ping, sizeof(v), 0)) ||
	    (r = usched_chan_create(&pong, sizeof(v), 0)))
		die("usched_chan_create", r);
	t = spawn(echo_fn, NULL);
	t0 = now_ns();
	for (i = 0; i < k; i++) {
		v = (uint64_t)i;
		if ((r = usched_chan_send(ping, &v)) ||
		    (r = usched_chan_recv(pong, &v)))
			die("chan: ping", r);
		s += v;
	}
	t0 = now_ns() - t0;
	usched_chan_close(ping);
	join(t);
	usched_chan_destroy(ping);
	usched_chan_destroy(pong);
	if (s != (uint64_t)k * (uint64_t)(k + 1) / 2)
		die("chan: wrong sum", EIO);
	bench_sink += s;
	return t0;
}

static int m_chan(void *arg)
{
	long k = cli_n(cli, cli->sz.chan_k);
	int r;

	set_impl(NULL);
	chan_once(k / 10 + 1);
	for (r = 1; r <= cli->reps; r++)
		bench_line(SUITE, "switch-chan", impl, "ns/switch",
			   (double)chan_once(k) / (double)(2 * k), "n=%ld rep=%d",
			   2 * k, r);
	return 0;
}

static void w_chan(struct cli *c)
{
	cli = c;
	run_main(1, 0, m_chan, NULL);
}

/* ---- mem -------------------------------------------------------------- */

static usched_chan_t *gate;
static uint64_t parked;

static int parked_fn(void *arg)
{
	__atomic_add_fetch(&parked, 1, __ATOMIC_RELAXED);
	usched_chan_recv(gate, NULL);	/* -EPIPE once closed */
	return 0;
}

static uint64_t rss_bytes(void)
{
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%lu %lu", &size, &res) != 2)
		die("read /proc/self/statm", errno);
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int m_mem(void *arg)
{
	long n = cli_n(cli, cli->sz.mem_n), i;
	struct usched_attr a;
	uint64_t r0, r1;
	int r;

	set_impl(NULL);
	if ((r = usched_chan_create(&gate, 1, 0)))
		die("usched_chan_create", r);
	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	r0 = rss_bytes();
	for (i = 0; i < n; i++)
		if ((r = usched_spawn(NULL, &a, parked_fn, NULL)))
			die("usched_spawn (mem)", r);
	while (__atomic_load_n(&parked, __ATOMIC_RELAXED) < (uint64_t)n)
		usched_sleep(NS_PER_MS);
	usched_sleep(20 * NS_PER_MS);	/* the last ones reach the receive */
	r1 = rss_bytes();
	usched_chan_close(gate);
	bench_line(SUITE, "mem-parked", impl, "B/task",
		   (double)(r1 - r0) / (double)n, "n=%ld rep=1", n);
	return 0;
}

static void w_mem(struct cli *c)
{
	cli = c;
	run_main(0, 0, m_mem, NULL);
}

/* ---- sysblock --------------------------------------------------------- */

struct sb {
	int fds[2];
	int total;
	usched_chan_t *ready;
	uint64_t t0;
	struct samples lat;
};

static int sb_b(void *p)
{
	struct sb *s = p;
	uint64_t t;

	for (int i = 0; i < s->total; i++) {
		if (usched_chan_recv(s->ready, NULL))
			die("sysblock: recv", EPIPE);
		t = now_ns();
		samples_add(&s->lat, t - __atomic_load_n(&s->t0, __ATOMIC_ACQUIRE));
		if (write(s->fds[1], "x", 1) != 1)
			die("sysblock: write", errno);
	}
	return 0;
}

/*
 * When no other task runs while A is blocked (the library did not hand the
 * slot on), B never writes: say so and stop, rather than hang until the
 * harness's timeout.
 */
#define SYSBLOCK_STALL_S	10

static void sysblock_stalled(int sig)
{
	static const char msg[] = "# ubench: sysblock: no other task ran for "
		"10 s while a task was blocked in read(2): the slot was not "
		"handed on\n";

	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	_exit(3);
}

static int m_sysblock(void *arg)
{
	int n = (int)cli_n(cli, cli->sz.sysblock_n), warm = n / 10 + 2, r, i;
	struct sb s = { .total = warm + cli->reps * n };
	struct samples rep = { 0 }, all = { 0 };
	usched_task_t *b;
	char c = 0;

	set_impl(NULL);
	if (pipe(s.fds))
		die("pipe", errno);
	if ((r = usched_chan_create(&s.ready, 1, 1)))
		die("usched_chan_create", r);
	b = spawn(sb_b, &s);
	signal(SIGALRM, sysblock_stalled);
	for (i = 0; i < s.total; i++) {
		if (usched_chan_send(s.ready, &c))
			die("sysblock: send", EPIPE);
		alarm(SYSBLOCK_STALL_S);
		__atomic_store_n(&s.t0, now_ns(), __ATOMIC_RELEASE);
		/* The raw syscall: the worker itself blocks in the kernel. */
		if (read(s.fds[0], &c, 1) != 1)
			die("sysblock: read", errno);
		bench_sink += (unsigned char)c;
	}
	alarm(0);
	join(b);
	for (r = 1; r <= cli->reps; r++) {
		rep.n = 0;
		for (i = 0; i < n; i++) {
			samples_add(&rep, s.lat.v[warm + (r - 1) * n + i]);
			samples_add(&all, s.lat.v[warm + (r - 1) * n + i]);
		}
		bench_lat(SUITE, "syscall-block", impl, &rep, r);
	}
	bench_cdf(SUITE, "syscall-block", impl, &all);
	samples_free(&rep);
	samples_free(&all);
	samples_free(&s.lat);
	usched_chan_destroy(s.ready);
	close(s.fds[0]);
	close(s.fds[1]);
	return 0;
}

static void w_sysblock(struct cli *c)
{
	cli = c;
	run_main(1, 0, m_sysblock, NULL);
}

/* ---- ticker ----------------------------------------------------------- */

static uint32_t hog_stop;

static int hog_fn(void *p)
{
	uint64_t x = (uintptr_t)p + 1;

	while (!__atomic_load_n(&hog_stop, __ATOMIC_RELAXED))
		for (int j = 0; j < 1000; j++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	__atomic_add_fetch(&bench_sink, x, __ATOMIC_RELAXED);
	return 0;
}

struct tick {
	int ticks;
	struct samples *s;
};

static int ticker_fn(void *p)
{
	struct tick *t = p;
	uint64_t next = now_ns() + NS_PER_MS, now;
	uint64_t end = next + (uint64_t)t->ticks * NS_PER_MS;
	int r;

	while (now_ns() < end) {
		if ((r = usched_sleep_until(next)))
			die("usched_sleep_until", r);
		now = now_ns();
		samples_add(t->s, now > next ? now - next : 0);
		next += NS_PER_MS;
		if (next <= now)
			next = now + NS_PER_MS;
	}
	return 0;
}

static void ticker_once(int ticks, struct samples *s)
{
	struct usched_stats st = { .size = sizeof(st) };
	int nh = 2 * (int)(usched_stats_get(&st) ? (uint32_t)bench_cpus() : st.slots), i;
	usched_task_t **h = calloc(nh, sizeof(*h)), *t;
	struct tick tk = { ticks, s };

	hog_stop = 0;
	for (i = 0; i < nh; i++)
		h[i] = spawn(hog_fn, (void *)(uintptr_t)i);
	t = spawn(ticker_fn, &tk);
	join(t);
	__atomic_store_n(&hog_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nh; i++)
		join(h[i]);
	free(h);
}

static int m_ticker(void *arg)
{
	struct samples s = { 0 }, all = { 0 };
	char suffix[24];
	long us = *(long *)arg;
	size_t i;
	int r;

	if (us % 1000 == 0)
		snprintf(suffix, sizeof(suffix), "@%ldms", us / 1000);
	else
		snprintf(suffix, sizeof(suffix), "@%ldus", us);
	set_impl(suffix);
	ticker_once(cli->sz.ticker_ms / 10 + 1, &s);
	for (r = 1; r <= cli->reps; r++) {
		s.n = 0;
		ticker_once(cli->sz.ticker_ms, &s);
		for (i = 0; i < s.n; i++)
			samples_add(&all, s.v[i]);
		bench_lat(SUITE, "ticker-lateness", impl, &s, r);
	}
	bench_cdf(SUITE, "ticker-lateness", impl, &all);
	samples_free(&s);
	samples_free(&all);
	return 0;
}

static void w_ticker(struct cli *c)
{
	cli = c;
	static const long def[] = { 100, 1000, 10000 };
	int i, n = c->nslices ? (int)c->nslices : 3;

	for (i = 0; i < n; i++) {
		long us = c->nslices ? c->slices_us[i] : def[i];

		run_main(0, (uint64_t)us * NS_PER_US, m_ticker, &us);
	}
}

/* ---- fanout ----------------------------------------------------------- */

#define MSG	64

struct fconn {
	int fd, rounds;
	uint64_t sum;
	usched_wg_t *wg;
};

static void io_full(ssize_t (*op)(int, void *, size_t), int fd, char *b,
		    const char *what)
{
	size_t done = 0;
	ssize_t r;

	while (done < MSG) {
		r = op(fd, b + done, MSG - done);
		if (r <= 0)
			die(what, r < 0 ? (int)r : EPIPE);
		done += (size_t)r;
	}
}

static ssize_t do_write(int fd, void *b, size_t n)
{
	return usched_write(fd, b, n);
}

static int echo_conn(void *p)
{
	struct fconn *c = p;
	char buf[MSG];

	for (int k = 0; k < c->rounds; k++) {
		io_full(usched_read, c->fd, buf, "fanout: server read");
		io_full(do_write, c->fd, buf, "fanout: server write");
	}
	usched_wg_done(c->wg);
	return 0;
}

static int client_conn(void *p)
{
	struct fconn *c = p;
	char buf[MSG];

	memset(buf, 0, sizeof(buf));
	for (int k = 0; k < c->rounds; k++) {
		buf[0] = (char)(c->fd + k);
		io_full(do_write, c->fd, buf, "fanout: client write");
		io_full(usched_read, c->fd, buf, "fanout: client read");
		c->sum += (unsigned char)buf[0];
	}
	usched_wg_done(c->wg);
	return 0;
}

static int m_fanout(void *arg)
{
	int pairs = (int)cli_n(cli, cli->sz.fanout_pairs), i, r, rr;
	struct fconn *c = calloc(2 * pairs, sizeof(*c));
	struct usched_attr a;
	usched_wg_t wg;
	uint64_t t0;

	set_impl(NULL);
	usched_attr_init(&a);
	a.flags = USCHED_ATTR_DETACHED;
	for (i = 0; i < pairs; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			die("socketpair", errno);
		c[2 * i].fd = sv[0];
		c[2 * i + 1].fd = sv[1];
	}
	for (r = 0; r <= cli->reps; r++) {
		rr = r ? cli->sz.fanout_rounds : 1;	/* r == 0: warm-up */
		usched_wg_init(&wg);
		usched_wg_add(&wg, 2 * pairs);
		t0 = now_ns();
		for (i = 0; i < 2 * pairs; i++) {
			c[i].rounds = rr;
			c[i].wg = &wg;
			if (usched_spawn(NULL, &a, i % 2 ? echo_conn : client_conn, &c[i]))
				die("usched_spawn (fanout)", EAGAIN);
		}
		if (usched_wg_wait(&wg))
			die("usched_wg_wait", ECANCELED);
		t0 = now_ns() - t0;
		if (r)
			bench_line(SUITE, "fanout-io", impl, "msg/s",
				   2.0 * pairs * rr / ((double)t0 / 1e9),
				   "n=%d rep=%d", pairs, r);
	}
	for (i = 0; i < 2 * pairs; i++) {
		bench_sink += c[i].sum;
		close(c[i].fd);
	}
	free(c);
	return 0;
}

static void w_fanout(struct cli *c)
{
	long pairs = cli_n(c, c->sz.fanout_pairs);
	rlim_t lim;

	cli = c;
	lim = bench_nofile(2 * (rlim_t)pairs + 256);
	if (lim < 2 * (rlim_t)pairs + 256) {
		c->n = (long)(lim - 256) / 2;
		printf("# fanout: RLIMIT_NOFILE is %llu here: %ld socket pairs\n",
		       (unsigned long long)lim, c->n);
	}
	run_main(0, 0, m_fanout, NULL);
}

/* ---- forkjoin --------------------------------------------------------- */

static uint64_t fj_res[FORKJOIN_TASKS];

static int fj_fn(void *arg)
{
	uintptr_t t = (uintptr_t)arg;

	fj_res[t] = forkjoin_work(t + 1);
	return 0;
}

static void fj_job(void)
{
	usched_task_t *t[FORKJOIN_TASKS];
	int i;

	for (i = 0; i < FORKJOIN_TASKS; i++)
		t[i] = spawn(fj_fn, (void *)(uintptr_t)i);
	for (i = 0; i < FORKJOIN_TASKS; i++)
		join(t[i]);
	for (i = 0; i < FORKJOIN_TASKS; i++)
		bench_sink += fj_res[i];
}

static int m_forkjoin(void *arg)
{
	int p = *(int *)arg, r, k;
	char name[32];
	uint64_t t0;

	set_impl(NULL);
	snprintf(name, sizeof(name), "forkjoin-p%d", p);
	fj_job();
	for (r = 1; r <= cli->reps; r++) {
		t0 = now_ns();
		for (k = 0; k < cli->sz.forkjoin_jobs; k++)
			fj_job();
		t0 = now_ns() - t0;
		bench_line(SUITE, name, impl, "ms/job",
			   (double)t0 / 1e6 / cli->sz.forkjoin_jobs,
			   "slots=%d rep=%d", p, r);
	}
	return 0;
}

static void w_forkjoin(struct cli *c)
{
	cli = c;
	for (int i = 0; i < c->nprocs; i++)
		run_main((uint32_t)c->procs[i], 0, m_forkjoin, &c->procs[i]);
}

static const struct workload workloads[] = {
	{ "spawn", w_spawn },
	{ "yield", w_yield },
	{ "chan", w_chan },
	{ "mem", w_mem },
	{ "sysblock", w_sysblock },
	{ "ticker", w_ticker },
	{ "fanout", w_fanout },
	{ "forkjoin", w_forkjoin },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return cli_run("ubench", argc, argv, workloads);
}
