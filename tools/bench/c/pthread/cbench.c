// SPDX-License-Identifier: GPL-2.0
/*
 * cbench - the plain-threads peer of usched's benchmarks: the same
 * workloads as tools/bench/go (goroutines) and tools/bench/c/usched/ubench.c
 * (usched tasks), done with what a C programmer has without a runtime:
 * pthreads, mutexes and condition variables, sched_yield, epoll.
 *
 *   spawn     pthread_create + pthread_join (at most SPAWN_BATCH threads
 *             alive; fewer threads than tasks: the unit is per thread)
 *   yield     two threads on one CPU calling sched_yield
 *   chan      ping-pong over two unbuffered channels made of a mutex and a
 *             condition variable, both threads on one CPU
 *   ticker    a thread sleeping to each 1 ms tick (clock_nanosleep,
 *             TIMER_ABSTIME) beside 2 x CPUs spinning threads, for a
 *             fixed wall time
 *   fanout    socket pairs served by one epoll loop per CPU (impl c-epoll)
 *   forkjoin  per job, P threads share 64 subtasks (an atomic counter)
 *
 * Output and clock: see ../common/bench.h.  Built static by the Makefile's
 * bench section so the same binary runs on the host and in the VM.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "../common/cli.h"

#define SUITE	"cbench"
#define IMPL	"c-thread"

static void die(const char *what, int err)
{
	bench_die("cbench", what, err);
}

static void create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		die("pthread_create", err);
}

/* The first CPU this process may use: one-CPU workloads run there. */
static int first_cpu(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	return 0;
}

/* ---- spawn ------------------------------------------------------------ */

static uint64_t *spawn_res;

static void *spawn_fn(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	spawn_res[i] = (uint64_t)i * 2 + 1;
	return NULL;
}

static uint64_t spawn_once(long n)
{
	static pthread_t t[SPAWN_BATCH];
	uint64_t t0 = now_ns(), s = 0;
	long i, j, b;

	for (i = 0; i < n; i += b) {
		b = n - i < SPAWN_BATCH ? n - i : SPAWN_BATCH;
		for (j = 0; j < b; j++)
			create(&t[j], spawn_fn, (void *)(uintptr_t)(i + j));
		for (j = 0; j < b; j++)
			pthread_join(t[j], NULL);
	}
	t0 = now_ns() - t0;
	for (i = 0; i < n; i++)
		s += spawn_res[i];
	if (s != (uint64_t)n * (uint64_t)n)
		die("spawn: wrong sum", EIO);
	bench_sink += s;
	return t0;
}

static void w_spawn(struct cli *c)
{
	long n = cli_n(c, c->sz.spawn_threads);
	int r;

	spawn_res = calloc(n, sizeof(*spawn_res));
	spawn_once(n / 10 + 1);
	for (r = 1; r <= c->reps; r++)
		bench_line(SUITE, "spawn-join", IMPL, "ns/task",
			   (double)spawn_once(n) / (double)n, "n=%ld rep=%d", n, r);
	free(spawn_res);
}

/* ---- yield ------------------------------------------------------------ */

struct yarg {
	long k;
	uint32_t *go;
	uint64_t count;
};

