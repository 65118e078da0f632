/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sizes.h - how big each workload is: full (make bench), quick (--quick)
 * and smoke (make bench-smoke).  tools/bench/go/main.go holds the same
 * table; change both together.
 */
#ifndef USCHED_BENCH_SIZES_H
#define USCHED_BENCH_SIZES_H

#include <string.h>

struct sizes {
	int reps;
	long spawn_n;		/* tasks spawned and joined */
	long yield_k;		/* yields per task (2 tasks) */
	long chan_k;		/* round trips (2 messages each) */
	long mem_n;		/* parked tasks */
	int sysblock_n;		/* samples per repetition */
	int ticker_ms;		/* ticker run per repetition (1 ms ticks) */
	int fanout_pairs;	/* socket pairs */
	int fanout_rounds;	/* round trips per pair */
	int forkjoin_jobs;	/* jobs per repetition */
	long spawn_threads;	/* plain threads only: threads spawned */
};

#define FORKJOIN_TASKS	64	/* subtasks of one job */
#define FORKJOIN_ITERS	200000	/* hash rounds of one subtask */
#define SPAWN_BATCH	1000	/* plain threads alive at once, at most */

static const struct sizes sizes_full = {
	5, 1000000, 500000, 200000, 1000000, 300, 2000, 10000, 20, 4, 20000 };
static const struct sizes sizes_quick = {
	3, 100000, 100000, 50000, 100000, 100, 300, 2000, 5, 2, 5000 };
static const struct sizes sizes_smoke = {
	1, 10000, 10000, 5000, 10000, 20, 50, 100, 5, 1, 1000 };

/* One subtask of forkjoin: the same hash chain in C and in Go. */
static inline uint64_t forkjoin_work(uint64_t x)
{
	for (long i = 0; i < FORKJOIN_ITERS; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		x ^= x >> 29;
	}
	return x;
}

#endif /* USCHED_BENCH_SIZES_H */
