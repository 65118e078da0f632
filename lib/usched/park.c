// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * park.c - how a task (or a plain thread) waits, and how it is woken.
 *
 * READ this before changing any blocking primitive.  A waiter publishes
 * itself on a wait structure under that structure's lock, then parks.  The
 * lock is released only after the task has switched off its stack, by its
 * worker (__usched_park_commit), so a waker that found the task under the
 * lock can never resume a task that is still running.
 *
 *   task T (worker A)                      waker (any thread)
 *   lock(L); publish T; park(L):
 *     wait = gen|PARKING
 *     switch to A's scheduler
 *   A: wait = gen|PARKED        (seq_cst)
 *      arm T's timer, if any
 *      if cancellable and T->cancelled: claim(-ECANCELED)
 *      unlock(L)                           lock(L); find T;
 *                                          CAS wait gen|PARKED -> gen|CLAIMED
 *                                          (one claimer wins: waker, timer
 *                                          or canceller); unlock(L);
 *                                          unpark(T): make it runnable
 *   T runs: wait = gen|RUNNING, disarm the timer, return wake_result.
 *
 * A canceller stores T->cancelled and then reads T->wait (both seq_cst);
 * the commit stores PARKED and then reads T->cancelled: one of the two sees
 * the other, so a cancel is never lost (both may try: one CAS wins).
 *
 * A waiter the waker pops but cannot claim was claimed by its timer or a
 * canceller: the waker drops it and looks at the next.  A task whose park
 * ended that way unlinks its own waiter, under the lock, if still linked.
 *
 * Plain threads (not tasks) use the same protocol with a stand-in task of
 * their own: they are PARKED as soon as they published themselves (they do
 * not switch, so there is no stack to leave) and sleep on a futex.
 */
#include <linux/futex.h>

#include "internal.h"

static __thread struct usched_task foreign_self
	__attribute__((tls_model("initial-exec")));

struct usched_task *__usched_self(void)
{
	struct usched_worker *w = this_worker();
	struct usched_task *t;

	if (w && w->cur)
		return w->cur;
	t = &foreign_self;
	if (!t->flags) {
		t->flags = TASK_F_FOREIGN;
		t->park_deadline = USCHED_NEVER;
	}
	return t;
}

/* Resumed: let the worker that parked us finish __usched_park_commit(). */
static void park_wait_commit(struct usched_task *t)
{
	while (atomic_load_explicit(&t->committing, memory_order_acquire))
		cpu_relax();
}

static uint32_t park_begin(struct usched_task *t, uint32_t flags)
{
	uint32_t w = atomic_load_explicit(&t->wait, memory_order_relaxed);
	uint32_t gen = (w >> WAIT_GEN_SHIFT) + 1;

	w = gen << WAIT_GEN_SHIFT | WAIT_PARKING;
	if (flags & PARK_CANCELLABLE)
		w |= WAIT_CANCEL;
	atomic_store_explicit(&t->wait, w, memory_order_relaxed);
	return w;
}

static void park_end(struct usched_task *t)
{
	uint32_t w = atomic_load_explicit(&t->wait, memory_order_relaxed);

	atomic_store_explicit(&t->wait, (w & ~(WAIT_STATE | WAIT_CANCEL)) |
			      WAIT_RUNNING, memory_order_relaxed);
}

static int park_foreign(struct usched_task *t, usched_lock_t *const *locks,
			unsigned int n, uint64_t deadline)
{
	uint32_t w = park_begin(t, 0);
	unsigned int i;
	int r;

	atomic_store_explicit(&t->futex, 0, memory_order_relaxed);
	w = (w & ~WAIT_STATE) | WAIT_PARKED;
	atomic_store_explicit(&t->wait, w, memory_order_seq_cst);
	for (i = 0; i < n; i++)
		usched_unlock(locks[i]);
	for (;;) {
		/* Acquire: pairs with the release in __usched_unpark(). */
		if (atomic_load_explicit(&t->futex, memory_order_acquire))
			break;
		r = __usched_futex_wait(&t->futex, 0, deadline);
		if (r == -ETIMEDOUT && __usched_claim_gen(t, w, -ETIMEDOUT))
			break;	/* we claimed ourselves: nobody will unpark */
		if (r == -ETIMEDOUT)
			deadline = USCHED_NEVER;	/* a waker won: wait for it */
	}
	park_end(t);
	return t->wake_result;
}