static void *yield_fn(void *p)
{
	struct yarg *a = p;

	bench_pin(first_cpu());
	while (!__atomic_load_n(a->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (long i = 0; i < a->k; i++) {
		sched_yield();
		a->count++;
	}
	return NULL;
}

static uint64_t yield_once(long k)
{
	uint32_t go = 0;
	struct yarg a[2] = { { k, &go, 0 }, { k, &go, 0 } };
	pthread_t t[2];
	uint64_t t0;

	create(&t[0], yield_fn, &a[0]);
	create(&t[1], yield_fn, &a[1]);
	usleep(10000);
	t0 = now_ns();
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	t0 = now_ns() - t0;
	bench_sink += a[0].count + a[1].count;
	return t0;
}

static void w_yield(struct cli *c)
{
	long k = cli_n(c, c->sz.yield_k);
	int r;

	yield_once(k / 10 + 1);
	for (r = 1; r <= c->reps; r++)
		bench_line(SUITE, "switch-yield", IMPL, "ns/switch",
			   (double)yield_once(k) / (double)(2 * k), "n=%ld rep=%d",
			   2 * k, r);
}

/* ---- chan: an unbuffered channel of threads ----------------------------- */

struct tchan {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int full, closed;
	uint64_t v;
};

#define TCHAN_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 }

/* Send: wait for room, put, wait until a receiver took it. */
static void tchan_send(struct tchan *ch, uint64_t v)
{
	pthread_mutex_lock(&ch->m);
	while (ch->full)
		pthread_cond_wait(&ch->cv, &ch->m);
	ch->v = v;
	ch->full = 1;
	pthread_cond_broadcast(&ch->cv);
	while (ch->full)
		pthread_cond_wait(&ch->cv, &ch->m);
	pthread_mutex_unlock(&ch->m);
}

/* Receive: 0, or -1 once closed and empty. */
static int tchan_recv(struct tchan *ch, uint64_t *v)
{
	pthread_mutex_lock(&ch->m);
	while (!ch->full && !ch->closed)
		pthread_cond_wait(&ch->cv, &ch->m);
	if (!ch->full) {
		pthread_mutex_unlock(&ch->m);
		return -1;
	}
	*v = ch->v;
	ch->full = 0;
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->m);
	return 0;
}

static void tchan_close(struct tchan *ch)
{
	pthread_mutex_lock(&ch->m);
	ch->closed = 1;
	pthread_cond_broadcast(&ch->cv);
	pthread_mutex_unlock(&ch->m);
}

static struct tchan ping = TCHAN_INIT, pong = TCHAN_INIT;

static void *echo_fn(void *p)
{
	uint64_t v;

	bench_pin(first_cpu());
	while (!tchan_recv(&ping, &v))
		tchan_send(&pong, v + 1);
	return NULL;
}

static uint64_t chan_once(long k)
{
	uint64_t t0, s = 0, v;
	pthread_t t;
	long i;

	ping.closed = pong.closed = 0;
	create(&t, echo_fn, NULL);
	usleep(10000);
	t0 = now_ns();
	for (i = 0; i < k; i++) {
		tchan_send(&ping, (uint64_t)i);
		if (tchan_recv(&pong, &v))
			die("chan: closed", EPIPE);
		s += v;
	}
	t0 = now_ns() - t0;
	tchan_close(&ping);
	pthread_join(t, NULL);
	if (s != (uint64_t)k * (uint64_t)(k + 1) / 2)
		die("chan: wrong sum", EIO);
	bench_sink += s;
	return t0;
}

static void w_chan(struct cli *c)
{
	long k = cli_n(c, c->sz.chan_k);
	int r;

	bench_pin(first_cpu());
	chan_once(k / 10 + 1);
	for (r = 1; r <= c->reps; r++)
		bench_line(SUITE, "switch-chan", IMPL, "ns/switch",
			   (double)chan_once(k) / (double)(2 * k), "n=%ld rep=%d",
			   2 * k, r);
}

/* ---- ticker ----------------------------------------------------------- */

static uint32_t hog_stop;

static void *hog_fn(void *p)
{
	uint64_t x = (uintptr_t)p + 1;

	while (!__atomic_load_n(&hog_stop, __ATOMIC_RELAXED))
		for (int j = 0; j < 1000; j++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	__atomic_add_fetch(&bench_sink, x, __ATOMIC_RELAXED);
	return NULL;
}

static void ticker_once(int ticks, struct samples *s)
{
	int nh = 2 * bench_cpus(), i;
	pthread_t *h = calloc(nh, sizeof(*h));
	uint64_t next, now, end;
	struct timespec ts;

	hog_stop = 0;
	for (i = 0; i < nh; i++)
		create(&h[i], hog_fn, (void *)(uintptr_t)i);
	next = now_ns() + NS_PER_MS;
	end = next + (uint64_t)ticks * NS_PER_MS;
	while (now_ns() < end) {
		ts.tv_sec = next / NS_PER_S;
		ts.tv_nsec = next % NS_PER_S;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = now_ns();
		samples_add(s, now > next ? now - next : 0);
		next += NS_PER_MS;
		if (next <= now)
			next = now + NS_PER_MS;
	}
	__atomic_store_n(&hog_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nh; i++)
		pthread_join(h[i], NULL);
	free(h);
}

static void w_ticker(struct cli *c)
{
	struct samples s = { 0 }, all = { 0 };
	int r;
	size_t i;

	ticker_once(c->sz.ticker_ms / 10 + 1, &s);
	for (r = 1; r <= c->reps; r++) {
		s.n = 0;
		ticker_once(c->sz.ticker_ms, &s);
		for (i = 0; i < s.n; i++)
			samples_add(&all, s.v[i]);
		bench_lat(SUITE, "ticker-lateness", IMPL, &s, r);
	}
	bench_cdf(SUITE, "ticker-lateness", IMPL, &all);
	samples_free(&s);
	samples_free(&all);
}

/* ---- fanout: epoll ------------------------------------------------------ */

#define MSG	64

struct conn {
	int fd, client, left, got;
	char buf[MSG];
};

struct floop {
	struct conn *c;		/* this loop's connections, both ends */
	int n, clients_left, rounds;
	uint64_t sum;
	pthread_t t;
};

static void full_write(int fd, const char *b)
{
	ssize_t w = write(fd, b, MSG);

	/* 64 bytes into an empty socket buffer: all or an error. */
	if (w != MSG)
		die("fanout: write", w < 0 ? errno : EIO);
}

static void *floop_fn(void *p)
{
	struct floop *l = p;
	struct epoll_event ev[256];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, k;

	if (ep < 0)
		die("epoll_create1", errno);
	for (i = 0; i < l->n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &l->c[i] };

		l->c[i].left = l->rounds;
		l->c[i].got = 0;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, l->c[i].fd, &e))
			die("epoll_ctl", errno);
	}
	l->clients_left = 0;
	for (i = 0; i < l->n; i++) {
		if (l->c[i].client) {
			l->clients_left++;
			memset(l->c[i].buf, i, MSG);
			full_write(l->c[i].fd, l->c[i].buf);
		}
	}
	while (l->clients_left) {
		k = epoll_wait(ep, ev, 256, -1);
		if (k < 0 && errno != EINTR)
			die("epoll_wait", errno);
		for (i = 0; i < k; i++) {
			struct conn *c = ev[i].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->got, MSG - c->got);

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				die("fanout: read", r < 0 ? errno : EPIPE);
			}
			c->got += r;
			if (c->got < MSG)
				continue;
			c->got = 0;
			if (!c->client) {	/* echo */
				full_write(c->fd, c->buf);
				continue;
			}
			l->sum += (unsigned char)c->buf[0];
			if (--c->left > 0) {
				full_write(c->fd, c->buf);
			} else {
				l->clients_left--;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			}
		}
	}
	close(ep);
	return NULL;
}

