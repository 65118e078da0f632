// SPDX-License-Identifier: GPL-2.0
/*
 * gdb-demo - tasks in every state, stopped at a breakpoint: something to try
 * tools/gdb/usched-gdb.py on (and what tools/tools-check runs it on).
 *
 * With two slots, the main task spawns, in this order (task ids 2..8; the
 * main task is 1):
 *   waiter-1..3  parked in usched_chan_recv() on a channel nobody sends on
 *   sleeper      parked in usched_sleep() for a minute (a timer)
 *   spinner      running: spins on the other slot until told to stop
 *   queued-1..2  spawned last, while both slots are busy: runnable, queued
 * then calls usched_gdb_stop_here(), the place for a breakpoint, and ends
 * every task again (close the channel, cancel the sleeper, stop the
 * spinner, join everything).
 *
 *   gdb -q -ex 'source tools/gdb/usched-gdb.py' \
 *       -ex 'break usched_gdb_stop_here' -ex run build/tools/gdb/gdb-demo
 *   (gdb) usched tasks
 *   (gdb) usched bt 2
 *
 * Usage: gdb-demo        (exit status 0 when every task ended as expected)
 */
#include <stdio.h>
#include <string.h>

#include "usched.h"

#define SEC	1000000000ull

static usched_chan_t *chan;
static usched_wg_t started;
static int stop;

/* The breakpoint: not inlined, not merged away. */
__attribute__((noinline)) void usched_gdb_stop_here(void);
__attribute__((noinline)) void usched_gdb_stop_here(void)
{
	__asm__ volatile("" ::: "memory");
}

static int waiter(void *arg)
{
	int v;

	usched_wg_done(&started);
	return usched_chan_recv(chan, &v) == -EPIPE ? 0 : 1;
}

static int sleeper(void *arg)
{
	usched_wg_done(&started);
	return usched_sleep(60 * SEC) == -ECANCELED ? 0 : 1;
}

static int spinner(void *arg)
{
	usched_wg_done(&started);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		__asm__ volatile("pause");
	return 0;
}

static int queued(void *arg)
{
	return 0;
}

static int run(void *arg)
{
	usched_task_t *t[8];
	struct usched_attr a;
	char names[8][16];
	int i, r, bad = 0;

	if (usched_chan_create(&chan, sizeof(int), 0))
		return 1;
	usched_wg_init(&started);
	usched_wg_add(&started, 5);
	usched_attr_init(&a);
	for (i = 0; i < 7; i++) {
		usched_fn_t fn = i < 3 ? waiter : i == 3 ? sleeper :
				 i == 4 ? spinner : queued;

		if (i < 3)
			snprintf(names[i], sizeof(names[i]), "waiter-%d", i + 1);
		else if (i > 4)
			snprintf(names[i], sizeof(names[i]), "queued-%d", i - 4);
		else
			snprintf(names[i], sizeof(names[i]), "%s", i == 3 ? "sleeper" : "spinner");
		a.name = names[i];
		if (usched_spawn(&t[i], &a, fn, NULL))
			return 1;
		if (i == 4)	/* the first five run (and park) before the rest */
			usched_wg_wait(&started);
	}
	usched_gdb_stop_here();

	usched_chan_close(chan);
	usched_cancel(t[3]);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 7; i++) {
		usched_join(t[i], &r);
		bad |= r;
	}
	usched_chan_destroy(chan);
	return bad;
}

int main(void)
{
	struct usched_config cfg;
	int r;

	usched_config_init(&cfg);
	cfg.slots = 2;
	cfg.flags |= USCHED_CFG_NO_PREEMPT;	/* the spinner keeps its slot */
	r = usched_main(&cfg, run, NULL);
	printf("gdb-demo: %s\n", r ? "FAILED" : "every task ended");
	return r ? 1 : 0;
}
