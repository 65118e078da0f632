// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cond.c - usched_cond_t: condition variables for usched_mutex_t.
 *
 * A waiter queues itself FIFO on the condition's wait queue under the
 * condition's internal lock (usched_cond_t.lock), and only then unlocks
 * the mutex, still holding that lock, and parks (park.c releases the lock
 * after the switch).  A signaller that changed the predicate under the
 * mutex after the waiter released it therefore finds the waiter queued
 * and PARKED: no wake-up is lost between the unlock and the park.
 *
 *   waiter                                  signaller
 *   (holds m) lock(c); queue W;
 *   unlock(m)                               lock(m); predicate = true;
 *   park(c): c released after the switch    unlock(m); signal(c):
 *                                             lock(c); claim W; unlock(c);
 *                                             unpark W
 *   relock(m), return 0
 *
 * A woken waiter returns 0 only when a signal claimed it (no spurious
 * wake-ups); a timer or canceller that wins the claim makes it return
 * -ETIMEDOUT / -ECANCELED, and a signal then goes to the next waiter.  In
 * every case the mutex is locked again before returning, without a
 * deadline and not cancellably (as pthread_cond_timedwait does): the
 * caller's unlock must stay valid.
 *
 * A wait always waits, so a cancelled task or a past deadline returns at
 * once, without unlocking the mutex at all.
 *
 * Lock order: the condition's lock, then the mutex's internal lock (the
 * waiter unlocks the mutex while holding the former); nothing takes them
 * the other way round.
 *
 * Who touches what: head, tail under usched_cond_t.lock; a waiter's
 * struct lives on its stack until its park returns.
 */
#include "sync.h"

void usched_cond_init(usched_cond_t *c)
{
	if (!c)
		return;
	*c = (usched_cond_t)USCHED_COND_INIT;
}

int usched_cond_wait_until(usched_cond_t *c, usched_mutex_t *m,
			   uint64_t deadline)
{
	usched_lock_t *lk;
	struct usched_waiter w;
	int r = 0;

	if (!c || !m)
		return -EINVAL;
	lk = SYNC_LOCK(c);
	sync_np_enter();
	sync_waiter_init(&w);
	/* A wait always waits: fail at once, m still held. */
	if (sync_cancelled(&w))
		r = -ECANCELED;
	else if (deadline != USCHED_NEVER && deadline <= __usched_now())
		r = -ETIMEDOUT;
	if (r) {
		sync_np_exit();
		return r;
	}
	usched_lock(lk);
	__usched_waitq_push(SYNC_WAITQ(c), &w);
	/* Published: a signal from now on finds us.  Then let m go. */
	usched_mutex_unlock(m);
	r = __usched_park(lk, deadline, PARK_CANCELLABLE);
	if (r) {
		/* -ETIMEDOUT or -ECANCELED: signals pass us by from now on. */
		usched_lock(lk);
		__usched_waitq_remove(SYNC_WAITQ(c), &w);
		usched_unlock(lk);
	}
	/* Also on error; cannot fail with flags 0 and no deadline. */
	__usched_mutex_lock_flags(m, USCHED_NEVER, 0);
	sync_np_exit();
	return r;
}

int usched_cond_wait(usched_cond_t *c, usched_mutex_t *m)
{
	return usched_cond_wait_until(c, m, USCHED_NEVER);
}

void usched_cond_signal(usched_cond_t *c)
{
	struct usched_waiter *w;
	struct usched_task *t = NULL;

	if (!c)
		return;
	sync_np_enter();
	usched_lock(SYNC_LOCK(c));
	w = __usched_waitq_claim(SYNC_WAITQ(c), 0);
	if (w)
		t = w->task;
	usched_unlock(SYNC_LOCK(c));
	if (t)
		__usched_unpark(t);
	sync_np_exit();
}

void usched_cond_broadcast(usched_cond_t *c)
{
	struct usched_waiter *list;

	if (!c)
		return;
	sync_np_enter();
	usched_lock(SYNC_LOCK(c));
	list = sync_claim_all(SYNC_WAITQ(c), 0);
	usched_unlock(SYNC_LOCK(c));
	sync_unpark_all(list);
	sync_np_exit();
}
