// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * taskgroup.c - task groups: structured concurrency.
 *
 * A group counts its members (tasks spawned with usched_group_spawn()),
 * and usched_group_wait() parks until every member has returned.  The
 * first member that returns non-zero fails the group: its result becomes
 * the group's, and every member is cancelled (usched_cancel()'s two
 * steps: store task->cancelled, then claim a cancellable park that is
 * PARKED; park.c explains why that pair never loses a cancel).  A group
 * cancelled from outside (usched_group_cancel(), or the cancel of the task
 * that created it) has the result -ECANCELED unless a member failed first.
 * A cancelled group stays cancelled: spawning into it fails with
 * -ECANCELED, and a member spawned while it was being cancelled starts
 * cancelled.
 *
 * Members are spawned detached: nobody joins them.  task.c calls
 * __usched_group_member_exit() on the member itself just before it
 * switches out for the last time; the member leaves the member list and
 * the count there, and task.c frees it afterwards.  The member that brings
 * the count to zero claims the waiters, which read the result under the
 * group's lock; usched_group_destroy() refuses (-EBUSY) while members run
 * or a waiter has not yet left usched_group_wait(), so a group is never
 * freed under a task that still looks at it.
 *
 * Cascade.  Every group created by a task is on that task's ->owned list
 * (a plain thread's groups belong to nobody).  Cancelling the task
 * (usched_cancel() -> __usched_group_cancel_owned()) cancels those
 * groups, which cancels their members, which cancels the groups those
 * members created, and so on.  The walk is iterative (a work list through
 * ->cancel_next) and holds owned_lock throughout, which keeps every group
 * it reaches alive (destroy unlinks the group from its owner under
 * owned_lock) and makes a group created by a task that is being cancelled
 * either be found by the walk or see the task's cancelled flag when it is
 * linked.  A group never reaches itself: a group's members are distinct
 * tasks, each in one group, and each owner cancels its groups only the
 * first time it is cancelled.  The walk cancels members without calling
 * usched_cancel() (which would take owned_lock again, to cascade): the
 * walk itself cascades.
 *
 * When a task ends, its owned groups are disowned (->owner = NULL), so a
 * group may outlive the task that created it: that requires task.c to
 * call __usched_group_member_exit() for every task whose ->group or
 * ->owned is set, not only for members.
 *
 * Locks, in order: owned_lock, then a group's lock, then the runtime's
 * (an unpark readies a task).  Who touches what:
 *   owned_lock  every task's ->owned list and the groups' owner,
 *               owned_next, owned_pprev and cancel_next; task->owned is
 *               also read without it (atomically) as a hint at task exit
 *   g->lock     members (via task->group_next), nlive, nwaiting, result,
 *               cancelled, waitq
 *   task->group written before the member is made runnable, then const
 */
#include <stdlib.h>

#include "sync.h"

struct usched_group {
	usched_lock_t lock;
	struct usched_task *members;	/* g->lock: live members, FIFO */
	struct usched_task *members_tail; /* g->lock */
	uint64_t nlive;			/* g->lock: members not yet ended */
	uint32_t nwaiting;		/* g->lock: tasks in usched_group_wait() */
	int result;			/* g->lock: first failure, or -ECANCELED */
	bool cancelled;			/* g->lock: members are cancelled */
	struct usched_waitq waitq;	/* g->lock: usched_group_wait() parkers */

	struct usched_task *owner;	/* owned_lock: creator, NULL: none */
	struct usched_group *owned_next; /* owned_lock: owner's ->owned list */
	struct usched_group **owned_pprev; /* owned_lock */
	struct usched_group *cancel_next; /* owned_lock: cancel_list() */
};

static usched_lock_t owned_lock;

/*
 * Cancel one task (usched_cancel() without its cascade): true when it
 * was not cancelled before.  The seq_cst store, then the seq_cst load of
 * the wait word, pair with __usched_park_commit()'s store of PARKED and
 * load of ->cancelled.
 */
static bool cancel_task(struct usched_task *t)
{
	uint32_t w;

	if (atomic_exchange_explicit(&t->cancelled, 1, memory_order_seq_cst))
		return false;
	w = atomic_load_explicit(&t->wait, memory_order_seq_cst);
	if ((w & WAIT_STATE) == WAIT_PARKED && (w & WAIT_CANCEL) &&
	    __usched_claim_gen(t, w, -ECANCELED))
		__usched_unpark(t);
	return true;
}

/*
 * Cancel every group on the work list @todo (linked by ->cancel_next),
 * and the groups their newly cancelled members own.  Under owned_lock.
 */
static void cancel_list(struct usched_group *todo)
{
	struct usched_group *g, *h;
	struct usched_task *m;

	while ((g = todo)) {
		todo = g->cancel_next;
		g->cancel_next = NULL;
		usched_lock(&g->lock);
		if (g->cancelled) {
			usched_unlock(&g->lock);
			continue;	/* already done, with its cascade */
		}
		g->cancelled = true;
		if (!g->result)
			g->result = -ECANCELED;
		for (m = g->members; m; m = m->group_next) {
			if (!cancel_task(m))
				continue;	/* its own cancel cascades */
			for (h = m->owned; h; h = h->owned_next) {
				h->cancel_next = todo;
				todo = h;
			}
		}
		usched_unlock(&g->lock);
	}
}

/* A task ended: its groups outlive it, owned by nobody. */
static void group_disown(struct usched_task *t)
{
	struct usched_group *g, *next;

	usched_lock(&owned_lock);
	for (g = t->owned; g; g = next) {
		next = g->owned_next;
		g->owner = NULL;
		g->owned_next = NULL;
		g->owned_pprev = NULL;
	}
	__atomic_store_n(&t->owned, NULL, __ATOMIC_RELAXED);
	usched_unlock(&owned_lock);
}

void __usched_group_cancel_owned(struct usched_task *t)
{
	struct usched_group *g, *todo = NULL;

	/*
	 * No unlocked peek at t->owned: a group being created by t must be
	 * found here or see t->cancelled in create, and only owned_lock
	 * orders the two.
	 */
	if (!t)
		return;
	sync_np_enter();
	usched_lock(&owned_lock);
	for (g = t->owned; g; g = g->owned_next) {
		g->cancel_next = todo;
		todo = g;
	}
	cancel_list(todo);
	usched_unlock(&owned_lock);
	sync_np_exit();
}

void __usched_group_member_exit(struct usched_task *t, int result)
{
	struct usched_group *g = t->group;
	struct usched_waiter *list = NULL;
	struct usched_task *m, *prev = NULL;

	sync_np_enter();
	/* Only t adds to t->owned (create runs on t): the peek sees those. */
	if (__atomic_load_n(&t->owned, __ATOMIC_RELAXED))
		group_disown(t);
	if (!g) {
		sync_np_exit();
		return;
	}
	if (result) {
		/* Fail the group (if first), while still counted: g lives. */
		usched_lock(&owned_lock);
		usched_lock(&g->lock);
		if (!g->result)
			g->result = result;
		usched_unlock(&g->lock);
		g->cancel_next = NULL;
		cancel_list(g);
		usched_unlock(&owned_lock);
	}

	usched_lock(&g->lock);
	/* Members usually end in spawn order: t is near the head. */
	for (m = g->members; m && m != t; m = m->group_next)
		prev = m;
	if (m) {
		if (prev)
			prev->group_next = t->group_next;
		else
			g->members = t->group_next;
		if (g->members_tail == t)
			g->members_tail = prev;
		t->group_next = NULL;
	}
	if (!--g->nlive)
		list = sync_claim_all(&g->waitq, 0);
	usched_unlock(&g->lock);
	/* g may be freed from here on; the claimed waiters wait for us. */
	sync_unpark_all(list);
	sync_np_exit();
}

int usched_group_create(usched_group_t **out)
{
	struct usched_group *g;
	struct usched_task *self;

	if (!out)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	sync_np_enter();
	self = cur_task();
	if (self) {
		usched_lock(&owned_lock);
		g->owner = self;
		g->owned_next = self->owned;
		if (g->owned_next)
			g->owned_next->owned_pprev = &g->owned_next;
		g->owned_pprev = &self->owned;
		__atomic_store_n(&self->owned, g, __ATOMIC_RELAXED);
		/*
		 * usched_cancel() stores ->cancelled, then takes owned_lock
		 * to cascade: it finds g, or we see the flag here.
		 */
		if (atomic_load_explicit(&self->cancelled, memory_order_relaxed)) {
			g->cancelled = true;
			g->result = -ECANCELED;
		}
		usched_unlock(&owned_lock);
	}
	sync_np_exit();
	*out = g;
	return 0;
}

int usched_group_spawn(usched_group_t *g, const struct usched_attr *attr,
		       usched_fn_t fn, void *arg)
{
	struct usched_attr a;
	struct usched_task *t;

	if (!g || !fn)
		return -EINVAL;
	if (attr) {
		if (attr->size < sizeof(*attr) ||
		    (attr->flags & ~USCHED_ATTR_FLAGS))
			return -EINVAL;
		if (attr->stack_size && (attr->stack_size < USCHED_MIN_STACK ||
					 attr->stack_size > (1ull << 30)))
			return -EINVAL;
		a = *attr;
		a.size = sizeof(a);
	} else {
		usched_attr_init(&a);
	}
	/* The group counts its members; nobody joins them. */
	a.flags |= USCHED_ATTR_DETACHED;
	if (!rt.started)
		return -ESRCH;

	sync_np_enter();
	usched_lock(&g->lock);
	if (g->cancelled) {
		usched_unlock(&g->lock);
		sync_np_exit();
		return -ECANCELED;
	}
	t = __usched_task_new(&a, fn, arg);
	if (!t) {
		usched_unlock(&g->lock);
		sync_np_exit();
		return -EAGAIN;
	}
	t->group = g;
	t->group_next = NULL;
	if (g->members_tail)
		g->members_tail->group_next = t;
	else
		g->members = t;
	g->members_tail = t;
	g->nlive++;
	usched_unlock(&g->lock);
	/* Not runnable before: no cancel walk could have missed it. */
	__usched_ready(t, true);
	sync_np_exit();
	return 0;
}

int usched_group_wait(usched_group_t *g)
{
	uint32_t flags = PARK_CANCELLABLE;
	struct usched_waiter w;
	int r;

	if (!g)
		return -EINVAL;
	sync_np_enter();
	sync_waiter_init(&w);
	if (w.task->group == g) {
		sync_np_exit();
		return -EDEADLK;	/* a member would wait for itself */
	}
	usched_lock(&g->lock);
	g->nwaiting++;
	while (g->nlive) {
		sync_waiter_init(&w);
		r = sync_wait(&g->waitq, &g->lock, &w, USCHED_NEVER, flags);
		if (r == -ECANCELED) {
			/* Not a way out: cancel the members, wait for them. */
			usched_group_cancel(g);
			flags = 0;
		}
		usched_lock(&g->lock);
	}
	g->nwaiting--;
	r = g->result;
	usched_unlock(&g->lock);
	sync_np_exit();
	return r;
}

void usched_group_cancel(usched_group_t *g)
{
	if (!g)
		return;
	sync_np_enter();
	usched_lock(&owned_lock);
	g->cancel_next = NULL;
	cancel_list(g);
	usched_unlock(&owned_lock);
	sync_np_exit();
}

int usched_group_destroy(usched_group_t *g)
{
	bool busy;

	if (!g)
		return -EINVAL;
	sync_np_enter();
	usched_lock(&owned_lock);
	usched_lock(&g->lock);
	busy = g->nlive || g->nwaiting;
	usched_unlock(&g->lock);
	if (!busy && g->owned_pprev) {
		if (g->owned_next)
			g->owned_next->owned_pprev = g->owned_pprev;
		__atomic_store_n(g->owned_pprev, g->owned_next,
				 __ATOMIC_RELAXED);
	}
	usched_unlock(&owned_lock);
	sync_np_exit();
	if (busy)
		return -EBUSY;
	free(g);
	return 0;
}
