// SPDX-License-Identifier: GPL-2.0
/*
 * notifier.c - the block notifier: a preempt notifier on each worker.
 *
 * Context (include/linux/preempt.h):
 *   sched_out: the runqueue lock is held and interrupts are off.  Nothing
 *              here may sleep, wake a task (waking a task on this runqueue
 *              would deadlock), or touch user memory (no faults).  Events
 *              are written into kernel-allocated shared pages; wake-ups are
 *              deferred with irq_work.
 *   sched_in:  preemption is off, the runqueue lock is released, interrupts
 *              are on.  task_work_add() is safe here.
 * Both run on the worker's own thread (current), so the fields they share
 * with the worker's ioctls and task_work callbacks need no lock.
 *
 * In sched_out, current->__state != TASK_RUNNING means the worker is going
 * to sleep (blocking); TASK_RUNNING means it was preempted.  A worker
 * preempted between set_current_state() and schedule() looks blocked too;
 * it then gets a BLOCKED/UNBLOCKED pair it did not strictly need, never an
 * unpaired event.
 */
#include <linux/irq_work.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>

#include "usched.h"
#include "trace.h"

/*
 * Why the worker entered the kernel, from the registers it saved on entry
 * (never from user memory).  A system call leaves its number in orig_ax
 * (>= 0); every exception and interrupt entry on x86-64 stores -1 there.
 * A thread that goes to sleep from an exception is in a page fault (the
 * other exceptions do not sleep), unless it is stopping for a signal or a
 * tracer, which counts as "other".
 */
static u16 usched_block_reason(struct task_struct *t, unsigned int state,
			       s32 *nr)
{
	struct pt_regs *regs = task_pt_regs(t);

	*nr = -1;
	if ((long)regs->orig_ax >= 0) {
		*nr = (s32)regs->orig_ax;
		return USCHED_BLOCK_SYSCALL;
	}
	if (state & (__TASK_STOPPED | __TASK_TRACED))
		return USCHED_BLOCK_OTHER;
	return USCHED_BLOCK_FAULT;
}

static void usched_queue_unblock(struct usched_worker *w)
{
	w->unblock_queued = true;
	kref_get(&w->ref);	/* dropped by the callback */
	if (task_work_add(current, &w->unblock_tw, TWA_RESUME)) {
		/* The thread is exiting: its death cleans up. */
		w->unblock_queued = false;
		usched_worker_put(w);
	}
}

static void usched_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct usched_worker *w = container_of(pn, struct usched_worker, pn);

	WRITE_ONCE(w->slot->cpu, cpu);
	if (unlikely(current->mm != w->g->mm)) {
		/* exec (or exit): unregister from the thread itself, later. */
		if (!w->detached) {
			w->detached = true;
			if (!w->unblock_queued)
				usched_queue_unblock(w);
		}
		return;
	}
	if (w->blocked && !w->unblock_queued)
		usched_queue_unblock(w);
	usched_preempt_sched_in(w);
}

static void usched_sched_out(struct preempt_notifier *pn,
			     struct task_struct *next)
{
	struct usched_worker *w = container_of(pn, struct usched_worker, pn);
	struct usched_worker_slot *slot = w->slot;
	unsigned int state = READ_ONCE(current->__state);
	bool blocking = state != TASK_RUNNING;
	bool idle;
	u16 reason;
	s32 nr;

	if (unlikely(state == TASK_DEAD)) {
		/* The last switch of this thread: clean up after it. */
		irq_work_queue(&w->death_iw);
		return;
	}
	usched_preempt_sched_out(w, blocking);
	if (!blocking || w->in_kernel_wait || w->blocked || w->detached)
		return;
	if ((current->flags & PF_EXITING) || current->mm != w->g->mm)
		return;

	w->blocked = true;
	reason = usched_block_reason(current, state, &nr);
	WRITE_ONCE(slot->kstate, USCHED_W_BLOCKED);
	WRITE_ONCE(slot->blocks, slot->blocks + 1);
	WRITE_ONCE(slot->block_seq, slot->block_seq + 1);
	/* An idle wait (user space said so): nobody should take over. */
	idle = (READ_ONCE(slot->claim) & USCHED_CLAIM_STATE) == USCHED_CLAIM_IDLE;
	/* Stealable from here; the event publishes it (release in the ring). */
	if (!idle)
		WRITE_ONCE(slot->claim, USCHED_CLAIM_SEQ(slot->block_seq) |
					USCHED_CLAIM_BLOCKED);
	usched_post_event(w->g, USCHED_EV_BLOCKED, reason, w->id,
			  slot->block_seq, nr, raw_smp_processor_id(), true);
	trace_usched_block(w->id, reason, nr, slot->block_seq);
	if (!idle && READ_ONCE(w->standby) != USCHED_NO_WORKER)
		irq_work_queue(&w->standby_iw);
	usched_stat_inc(USCHED_STAT_BLOCKS);
}

struct preempt_ops usched_preempt_ops = {
	.sched_in	= usched_sched_in,
	.sched_out	= usched_sched_out,
};

/* Whether the calling thread is already a worker of any group. */
bool usched_current_is_worker(void)
{
	struct preempt_notifier *pn;
	bool found = false;

	/* Only current itself changes its list, and it is running this. */
	preempt_disable();
	hlist_for_each_entry(pn, &current->preempt_notifiers, link) {
		if (pn->ops == &usched_preempt_ops) {
			found = true;
			break;
		}
	}
	preempt_enable();
	return found;
}
