// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - registration of worker threads, and every way a worker ends.
 *
 * A worker is a thread of the group's owner that attached a preempt
 * notifier to itself.  A notifier lives on the thread's own list, which
 * only the thread itself walks (at each context switch), so it may only be
 * unlinked by that thread, or after the thread died and was switched out
 * for the last time.  The three ends:
 *
 *  - USCHED_IOC_UNREGISTER: the thread unlinks its own notifier;
 *  - exec: the notifier sees a new mm and queues a task_work, in which the
 *    thread unlinks its own notifier before it returns to the new program;
 *  - death: the notifier sees TASK_DEAD in its last sched_out, queues a
 *    hard irq_work, which queues death_work on usched_wq; the task never
 *    runs again, so death_work may unlink the notifier.
 *
 * References: the registration holds one reference to the worker; each
 * queued task_work callback holds one more (no task_work cancel function is
 * exported to modules, so a callback may run after the worker ended).  The
 * last reference always frees the worker from usched_wq, which holds the
 * module reference taken at registration: module exit destroys usched_wq,
 * which waits for it, so no module code runs after the module is gone.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "usched.h"
#include "trace.h"

static void usched_worker_free_fn(struct work_struct *work)
{
	struct usched_worker *w = container_of(work, struct usched_worker,
					       free_work);

	put_task_struct(w->task);
	usched_group_put(w->g);
	kfree_rcu(w, rcu);
	usched_stat_dec(USCHED_STAT_WORKERS);
	/* Last: usched_exit() waits for this work before the text goes. */
	module_put(THIS_MODULE);
}

static void usched_worker_release(struct kref *ref)
{
	struct usched_worker *w = container_of(ref, struct usched_worker, ref);

	/* Any context (hard irq included): the freeing is deferred. */
	queue_work(usched_wq, &w->free_work);
}

void usched_worker_put(struct usched_worker *w)
{
	kref_put(&w->ref, usched_worker_release);
}

/*
 * Common end of a worker, after its notifier was unlinked.  Process
 * context.  @state: USCHED_W_FREE (unregistered) or USCHED_W_DEAD.
 */
static void usched_worker_teardown(struct usched_worker *w, u32 state)
{
	struct usched_group *g = w->g;
	struct usched_worker *o;
	u32 i;

	WRITE_ONCE(w->unregistered, true);
	trace_usched_unregister(w->id, state);
	usched_preempt_exit(w);
	irq_work_sync(&w->standby_iw);

	mutex_lock(&g->lock);
	RCU_INIT_POINTER(g->workers[w->id], NULL);
	for (i = 0; i < g->max_workers; i++) {
		o = rcu_dereference_protected(g->workers[i],
					      lockdep_is_held(&g->lock));
		if (o && READ_ONCE(o->standby) == w->id)
			WRITE_ONCE(o->standby, USCHED_NO_WORKER);
	}
	WRITE_ONCE(w->slot->kstate, state);
	atomic_dec(&g->nr_workers);
	mutex_unlock(&g->lock);

	if (state == USCHED_W_DEAD)
		usched_post_event(g, USCHED_EV_EXITED, 0, w->id, 0, -1, 0, false);
	/* A gate waiter may now be the last worker: let it re-check. */
	wake_up_all(&g->gate_wq);
	usched_worker_put(w);
}

/* Death: the task ran its last sched_out; it will never run again. */
static void usched_worker_death_fn(struct work_struct *work)
{
	struct usched_worker *w = container_of(work, struct usched_worker,
					       death_work);

	/* Safe from here: nothing walks a dead task's notifier list. */
	preempt_notifier_unregister(&w->pn);
	usched_stat_inc(USCHED_STAT_DEAD_CLEANUPS);
	usched_worker_teardown(w, USCHED_W_DEAD);
}

static void usched_death_iw_fn(struct irq_work *iw)
{
	struct usched_worker *w = container_of(iw, struct usched_worker, death_iw);

	queue_work(usched_wq, &w->death_work);
}

void usched_worker_init_death(struct usched_worker *w)
{
	INIT_WORK(&w->death_work, usched_worker_death_fn);
	INIT_WORK(&w->free_work, usched_worker_free_fn);
	/* Runs in hard irq context even on PREEMPT_RT: only queues work. */
	w->death_iw = IRQ_WORK_INIT_HARD(usched_death_iw_fn);
}

