// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sema.c - usched_sem_t: counting semaphores.
 *
 * usched_sem_t.value counts the units available.  Taking one is a CAS
 * that decrements a positive value, without the internal lock, so an
 * uncontended wait is one atomic operation.  A waiter that finds no unit
 * takes the internal lock (usched_sem_t.lock), tries once more, and queues
 * itself FIFO on (head, tail) and parks.
 *
 * Post always takes the internal lock.  If a waiter can be claimed, the
 * unit is handed to it directly (the value does not change, so no task
 * arriving meanwhile can take it first); otherwise the value goes up.
 * Waiters queue only when the value is 0 or less, and a post sees every
 * waiter that queued before it took the lock (the waiter holds the lock
 * until it is PARKED): no wake-up is lost.  A semaphore initialised below
 * zero first counts posts up to zero, handing nothing over until then.
 *
 * Who touches what:
 *   value        CAS decrement (positive only) by anyone; increments and
 *                everything else under the internal lock
 *   head, tail   under the internal lock
 *
 * Ordering: the decrementing CAS is acquire, the increment release, so a
 * unit carries what its poster did before posting; a handoff is ordered
 * by the claim and the unpark (see mutex.c).
 */
#include "sync.h"

static bool sem_take(usched_sem_t *s)
{
	int64_t v = __atomic_load_n(&s->value, __ATOMIC_RELAXED);

	while (v > 0)
		if (__atomic_compare_exchange_n(&s->value, &v, v - 1, true,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

void usched_sem_init(usched_sem_t *s, int64_t value)
{
	if (!s)
		return;
	*s = (usched_sem_t)USCHED_SEM_INIT(value);
}

int usched_sem_trywait(usched_sem_t *s)
{
	if (!s)
		return -EINVAL;
	return sem_take(s) ? 0 : -EAGAIN;
}

int usched_sem_wait_until(usched_sem_t *s, uint64_t deadline)
{
	usched_lock_t *lk;
	struct usched_waiter w;
	int r;

	if (!s)
		return -EINVAL;
	if (sem_take(s))
		return 0;
	lk = SYNC_LOCK(s);
	sync_np_enter();
	sync_waiter_init(&w);
	usched_lock(lk);
	if (sem_take(s)) {
		usched_unlock(lk);
		sync_np_exit();
		return 0;
	}
	/* 0: a post handed us its unit. */
	r = sync_wait(SYNC_WAITQ(s), lk, &w, deadline, PARK_CANCELLABLE);
	sync_np_exit();
	return r;
}

int usched_sem_wait(usched_sem_t *s)
{
	return usched_sem_wait_until(s, USCHED_NEVER);
}

void usched_sem_post(usched_sem_t *s)
{
	struct usched_waiter *w = NULL;
	struct usched_task *t = NULL;
	usched_lock_t *lk;

	if (!s)
		return;
	lk = SYNC_LOCK(s);
	sync_np_enter();
	usched_lock(lk);
	/* A negative value owes posts first; then waiters only if value is 0. */
	if (__atomic_load_n(&s->value, __ATOMIC_RELAXED) >= 0)
		w = __usched_waitq_claim(SYNC_WAITQ(s), 0);
	if (w)
		t = w->task;	/* handoff: the unit goes straight to it */
	else
		__atomic_fetch_add(&s->value, 1, __ATOMIC_RELEASE);
	usched_unlock(lk);
	if (t)
		__usched_unpark(t);
	sync_np_exit();
}
