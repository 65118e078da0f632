/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what every C benchmark program of tools/bench shares: the
 * clock, samples and percentiles, CPU placement, a sink against dead-code
 * elimination, and the one output format.
 *
 * Output.  Every result is one line on stdout:
 *
 *   BENCH suite=<program> name=<workload> impl=<implementation>
 *         unit=<unit> value=<number> [key=value ...]
 *
 * (one line, keys separated by single spaces, no spaces inside values).
 * value is the primary metric of one repetition: a cost (lower is better)
 * unless the unit ends in "/s" (a rate: higher is better).  Optional keys:
 *   rep=N      the repetition (1..); the harness takes the median over reps
 *   p50= p99= max=   latency workloads: value is the p50 of that rep
 *   n=N        samples behind a percentile
 *   cdf=q:v,q:v,...  a distribution (quantile:value), over all reps; a line
 *              with cdf= is not a repetition
 * tools/bench/run parses these lines (and nothing else) from every program,
 * on the host and from the VM's streamed output; the Go programs print the
 * same format (tools/bench/go/bench.go).
 *
 * Clock: CLOCK_MONOTONIC everywhere (clock_gettime through the vDSO).
 */
#ifndef USCHED_BENCH_H
#define USCHED_BENCH_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_US	1000ull
#define NS_PER_MS	1000000ull
#define NS_PER_S	1000000000ull

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The compiler must assume @v is used: no dead-code elimination. */
#define bench_keep(v)	__asm__ __volatile__("" : : "r"(v) : "memory")

/* Results that end here are printed at exit, so they cannot be elided. */
static volatile uint64_t bench_sink;

static inline void bench_die(const char *prog, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	exit(1);
}

/* Pin the calling thread to @cpu (modulo the online CPUs). */
static inline int bench_pin(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % (n > 0 ? n : 1), &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* CPUs this process may use (the harness places every program alike). */
static inline int bench_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return (int)sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

/*
 * Lift RLIMIT_NOFILE to @n, or to the hard limit where this process may
 * not raise that (a container); returns the limit now.
 */
static inline rlim_t bench_nofile(rlim_t n)
{
	struct rlimit r, w;

	if (getrlimit(RLIMIT_NOFILE, &r))
		bench_die("bench", "getrlimit", errno);
	if (r.rlim_cur >= n)
		return r.rlim_cur;
	w.rlim_cur = n;
	w.rlim_max = r.rlim_max < n ? n : r.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &w))
		return n;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r))
		bench_die("bench", "setrlimit(RLIMIT_NOFILE)", errno);
	return r.rlim_max;
}

/* ---- samples ------------------------------------------------------------ */

struct samples {
	uint64_t *v;
	size_t n, cap;
};

static inline void samples_add(struct samples *s, uint64_t x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			bench_die("bench", "realloc", ENOMEM);
	}
	s->v[s->n++] = x;
}

static inline void samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline void samples_sort(struct samples *s)
{
	qsort(s->v, s->n, sizeof(*s->v), bench_cmp_u64);
}

/* Quantile @q (0..1) of sorted samples: nearest rank. */
static inline uint64_t samples_q(const struct samples *s, double q)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(q * (double)s->n + 0.5);
	i = i ? i - 1 : 0;
	return s->v[i < s->n ? i : s->n - 1];
}

static int bench_cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline double median_dbl(double *v, int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- output ------------------------------------------------------------- */

/* One BENCH line; @extra is printf-style key=value text, or NULL. */
static inline void bench_line(const char *suite, const char *name,
			      const char *impl, const char *unit, double value,
			      const char *extra, ...)
{
	char buf[512] = "";
	va_list ap;

	if (extra) {
		va_start(ap, extra);
		vsnprintf(buf, sizeof(buf), extra, ap);
		va_end(ap);
	}
	printf("BENCH suite=%s name=%s impl=%s unit=%s value=%.6g%s%s\n",
	       suite, name, impl, unit, value, *buf ? " " : "", buf);
	fflush(stdout);
}

/* A latency repetition: value=p50, with p99, max and n.  Sorts @s. */
static inline void bench_lat(const char *suite, const char *name,
			     const char *impl, struct samples *s, int rep)
{
	samples_sort(s);
	bench_line(suite, name, impl, "ns", (double)samples_q(s, 0.5),
		   "p50=%llu p99=%llu max=%llu n=%zu rep=%d",
		   (unsigned long long)samples_q(s, 0.5),
		   (unsigned long long)samples_q(s, 0.99),
		   (unsigned long long)s->v[s->n ? s->n - 1 : 0], s->n, rep);
}

/* The distribution of @s (all reps), for the report's plots.  Sorts @s. */
static inline void bench_cdf(const char *suite, const char *name,
			     const char *impl, struct samples *s)
{
	static const double qs[] = { 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
				     0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995,
				     0.999, 1.0 };
	char buf[1024];
	size_t i, off = 0;

	if (!s->n)
		return;
	samples_sort(s);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%g:%llu",
				i ? "," : "", qs[i],
				(unsigned long long)samples_q(s, qs[i]));
	bench_line(suite, name, impl, "ns", (double)samples_q(s, 0.5),
		   "n=%zu cdf=%s", s->n, buf);
}

#endif /* USCHED_BENCH_H */
