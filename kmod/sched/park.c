// SPDX-License-Identifier: GPL-2.0
/*
 * park.c - park, wake and handoff of workers, with a wake permit.
 *
 * READ this before changing the protocol.  A wake that comes before the
 * park is never lost: it leaves a permit, which the next park consumes.
 *
 *   parker (worker P)                    waker (any thread, or irq_work)
 *   WRITE_ONCE(P->parked, true)
 *   prepare_to_wait()  [set_current_state: full barrier (A)]
 *   if (atomic_xchg(&P->permit, 0))      atomic_xchg(&P->permit, 1) (B)
 *           return 0                     [a full barrier]
 *   schedule()                           if (READ_ONCE(P->parked))
 *                                               wake P
 *
 * (A) pairs with (B): either the parker sees the permit, or the waker sees
 * parked and wakes it (try_to_wake_up() then orders against the parker's
 * state change).  Spurious wake-ups are harmless: the parker re-checks.
 *
 * Handoff wakes the target with the sync hint (__wake_up_sync(): the
 * scheduler then prefers to run the wakee on this CPU, which the caller is
 * about to leave) and parks the caller.  When the target runs on another
 * CPU a quick reply would find the caller already asleep, so the caller
 * first spins, bounded by an adaptive budget (doubled when a spin caught
 * the reply, halved when it did not, at most handoff_spin_ns).
 *
 * A park ends with 0 (permit consumed), -ETIMEDOUT (absolute
 * CLOCK_MONOTONIC deadline), -EINTR (a signal; the permit, if one comes
 * later, is kept: park again; not restarted, the deadline being absolute),
 * or -EBADF (the group was shut down).  A fatal signal always ends it.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/wait.h>

#include "usched.h"
#include "trace.h"

#define USCHED_SPIN_MIN_NS	1000

/* Any context: hard irq (standby), process (wake, handoff). */
void usched_wake_worker(struct usched_worker *w, bool sync)
{
	bool parked;

	/* (B): a full barrier (xchg), pairs with (A) in usched_park(). */
	atomic_xchg(&w->permit, 1);
	parked = READ_ONCE(w->parked);
	trace_usched_wake(w->id, parked);
	if (!parked)
		return;
	if (sync)
		__wake_up_sync(&w->park_wq, TASK_INTERRUPTIBLE);
	else
		wake_up_process(w->task);
}

/* Wake a parked worker without a permit, so that it re-checks its group. */
void usched_kick_worker(struct usched_worker *w)
{
	smp_mb();	/* the caller's store (g->dead) before reading parked */
	if (READ_ONCE(w->parked))
		wake_up_process(w->task);
}

int usched_wake_id(struct usched_group *g, u32 id)
{
	struct usched_worker *w;
	int ret = -ESRCH;

	rcu_read_lock();
	w = usched_worker_get_rcu(g, id);
	if (w) {
		usched_wake_worker(w, false);
		usched_stat_inc(USCHED_STAT_WAKES);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * Spin while the partner runs on another CPU, for at most w->spin_ns.
 * Returns true when the permit arrived.
 */
static bool usched_handoff_spin(struct usched_worker *w, struct usched_worker *t)
{
	u64 budget = w->spin_ns, start;
	bool hit = false;

	if (!budget || !READ_ONCE(usched_handoff_spin_ns))
		return false;
	start = ktime_get_ns();
	while (!need_resched() && !signal_pending(current)) {
		if (atomic_read(&w->permit)) {
			hit = true;
			break;
		}
		/* The partner sleeps or shares our CPU: spinning cannot help. */
		if (!READ_ONCE(t->task->on_cpu) ||
		    task_cpu(t->task) == raw_smp_processor_id())
			break;
		if (ktime_get_ns() - start > budget)
			break;
		cpu_relax();
	}
	if (hit) {
		w->spin_ns = min_t(u64, (u64)w->spin_ns * 2,
				   READ_ONCE(usched_handoff_spin_ns));
		usched_stat_inc(USCHED_STAT_SPIN_HITS);
	} else {
		w->spin_ns = max_t(u32, w->spin_ns / 2, USCHED_SPIN_MIN_NS);
	}
	return hit;
}

/* Park the calling worker @w; with @t, hand off to @t first. */
int usched_park(struct usched_worker *w, struct usched_park *p,
		struct usched_worker *t)
{
	struct usched_group *g = w->g;
	bool timed = p->flags & USCHED_PARK_DEADLINE;
	ktime_t deadline = ns_to_ktime(p->deadline_ns);
	bool timed_out = false, spin_hit = false;
	DEFINE_WAIT(wait);
	int ret;

	/* Our own sleep is not a "block": the notifier must not report it. */
	w->in_kernel_wait = true;
	if (t) {
		usched_wake_worker(t, true);
		usched_stat_inc(USCHED_STAT_HANDOFFS);
		spin_hit = usched_handoff_spin(w, t);
		trace_usched_handoff(w->id, t->id, spin_hit);
	} else {
		usched_stat_inc(USCHED_STAT_PARKS);
	}

	WRITE_ONCE(w->parked, true);
	for (;;) {
		prepare_to_wait(&w->park_wq, &wait, TASK_INTERRUPTIBLE); /* (A) */
		if (READ_ONCE(g->dead)) {
			ret = -EBADF;
			break;
		}
		if (atomic_xchg(&w->permit, 0)) {
			ret = 0;
			break;
		}
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		if (timed_out) {
			ret = -ETIMEDOUT;
			break;
		}
		WRITE_ONCE(w->slot->kstate, USCHED_W_PARKED);
		if (timed) {
			/* Absolute CLOCK_MONOTONIC; 0 when the timer fired. */
			if (!schedule_hrtimeout_range(&deadline, 0, HRTIMER_MODE_ABS))
				timed_out = true;
		} else {
			schedule();
		}
	}
	finish_wait(&w->park_wq, &wait);
	WRITE_ONCE(w->parked, false);
	WRITE_ONCE(w->slot->kstate, USCHED_W_RUNNING);
	w->in_kernel_wait = false;
	trace_usched_park(w->id, ret);
	return ret;
}