/* exec: called by the worker itself, from a task_work, in the new program. */
void usched_worker_detach_self(struct usched_worker *w)
{
	if (READ_ONCE(w->unregistered))
		return;
	preempt_disable();
	preempt_notifier_unregister(&w->pn);
	preempt_enable();
	usched_worker_teardown(w, USCHED_W_DEAD);
}

static void usched_standby_iw_fn(struct irq_work *iw)
{
	struct usched_worker *w = container_of(iw, struct usched_worker,
					       standby_iw);
	struct usched_worker *s;

	rcu_read_lock();
	s = usched_worker_get_rcu(w->g, READ_ONCE(w->standby));
	if (s) {
		usched_wake_worker(s, false);
		usched_stat_inc(USCHED_STAT_STANDBY_WAKES);
	}
	rcu_read_unlock();
}

int usched_worker_register(struct usched_group *g, u32 *idp)
{
	struct usched_worker *w;
	u32 id;

	if (usched_current_is_worker())
		return -EBUSY;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;

	mutex_lock(&g->lock);
	for (id = 0; id < g->max_workers; id++)
		if (!rcu_access_pointer(g->workers[id]))
			break;
	if (id == g->max_workers) {
		mutex_unlock(&g->lock);
		kfree(w);
		return -ENOSPC;
	}

	kref_init(&w->ref);
	w->g = g;
	kref_get(&g->ref);
	get_task_struct(current);
	w->task = current;
	__module_get(THIS_MODULE);
	w->id = id;
	w->slot = &g->slots[id];
	atomic_set(&w->permit, 0);
	init_waitqueue_head(&w->park_wq);
	w->spin_ns = READ_ONCE(usched_handoff_spin_ns);
	w->standby = USCHED_NO_WORKER;
	w->unblock_tw.func = usched_unblock_tw_fn;
	/* Hard irq even on PREEMPT_RT: wake_up_process() takes raw locks. */
	w->standby_iw = IRQ_WORK_INIT_HARD(usched_standby_iw_fn);
	usched_worker_init_death(w);
	usched_preempt_init(w);

	memset(w->slot, 0, sizeof(*w->slot));
	w->slot->kstate = USCHED_W_RUNNING;
	w->slot->cpu = raw_smp_processor_id();
	rcu_assign_pointer(g->workers[id], w);
	atomic_inc(&g->nr_workers);
	mutex_unlock(&g->lock);

	preempt_notifier_init(&w->pn, &usched_preempt_ops);
	/* As KVM's vcpu_load(): on our own list, with preemption off. */
	preempt_disable();
	preempt_notifier_register(&w->pn);
	preempt_enable();

	usched_stat_inc(USCHED_STAT_WORKERS);
	trace_usched_register(id, task_pid_nr(current));
	*idp = id;
	return 0;
}

/* The caller's own worker @id, or an error.  Caller: the worker's thread. */
struct usched_worker *usched_worker_self(struct usched_group *g, u32 id)
{
	struct usched_worker *w;

	if (id >= g->max_workers)
		return ERR_PTR(-EINVAL);
	rcu_read_lock();
	w = usched_worker_get_rcu(g, id);
	rcu_read_unlock();
	/*
	 * Only this thread can end its own registration (unregister, exec),
	 * and it cannot die while in this ioctl: w stays valid without a
	 * reference while it belongs to current.
	 */
	if (!w)
		return ERR_PTR(-ESRCH);
	if (w->task != current)
		return ERR_PTR(-EPERM);
	return w;
}

int usched_worker_unregister(struct usched_group *g, u32 id)
{
	struct usched_worker *w = usched_worker_self(g, id);

	if (IS_ERR(w))
		return PTR_ERR(w);
	preempt_disable();
	preempt_notifier_unregister(&w->pn);
	preempt_enable();
	usched_worker_teardown(w, USCHED_W_FREE);
	return 0;
}

int usched_set_standby(struct usched_group *g, u32 id, u32 standby)
{
	struct usched_worker *w;
	int ret = 0;

	mutex_lock(&g->lock);
	w = rcu_dereference_protected(g->workers[id], lockdep_is_held(&g->lock));
	if (!w || (standby != USCHED_NO_WORKER &&
		   !rcu_access_pointer(g->workers[standby])))
		ret = -ESRCH;
	else
		WRITE_ONCE(w->standby, standby);
	mutex_unlock(&g->lock);
	return ret;
}
