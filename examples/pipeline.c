// SPDX-License-Identifier: GPL-2.0
/*
 * pipeline.c - a parallel pipeline: channels between stages, a task group
 * around all of them.
 *
 *   source ──numbers──> W workers ──results──> sink
 *
 * The source sends 1..N into the `numbers` channel and closes it.  Each
 * worker receives numbers until the channel is closed and drained
 * (usched_chan_recv() returns -EPIPE), computes the length of the number's
 * Collatz sequence (a little CPU work each), and sends (number, steps) into
 * `results`.  When the last worker is done, a closer task closes `results`
 * (a wait group tells it when), and the sink, which sums what it receives,
 * sees -EPIPE and stops.  The main task checks the sum against a plain
 * sequential loop.
 *
 * All the stages are members of one task group.  With --fail-at K, the
 * worker that receives K returns an error instead: the group fails, every
 * other member is cancelled wherever it waits (a send, a receive, the wait
 * group), and usched_group_wait() returns the error.  No stage needs code
 * for that: cancellation is what makes the pipeline stop cleanly.
 *
 * Usage: pipeline [-n N] [-w WORKERS] [--fail-at K]
 * Output: "pipeline: N numbers, W workers: sum of steps S (expected S): OK"
 * Exit status 0 when the sum is right; 1 when not, or when a stage failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <usched.h>

struct result {
	uint64_t number;
	uint64_t steps;
};

static uint64_t n = 100000, fail_at;
static int nworkers = 8;
static usched_chan_t *numbers, *results;
static usched_wg_t workers_left;
static uint64_t received, sum;		/* written by the sink only */

static uint64_t collatz_steps(uint64_t x)
{
	uint64_t steps = 0;

	while (x != 1) {
		x = x % 2 ? 3 * x + 1 : x / 2;
		steps++;
	}
	return steps;
}

static int source(void *arg)
{
	uint64_t i;
	int r = 0;

	for (i = 1; i <= n && r == 0; i++)
		r = usched_chan_send(numbers, &i);	/* waits while the channel is full */
	usched_chan_close(numbers);
	return r;
}

static int worker(void *arg)
{
	struct result res;
	uint64_t x;
	int r;

	while ((r = usched_chan_recv(numbers, &x)) == 0) {
		if (x == fail_at)
			return -EIO;		/* fails the group */
		res.number = x;
		res.steps = collatz_steps(x);
		r = usched_chan_send(results, &res);
		if (r)
			return r;
	}
	usched_wg_done(&workers_left);
	return r == -EPIPE ? 0 : r;	/* -EPIPE: no more numbers */
}

static int closer(void *arg)
{
	int r = usched_wg_wait(&workers_left);

	usched_chan_close(results);
	return r;
}

static int sink(void *arg)
{
	struct result res;
	int r;

	while ((r = usched_chan_recv(results, &res)) == 0) {
		received++;
		sum += res.steps;
	}
	return r == -EPIPE ? 0 : r;
}

static int spawn(usched_group_t *g, const char *name, usched_fn_t fn)
{
	struct usched_attr attr;

	usched_attr_init(&attr);
	attr.name = name;
	return usched_group_spawn(g, &attr, fn, NULL);
}

static int run(void *arg)
{
	usched_group_t *g;
	uint64_t i, expected = 0;
	int k, r;

	r = usched_chan_create(&numbers, sizeof(uint64_t), 64);
	if (!r)
		r = usched_chan_create(&results, sizeof(struct result), 64);
	if (!r)
		r = usched_group_create(&g);
	if (r)
		return r;
	usched_wg_init(&workers_left);
	usched_wg_add(&workers_left, nworkers);

	r = spawn(g, "source", source);
	for (k = 0; k < nworkers && !r; k++)
		r = spawn(g, "worker", worker);
	if (!r)
		r = spawn(g, "closer", closer);
	if (!r)
		r = spawn(g, "sink", sink);
	if (r)
		usched_group_cancel(g);
	k = usched_group_wait(g);	/* the first member's failure, or 0 */
	usched_group_destroy(g);
	usched_chan_destroy(numbers);
	usched_chan_destroy(results);
	if (r || k) {
		printf("pipeline: a stage failed (%s): the group cancelled the others; %llu results were summed\n",
		       strerror(-(r ? r : k)), (unsigned long long)received);
		return 1;
	}

	for (i = 1; i <= n; i++)
		expected += collatz_steps(i);
	printf("pipeline: %llu numbers, %d workers: sum of steps %llu (expected %llu): %s\n",
	       (unsigned long long)received, nworkers, (unsigned long long)sum,
	       (unsigned long long)expected,
	       received == n && sum == expected ? "OK" : "WRONG");
	return received == n && sum == expected ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fail-at", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "n:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			nworkers = atoi(optarg);
			break;
		case 'f':
			fail_at = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: pipeline [-n N] [-w WORKERS] [--fail-at K]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || nworkers < 1) {
		fprintf(stderr, "pipeline: N and WORKERS must be at least 1\n");
		return 2;
	}
	r = usched_main(NULL, run, NULL);
	if (r < 0) {
		fprintf(stderr, "pipeline: %s\n", strerror(-r));
		return 1;
	}
	return r;
}
