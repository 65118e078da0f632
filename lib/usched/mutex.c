// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mutex.c - usched_mutex_t: a mutex that parks the task, not the thread.
 *
 * The state word (usched_mutex_t.state) is what the fast paths look at:
 *
 *   MUTEX_FREE        nobody holds it
 *   MUTEX_LOCKED      held, and nobody is queued: unlock is one CAS
 *   MUTEX_CONTENDED   held, and waiters may be queued: unlock takes the
 *                     slow path, under the internal lock
 *
 * Uncontended lock and unlock are one compare-and-swap each (0 -> 1,
 * 1 -> 0).  A locker that finds the mutex held spins briefly (only while
 * no one is queued: then spinning cannot overtake a waiter), then takes
 * the internal lock (usched_mutex_t.lock), moves the state to CONTENDED
 * and queues itself FIFO on the wait queue (head, tail), and parks.
 *
 * Unlock hands the mutex over: under the internal lock it claims the first
 * waiter it can (__usched_waitq_claim(): waiters whose timer or canceller
 * won are dropped) and makes it the owner without the state ever passing
 * through FREE, so a task arriving meanwhile cannot barge in and a waiter
 * cannot starve; the woken waiter returns 0 owning the mutex.  When no
 * waiter can be claimed the state goes back to FREE.
 *
 * Why CONTENDED can be set only under the internal lock: a locker that
 * moved LOCKED -> CONTENDED holds the internal lock until its park is
 * committed (park.c), and the owner, whose 1 -> 0 CAS now fails, must take
 * that lock to unlock; so it always finds the waiter PARKED and never
 * misses it.  Conversely, FREE is stored only when no live waiter is
 * queued: every queued waiter is either PARKED (and then claimed) or
 * already claimed by its timer or canceller (and on its way out).
 *
 * Who touches what:
 *   state        CAS by anyone (FREE -> LOCKED outside the lock); LOCKED
 *                -> CONTENDED and every store under the internal lock
 *   head, tail   under the internal lock
 *
 * Memory ordering: acquire on the CAS that takes the mutex, release on the
 * store or CAS that frees it.  A handoff is ordered by the claim (acq_rel
 * CAS of the waiter's wait word) and its unpark (the run queue's release,
 * or the futex word's for plain threads): the new owner sees everything
 * the old one did.
 *
 * Cancellation: only a lock that has to wait is a cancellation point
 * (sync.h): a cancelled task still takes a free mutex, for its cleanup.
 */
#include "sync.h"

enum {
	MUTEX_FREE,
	MUTEX_LOCKED,
	MUTEX_CONTENDED,
};

/* Spins on a held, uncontended mutex before queueing (bounded). */
#define MUTEX_SPIN	64

static inline bool mutex_cas(_Atomic uint32_t *st, uint32_t old, uint32_t new)
{
	return atomic_compare_exchange_strong_explicit(st, &old, new,
			memory_order_acquire, memory_order_relaxed);
}

void usched_mutex_init(usched_mutex_t *m)
{
	if (!m)
		return;
	*m = (usched_mutex_t)USCHED_MUTEX_INIT;
}

int usched_mutex_trylock(usched_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	return mutex_cas(SYNC_ATOMIC32(&m->state), MUTEX_FREE, MUTEX_LOCKED) ?
	       0 : -EBUSY;
}

/* A short spin while the holder may be about to unlock. */
static bool mutex_spin(_Atomic uint32_t *st)
{
	uint32_t s;
	int i;

	for (i = 0; i < MUTEX_SPIN; i++) {
		s = atomic_load_explicit(st, memory_order_relaxed);
		if (s == MUTEX_FREE && mutex_cas(st, MUTEX_FREE, MUTEX_LOCKED))
			return true;
		if (s == MUTEX_CONTENDED)
			return false;	/* waiters queued: join them */
		cpu_relax();
	}
	return false;
}

int __usched_mutex_lock_flags(usched_mutex_t *m, uint64_t deadline,
			      uint32_t flags)
{
	_Atomic uint32_t *st = SYNC_ATOMIC32(&m->state);
	usched_lock_t *lk = SYNC_LOCK(m);
	struct usched_waiter w;
	uint32_t s;
	int r;

	if (mutex_cas(st, MUTEX_FREE, MUTEX_LOCKED) || mutex_spin(st))
		return 0;

	sync_np_enter();
	sync_waiter_init(&w);
	usched_lock(lk);
	for (;;) {
		s = atomic_load_explicit(st, memory_order_relaxed);
		if (s == MUTEX_FREE) {
			if (mutex_cas(st, MUTEX_FREE, MUTEX_LOCKED)) {
				usched_unlock(lk);
				sync_np_exit();
				return 0;
			}
			continue;	/* a fast-path locker won: look again */
		}
		if (s == MUTEX_CONTENDED ||
		    atomic_compare_exchange_strong_explicit(st, &s,
				MUTEX_CONTENDED, memory_order_relaxed,
				memory_order_relaxed))
			break;
	}
	/*
	 * CONTENDED: the owner must come through lk to unlock, and finds us.
	 * 0 means the mutex was handed to us.  On an error the state may
	 * stay CONTENDED with nobody queued: the next unlock fixes it.
	 */
	r = sync_wait(SYNC_WAITQ(m), lk, &w, deadline, flags);
	sync_np_exit();
	return r;
}

int usched_mutex_lock(usched_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	return __usched_mutex_lock_flags(m, USCHED_NEVER, PARK_CANCELLABLE);
}

int usched_mutex_lock_until(usched_mutex_t *m, uint64_t deadline)
{
	if (!m)
		return -EINVAL;
	return __usched_mutex_lock_flags(m, deadline, PARK_CANCELLABLE);
}

void usched_mutex_unlock(usched_mutex_t *m)
{
	_Atomic uint32_t *st;
	usched_lock_t *lk;
	struct usched_waitq *q;
	struct usched_waiter *w;
	struct usched_task *t = NULL;
	uint32_t s = MUTEX_LOCKED;

	if (!m)
		return;
	st = SYNC_ATOMIC32(&m->state);
	/* Release: the critical section before the mutex is seen free. */
	if (atomic_compare_exchange_strong_explicit(st, &s, MUTEX_FREE,
			memory_order_release, memory_order_relaxed))
		return;

	lk = SYNC_LOCK(m);
	q = SYNC_WAITQ(m);
	sync_np_enter();
	usched_lock(lk);
	w = __usched_waitq_claim(q, 0);
	if (w) {
		/* Handoff: the state stays taken; the waiter owns it now. */
		t = w->task;
		atomic_store_explicit(st, q->head ? MUTEX_CONTENDED :
				      MUTEX_LOCKED, memory_order_relaxed);
	} else {
		atomic_store_explicit(st, MUTEX_FREE, memory_order_release);
	}
	usched_unlock(lk);
	if (t)
		__usched_unpark(t);
	sync_np_exit();
}
