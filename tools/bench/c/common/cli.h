/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the command line every workload program takes, as gobench does:
 *
 *   PROG WORKLOAD [-q|-s] [-r REPS] [-n SIZE] [-p 1,2,...] [-S US,US,...]
 *
 *   -q  quick sizes; -s  smoke sizes (see sizes.h)
 *   -r  repetitions (default: the size table's)
 *   -n  size of the workload (default: the size table's)
 *   -p  forkjoin: slot counts (default 1..CPUs this process may use)
 *   -S  ticker (usched only): time slices in microseconds
 */
#ifndef USCHED_BENCH_CLI_H
#define USCHED_BENCH_CLI_H

#include <getopt.h>

#include "bench.h"
#include "sizes.h"

#define CLI_MAXLIST	16

struct cli {
	const char *workload;
	struct sizes sz;
	int reps;
	long n;				/* -n, 0: unset */
	int procs[CLI_MAXLIST], nprocs;
	long slices_us[CLI_MAXLIST], nslices;
};

struct workload {
	const char *name;
	void (*fn)(struct cli *);
};

static inline long cli_n(const struct cli *c, long def)
{
	return c->n > 0 ? c->n : def;
}

static inline int cli_list(const char *s, long *out, int max)
{
	int n = 0;
	char *end;

	while (*s && n < max) {
		out[n] = strtol(s, &end, 10);
		if (end == s || out[n] < 1)
			return -1;
		n++;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return n;
}

static inline void cli_usage(const char *prog, const struct workload *w)
{
	fprintf(stderr, "usage: %s WORKLOAD [-q|-s] [-r REPS] [-n SIZE] [-p 1,2,..] [-S US,..]\nworkloads:", prog);
	for (; w->name; w++)
		fprintf(stderr, " %s", w->name);
	fprintf(stderr, "\n");
	exit(2);
}

/* Parse the command line and run the workload. */
static inline int cli_run(const char *prog, int argc, char **argv,
			  const struct workload *ws)
{
	const struct workload *w;
	struct cli c = { .sz = sizes_full };
	long l[CLI_MAXLIST];
	int opt, i, n;

	if (argc < 2)
		cli_usage(prog, ws);
	for (w = ws; w->name && strcmp(w->name, argv[1]); w++)
		;
	if (!w->name)
		cli_usage(prog, ws);
	c.workload = w->name;
	optind = 2;
	while ((opt = getopt(argc, argv, "qsr:n:p:S:")) != -1) {
		switch (opt) {
		case 'q': c.sz = sizes_quick; break;
		case 's': c.sz = sizes_smoke; break;
		case 'r': c.reps = atoi(optarg); break;
		case 'n': c.n = atol(optarg); break;
		case 'p':
			n = cli_list(optarg, l, CLI_MAXLIST);
			if (n <= 0)
				cli_usage(prog, ws);
			for (i = 0; i < n; i++)
				c.procs[i] = (int)l[i];
			c.nprocs = n;
			break;
		case 'S':
			n = cli_list(optarg, c.slices_us, CLI_MAXLIST);
			if (n <= 0)
				cli_usage(prog, ws);
			c.nslices = n;
			break;
		default:
			cli_usage(prog, ws);
		}
	}
	if (c.reps <= 0)
		c.reps = c.sz.reps;
	if (!c.nprocs) {
		c.nprocs = bench_cpus() < CLI_MAXLIST ? bench_cpus() : CLI_MAXLIST;
		for (i = 0; i < c.nprocs; i++)
			c.procs[i] = i + 1;
	}
	printf("# %s %s: %d CPUs, %d repetitions, clock CLOCK_MONOTONIC\n",
	       prog, c.workload, bench_cpus(), c.reps);
	fflush(stdout);
	w->fn(&c);
	printf("# sink %llu\n", (unsigned long long)bench_sink);
	return 0;
}

#endif /* USCHED_BENCH_CLI_H */
