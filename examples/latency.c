// SPDX-License-Identifier: GPL-2.0
/*
 * latency.c - CPU-heavy tasks and a latency-sensitive one, side by side:
 * what preemption buys.
 *
 * The runtime gets SLOTS slots (tasks that run at once; default 2), and
 * as many hog tasks as slots: each spins in pure arithmetic for SECS
 * seconds and never blocks or yields.  Next to them, a ticker task wants
 * to wake every millisecond (usched_sleep_until() on an absolute
 * schedule) and records how late each wake-up was.
 *
 * Without preemption, the hogs hold every slot until they end, and the
 * ticker - runnable, but with no slot to run on - waits for seconds.  With
 * preemption (the default), a task that ran for a whole time slice is
 * switched out at the next slice boundary: by usched.ko's slice timer in
 * kernel mode, by a signal from the runtime's monitor thread in fallback
 * mode.  The ticker is then late by about one slice at most.
 *
 * Usage: latency [-s SLOTS] [-t SECS] [-l SLICE_US] [--no-preempt]
 * Output: a line with the ticker's lateness (p50, p99, max), then
 *   "LATENCY preempt=0|1 mode=M ticks=N p50_us=N p99_us=N max_us=N hog_ms=N"
 * Exit status 0, or 1 when the runtime could not start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usched.h>

#define MS	1000000ull

static unsigned int slots = 2, secs = 1, slice_us = 2000;
static int preempt = 1;
static int hogs_done;			/* the ticker stops when they are done */
static uint64_t hog_sink;		/* keeps the hogs' arithmetic alive */
static uint64_t *late;			/* the ticker's lateness samples, ns */
static size_t nlate, cap;

static int hog(void *arg)
{
	uint64_t end = usched_now() + secs * 1000 * MS, x = 1;
	unsigned int i;

	while (usched_now() < end)
		for (i = 0; i < 1000000; i++)	/* pure arithmetic: no yield */
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	__atomic_store_n(&hog_sink, x, __ATOMIC_RELAXED);
	return 0;
}

static int ticker(void *arg)
{
	uint64_t next = usched_now() + MS, now;

	while (!__atomic_load_n(&hogs_done, __ATOMIC_RELAXED)) {
		if (usched_sleep_until(next))
			break;
		now = usched_now();
		if (nlate < cap)
			late[nlate++] = now - next;
		/* Skip the ticks already missed: count lateness, not backlog. */
		while (next <= now)
			next += MS;
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int run(void *arg)
{
	usched_task_t *hogs[64], *tick;
	struct usched_attr attr;
	uint64_t t0, hog_ns;
	unsigned int i;

	usched_attr_init(&attr);
	attr.name = "ticker";
	if (usched_spawn(&tick, &attr, ticker, NULL))
		return -EAGAIN;
	usched_sleep(5 * MS);		/* let the ticker start first */

	t0 = usched_now();
	attr.name = "hog";
	for (i = 0; i < slots; i++)
		if (usched_spawn(&hogs[i], &attr, hog, NULL))
			return -EAGAIN;
	for (i = 0; i < slots; i++)
		usched_join(hogs[i], NULL);
	hog_ns = usched_now() - t0;
	__atomic_store_n(&hogs_done, 1, __ATOMIC_RELAXED);
	usched_join(tick, NULL);

	if (!nlate) {
		printf("latency: the ticker never woke up\n");
		return 1;
	}
	qsort(late, nlate, sizeof(late[0]), cmp);
	printf("latency: preemption %s, %s mode, %u slots, %u hogs for %.0f ms, slice %u us\n",
	       preempt ? "on" : "off", usched_mode_name(usched_mode()), slots,
	       slots, hog_ns / 1e6, slice_us);
	printf("latency: the ticker woke %zu times; late by p50 %llu us, p99 %llu us, max %llu us\n",
	       nlate, (unsigned long long)late[nlate / 2] / 1000,
	       (unsigned long long)late[nlate * 99 / 100] / 1000,
	       (unsigned long long)late[nlate - 1] / 1000);
	printf("LATENCY preempt=%d mode=%s ticks=%zu p50_us=%llu p99_us=%llu max_us=%llu hog_ms=%llu\n",
	       preempt, usched_mode_name(usched_mode()), nlate,
	       (unsigned long long)late[nlate / 2] / 1000,
	       (unsigned long long)late[nlate * 99 / 100] / 1000,
	       (unsigned long long)late[nlate - 1] / 1000,
	       (unsigned long long)hog_ns / MS);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-preempt", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct usched_config cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "s:t:l:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			slots = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'l':
			slice_us = atoi(optarg);
			break;
		case 'P':
			preempt = 0;
			break;
		default:
			fprintf(stderr, "usage: latency [-s SLOTS] [-t SECS] [-l SLICE_US] [--no-preempt]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (slots < 1 || slots > 64 || secs < 1) {
		fprintf(stderr, "latency: SLOTS must be 1..64 and SECS at least 1\n");
		return 2;
	}
	cap = (size_t)secs * 2000 + 1000;
	late = calloc(cap, sizeof(*late));
	if (!late)
		return 1;

	usched_config_init(&cfg);
	cfg.slots = slots;
	cfg.slice_ns = (uint64_t)slice_us * 1000;
	if (!preempt)
		cfg.flags |= USCHED_CFG_NO_PREEMPT;
	r = usched_main(&cfg, run, NULL);
	free(late);
	if (r < 0)
		fprintf(stderr, "latency: %s\n", strerror(-r));
	return r ? 1 : 0;
}
