// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timer.c - deadlines of parked tasks: one binary min-heap of tasks, keyed
 * by deadline, under timer_lock.
 *
 * A timed park arms the task's timer from its worker once the task is
 * PARKED (__usched_park_commit), and the task disarms it when it runs
 * again.  Any worker with a slot fires due timers in its scheduling loop;
 * when every slot is idle one spare sleeps until the earliest deadline.
 * Firing claims the park of the same generation (a timer left from an
 * earlier park fails its claim), under timer_lock, so the task cannot run,
 * disarm and be freed while the claim looks at it.  A new earliest
 * deadline kicks an idle worker, so it re-computes how long to sleep.
 */
#include <stdlib.h>
#include <time.h>

#include "internal.h"

static usched_lock_t timer_lock;
static struct usched_task **heap;	/* under timer_lock */
static uint32_t heap_len, heap_cap;	/* under timer_lock */
static _Atomic uint64_t heap_min = USCHED_NEVER;	/* heap[0]'s deadline */

uint64_t __usched_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t usched_now(void)
{
	return __usched_now();
}

static void heap_set(uint32_t i, struct usched_task *t)
{
	heap[i] = t;
	/* Release: disarm peeks at it without the lock. */
	__atomic_store_n(&t->timer_idx, i + 1, __ATOMIC_RELEASE);
}

static void sift_up(uint32_t i)
{
	struct usched_task *t = heap[i];

	while (i) {
		uint32_t p = (i - 1) / 2;

		if (heap[p]->timer_when <= t->timer_when)
			break;
		heap_set(i, heap[p]);
		i = p;
	}
	heap_set(i, t);
}

static void sift_down(uint32_t i)
{
	struct usched_task *t = heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1]->timer_when < heap[c]->timer_when)
			c++;
		if (t->timer_when <= heap[c]->timer_when)
			break;
		heap_set(i, heap[c]);
		i = c;
	}
	heap_set(i, t);
}

static void heap_del(uint32_t i)
{
	struct usched_task *last = heap[--heap_len];

	__atomic_store_n(&heap[i]->timer_idx, 0, __ATOMIC_RELEASE);
	if (i == heap_len)
		return;
	heap_set(i, last);
	sift_down(i);
	sift_up(last->timer_idx - 1);
}

static void publish_min(void)
{
	atomic_store_explicit(&heap_min, heap_len ? heap[0]->timer_when :
			      USCHED_NEVER, memory_order_release);
}

void __usched_timer_arm(struct usched_task *t)
{
	bool first;

	usched_lock(&timer_lock);
	if (heap_len == heap_cap) {
		uint32_t cap = heap_cap ? heap_cap * 2 : 256;
		struct usched_task **h = realloc(heap, cap * sizeof(*h));

		if (!h) {
			usched_unlock(&timer_lock);
			__usched_die("out of memory for a timer");
		}
		heap = h;
		heap_cap = cap;
	}
	t->timer_when = t->park_deadline;
	heap_set(heap_len++, t);
	sift_up(heap_len - 1);
	first = heap[0] == t;
	publish_min();
	usched_unlock(&timer_lock);
	/* An earlier wake-up than any sleeper planned: let one re-plan. */
	if (first)
		__usched_kick_idle();
}

void __usched_timer_disarm(struct usched_task *t)
{
	/* Unlocked peek: only this task (running) arms its own timer. */
	if (!__atomic_load_n(&t->timer_idx, __ATOMIC_ACQUIRE))
		return;
	usched_lock(&timer_lock);
	if (t->timer_idx)
		heap_del(t->timer_idx - 1);
	publish_min();
	usched_unlock(&timer_lock);
}

uint64_t __usched_timers_next(void)
{
	return atomic_load_explicit(&heap_min, memory_order_acquire);
}

int __usched_timers_run(uint64_t now)
{
	struct usched_task *due[32];
	int n = 0, i, total = 0;

	do {
		if (__usched_timers_next() > now)
			break;
		n = 0;
		usched_lock(&timer_lock);
		while (heap_len && heap[0]->timer_when <= now && n < 32) {
			struct usched_task *t = heap[0];
			bool won;

			/*
			 * Claim before taking it out of the heap: a task woken
			 * by someone else then finds its timer still armed and
			 * disarms under the lock, so it cannot end (and be
			 * freed) while this looks at it.
			 */
			won = __usched_claim_gen(t, t->timer_wait, -ETIMEDOUT);
			heap_del(0);
			if (won)
				due[n++] = t;
		}
		publish_min();
		usched_unlock(&timer_lock);
		for (i = 0; i < n; i++)
			__usched_unpark(due[i]);
		total += n;
	} while (n == 32);
	return total;
}

int usched_sleep_until(uint64_t deadline)
{
	int r = __usched_park(NULL, deadline, PARK_CANCELLABLE);

	return r == -ETIMEDOUT ? 0 : r;
}

int usched_sleep(uint64_t ns)
{
	uint64_t now = __usched_now();

	return usched_sleep_until(ns > USCHED_NEVER - now ? USCHED_NEVER : now + ns);
}