int __usched_park(usched_lock_t *lk, uint64_t deadline, uint32_t flags)
{
	struct usched_task *t = __usched_self();
	struct usched_worker *w;

	if ((flags & PARK_CANCELLABLE) &&
	    atomic_load_explicit(&t->cancelled, memory_order_relaxed)) {
		if (lk)
			usched_unlock(lk);
		return -ECANCELED;
	}
	if (deadline != USCHED_NEVER && deadline <= __usched_now()) {
		if (lk)
			usched_unlock(lk);
		return -ETIMEDOUT;
	}
	if (t->flags & TASK_F_FOREIGN)
		return park_foreign(t, &lk, lk ? 1 : 0, deadline);

	park_begin(t, flags);
	t->park_unlock = lk;
	t->park_deadline = deadline;
	t->park_flags = flags;
	w = this_worker();
	__usched_np_inc(w);
	__usched_switch_out(YIELD_PARK);
	park_wait_commit(t);
	/*
	 * Resumed (maybe on another worker): someone claimed us.  Still not
	 * preemptible: the disarm takes timer_lock.
	 */
	if (deadline != USCHED_NEVER)
		__usched_timer_disarm(t);
	park_end(t);
	__usched_np_dec(this_worker());
	return t->wake_result;
}

/*
 * __usched_park_multi() - __usched_park() that releases @n locks after the
 * switch instead of one (select.c: a select publishes a waiter on every
 * channel of its cases, under all their locks, and must stay unfindable
 * until it is PARKED, as Go's selectgo parks with all channel locks held).
 *
 * The task itself has room for one lock (park_unlock); a multi park points
 * park_unlock at the anchor of a struct park_locks on the parking task's
 * stack and sets PARK_MULTI in park_flags.  __usched_park_commit() copies
 * the locks out before it stores PARKED: from then on a canceller, the
 * timer or, once the first lock is released, a waker may resume the task,
 * which then leaves this frame.
 */
#define PARK_MULTI	(1u << 31)	/* park.c only: see park_locks */

struct park_locks {
	usched_lock_t anchor;		/* what park_unlock points at */
	unsigned int n;
	usched_lock_t *const *locks;
};

int __usched_park_multi(usched_lock_t *const *locks, unsigned int n,
			uint64_t deadline, uint32_t flags)
{
	struct usched_task *t = __usched_self();
	struct park_locks pl = { .n = n, .locks = locks };
	struct usched_worker *w;
	unsigned int i;
	int r = 0;

	if (n > USCHED_PARK_MULTI_MAX)
		__usched_die("__usched_park_multi: %u locks", n);
	if ((flags & PARK_CANCELLABLE) &&
	    atomic_load_explicit(&t->cancelled, memory_order_relaxed))
		r = -ECANCELED;
	else if (deadline != USCHED_NEVER && deadline <= __usched_now())
		r = -ETIMEDOUT;
	if (r) {
		for (i = 0; i < n; i++)
			usched_unlock(locks[i]);
		return r;
	}
	if (t->flags & TASK_F_FOREIGN)
		return park_foreign(t, locks, n, deadline);

	park_begin(t, flags);
	t->park_unlock = &pl.anchor;
	t->park_deadline = deadline;
	t->park_flags = flags | PARK_MULTI;
	w = this_worker();
	__usched_np_inc(w);
	__usched_switch_out(YIELD_PARK);
	park_wait_commit(t);
	/*
	 * Resumed (maybe on another worker): someone claimed us.  Still not
	 * preemptible: the disarm takes timer_lock, and a task preempted
	 * holding it would stall every worker that runs timers.
	 */
	if (deadline != USCHED_NEVER)
		__usched_timer_disarm(t);
	park_end(t);
	__usched_np_dec(this_worker());
	return t->wake_result;
}

