// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * monitor.c - the fallback mode's monitor thread (Go's sysmon).
 *
 * Without the module nothing tells the library that a worker blocked in
 * the kernel or that a task ran past its slice.  The monitor looks every
 * tick (250 us while any slot is busy, backing off to 10 ms when all are
 * idle) at each slot whose holder runs task code:
 *
 *  - the holder's switch_seq moved since the last tick: a new slice began;
 *  - it did not, and /proc/self/task/<tid>/stat says the thread sleeps
 *    ('S' or 'D') at two ticks in a row: the holder is blocked in the
 *    kernel.  The monitor takes the slot (compare-and-swap of the owner
 *    word, which fails if the holder came back to runtime code) and hands
 *    it to a spare worker (or a new one).  The old holder finds out at its
 *    next runtime call and continues without a slot until its task
 *    switches out; the monitor preempts it after a slice if it runs on;
 *  - it did not, the thread is running, and the slice is over: the monitor
 *    sends it SIGURG, and preempt.c's handler sends it to the trampoline
 *    (or declines where switching is unsafe; the next tick asks again).
 *
 * Limits, honestly: a block is seen after 0.25 to 0.75 ms instead of at
 * once; a task that blocks for less is not detected at all (its slot
 * waits); a thread that wakes up right after being seen asleep twice
 * briefly runs beside the spare that took its slot (one extra running
 * thread until its next runtime call or slice); and reading /proc costs a
 * few microseconds per suspicious holder per tick.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define TICK_BUSY_NS	250000ull
#define TICK_IDLE_NS	10000000ull

/* What the monitor knows of each worker: [max_workers], monitor only. */
struct mon {
	uint64_t since;		/* when its switch_seq was seen to move */
	uint32_t seq;		/* its switch_seq then */
	uint32_t sleeps;	/* ticks seen asleep with the same seq */
	uint64_t lost_since;	/* when its slot was taken, 0: not lost */
	uint32_t lost_seq;	/* its switch_seq then */
	int stat_fd;		/* /proc/self/task/<tid>/stat, or -1 */
};
static struct mon *mon;

static char thread_state(struct usched_worker *w)
{
	struct mon *m = &mon[w->id];
	char buf[512], *p;
	ssize_t n;

	if (m->stat_fd < 0) {
		pid_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);

		if (!tid)
			return '?';
		snprintf(buf, sizeof(buf), "/proc/self/task/%d/stat", tid);
		m->stat_fd = open(buf, O_RDONLY | O_CLOEXEC);
		if (m->stat_fd < 0)
			return '?';
	}
	n = pread(m->stat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the name may contain spaces and parens */
	return p && p[1] == ' ' ? p[2] : '?';
}

static bool thread_running(struct usched_worker *w)
{
	return thread_state(w) == 'R';
}

static void preempt_thread(struct usched_worker *w)
{
	__usched_preempt_worker(w);
}

/* Take @s from its blocked holder @h; hand it to a spare. */
static void handover(struct usched_slot *s, struct usched_worker *h,
		     uint64_t now)
{
	uintptr_t o = (uintptr_t)h;
	struct usched_worker *sp;

	usched_lock(&rt.lock);
	sp = rt.spares;
	if (!atomic_compare_exchange_strong_explicit(&s->owner, &o,
			sp ? OWNER_TAKEN(sp) : 0,
			memory_order_acq_rel, memory_order_relaxed)) {
		usched_unlock(&rt.lock);
		return;		/* it came back to runtime code */
	}
	if (sp) {
		rt.spares = sp->spare_next;
		rt.nspares--;
		sp->role = ROLE_HOLDER;
		sp->next_slot = s;
	}
	usched_unlock(&rt.lock);
	mon[h->id].lost_since = now;
	mon[h->id].lost_seq = __atomic_load_n(&h->fslot.switch_seq,
					      __ATOMIC_RELAXED);
	atomic_fetch_add_explicit(&rt.st_blocks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rt.st_handovers, 1, memory_order_relaxed);
	if (sp)
		__usched_worker_wake(sp);
	else if (__usched_worker_spawn_with(s, false))
		__usched_slot_make_idle(s);
}

