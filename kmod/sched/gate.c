// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - the UNBLOCKED event and return-to-user gating.
 *
 * Timeline of one block (worker W, its group G):
 *
 *   W: syscall sleeps ──> sched_out (rq lock, irqs off): post BLOCKED,
 *                         irq_work wakes W's standby (if named)
 *   W: woken, sched_in (no rq lock): task_work_add(unblock_tw, TWA_RESUME)
 *   W: syscall returns; just before user mode, unblock_tw runs in process
 *      context: end the slot claim (xchg to RUNNING), post UNBLOCKED (same
 *      thread, same ring lock, so it never overtakes its BLOCKED), then,
 *      if G gates every unblocked worker (GATE), or gates stolen ones
 *      (GATE_STOLEN) and user space stole W's claim meanwhile, take a slot:
 *        a grant to W itself (USCHED_GRANT_WORKER), or
 *        G->gate_free > 0: take it, go;
 *        else wake W's standby (user space may hand a slot back), and
 *        wait (killable) until USCHED_IOC_GRANT frees one, or fail
 *        open: after gate_timeout_ns (event GATE_OPEN, reason 1), when the
 *        group shuts down (reason 2), or when W is its only worker (reason 3).
 *
 * task_work_run() is also called from some in-kernel waits (io_uring's,
 * signal delivery): there W simply passes the gate inside its syscall, and
 * a later sleep posts a new BLOCKED.  An exiting thread is never gated.
 * A thread whose mm changed (exec) unregisters itself here instead.
 *
 * gate_free lives in the shared header and is changed by both sides with
 * atomics only; gate_lock (process context) covers the waiting count and
 * the totals, which user space reads.
 */
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/wait.h>

#include "usched.h"
#include "trace.h"

void usched_gate_init(struct usched_group *g, u32 slots)
{
	g->hdr->gate_free = slots;
}

/*
 * Take a free slot: gate_free is shared with user space, which may take and
 * add slots with its own atomics, so it is only ever changed by cmpxchg.
 * Its value is the process's business: a wrong one only gates or releases
 * its own workers (never past the time bound).
 */
static bool usched_gate_take(struct usched_group *g)
{
	u32 *free = &g->hdr->gate_free;
	u32 old = READ_ONCE(*free), seen;

	while (old && old <= g->max_workers) {
		seen = cmpxchg(free, old, old - 1);
		if (seen == old)
			return true;
		old = seen;
	}
	return false;
}

/* USCHED_IOC_GRANT: add @n free slots (0: only wake) and wake waiters. */
int usched_gate_grant(struct usched_group *g, u32 n)
{
	u32 *free = &g->hdr->gate_free;
	u32 old = READ_ONCE(*free), seen;

	while (n) {
		if (old > g->max_workers || n > g->max_workers - old)
			return -EOVERFLOW;
		seen = cmpxchg(free, old, old + n);
		if (seen == old)
			break;
		old = seen;
	}
	trace_usched_grant(n, old + n);
	/* cmpxchg is a full barrier: the slots before the waiter's check. */
	wake_up_nr(&g->gate_wq, n ?: 1);
	return 0;
}

/*
 * USCHED_IOC_GRANT with USCHED_GRANT_WORKER: let worker @id through, if it
 * waits at the gate now.  Under gate_lock, against the end of its wait: a
 * grant that returns 0 is always consumed as a grant (usched_gate_wait()).
 */
int usched_gate_grant_worker(struct usched_group *g, u32 id)
{
	struct usched_worker *w;
	int ret = -EAGAIN;

	rcu_read_lock();
	w = usched_worker_get_rcu(g, id);
	if (!w) {
		rcu_read_unlock();
		return -ESRCH;
	}
	spin_lock(&g->gate_lock);
	if (w->gate_waiting) {
		atomic_set(&w->grant, 1);
		ret = 0;
	}
	spin_unlock(&g->gate_lock);
	rcu_read_unlock();
	if (!ret) {
		trace_usched_grant(0, READ_ONCE(g->hdr->gate_free));
		/* The waiters wait non-exclusively: each re-checks its own. */
		wake_up_all(&g->gate_wq);
	}
	return ret;
}

void usched_gate_shutdown(struct usched_group *g)
{
	wake_up_all(&g->gate_wq);
}

/*
 * A worker starts waiting at the gate: wake the standby it names, as
 * USCHED_IOC_WAKE would (a permit), so that user space hears of the wait
 * even when every other worker sleeps (a slot that went idle can then be
 * handed back; USCHED_FEAT_GATE_WAKES_STANDBY).  Process context
 * (task_work).
 */