/* Copy a multi park's locks (see __usched_park_multi()): how many. */
static unsigned int park_locks_copy(usched_lock_t *anchor,
				    usched_lock_t **out)
{
	struct park_locks *pl = (struct park_locks *)(void *)((char *)anchor -
				offsetof(struct park_locks, anchor));
	unsigned int i;

	for (i = 0; i < pl->n; i++)
		out[i] = pl->locks[i];
	return pl->n;
}

/* On the worker, right after @t switched out with YIELD_PARK. */
void __usched_park_commit(struct usched_task *t)
{
	uint32_t w = atomic_load_explicit(&t->wait, memory_order_relaxed);
	usched_lock_t *lk = t->park_unlock;
	usched_lock_t *more[USCHED_PARK_MULTI_MAX];
	unsigned int i, nmore = 0;

	/*
	 * Once PARKED, a timer or canceller may resume the task on another
	 * worker before this function is done with it; with no lock to take
	 * again (a sleep) it could even end and be freed.  The task waits
	 * for this flag after it resumes (park_wait_commit()).
	 */
	atomic_store_explicit(&t->committing, 1, memory_order_relaxed);
	/* Before PARKED: the task may run and leave its frame after it. */
	if (t->park_flags & PARK_MULTI) {
		nmore = park_locks_copy(lk, more);
		lk = NULL;
	}
	w = (w & ~WAIT_STATE) | WAIT_PARKED;
	atomic_store_explicit(&t->wait, w, memory_order_seq_cst);
	if (t->park_deadline != USCHED_NEVER) {
		t->timer_wait = w;
		__usched_timer_arm(t);
	}
	/* Pairs with usched_cancel(): it stores cancelled, then reads wait. */
	if ((w & WAIT_CANCEL) &&
	    atomic_load_explicit(&t->cancelled, memory_order_seq_cst) &&
	    __usched_claim_gen(t, w, -ECANCELED))
		__usched_unpark(t);
	/* Last: from here a waker may find, claim and resume the task. */
	if (lk)
		usched_unlock(lk);
	for (i = 0; i < nmore; i++)
		usched_unlock(more[i]);
	/* Release: pairs with park_wait_commit(); t is not touched after. */
	atomic_store_explicit(&t->committing, 0, memory_order_release);
}

bool __usched_claim_gen(struct usched_task *t, uint32_t w, int result)
{
	uint32_t want = (w & ~WAIT_STATE) | WAIT_PARKED;

	if (!atomic_compare_exchange_strong_explicit(&t->wait, &want,
			(want & ~WAIT_STATE) | WAIT_CLAIMED,
			memory_order_acq_rel, memory_order_relaxed))
		return false;
	t->wake_result = result;	/* read by the task after unpark */
	return true;
}

bool __usched_claim(struct usched_task *t, int result)
{
	uint32_t w = atomic_load_explicit(&t->wait, memory_order_acquire);

	if ((w & WAIT_STATE) != WAIT_PARKED)
		return false;
	return __usched_claim_gen(t, w, result);
}

void __usched_unpark(struct usched_task *t)
{
	if (t->flags & TASK_F_FOREIGN) {
		/* Release: wake_result before the thread sees futex set. */
		atomic_store_explicit(&t->futex, 1, memory_order_release);
		__usched_futex_wake(&t->futex, 1);
		return;
	}
	__usched_ready(t, true);
}

bool __usched_wake(struct usched_task *t, int result)
{
	if (!__usched_claim(t, result))
		return false;
	__usched_unpark(t);
	return true;
}

/* ---- wait queues -------------------------------------------------------- */

void __usched_waitq_push(struct usched_waitq *q, struct usched_waiter *w)
{
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	w->linked = true;
}

void __usched_waitq_remove(struct usched_waitq *q, struct usched_waiter *w)
{
	if (!w->linked)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->next = w->prev = NULL;
	w->linked = false;
}

struct usched_waiter *__usched_waitq_pop(struct usched_waitq *q)
{
	struct usched_waiter *w = q->head;

	if (w)
		__usched_waitq_remove(q, w);
	return w;
}

struct usched_waiter *__usched_waitq_claim(struct usched_waitq *q, int result)
{
	struct usched_waiter *w;

	while ((w = __usched_waitq_pop(q)))
		if (__usched_claim(w->task, result))
			return w;
	return NULL;
}