static bool check_slot(struct usched_slot *s, uint64_t now)
{
	uintptr_t o = atomic_load_explicit(&s->owner, memory_order_acquire);
	struct usched_worker *h = OWNER_WORKER(o);
	struct mon *m;
	uint32_t seq;
	char st;

	if (!h)
		return false;
	m = &mon[h->id];
	if (o & OWNER_BUSY) {
		m->sleeps = 0;
		return true;
	}
	seq = __atomic_load_n(&h->fslot.switch_seq, __ATOMIC_RELAXED);
	if (seq != m->seq || !m->since) {
		m->seq = seq;
		m->since = now;
		m->sleeps = 0;
		return true;
	}
	/* In a runtime section (a runtime lock, briefly): leave it alone. */
	if (__atomic_load_n(&h->fslot.nopreempt, __ATOMIC_RELAXED) &
	    NP_RUNTIME_MASK) {
		m->sleeps = 0;
		return true;
	}
	st = thread_state(h);
	if (st == 'S' || st == 'D') {
		if (++m->sleeps >= 2 && !(rt.cfg.flags & USCHED_CFG_NO_DETACH))
			handover(s, h, now);
		return true;
	}
	m->sleeps = 0;
	/* Past its slice: ask at every tick until it switches (or declines). */
	if (__usched_preempt_async() && now - m->since >= rt.cfg.slice_ns)
		preempt_thread(h);
	return true;
}

/* Workers that lost their slot and still run their task: preempt them. */
static void check_lost(uint64_t now)
{
	uint32_t i, n = __atomic_load_n(&rt.nworkers, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++) {
		struct usched_worker *w = rt.workers[i];
		struct mon *m = &mon[i];

		if (!w || !m->lost_since)
			continue;
		if (__atomic_load_n(&w->fslot.switch_seq, __ATOMIC_RELAXED) !=
		    m->lost_seq) {
			m->lost_since = 0;	/* its task switched out */
			continue;
		}
		if (now - m->lost_since >= rt.cfg.slice_ns &&
		    thread_state(w) == 'R')
			preempt_thread(w);
	}
}

static void *monitor_main(void *arg)
{
	uint64_t tick = TICK_BUSY_NS, now;
	bool busy;
	uint32_t i;

	(void)arg;
	pthread_setname_np(pthread_self(), "usched-mon");
	while (!atomic_load_explicit(&rt.monitor_stop, memory_order_acquire)) {
		__usched_futex_wait(&rt.monitor_stop, 0, __usched_now() + tick);
		now = __usched_now();
		busy = false;
		for (i = 0; i < rt.nslots; i++)
			busy |= check_slot(&rt.slots[i], now);
		check_lost(now);
		/* A due timer waits for a slot: make one (sched.c). */
		if (__usched_timers_next() <= now &&
		    !atomic_load_explicit(&rt.nidle, memory_order_relaxed))
			__usched_preempt_for_timer(thread_running);
		tick = busy ? TICK_BUSY_NS : (tick * 2 < TICK_IDLE_NS ?
					      tick * 2 : TICK_IDLE_NS);
	}
	return NULL;
}

int __usched_monitor_start(void)
{
	sigset_t all, old;
	int r;

	uint32_t i;

	mon = calloc(rt.cfg.max_workers, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	for (i = 0; i < rt.cfg.max_workers; i++)
		mon[i].stat_fd = -1;
	atomic_store(&rt.monitor_stop, 0);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&rt.monitor, NULL, monitor_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		free(mon);
		mon = NULL;
		return -r;
	}
	rt.monitor_running = true;
	return 0;
}

void __usched_monitor_stop(void)
{
	uint32_t i;

	if (!rt.monitor_running)
		return;
	atomic_store_explicit(&rt.monitor_stop, 1, memory_order_release);
	__usched_futex_wake(&rt.monitor_stop, 1);
	pthread_join(rt.monitor, NULL);
	rt.monitor_running = false;
	for (i = 0; i < rt.cfg.max_workers; i++)
		if (mon[i].stat_fd >= 0)
			close(mon[i].stat_fd);
	free(mon);
	mon = NULL;
}