static void usched_gate_wake_standby(struct usched_worker *w)
{
	u32 sb = READ_ONCE(w->standby);

	if (sb != USCHED_NO_WORKER)
		usched_wake_id(w->g, sb);
}

/* The condition of the gate wait; sets *why when the gate fails open. */
static bool usched_gate_pass(struct usched_worker *w, int *why)
{
	struct usched_group *g = w->g;

	if (atomic_xchg(&w->grant, 0))
		return true;
	if (usched_gate_take(g))
		return true;
	if (READ_ONCE(g->dead)) {
		*why = 2;
		return true;
	}
	if (atomic_read(&g->nr_workers) <= 1) {
		*why = 3;
		return true;
	}
	return false;
}

static void usched_gate_wait(struct usched_worker *w)
{
	struct usched_group *g = w->g;
	struct usched_shm_header *hdr = g->hdr;
	long left;
	int why = 0;

	if (usched_gate_pass(w, &why))
		goto out;

	w->in_kernel_wait = true;
	WRITE_ONCE(w->slot->gate_waits, w->slot->gate_waits + 1);
	spin_lock(&g->gate_lock);
	WRITE_ONCE(hdr->gate_waiting, hdr->gate_waiting + 1);
	w->gate_waiting = true;
	/* GATED only once a GRANT_WORKER can find it waiting. */
	WRITE_ONCE(w->slot->kstate, USCHED_W_GATED);
	spin_unlock(&g->gate_lock);
	/*
	 * Pairs with the full barrier user space puts between adding to
	 * gate_free and reading gate_waiting: either it sees us waiting and
	 * calls USCHED_IOC_GRANT, or the wait's first check sees its slot.
	 */
	smp_mb();
	usched_stat_inc(USCHED_STAT_GATE_WAITS);
	usched_gate_wake_standby(w);

	/* Killable: a fatal signal always gets through. */
	left = wait_event_killable_timeout(g->gate_wq, usched_gate_pass(w, &why),
					   nsecs_to_jiffies(g->gate_timeout_ns) ?: 1);
	if (left == 0 && !why)
		why = 1;

	spin_lock(&g->gate_lock);
	w->gate_waiting = false;
	/* A grant that raced with the end of the wait still counts. */
	if (atomic_xchg(&w->grant, 0)) {
		why = 0;
		left = 1;
	}
	WRITE_ONCE(hdr->gate_waiting, hdr->gate_waiting - 1);
	if (!why && left > 0)
		WRITE_ONCE(hdr->grants, hdr->grants + 1);
	if (why == 1)
		WRITE_ONCE(hdr->gate_timeouts, hdr->gate_timeouts + 1);
	spin_unlock(&g->gate_lock);
	WRITE_ONCE(w->slot->kstate, USCHED_W_RUNNING);
	w->in_kernel_wait = false;
out:
	trace_usched_gate(w->id, why);
	if (why) {
		usched_post_event(g, USCHED_EV_GATE_OPEN, why, w->id, 0, -1, 0,
				  false);
		usched_stat_inc(USCHED_STAT_GATE_OPENS);
	}
}

/* task_work (TWA_RESUME): process context, on the worker's own thread. */
void usched_unblock_tw_fn(struct callback_head *cb)
{
	struct usched_worker *w = container_of(cb, struct usched_worker,
					       unblock_tw);
	struct usched_worker_slot *slot = w->slot;
	struct usched_group *g = w->g;
	u32 claim;

	w->unblock_queued = false;
	if (READ_ONCE(w->unregistered))
		goto put;
	if (w->detached || current->mm != g->mm) {
		usched_worker_detach_self(w);
		goto put;
	}
	if (!w->blocked)
		goto put;

	w->blocked = false;
	/* Ends the claim: a steal from now on fails (a full barrier). */
	claim = xchg(&slot->claim, USCHED_CLAIM_SEQ(slot->block_seq) |
				   USCHED_CLAIM_RUNNING);
	WRITE_ONCE(slot->kstate, USCHED_W_RUNNING);
	WRITE_ONCE(slot->unblock_seq, slot->unblock_seq + 1);
	usched_post_event(g, USCHED_EV_UNBLOCKED, 0, w->id, slot->unblock_seq,
			  -1, raw_smp_processor_id(), false);
	usched_stat_inc(USCHED_STAT_UNBLOCKS);
	trace_usched_unblock(w->id, slot->unblock_seq);

	if (current->flags & PF_EXITING)
		goto put;
	if ((g->flags & USCHED_SETUP_GATE) ||
	    ((g->flags & USCHED_SETUP_GATE_STOLEN) &&
	     (claim & USCHED_CLAIM_STATE) == USCHED_CLAIM_STOLEN))
		usched_gate_wait(w);
put:
	usched_worker_put(w);
}