static void w_fanout(struct cli *c)
{
	int pairs = (int)cli_n(c, c->sz.fanout_pairs), rounds = c->sz.fanout_rounds;
	int nl = bench_cpus(), i, r, rr;
	struct floop *l = calloc(nl, sizeof(*l));
	rlim_t lim = bench_nofile(2 * (rlim_t)pairs + 256);
	uint64_t t0;

	if (lim < 2 * (rlim_t)pairs + 256) {
		pairs = (int)(lim - 256) / 2;
		printf("# fanout: RLIMIT_NOFILE is %llu here: %d socket pairs\n",
		       (unsigned long long)lim, pairs);
	}
	for (i = 0; i < nl; i++)
		l[i].c = calloc(2 * (pairs / nl + 1), sizeof(struct conn));
	for (i = 0; i < pairs; i++) {
		struct floop *x = &l[i % nl];
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
			die("socketpair", errno);
		x->c[x->n++] = (struct conn){ .fd = sv[0], .client = 1 };
		x->c[x->n++] = (struct conn){ .fd = sv[1], .client = 0 };
	}
	for (r = 0; r <= c->reps; r++) {
		rr = r ? rounds : 1;	/* r == 0: warm-up */
		t0 = now_ns();
		for (i = 0; i < nl; i++) {
			l[i].rounds = rr;
			create(&l[i].t, floop_fn, &l[i]);
		}
		for (i = 0; i < nl; i++)
			pthread_join(l[i].t, NULL);
		t0 = now_ns() - t0;
		for (i = 0; i < nl; i++)
			bench_sink += l[i].sum;
		if (r)
			bench_line(SUITE, "fanout-io", "c-epoll", "msg/s",
				   2.0 * pairs * rr / ((double)t0 / 1e9),
				   "n=%d rep=%d", pairs, r);
	}
	for (i = 0; i < nl; i++) {
		for (int j = 0; j < l[i].n; j++)
			close(l[i].c[j].fd);
		free(l[i].c);
	}
	free(l);
}

/* ---- forkjoin ------------------------------------------------------------ */

struct fj {
	uint32_t next;
	uint64_t res[FORKJOIN_TASKS];
};

static void *fj_fn(void *p)
{
	struct fj *j = p;
	uint32_t t;

	while ((t = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < FORKJOIN_TASKS)
		j->res[t] = forkjoin_work(t + 1);
	return NULL;
}

static void fj_job(int p)
{
	pthread_t t[CLI_MAXLIST];
	struct fj j = { 0 };
	int i;

	for (i = 0; i < p; i++)
		create(&t[i], fj_fn, &j);
	for (i = 0; i < p; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < FORKJOIN_TASKS; i++)
		bench_sink += j.res[i];
}

static void w_forkjoin(struct cli *c)
{
	char name[32];
	uint64_t t0;
	int i, r, k;

	for (i = 0; i < c->nprocs; i++) {
		int p = c->procs[i];

		snprintf(name, sizeof(name), "forkjoin-p%d", p);
		fj_job(p);
		for (r = 1; r <= c->reps; r++) {
			t0 = now_ns();
			for (k = 0; k < c->sz.forkjoin_jobs; k++)
				fj_job(p);
			t0 = now_ns() - t0;
			bench_line(SUITE, name, IMPL, "ms/job",
				   (double)t0 / 1e6 / c->sz.forkjoin_jobs,
				   "slots=%d rep=%d", p, r);
		}
	}
}

static const struct workload workloads[] = {
	{ "spawn", w_spawn },
	{ "yield", w_yield },
	{ "chan", w_chan },
	{ "ticker", w_ticker },
	{ "fanout", w_fanout },
	{ "forkjoin", w_forkjoin },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return cli_run("cbench", argc, argv, workloads);
}
