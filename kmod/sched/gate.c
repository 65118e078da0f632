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
 *      context: post UNBLOCKED (same thread, same ring lock, so it never
 *      overtakes its BLOCKED), then, if G gates, take a slot:
 *        G->gate_free > 0: take it, go;
 *        else wait (killable) until USCHED_IOC_GRANT frees one, or fail
 *        open: after gate_timeout_ns (event GATE_OPEN, reason 1), when the
 *        group shuts down (reason 2), or when W is its only worker (reason 3).
 *
 * task_work_run() is also called from some in-kernel waits (io_uring's,
 * signal delivery): there W simply passes the gate inside its syscall, and
 * a later sleep posts a new BLOCKED.  An exiting thread is never gated.
 * A thread whose mm changed (exec) unregisters itself here instead.
 *
 * gate_lock covers gate_free (process context only); the shared header
 * mirrors it, with the waiting count and totals, for user space to read.
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
	g->gate_free = slots;
	g->hdr->gate_free = slots;
}

static bool usched_gate_take(struct usched_group *g)
{
	bool got = false;

	spin_lock(&g->gate_lock);
	if (g->gate_free) {
		g->gate_free--;
		WRITE_ONCE(g->hdr->gate_free, g->gate_free);
		got = true;
	}
	spin_unlock(&g->gate_lock);
	return got;
}

int usched_gate_grant(struct usched_group *g, u32 n)
{
	spin_lock(&g->gate_lock);
	if (g->gate_free + n > g->max_workers) {
		spin_unlock(&g->gate_lock);
		return -EOVERFLOW;
	}
	g->gate_free += n;
	WRITE_ONCE(g->hdr->gate_free, g->gate_free);
	trace_usched_grant(n, g->gate_free);
	spin_unlock(&g->gate_lock);
	wake_up_nr(&g->gate_wq, n);
	return 0;
}

void usched_gate_shutdown(struct usched_group *g)
{
	wake_up_all(&g->gate_wq);
}

/* The condition of the gate wait; sets *why when the gate fails open. */
static bool usched_gate_pass(struct usched_worker *w, int *why)
{
	struct usched_group *g = w->g;

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
	WRITE_ONCE(w->slot->kstate, USCHED_W_GATED);
	WRITE_ONCE(w->slot->gate_waits, w->slot->gate_waits + 1);
	spin_lock(&g->gate_lock);
	WRITE_ONCE(hdr->gate_waiting, hdr->gate_waiting + 1);
	spin_unlock(&g->gate_lock);
	usched_stat_inc(USCHED_STAT_GATE_WAITS);

	/* Killable: a fatal signal always gets through. */
	left = wait_event_killable_timeout(g->gate_wq, usched_gate_pass(w, &why),
					   nsecs_to_jiffies(g->gate_timeout_ns) ?: 1);
	if (left == 0 && !why)
		why = 1;

	spin_lock(&g->gate_lock);
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
	WRITE_ONCE(slot->kstate, USCHED_W_RUNNING);
	WRITE_ONCE(slot->unblock_seq, slot->unblock_seq + 1);
	usched_post_event(g, USCHED_EV_UNBLOCKED, 0, w->id, slot->unblock_seq,
			  -1, raw_smp_processor_id(), false);
	usched_stat_inc(USCHED_STAT_UNBLOCKS);
	trace_usched_unblock(w->id, slot->unblock_seq);

	if ((g->flags & USCHED_SETUP_GATE) && !(current->flags & PF_EXITING))
		usched_gate_wait(w);
put:
	usched_worker_put(w);
}
